import Foundation

/// `tag=value; tag=value` (RFC 6376 §3.2). Values keep inner whitespace,
/// trimmed at both ends. A duplicate tag or a tag without `=` is an error.
enum TagList {
    static func parse(_ s: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for piece in s.split(separator: ";", omittingEmptySubsequences: false) {
            let p = trimWSP(piece)
            if p.isEmpty { continue }
            guard let eq = p.firstIndex(of: "=") else { throw MailError("tag \"\(p.prefix(20))\" has no =") }
            let name = trimWSP(p[..<eq]).lowercased()
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw MailError("bad tag name \"\(name.prefix(20))\"")
            }
            if out[String(name)] != nil { throw MailError("tag \(name)= appears twice") }
            out[String(name)] = String(trimWSP(p[p.index(after: eq)...]))
        }
        return out
    }

    static func noWhitespace(_ s: String) -> String {
        String(s.unicodeScalars.filter { !($0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n") })
    }
}

/// A parsed DKIM-Signature header field.
struct DKIMSignature {
    var algorithm: String
    var signature: [UInt8]
    var bodyHash: [UInt8]
    var headerCanon: DKIMCanonicalization
    var bodyCanon: DKIMCanonicalization
    var domain: String
    var selector: String
    var signedHeaders: [String]
    var identity: String
    var bodyLength: Int?
    var timestamp: Date?
    var expiration: Date?

    /// What can be reported even when parsing fails later.
    struct Partial { var domain: String?, selector: String?, algorithm: String? }

    static func partial(_ value: String) -> Partial {
        let tags = (try? TagList.parse(value)) ?? [:]
        return Partial(
            domain: tags["d"].map { $0.lowercased() }, selector: tags["s"].map { $0.lowercased() }, algorithm: tags["a"])
    }

    /// Parses and checks the tags; a `DKIMFailure` says why a signature cannot be used.
    static func parse(_ value: String) throws(DKIMFailure) -> DKIMSignature {
        let tags: [String: String]
        do { tags = try TagList.parse(value) } catch { throw .malformed((error as? MailError)?.message ?? "\(error)") }
        func required(_ t: String) throws(DKIMFailure) -> String {
            guard let v = tags[t], !v.isEmpty else { throw .malformed("no \(t)= tag") }
            return v
        }
        guard try required("v") == "1" else { throw .malformed("v=\(tags["v"]!) is not 1") }
        let a = try required("a").lowercased()
        guard a == "rsa-sha256" || a == "ed25519-sha256" else { throw .unsupportedAlgorithm(a) }
        let b = TransferEncoding.base64(Array(TagList.noWhitespace(try required("b")).utf8))
        let bh = TransferEncoding.base64(Array(TagList.noWhitespace(try required("bh")).utf8))
        if b.isEmpty { throw .malformed("b= is empty") }
        if bh.count != 32 { throw .malformed("bh= is not a SHA-256 hash") }
        let d = try required("d").lowercased()
        let s = try required("s").lowercased()
        let h = try required("h").split(separator: ":").map { trimWSP($0).lowercased() }.filter { !$0.isEmpty }
        if !h.contains("from") { throw .malformed("h= does not sign From") }
        var hc = DKIMCanonicalization.simple, bc = DKIMCanonicalization.simple
        if let c = tags["c"] {
            let parts = c.lowercased().split(separator: "/", omittingEmptySubsequences: false).map { trimWSP($0) }
            guard parts.count <= 2, let h0 = DKIMCanonicalization(rawValue: String(parts[0])) else {
                throw .malformed("unknown canonicalization c=\(c)")
            }
            hc = h0
            if parts.count == 2 {
                guard let b0 = DKIMCanonicalization(rawValue: String(parts[1])) else { throw .malformed("unknown canonicalization c=\(c)") }
                bc = b0
            }
        }
        if let q = tags["q"], !q.lowercased().split(separator: ":").map({ trimWSP($0) }).contains("dns/txt") {
            throw .malformed("q=\(q) has no dns/txt")
        }
        let i = tags["i"] ?? "@" + d
        guard let at = i.lastIndex(of: "@") else { throw .malformed("i= has no @") }
        let iDomain = i[i.index(after: at)...].lowercased()
        if iDomain != d && !iDomain.hasSuffix("." + d) { throw .malformed("i= domain \(iDomain) is not within d=\(d)") }
        var l: Int?
        if let lv = tags["l"] {
            guard let n = Int(lv), n >= 0 else { throw .malformed("l=\(lv) is not a length") }
            l = n
        }
        func time(_ t: String) throws(DKIMFailure) -> Date? {
            guard let v = tags[t] else { return nil }
            guard let n = Int64(v), n >= 0 else { throw .malformed("\(t)=\(v) is not a time") }
            return Date(timeIntervalSince1970: TimeInterval(n))
        }
        let t = try time("t"), x = try time("x")
        if let t, let x, x < t { throw .malformed("x= is before t=") }
        return DKIMSignature(
            algorithm: a, signature: b, bodyHash: bh, headerCanon: hc, bodyCanon: bc, domain: d, selector: s,
            signedHeaders: h, identity: i, bodyLength: l, timestamp: t, expiration: x)
    }

    /// The raw DKIM-Signature field with the b= tag's value removed (RFC 6376
    /// §3.7), without its final CRLF: what the header hash covers.
    static func withoutSignatureValue(_ raw: [UInt8]) -> [UInt8] {
        var r = raw
        if r.last == ASCII.lf { r.removeLast() }
        if r.last == ASCII.cr { r.removeLast() }
        guard let colon = r.firstIndex(of: ASCII.colon) else { return r }
        var segStart = colon + 1
        var i = segStart
        while i <= r.count {
            if i == r.count || r[i] == ASCII.semicolon {
                if let eq = r[segStart..<i].firstIndex(of: ASCII.equals) {
                    let name = r[segStart..<eq].filter { !ASCII.isWSP($0) && $0 != ASCII.cr && $0 != ASCII.lf }
                    if name == [UInt8(ascii: "b")] {
                        r.removeSubrange((eq + 1)..<i)
                        return r
                    }
                }
                segStart = i + 1
            }
            i += 1
        }
        return r
    }
}
