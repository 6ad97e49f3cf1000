import Foundation

/// One mailbox from an address list.
///
/// Parsed (RFC 5322 §3.4, a subset): `addr@host`, `Name <addr@host>`,
/// `"Quoted, Name" <addr@host>`, groups `Team: a@x, b@y;` (members carry the
/// group's name; an empty group such as `undisclosed-recipients:;` yields
/// nothing), comments anywhere (a comment after a bare address is used as
/// its display name, the old `addr@host (Name)` form), obsolete routes
/// (`<@relay:addr@host>`, the route dropped), encoded words in display
/// names. Not handled: domain literals with a `]` inside, nested groups.
public struct MailAddress: Sendable, Hashable, CustomStringConvertible {
    /// The display name, decoded; nil when there is none.
    public let name: String?
    /// `local@domain` as written.
    public let address: String
    /// The group this mailbox was listed in, if any.
    public let group: String?

    public init(name: String?, address: String, group: String? = nil) {
        self.name = name
        self.address = address
        self.group = group
    }

    /// The address lowercased, for matching against a directory.
    public var normalized: String { address.lowercased() }

    public var description: String { name.map { "\($0) <\(address)>" } ?? address }

    /// Parses an address-list (or mailbox-list). Throws a `MailError` for an
    /// unterminated quoted string, comment or angle address, or an angle
    /// address without an `@`.
    public static func parseList(_ value: String) throws -> [MailAddress] {
        var p = AddressParser(chars: Array(value))
        return try p.list()
    }
}

private struct AddressParser {
    let chars: [Character]
    var i = 0

    init(chars: [Character]) { self.chars = chars }

    static let wordBreaks: Set<Character> = [" ", "\t", "\r\n", "\n", "\r", "\"", "(", "<", ",", ":", ";", ">"]

    enum Token: Equatable { case word(String, quoted: Bool), special(Character), angle(String), comment(String) }

    mutating func tokens() throws -> [Token] {
        var out: [Token] = []
        while i < chars.count {
            let c = chars[i]
            switch c {
            case " ", "\t", "\r\n", "\n", "\r": i += 1
            case "\"":
                i += 1
                var s = ""
                var closed = false
                while i < chars.count {
                    let d = chars[i]
                    if d == "\\", i + 1 < chars.count { s.append(chars[i + 1]); i += 2; continue }
                    if d == "\"" { closed = true; i += 1; break }
                    s.append(d)
                    i += 1
                }
                if !closed { throw MailError("unterminated quoted string") }
                out.append(.word(s, quoted: true))
            case "(":
                var depth = 0
                var s = ""
                repeat {
                    let d = chars[i]
                    if d == "\\", i + 1 < chars.count { s.append(chars[i + 1]); i += 2; continue }
                    if d == "(" { depth += 1; if depth > 1 { s.append(d) } } else if d == ")" {
                        depth -= 1
                        if depth > 0 { s.append(d) }
                    } else { s.append(d) }
                    i += 1
                } while depth > 0 && i < chars.count
                if depth > 0 { throw MailError("unterminated comment") }
                out.append(.comment(s))
            case "<":
                i += 1
                var s = ""
                var closed = false
                var inQuote = false
                while i < chars.count {
                    let d = chars[i]
                    if d == "\"" { inQuote.toggle() }
                    if d == ">", !inQuote { closed = true; i += 1; break }
                    if d != " " && d != "\t" && d != "\r\n" && d != "\n" { s.append(d) }
                    i += 1
                }
                if !closed { throw MailError("unterminated angle address <\(s)") }
                out.append(.angle(s))
            case ",", ":", ";", "@", ">":
                out.append(.special(c))
                i += 1
            default:
                var s = ""
                while i < chars.count {
                    let d = chars[i]
                    if Self.wordBreaks.contains(d) { break }
                    s.append(d)
                    i += 1
                }
                out.append(.word(s, quoted: false))
            }
        }
        return out
    }

    mutating func list() throws -> [MailAddress] {
        let toks = try tokens()
        var out: [MailAddress] = []
        var group: String?
        var current: [Token] = []
        func flush() throws {
            defer { current = [] }
            if current.allSatisfy({ if case .comment = $0 { return true }; return false }) { return }
            out.append(try mailbox(current, group: group))
        }
        for t in toks {
            switch t {
            case .special(","): try flush()
            case .special(":") where group == nil && !current.contains(where: { if case .angle = $0 { return true }; return false }):
                group = displayName(current)
                current = []
            case .special(";") where group != nil:
                try flush()
                group = nil
            default: current.append(t)
            }
        }
        try flush()
        return out
    }

    func displayName(_ toks: [Token]) -> String? {
        var parts: [String] = []
        for t in toks {
            if case .word(let w, _) = t { parts.append(w) }
            if case .special(let c) = t, c == "@" { parts.append("@") }
        }
        let n = EncodedWords.decode(parts.joined(separator: " "))
        return n.isEmpty ? nil : n
    }

    func mailbox(_ toks: [Token], group: String?) throws -> MailAddress {
        if let idx = toks.firstIndex(where: { if case .angle = $0 { return true }; return false }),
            case .angle(var a) = toks[idx]
        {
            if a.hasPrefix("@"), let colon = a.firstIndex(of: ":") { a = String(a[a.index(after: colon)...]) }
            if !a.isEmpty, !a.contains("@") { throw MailError("<\(a)> is not an address (no @)") }
            var name = displayName(Array(toks[..<idx]))
            if name == nil {
                for case .comment(let c) in toks { name = EncodedWords.decode(trimWSP(c)); break }
            }
            return MailAddress(name: name, address: a, group: group)
        }
        // addr-spec: words and "@", dots inside words.
        var addr = ""
        var comment: String?
        for t in toks {
            switch t {
            case .word(let w, let quoted): addr += quoted ? "\"\(w)\"" : w
            case .special(let c): addr.append(c)
            case .comment(let c): if comment == nil { comment = trimWSP(c) }
            case .angle: break
            }
        }
        let name = comment.flatMap { $0.isEmpty ? nil : EncodedWords.decode($0) }
        return MailAddress(name: name, address: addr, group: group)
    }
}
