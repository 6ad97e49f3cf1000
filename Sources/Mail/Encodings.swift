import Foundation

/// Content-Transfer-Encoding and RFC 2047 decoding.
public enum TransferEncoding {
    /// Decodes a body in `encoding` (quoted-printable, base64, 7bit, 8bit,
    /// binary). Unknown encodings (x-uuencode, ...) are returned as they are.
    public static func decode(_ body: [UInt8], encoding: String?) -> [UInt8] {
        switch (encoding ?? "7bit").lowercased() {
        case "quoted-printable": return quotedPrintable(body, header: false)
        case "base64": return base64(body)
        default: return body
        }
    }

    /// Quoted-printable (RFC 2045 §6.7): `=XX`, soft line breaks `=` at the end
    /// of a line. Malformed `=` sequences are kept literally. In RFC 2047's Q
    /// form (`header: true`) `_` is a space.
    static func quotedPrintable<C: Collection>(_ input: C, header: Bool) -> [UInt8] where C.Element == UInt8 {
        let b = Array(input)
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            let c = b[i]
            if c == ASCII.equals {
                // soft line break: '=' [WSP...] CRLF|LF
                var j = i + 1
                while j < b.count, ASCII.isWSP(b[j]) { j += 1 }
                if j < b.count, b[j] == ASCII.lf { i = j + 1; continue }
                if j + 1 < b.count, b[j] == ASCII.cr, b[j + 1] == ASCII.lf { i = j + 2; continue }
                if j == b.count, !header { i = j; continue }
                if i + 2 < b.count, let h = hexValue(b[i + 1]), let l = hexValue(b[i + 2]) {
                    out.append(h << 4 | l)
                    i += 3
                    continue
                }
                out.append(c)
                i += 1
            } else if header, c == UInt8(ascii: "_") {
                out.append(ASCII.sp)
                i += 1
            } else {
                out.append(c)
                i += 1
            }
        }
        return out
    }

    /// Base64, ignoring line breaks and any character outside the alphabet;
    /// missing padding is tolerated.
    static func base64<C: Collection>(_ input: C) -> [UInt8] where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        for c in input {
            let v: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(c - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt32(c - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            case UInt8(ascii: "="): bits = 0; acc = 0; continue
            default: continue
            }
            acc = acc << 6 | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((acc >> UInt32(bits)) & 0xFF))
            }
        }
        return out
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}

/// RFC 2047 encoded words: `=?charset?B|Q?text?=`, with RFC 2231's
/// `charset*language` form. Whitespace between two adjacent encoded words is
/// dropped (RFC 2047 §6.2); a malformed word is left as written.
public enum EncodedWords {
    public static func decode(_ s: String) -> String {
        guard s.contains("=?") else { return s }
        var out = ""
        var lastWasEncoded = false
        var rest = Substring(s)
        while !rest.isEmpty {
            if let r = rest.range(of: "=?"), let (text, after) = word(in: rest[r.lowerBound...]) {
                let before = rest[..<r.lowerBound]
                if lastWasEncoded, before.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r\n" || $0 == "\n" }) {
                    // dropped: whitespace between encoded words
                } else {
                    out += before
                }
                out += text
                lastWasEncoded = true
                rest = after
            } else if let r = rest.range(of: "=?") {
                out += rest[..<r.upperBound]
                rest = rest[r.upperBound...]
                lastWasEncoded = false
            } else {
                out += rest
                rest = rest[rest.endIndex...]
            }
        }
        return out
    }

    /// `=?cs?e?text?=` at the start of `s`: the decoded text and what follows.
    private static func word(in s: Substring) -> (String, Substring)? {
        let u = Array(s.utf8.prefix(2000))
        guard u.count >= 8, u[0] == UInt8(ascii: "="), u[1] == UInt8(ascii: "?") else { return nil }
        var i = 2
        while i < u.count, u[i] != UInt8(ascii: "?") {
            if u[i] <= ASCII.sp { return nil }
            i += 1
        }
        guard i + 2 < u.count, u[i + 2] == UInt8(ascii: "?") else { return nil }
        var charset = String(decoding: u[2..<i], as: UTF8.self)
        if let star = charset.firstIndex(of: "*") { charset = String(charset[..<star]) }
        let enc = u[i + 1] | 0x20
        var j = i + 3
        let textStart = j
        while j + 1 < u.count, !(u[j] == UInt8(ascii: "?") && u[j + 1] == UInt8(ascii: "=")) {
            if u[j] == ASCII.sp || u[j] == ASCII.lf || u[j] == ASCII.cr { return nil }
            j += 1
        }
        guard j + 1 < u.count else { return nil }
        let encoded = u[textStart..<j]
        let bytes: [UInt8]
        switch enc {
        case UInt8(ascii: "b"): bytes = TransferEncoding.base64(encoded)
        case UInt8(ascii: "q"): bytes = TransferEncoding.quotedPrintable(encoded, header: true)
        default: return nil
        }
        let text = Charset.decode(bytes, charset: charset).text
        // Position after "?=" in the substring.
        let consumed = j + 2
        let idx = s.utf8.index(s.utf8.startIndex, offsetBy: consumed)
        return (text, s[idx...])
    }
}
