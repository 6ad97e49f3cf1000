import Foundation

/// One MIME entity: a message's root, a part of a multipart, or a leaf.
public struct MailPart: Sendable {
    /// The entity's header fields (for the root: the message's).
    public let headers: [MailHeader]
    /// `type/subtype`, lowercased (default text/plain; message/rfc822 in multipart/digest).
    public let mediaType: String
    /// Content-Type parameters, names lowercased (RFC 2231 continuations and
    /// charsets joined and decoded).
    public let parameters: [String: String]
    /// Content-Transfer-Encoding, lowercased; nil when absent (7bit).
    public let transferEncoding: String?
    /// Content-Disposition's type, lowercased (inline, attachment), if any.
    public let disposition: String?
    /// The file name from Content-Disposition or Content-Type's name.
    public let filename: String?
    /// The entity's body as written (still transfer-encoded).
    public let body: ArraySlice<UInt8>
    /// The parts of a multipart, in order; empty otherwise.
    public let parts: [MailPart]

    /// The body with its Content-Transfer-Encoding undone.
    public var decodedBody: [UInt8] { TransferEncoding.decode(Array(body), encoding: transferEncoding) }

    /// For a text/* part: the decoded body in its charset (format=flowed
    /// undone); nil for other types.
    public var text: String? {
        guard mediaType.hasPrefix("text/") else { return nil }
        var t = Charset.decode(decodedBody, charset: parameters["charset"]).text
        t = t.replacingOccurrences(of: "\r\n", with: "\n")
        if mediaType == "text/plain", parameters["format"]?.lowercased() == "flowed" {
            t = Flowed.unflow(t, delSp: parameters["delsp"]?.lowercased() == "yes")
        }
        return t
    }

    public var isAttachment: Bool { disposition == "attachment" }

    /// This part and every part below it, depth first.
    public var allParts: [MailPart] { [self] + parts.flatMap(\.allParts) }

    public func header(_ name: String) -> String? { headers.first { $0.is(name) }?.value }

    static func parse(
        _ bytes: ArraySlice<UInt8>, limits: MailLimits, depth: Int, partCount: inout Int, top: Bool, defaultType: String
    ) throws -> MailPart {
        partCount += 1
        if partCount > limits.maxParts { throw MailError("more than \(limits.maxParts) MIME parts") }
        let split = try HeaderSection.split(bytes, limits: limits, top: top)
        let fields = split?.fields ?? []
        let body = bytes[(split?.bodyStart ?? bytes.startIndex)...]

        var mediaType = defaultType
        var params: [String: String] = [:]
        if let ct = fields.first(where: { $0.is("Content-Type") })?.value {
            let (v, p) = HeaderParameters.parse(ct)
            if v.contains("/") { mediaType = v; params = p }
        }
        let cte = fields.first(where: { $0.is("Content-Transfer-Encoding") })
            .map { trimWSP(stripComments($0.value)).lowercased() }
        var disposition: String?
        var filename = params["name"]
        if let cd = fields.first(where: { $0.is("Content-Disposition") })?.value {
            let (v, p) = HeaderParameters.parse(cd)
            disposition = v.isEmpty ? nil : v
            if let f = p["filename"] { filename = f }
        }
        filename = filename.map(EncodedWords.decode)

        var children: [MailPart] = []
        if mediaType.hasPrefix("multipart/") {
            guard let boundary = params["boundary"], !boundary.isEmpty else {
                throw MailError("\(mediaType) without a boundary parameter")
            }
            if depth + 1 > limits.maxMIMEDepth {
                throw MailError("MIME nesting deeper than \(limits.maxMIMEDepth) levels")
            }
            let bodies = try Multipart.split(body, boundary: boundary, mediaType: mediaType)
            let childDefault = mediaType == "multipart/digest" ? "message/rfc822" : "text/plain"
            for b in bodies {
                children.append(try parse(b, limits: limits, depth: depth + 1, partCount: &partCount, top: false, defaultType: childDefault))
            }
        }
        return MailPart(
            headers: fields, mediaType: mediaType, parameters: params, transferEncoding: cte,
            disposition: disposition, filename: filename, body: body, parts: children)
    }

    /// (first inline text/plain, first inline text/html) below this part.
    func findText() -> (plain: String?, html: String?) {
        if isAttachment { return (nil, nil) }
        switch mediaType {
        case "text/plain": return (text, nil)
        case "text/html": return (nil, text)
        case _ where mediaType.hasPrefix("multipart/"):
            var html: String?
            for p in parts {
                let (pl, h) = p.findText()
                if let pl { return (pl, nil) }
                if html == nil { html = h }
            }
            return (nil, html)
        default: return (nil, nil)
        }
    }
}

enum Multipart {
    /// The bodies between `--boundary` delimiter lines (the line break before
    /// a delimiter belongs to it). Preamble and epilogue are dropped; a
    /// missing close delimiter ends the last part at the end of the input.
    static func split(_ body: ArraySlice<UInt8>, boundary: String, mediaType: String) throws -> [ArraySlice<UInt8>] {
        let delim = Array(("--" + boundary).utf8)
        var parts: [ArraySlice<UInt8>] = []
        var partStart: Int?
        var lineStart = body.startIndex
        var closed = false
        var sawDelimiter = false
        while lineStart < body.endIndex {
            var e = lineStart
            while e < body.endIndex, body[e] != ASCII.lf { e += 1 }
            let next = e < body.endIndex ? e + 1 : e
            let line = body[lineStart..<e]
            if line.hasPrefix(delim) {
                var rest = line.dropFirst(delim.count)
                let isClose = rest.hasPrefix([45, 45])
                if isClose { rest = rest.dropFirst(2) }
                if rest.allSatisfy({ ASCII.isWSP($0) || $0 == ASCII.cr }) {
                    sawDelimiter = true
                    if let s = partStart {
                        // End the previous part before the line break preceding this delimiter.
                        var end = lineStart
                        if end > s, body[end - 1] == ASCII.lf { end -= 1 }
                        if end > s, body[end - 1] == ASCII.cr { end -= 1 }
                        parts.append(body[s..<max(s, end)])
                    }
                    if isClose { closed = true; break }
                    partStart = next
                }
            }
            lineStart = next
        }
        if !sawDelimiter { throw MailError("\(mediaType): the boundary \"\(boundary)\" never occurs") }
        if !closed, let s = partStart, s <= body.endIndex { parts.append(body[s..<body.endIndex]) }
        return parts
    }
}

/// `value; name=token; name="quoted"` with RFC 2231 extensions.
enum HeaderParameters {
    static func parse(_ header: String) -> (value: String, parameters: [String: String]) {
        let pieces = splitOutsideQuotes(stripComments(header))
        let value = trimWSP(pieces.first ?? "").lowercased()
        var simple: [String: String] = [:]
        var sections: [String: [Int: (String, Bool)]] = [:]
        for piece in pieces.dropFirst() {
            guard let eq = piece.firstIndex(of: "=") else { continue }
            var name = trimWSP(piece[..<eq]).lowercased()
            var v = trimWSP(String(piece[piece.index(after: eq)...]))
            if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = unquote(String(v.dropFirst().dropLast())) }
            var extended = false
            if name.hasSuffix("*") { extended = true; name.removeLast() }
            if let star = name.firstIndex(of: "*"), let n = Int(name[name.index(after: star)...]) {
                sections[String(name[..<star]), default: [:]][n] = (v, extended)
            } else if extended {
                sections[name, default: [:]][0] = (v, true)
            } else {
                simple[name] = v
            }
        }
        for (name, secs) in sections {
            var charset: String?
            var bytes: [UInt8] = []
            for k in secs.keys.sorted() {
                var (v, ext) = secs[k]!
                if ext {
                    if k == 0 {
                        let p = v.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                        if p.count == 3 { charset = String(p[0]); v = String(p[2]) }
                    }
                    bytes += percentDecode(v)
                } else {
                    bytes += Array(v.utf8)
                }
            }
            simple[name] = Charset.decode(bytes, charset: charset ?? "utf-8").text
        }
        return (value, simple)
    }

    static func splitOutsideQuotes(_ s: String) -> [String] {
        var out: [String] = []
        var cur = ""
        var inQuote = false, escape = false
        for c in s {
            if escape { cur.append(c); escape = false; continue }
            if c == "\\" && inQuote { cur.append(c); escape = true; continue }
            if c == "\"" { inQuote.toggle() }
            if c == ";" && !inQuote { out.append(cur); cur = ""; continue }
            cur.append(c)
        }
        out.append(cur)
        return out
    }

    static func unquote(_ s: String) -> String {
        var out = ""
        var escape = false
        for c in s {
            if escape { out.append(c); escape = false } else if c == "\\" { escape = true } else { out.append(c) }
        }
        return out
    }

    static func percentDecode(_ s: String) -> [UInt8] {
        let u = Array(s.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "%"), i + 2 < u.count, let v = UInt8(String(decoding: u[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                out.append(v)
                i += 3
            } else {
                out.append(u[i])
                i += 1
            }
        }
        return out
    }
}

/// RFC 3676 format=flowed: a line ending in a space continues on the next.
enum Flowed {
    static func unflow(_ text: String, delSp: Bool) -> String {
        var out: [String] = []
        var current: String?
        for var line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line != "-- ", line.hasPrefix(" ") { line.removeFirst() }  // space-stuffing
            let soft = line.hasSuffix(" ") && line != "-- "
            if soft, delSp { line.removeLast() }
            current = (current ?? "") + line
            if !soft { out.append(current!); current = nil }
        }
        if let current { out.append(current) }
        return out.joined(separator: "\n")
    }
}
