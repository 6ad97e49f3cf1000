import Foundation
import Testing
@testable import Events

/// `Blank.isBlank` must agree with Foundation's trimming, which it replaces
/// in the rule engine and the catalog (issue 6).
@Suite struct BlankTests {
    static let samples = [
        "", " ", "\t", "\n", "\r\n", " \t \n", "a", " a ", "\u{0B}", "\u{0C}", "\u{85}", "\u{A0}", "\u{2028}",
        "\u{2029}", "\u{3000}", "\u{200B}", "\u{FEFF}", "\u{1680}", " \u{2003}x", "é", "\u{0}", "\u{1F600}",
        "\u{2000}\u{200A}", "\u{202F}\u{205F}", "\u{7F}", "e\u{301}",
    ]

    @Test(arguments: samples)
    func agreesWithTrimming(_ text: String) {
        #expect(Blank.isBlank(text, newlines: true) == text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        #expect(Blank.isBlank(text, newlines: false) == text.trimmingCharacters(in: .whitespaces).isEmpty)
    }

    /// Every scalar of the Basic Multilingual Plane and a sample beyond it, alone and after a space.
    @Test func agreesOnEveryBMPScalar() {
        var disagreements: [String] = []
        for v in Array(0..<0xD800) + Array(0xE000...0xFFFF) + [0x1_0000, 0x1_F600, 0xE_0020, 0x10_FFFF] {
            let text = " " + String(Unicode.Scalar(UInt32(v))!)
            if Blank.isBlank(text, newlines: true) != text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
                || Blank.isBlank(text, newlines: false) != text.trimmingCharacters(in: .whitespaces).isEmpty {
                disagreements.append(String(v, radix: 16))
            }
        }
        #expect(disagreements == [])
    }
}

/// The byte-level RFC 3339 formatter gives the same text as the original
/// String-based one (issue 6), kept here as the reference, for every year
/// (negative and after 9999) and offset (100 hours and more included).
@Suite struct RFC3339FormatTests {
    static func reference(microseconds us: Int64, offsetSeconds: Int) -> String {
        let (y, m, d, secOfDay, fraction) = RFC3339.fields(microseconds: us, offsetSeconds: offsetSeconds)
        func pad(_ v: Int, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        var out = "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(Int(secOfDay / 3600), 2)):\(pad(Int(secOfDay % 3600 / 60), 2)):\(pad(Int(secOfDay % 60), 2))"
        if fraction != 0 {
            var f = pad(Int(fraction), 6)
            while f.hasSuffix("0") { f.removeLast() }
            out += "." + f
        }
        if offsetSeconds == 0 {
            out += "Z"
        } else {
            let sign = offsetSeconds < 0 ? "-" : "+"
            let a = abs(offsetSeconds)
            out += "\(sign)\(pad(a / 3600, 2)):\(pad(a % 3600 / 60, 2))"
        }
        return out
    }

    @Test func agreesWithTheReference() {
        var us: [Int64] = [0, 1, -1, 999_999, 1_000_000, -1_000_001, 1_775_568_900_000_000, 1_775_568_900_123_000,
                           1_775_568_900_000_001, 253_402_300_799_999_999, 253_402_300_800_000_000, -62_135_596_800_000_000,
                           -62_167_219_200_000_001, 951_782_400_000_000, 4_000_000_000_000_000_000, -4_000_000_000_000_000_000]
        var seed: UInt64 = 42
        for _ in 0..<2000 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            us.append(Int64(bitPattern: seed >> 8) % 300_000_000_000_000_000)
        }
        for u in us {
            for offset in [0, 1, 3600, -4 * 3600, -5 * 3600, 5 * 3600 + 45 * 60, 14 * 3600, -12 * 3600 - 30 * 60,
                           99 * 3600 + 59 * 60, 100 * 3600, -123 * 3600 - 4 * 60] {
                let want = Self.reference(microseconds: u, offsetSeconds: offset)
                #expect(RFC3339.format(microseconds: u, offsetSeconds: offset) == want, "\(u) \(offset)")
                var bytes: [UInt8] = []
                RFC3339.write(microseconds: u, offsetSeconds: offset, to: &bytes)
                #expect(String(decoding: bytes, as: UTF8.self) == want, "\(u) \(offset)")
            }
        }
    }
}
