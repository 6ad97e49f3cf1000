import CResolv
import Foundation

/// What a key look-up found at `selector._domainkey.domain`.
public enum DKIMKeyLookup: Sendable, Equatable {
    /// The TXT records there, each one's strings joined.
    case records([String])
    /// No such name, or no TXT record at it.
    case notFound
    /// The look-up itself failed (a resolver error, a timeout).
    case failed(String)
}

/// Where DKIM public keys come from.
public protocol DKIMKeyProvider: Sendable {
    /// The TXT records at `name` (e.g. `brisbane._domainkey.example.com`, lowercased, no trailing dot).
    func lookup(_ name: String) -> DKIMKeyLookup
}

/// Keys from a file, or a directory of files, for offline checks and tests.
///
/// One record per line: `NAME VALUE`, where NAME is
/// `selector._domainkey.domain` (a trailing dot is allowed) and VALUE is the
/// TXT record, either as written (`v=DKIM1; k=rsa; p=MIIB...`) or as
/// zone-file quoted strings, which are joined (`"v=DKIM1; k=ed25519; "
/// "p=11qY..."`). The zone-file form `NAME [TTL] [IN] TXT ( "..." "..." )`
/// may span lines inside the parentheses, so the `.txt` that
/// `opendkim-genkey` writes works once its name is made absolute; after
/// the quoted strings, `;` starts a comment. Lines starting with `#` and
/// empty lines are ignored. Several records under one name are all kept.
public struct DKIMKeyFile: DKIMKeyProvider {
    public let records: [String: [String]]

    public init(records: [String: [String]]) {
        var r: [String: [String]] = [:]
        for (k, v) in records { r[Self.normalize(k), default: []] += v }
        self.records = r
    }

    /// Reads a key file, or every file (not starting with ".") of a directory.
    public init(path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw MailError("\(path): no such key file or directory")
        }
        var files = [path]
        if isDir.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            files = names.filter { !$0.hasPrefix(".") }.sorted().map { "\(path)/\($0)" }
        }
        var all: [String: [String]] = [:]
        for f in files {
            guard let d = FileManager.default.contents(atPath: f) else { throw MailError("\(f): cannot read") }
            for (k, v) in try Self.parse(String(decoding: d, as: UTF8.self), file: f) { all[k, default: []] += v }
        }
        self.records = all
    }

    public init(text: String) throws { self.records = try Self.parse(text, file: "key file") }

    public func lookup(_ name: String) -> DKIMKeyLookup {
        records[Self.normalize(name)].map { .records($0) } ?? .notFound
    }

    static func normalize(_ n: String) -> String {
        var s = trimWSP(n).lowercased()
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    static func parse(_ text: String, file: String) throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        var n = 0
        while n < lines.count {
            let lineNo = n + 1
            let line = trimWSP(lines[n])
            n += 1
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let sp = line.firstIndex(where: { $0 == " " || $0 == "\t" }) else {
                throw MailError("\(file):\(lineNo): a name without a value")
            }
            let name = normalize(String(line[..<sp]))
            var rest = trimWSP(line[sp...])
            // optional TTL, class and type
            while let w = rest.split(separator: " ", maxSplits: 1).first,
                Int(w) != nil || w.uppercased() == "IN" || w.uppercased() == "TXT"
            {
                rest = trimWSP(rest.dropFirst(w.count))
            }
            if !name.contains("._domainkey.") { throw MailError("\(file):\(lineNo): \(name) is not selector._domainkey.domain") }
            if rest.hasPrefix("(") || rest.hasPrefix("\"") {
                var chunk = String(rest)
                if rest.hasPrefix("(") {
                    while !Self.closesParen(chunk), n < lines.count {
                        chunk += " " + lines[n]
                        n += 1
                    }
                    guard Self.closesParen(chunk) else { throw MailError("\(file):\(lineNo): \"(\" is never closed") }
                }
                out[name, default: []].append(try Self.quotedStrings(chunk, file: file, line: lineNo))
            } else {
                if rest.isEmpty { throw MailError("\(file):\(lineNo): \(name) has no value") }
                out[name, default: []].append(String(rest))
            }
        }
        return out
    }

    /// True when a ")" outside quotes occurs.
    static func closesParen(_ s: String) -> Bool {
        var inQ = false
        for c in s {
            if c == "\"" { inQ.toggle() } else if c == ")" && !inQ { return true } else if c == ";" && !inQ { break }
        }
        return false
    }

    static func quotedStrings(_ s: String, file: String, line: Int) throws -> String {
        var out = ""
        var inQ = false, escape = false, any = false
        for c in s {
            if inQ {
                if escape { out.append(c); escape = false } else if c == "\\" { escape = true } else if c == "\"" { inQ = false } else { out.append(c) }
            } else if c == "\"" {
                inQ = true; any = true
            } else if c == ";" || c == ")" {
                break
            }
        }
        if inQ { throw MailError("\(file):\(line): unterminated quoted string") }
        if !any { throw MailError("\(file):\(line): no quoted string") }
        return out
    }
}

/// Keys from DNS TXT records through the system resolver (res_nquery; the
/// resolvers of /etc/resolv.conf). A blocking call: use it off any event loop.
public struct DKIMDNSKeys: DKIMKeyProvider {
    public init() {}

    public func lookup(_ name: String) -> DKIMKeyLookup {
        var answer = [UInt8](repeating: 0, count: 65_536)
        var herr: Int32 = 0
        let n = answer.withUnsafeMutableBufferPointer { buf in
            cresolv_query_txt(name, buf.baseAddress, Int32(buf.count), &herr)
        }
        if n < 0 {
            switch herr {
            case 1, 4: return .notFound  // HOST_NOT_FOUND, NO_DATA
            case 2: return .failed("DNS look-up of \(name) failed temporarily")
            default: return .failed("DNS look-up of \(name) failed (h_errno \(herr))")
            }
        }
        guard let records = DNSAnswer.txtRecords(Array(answer.prefix(Int(n)))) else {
            return .failed("DNS answer for \(name) is malformed")
        }
        return records.isEmpty ? .notFound : .records(records)
    }
}

/// The TXT records of a raw DNS response (RFC 1035 §4.1), each record's
/// character-strings joined; nil when the response is malformed.
enum DNSAnswer {
    static func txtRecords(_ m: [UInt8]) -> [String]? {
        guard m.count >= 12 else { return nil }
        func u16(_ i: Int) -> Int? { i + 1 < m.count ? Int(m[i]) << 8 | Int(m[i + 1]) : nil }
        func skipName(_ i: Int) -> Int? {
            var j = i
            while j < m.count {
                let len = Int(m[j])
                if len == 0 { return j + 1 }
                if len & 0xC0 == 0xC0 { return j + 2 <= m.count ? j + 2 : nil }
                j += len + 1
            }
            return nil
        }
        guard let qd = u16(4), let an = u16(6) else { return nil }
        var i = 12
        for _ in 0..<qd {
            guard let e = skipName(i) else { return nil }
            i = e + 4
        }
        var out: [String] = []
        for _ in 0..<an {
            guard let e = skipName(i), let type = u16(e), let rdlen = u16(e + 8) else { return nil }
            let rdStart = e + 10
            guard rdStart + rdlen <= m.count else { return nil }
            if type == 16 {
                var k = rdStart
                var bytes: [UInt8] = []
                while k < rdStart + rdlen {
                    let l = Int(m[k])
                    guard k + 1 + l <= rdStart + rdlen else { return nil }
                    bytes += m[(k + 1)..<(k + 1 + l)]
                    k += 1 + l
                }
                out.append(String(decoding: bytes, as: UTF8.self))
            }
            i = rdStart + rdlen
        }
        return out
    }
}
