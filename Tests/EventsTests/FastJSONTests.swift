import Foundation
import Testing
@testable import Events

/// The fast reader must agree with JSONDecoder wherever it answers (issue 6).
@Suite struct FastJSONTests {
    static let samples = [
        #"{"a": 1, "b": [true, false, null], "c": {"d": "e"}}"#,
        #"0"#, #"1"#, #"-1"#, #"9223372036854775807"#, #"-9223372036854775808"#,
        #"9223372036854775808"#, #"1.5"#, #"1e3"#, #"-0"#, #"01"#,
        #""plain""#, #""esc \" \\ \/ \b \f \n \r \t""#, #""\u00e9\u4e2d\ud83d\ude00""#, #""\ud800""#,
        #"{"k": 1, "k": 2}"#, #"[1, 2,]"#, #"{"a" 1}"#, #"  [ ]  "#, #"{}"#, #"tru"#, #"[1] x"#,
        #"{"users": 1500, "services": ["medications"], "nested": [[{"x": []}]]}"#, "\"tab\there\"",
        #""é直接""#,
    ]

    @Test(arguments: samples)
    func agreesWithJSONDecoder(_ text: String) throws {
        let slow = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        var copy = text
        let fast = copy.withUTF8 { FastJSON.parse($0) }
        if let fast {
            #expect(fast == slow)
        }
        #expect((try? JSONValue.parse(text)) == slow)
    }

    @Test func scenarioLinesAgree() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/scenarios")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        for file in files where file.hasSuffix(".jsonl") {
            let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") {
                var s = String(line)
                let fast = s.withUTF8 { FastJSON.parse($0) }
                let slow = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
                #expect(fast != nil)
                #expect(fast == slow)
            }
        }
    }

    /// Documents nested deeper than JSONValue.maxDepth are refused with one
    /// line naming the limit, before JSONDecoder (which takes seconds on a
    /// few kilobytes nested hundreds deep); brackets inside strings do not count.
    @Test func nestingDeeperThanTheLimitIsRefused() throws {
        func nested(_ n: Int) -> String { String(repeating: "[", count: n) + String(repeating: "]", count: n) }
        #expect(try JSONValue.parse(nested(JSONValue.maxDepth)) != .null)
        for depth in [JSONValue.maxDepth + 1, 500, 100_000] {
            #expect(throws: JSONParseError.malformed("arrays and objects nested more than 256 levels deep")) {
                try JSONValue.parse(nested(depth))
            }
            let objects = String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth)
            #expect(throws: JSONParseError.self) { try JSONValue.parse(Data(objects.utf8)) }
        }
        let inString = "{\"s\":\"" + String(repeating: "[{", count: 1_000) + "\\\"\"}"
        #expect(try JSONValue.parse(inString)["s"]?.stringValue?.count == 2_001)
    }
}
