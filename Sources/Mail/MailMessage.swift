import Crypto
import Foundation

/// One header field as it appears in the message.
public struct MailHeader: Sendable, Equatable {
    /// The field name as written (compare with `is(_:)`, case-insensitive).
    public let name: String
    /// The value unfolded (CRLF before whitespace removed), leading and
    /// trailing whitespace trimmed, not decoded (encoded words stay).
    public let value: String
    /// The exact bytes of the field: name, colon, value, folding, line ending.
    public let raw: [UInt8]

    public func `is`(_ other: String) -> Bool { name.caseInsensitiveCompare(other) == .orderedSame }
}

/// A parsed RFC 5322 message. The raw bytes are kept as received
/// (`raw`), so anyone can re-verify or re-parse later.
public struct MailMessage: Sendable {
    public let raw: [UInt8]
    /// The top-level header fields, in order.
    public var headers: [MailHeader] { root.headers }
    /// The MIME structure; the root part carries the message's headers.
    public let root: MailPart

    /// Parses one message. Line endings may be CRLF or LF. An mbox "From "
    /// line before the first header is skipped.
    /// Throws a `MailError` (one line) for empty input, a header line without
    /// a colon, a multipart without a usable boundary, or input over `limits`.
    public static func parse(_ bytes: [UInt8], limits: MailLimits = .standard) throws -> MailMessage {
        if bytes.isEmpty { throw MailError("the message is empty") }
        if bytes.count > limits.maxMessageBytes {
            throw MailError("the message is \(bytes.count) bytes, over the limit of \(limits.maxMessageBytes)")
        }
        var partCount = 0
        let root = try MailPart.parse(bytes[...], limits: limits, depth: 0, partCount: &partCount, top: true, defaultType: "text/plain")
        if root.headers.isEmpty { throw MailError("the message has no header fields") }
        return MailMessage(raw: bytes, root: root)
    }

    /// The raw body: the bytes after the empty line that ends the header section.
    public var body: [UInt8] { Array(root.body) }

    /// Hex SHA-256 of the raw bytes (an identity for a message without a Message-ID).
    public var sha256Hex: String { SHA256.hash(data: raw).map { String(format: "%02x", $0) }.joined() }

    /// The first field named `name` (case-insensitive), unfolded, not decoded.
    public func header(_ name: String) -> String? { headers.first { $0.is(name) }?.value }

    public func headers(named name: String) -> [MailHeader] { headers.filter { $0.is(name) } }

    /// Subject with RFC 2047 encoded words decoded.
    public var subject: String? { header("Subject").map(EncodedWords.decode) }

    /// The addresses of a field (From, To, Cc, Bcc, Reply-To, Sender,
    /// Resent-To, ...); every field of that name, in order. Throws a
    /// `MailError` naming the field for an unparsable list.
    public func addresses(_ field: String) throws -> [MailAddress] {
        var out: [MailAddress] = []
        for h in headers(named: field) {
            do { out += try MailAddress.parseList(h.value) } catch let e as MailError {
                throw MailError("\(field): \(e.message)")
            }
        }
        return out
    }

    /// Lenient forms of `addresses`: empty when the field is absent or unparsable.
    public var from: [MailAddress] { (try? addresses("From")) ?? [] }
    public var to: [MailAddress] { (try? addresses("To")) ?? [] }
    public var cc: [MailAddress] { (try? addresses("Cc")) ?? [] }
    public var bcc: [MailAddress] { (try? addresses("Bcc")) ?? [] }

    /// Message-ID without its angle brackets.
    public var messageID: String? { header("Message-ID").flatMap { MessageIDs.parse($0).first } }
    /// In-Reply-To message ids, without angle brackets.
    public var inReplyTo: [String] { header("In-Reply-To").map(MessageIDs.parse) ?? [] }
    /// References message ids, oldest first, without angle brackets.
    public var references: [String] { header("References").map(MessageIDs.parse) ?? [] }

    /// The Date header, nil when absent or unparsable (see `parsedDate`).
    public var date: Date? { try? parsedDate() }

    /// The Date header parsed (RFC 5322 incl. obsolete forms); nil when
    /// absent; throws a `MailError` saying why a present one is unusable.
    public func parsedDate() throws -> Date? {
        guard let d = header("Date") else { return nil }
        return try MailDate.parse(d)
    }

    /// The message's text: the first text/plain part that is not an
    /// attachment (multipart/alternative prefers it too), else the first
    /// text/html part turned into text. Attached messages (message/rfc822)
    /// are not searched. Nil when the message has neither.
    public var text: String? { bestText.text }

    /// True when `text` came from an HTML part.
    public var textIsFromHTML: Bool { bestText.fromHTML }

    private var bestText: (text: String?, fromHTML: Bool) {
        let (plain, html) = root.findText()
        if let plain { return (plain, false) }
        if let html { return (HTMLText.text(fromHTML: html), true) }
        return (nil, false)
    }

    /// Messages attached as message/rfc822 parts (as in a journal report),
    /// in order; an attachment that does not parse is left out.
    public func attachedMessages(limits: MailLimits = .standard) -> [MailMessage] {
        root.allParts.filter { $0.mediaType == "message/rfc822" }.compactMap {
            try? MailMessage.parse($0.decodedBody, limits: limits)
        }
    }
}

/// Message ids (`<id@host>`) from Message-ID, In-Reply-To or References.
enum MessageIDs {
    static func parse(_ value: String) -> [String] {
        var ids: [String] = []
        var s = Substring(stripComments(value))
        while let open = s.firstIndex(of: "<") {
            guard let close = s[open...].firstIndex(of: ">") else { break }
            let id = trimWSP(s[s.index(after: open)..<close])
            if !id.isEmpty { ids.append(String(id).replacingOccurrences(of: " ", with: "")) }
            s = s[s.index(after: close)...]
        }
        if ids.isEmpty {
            // No angle brackets (seen in the wild): whitespace-separated tokens.
            ids = stripComments(value).split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        }
        return ids
    }
}

/// Removes RFC 5322 comments `( ... )` (nested, with quoted pairs), outside quoted strings.
func stripComments(_ s: String) -> String {
    var out = ""
    var depth = 0
    var inQuote = false
    var escape = false
    for c in s {
        if escape { if depth == 0 { out.append(c) }; escape = false; continue }
        if c == "\\" { escape = true; if depth == 0 { out.append(c) }; continue }
        if inQuote { out.append(c); if c == "\"" { inQuote = false }; continue }
        if c == "\"", depth == 0 { inQuote = true; out.append(c); continue }
        if c == "(" { depth += 1; continue }
        if c == ")", depth > 0 { depth -= 1; if depth == 0 { out.append(" ") }; continue }
        if depth == 0 { out.append(c) }
    }
    return out
}

// MARK: - header sections

enum HeaderSection {
    /// Splits a header section from its body. Returns the fields and the
    /// index where the body starts. `top`: a leading mbox "From " line is
    /// skipped, and a line without a colon is an error (in a MIME part it
    /// means the part has no header section).
    static func split(_ bytes: ArraySlice<UInt8>, limits: MailLimits, top: Bool) throws -> (fields: [MailHeader], bodyStart: Int)? {
        var fields: [MailHeader] = []
        var current: (start: Int, colon: Int)?
        var i = bytes.startIndex
        var lineNo = 0
        func finish(_ end: Int) {
            guard let c = current else { return }
            let raw = Array(bytes[c.start..<end])
            let name = trimWSP(String(decoding: bytes[c.start..<c.colon], as: UTF8.self))
            var valueBytes: [UInt8] = []
            valueBytes.reserveCapacity(end - c.colon)
            for b in bytes[(c.colon + 1)..<end] where b != ASCII.cr && b != ASCII.lf { valueBytes.append(b) }
            fields.append(MailHeader(name: name, value: trimWSP(textOfBytes(valueBytes)), raw: raw))
            current = nil
        }
        while i < bytes.endIndex {
            var e = i
            while e < bytes.endIndex, bytes[e] != ASCII.lf { e += 1 }
            let lineEnd = e < bytes.endIndex ? e + 1 : e  // past the LF
            var contentEnd = e
            if contentEnd > i, bytes[contentEnd - 1] == ASCII.cr { contentEnd -= 1 }
            lineNo += 1
            if i - bytes.startIndex > limits.maxHeaderBytes {
                throw MailError("the header section is over the limit of \(limits.maxHeaderBytes) bytes")
            }
            if contentEnd == i {
                // The empty line: the body follows.
                finish(i)
                return (fields, lineEnd)
            }
            if ASCII.isWSP(bytes[i]) {
                if current == nil {
                    if fields.isEmpty && !top { return nil }
                    throw MailError("header line \(lineNo) starts with whitespace but continues no field")
                }
            } else {
                finish(i)
                if top, lineNo == 1, bytes[i..<contentEnd].hasPrefix(Array("From ".utf8)) {
                    i = lineEnd
                    continue
                }
                guard let colon = bytes[i..<contentEnd].firstIndex(of: ASCII.colon), colon > i else {
                    if fields.isEmpty && !top { return nil }
                    let shown = String(decoding: bytes[i..<min(contentEnd, i + 40)], as: UTF8.self)
                    throw MailError("header line \(lineNo) has no colon: \"\(shown)\"")
                }
                let name = bytes[i..<colon]
                // A field name is printable ASCII; WSP before the colon is obsolete but allowed.
                var seenSpace = false
                for b in name {
                    if ASCII.isWSP(b) { seenSpace = true; continue }
                    if b < 33 || b > 126 || seenSpace {
                        if fields.isEmpty && !top { return nil }
                        let shown = String(decoding: bytes[i..<min(contentEnd, i + 40)], as: UTF8.self)
                        throw MailError("header line \(lineNo) has no valid field name: \"\(shown)\"")
                    }
                }
                if fields.count >= limits.maxHeaderFields {
                    throw MailError("more than \(limits.maxHeaderFields) header fields")
                }
                current = (i, colon)
            }
            i = lineEnd
        }
        finish(bytes.endIndex)
        return (fields, bytes.endIndex)
    }
}
