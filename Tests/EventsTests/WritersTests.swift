import Foundation
import Testing
@testable import Events

/// The byte-level writers (issue 6) must produce exactly the text of the
/// String-based forms they replace on hot paths.
@Suite("Byte writers: times and JSON")
struct WritersTests {
    @Test("RFC3339.writeUTC writes what format(_:) writes, across years, fractions and times before 1970")
    func utcTimes() {
        var generator = SystemRandomNumberGenerator()
        var samples: [Int64] = [0, -1, 1, 999_999, -999_999, 1_000_000, -2_208_988_800_000_000, 253_402_300_799_999_999,
                                1_775_568_000_000_000, 1_775_568_000_120_000, 1_775_568_000_000_001]
        for _ in 0..<5000 { samples.append(Int64.random(in: -2_208_988_800_000_000...253_402_300_799_999_999, using: &generator)) }
        var mismatches: [Int64] = []
        for us in samples {
            var bytes: [UInt8] = []
            RFC3339.writeUTC(microseconds: us, to: &bytes)
            if String(decoding: bytes, as: UTF8.self) != RFC3339.format(microseconds: us, offsetSeconds: 0) { mismatches.append(us) }
        }
        #expect(mismatches.isEmpty, "first: \(mismatches.first.map { RFC3339.format(microseconds: $0, offsetSeconds: 0) } ?? "")")
    }

    @Test("JSON text escapes quotes, backslashes and control characters, keeps other UTF-8, and parses back to the same value")
    func jsonText() throws {
        let value = JSONValue.object([
            "q": .string("say \"hi\" \\ back\n\r\t\u{1}\u{1f}\u{7f} ünï 🙂"),
            "n": .array([.int(-12), .double(1.5), .double(2), .bool(true), .bool(false), .null]),
            "nested": .object(["b": .string(""), "a": .object([:])]),
        ])
        let text = value.jsonText()
        #expect(text == #"{"n":[-12,1.5,2,true,false,null],"nested":{"a":{},"b":""},"q":"say \"hi\" \\ back\n\r\t\u0001\u001f"# + "\u{7f} ünï 🙂\"}")
        #expect(try JSONValue.parse(text) == value.normalizedForComparison)
        #expect(value.jsonByteCount == text.utf8.count)
        var quoted: [UInt8] = []
        JSONValue.writeString("a\"b\u{0}", to: &quoted)
        #expect(String(decoding: quoted, as: UTF8.self) == #""a\"b\u0000""#)
    }

    @Test("a NUL anywhere in data is found, with its path")
    func nulPaths() {
        #expect(JSONValue.object(["a": .array([.string("x"), .string("y\u{0}")])]).pathOfNulCharacter() == "data.a[1]")
        #expect(JSONValue.object(["k\u{0}": .int(1)]).pathOfNulCharacter() == "data (a key)")
        #expect(JSONValue.object(["a": .string("no nul here: ünï")]).pathOfNulCharacter() == nil)
    }
}

extension JSONValue {
    /// 2.0 reads back as the integer 2.
    var normalizedForComparison: JSONValue {
        switch self {
        case .double(let d) where d.rounded() == d: .int(Int64(d))
        case .array(let a): .array(a.map(\.normalizedForComparison))
        case .object(let o): .object(o.mapValues(\.normalizedForComparison))
        default: self
        }
    }
}
