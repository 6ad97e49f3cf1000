import Foundation

/// Why a message or mailbox could not be read: one line naming the problem.
public struct MailError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Size limits applied while reading (all documented in docs/importers.md).
/// Input over a limit is refused with a `MailError` naming the limit; nothing
/// is truncated silently.
public struct MailLimits: Sendable {
    /// One message, raw bytes (default 32 MiB).
    public var maxMessageBytes: Int
    /// The header section of one message or MIME part (default 1 MiB).
    public var maxHeaderBytes: Int
    /// Header fields in one header section (default 5,000).
    public var maxHeaderFields: Int
    /// Nesting of multiparts (default 20 levels).
    public var maxMIMEDepth: Int
    /// MIME parts in one message, counting every level (default 2,000).
    public var maxParts: Int
    /// One mbox file, or the sum of a Maildir's files (default 2 GiB).
    public var maxMailboxBytes: Int
    /// Messages in one mailbox (default 1,000,000).
    public var maxMessages: Int

    public init(
        maxMessageBytes: Int = 32 << 20, maxHeaderBytes: Int = 1 << 20, maxHeaderFields: Int = 5_000,
        maxMIMEDepth: Int = 20, maxParts: Int = 2_000, maxMailboxBytes: Int = 2 << 30, maxMessages: Int = 1_000_000
    ) {
        self.maxMessageBytes = maxMessageBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderFields = maxHeaderFields
        self.maxMIMEDepth = maxMIMEDepth
        self.maxParts = maxParts
        self.maxMailboxBytes = maxMailboxBytes
        self.maxMessages = maxMessages
    }

    public static let standard = MailLimits()
}

// MARK: - byte helpers shared by the module

enum ASCII {
    static let cr: UInt8 = 13, lf: UInt8 = 10, sp: UInt8 = 32, tab: UInt8 = 9
    static let colon: UInt8 = 58, semicolon: UInt8 = 59, equals: UInt8 = 61

    static func isWSP(_ b: UInt8) -> Bool { b == sp || b == tab }
}

extension Array where Element == UInt8 {
    /// Splits into lines; each line keeps its ending (CRLF, LF, or none for the last).
    func linesKeepingEndings() -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = startIndex
        var i = startIndex
        while i < endIndex {
            if self[i] == ASCII.lf {
                lines.append(self[start...i])
                start = i + 1
            }
            i += 1
        }
        if start < endIndex { lines.append(self[start..<endIndex]) }
        return lines
    }
}

extension ArraySlice where Element == UInt8 {
    /// The line without its CRLF or LF.
    var withoutLineEnding: ArraySlice<UInt8> {
        var end = endIndex
        if end > startIndex, self[end - 1] == ASCII.lf { end -= 1 }
        if end > startIndex, self[end - 1] == ASCII.cr { end -= 1 }
        return self[startIndex..<end]
    }

    func hasPrefix(_ p: [UInt8]) -> Bool {
        count >= p.count && zip(self, p).allSatisfy { $0 == $1 }
    }
}

/// Bytes as text: UTF-8 when valid, else Windows-1252 (a superset of
/// ISO-8859-1's printable range), so header bytes are never lost.
func textOfBytes<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    if let s = String(validating: Array(bytes), as: UTF8.self) { return s }
    return Charset.windows1252(Array(bytes))
}

func trimWSP(_ s: Substring) -> Substring {
    let u = s.unicodeScalars
    var a = u.startIndex, b = u.endIndex
    func ws(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" || c == "\r" || c == "\n" }
    while a < b, ws(u[a]) { a = u.index(after: a) }
    while b > a, ws(u[u.index(before: b)]) { b = u.index(before: b) }
    return Substring(u[a..<b])
}

func trimWSP(_ s: String) -> String { String(trimWSP(s[...])) }
