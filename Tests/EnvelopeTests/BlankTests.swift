import Foundation
import Testing
import Envelope

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
