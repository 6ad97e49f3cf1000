@testable import Domain
import Testing

@Suite("Fast lower-casing")
struct LowercaseTests {
    @Test("lowercasedFast equals lowercased() for ASCII, mixed and non-ASCII strings")
    func sameAsLowercased() {
        let samples = ["", "a", "Z", "@", "[", "`", "{", "uf-oncall", "UF-OnCall", "Alice.Smith@Example.COM",
                       "C0DE_42-x", "#mhv-API-platform", "ÉCOLE", "École", "İstanbul", "STRASSE ß", "ΣΊΣΥΦΟΣ",
                       "mixed ASCII then é", "🚨 ALERT", "tab\tNEW\nline", String(repeating: "AbC", count: 40)]
        for s in samples {
            #expect(s.lowercasedFast == s.lowercased(), "\(s)")
        }
        // Every ASCII byte on its own.
        for b in UInt8(0)..<0x80 {
            let s = String(decoding: [b, b], as: UTF8.self)
            #expect(s.lowercasedFast == s.lowercased())
        }
    }
}
