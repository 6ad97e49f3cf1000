import Foundation

/// Character set decoding for MIME text and RFC 2047 encoded words.
///
/// Built in: utf-8, us-ascii, iso-8859-1 (latin1), windows-1252 (cp1252).
/// Also, through Foundation's `String.Encoding`: iso-8859-2, windows-1250,
/// -1251, -1253, -1254, utf-16(be/le), utf-32, shift_jis, euc-jp, iso-2022-jp. An unknown
/// or unusable charset falls back to UTF-8 when the bytes are valid UTF-8,
/// else Windows-1252; `decode` reports whether it fell back.
public enum Charset {
    /// Decodes `bytes` in `name`; `exact` is false when the charset was unknown
    /// (or the bytes invalid for it) and the fallback was used.
    public static func decode(_ bytes: [UInt8], charset name: String?) -> (text: String, exact: Bool) {
        let n = (name ?? "us-ascii").lowercased().trimmingCharacters(in: .whitespaces)
        switch n {
        case "utf-8", "utf8":
            if let s = String(validating: bytes, as: UTF8.self) { return (s, true) }
            return (textOfBytes(bytes), false)
        case "us-ascii", "ascii", "ansi_x3.4-1968", "":
            if bytes.allSatisfy({ $0 < 0x80 }) { return (String(decoding: bytes, as: UTF8.self), true) }
            // 8-bit bytes labelled ASCII: usually UTF-8 in practice.
            return (textOfBytes(bytes), false)
        case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso_8859-1":
            return (latin1(bytes), true)
        case "windows-1252", "cp1252", "x-cp1252":
            return (windows1252(bytes), true)
        default:
            if let enc = foundationEncodings[n], let s = String(data: Data(bytes), encoding: enc) { return (s, true) }
            return (textOfBytes(bytes), false)
        }
    }

    private static let foundationEncodings: [String: String.Encoding] = [
        "iso-8859-2": .isoLatin2, "latin2": .isoLatin2,
        "windows-1250": .windowsCP1250, "windows-1251": .windowsCP1251,
        "windows-1253": .windowsCP1253, "windows-1254": .windowsCP1254,
        "utf-16": .utf16, "utf-16be": .utf16BigEndian, "utf-16le": .utf16LittleEndian,
        "utf-32": .utf32, "shift_jis": .shiftJIS, "euc-jp": .japaneseEUC, "iso-2022-jp": .iso2022JP,
    ]

    static func latin1(_ bytes: [UInt8]) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(Unicode.Scalar(b)) }
        return String(s)
    }

    /// Windows-1252: ISO-8859-1 with printable characters in 0x80-0x9F.
    static func windows1252(_ bytes: [UInt8]) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes {
            if b >= 0x80, b <= 0x9F, let mapped = cp1252High[Int(b - 0x80)], let u = Unicode.Scalar(mapped) {
                s.append(u)
            } else {
                s.append(Unicode.Scalar(b))
            }
        }
        return String(s)
    }

    private static let cp1252High: [UInt32?] = [
        0x20AC, nil, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, nil, 0x017D, nil,
        nil, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, nil, 0x017E, 0x0178,
    ]
}
