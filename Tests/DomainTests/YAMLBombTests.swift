import Domain
import Events
import Foundation
import Testing

/// YAML documents built to exhaust the reader are refused quickly with one
/// line naming the limit (the timing bound is a generous sanity check).
@Suite("Domain: YAML bombs")
struct YAMLBombTests {
    /// The classic "billion laughs": nine levels of nine aliases, 9^9 strings once expanded.
    static let billionLaughs: String = {
        var lines = [#"a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]"#]
        let names = Array("abcdefghi")
        for i in 1..<names.count {
            let previous = "*\(names[i - 1])"
            lines.append("\(names[i]): &\(names[i]) [\(Array(repeating: previous, count: 9).joined(separator: ","))]")
        }
        return lines.joined(separator: "\n") + "\n"
    }()

    static func refused(_ text: String) -> (message: String?, seconds: Double) {
        let start = Date()
        var message: String?
        do { _ = try YAML.parse(text) } catch { message = error.description }
        return (message, Date().timeIntervalSince(start))
    }

    @Test("billion laughs is refused naming the node limit")
    func billionLaughs() {
        let r = Self.refused(Self.billionLaughs)
        let message = r.message ?? ""
        #expect(message.contains("more than \(YAML.maxNodes) nodes"), "\(message)")
        #expect(!message.contains("\n"))
        #expect(r.seconds < 10)
        // As a policy and a directory: the same refusal.
        #expect(throws: ValidationError.self) { _ = try Policy.parse(yaml: Self.billionLaughs) }
        #expect(throws: ValidationError.self) { _ = try Directory.parse(yaml: Self.billionLaughs) }
    }

    @Test("a 1,000,000-element flow sequence is refused before it is composed")
    func millionNodes() {
        let text = "items: [" + String(repeating: "0, ", count: 1_000_000) + "0]\n"
        let r = Self.refused(text)
        #expect(r.message?.contains("more than \(YAML.maxNodes) nodes") == true, "\(r.message ?? "")")
        #expect(r.seconds < 10)
        // And a million block entries.
        let block = "items:\n" + String(repeating: "- 0\n", count: 1_000_000)
        #expect(Self.refused(block).message?.contains("nodes") == true)
    }

    @Test("an oversized document, and aliases inside mapping keys, are refused; ordinary anchors still work")
    func limits() throws {
        let huge = "note: \"" + String(repeating: "x", count: YAML.maxBytes) + "\"\n"
        #expect(Self.refused(huge).message?.contains("4 MiB") == true)
        let aliasKey = "a: &a [1, 2]\nb:\n  *a : 3\n"
        #expect(Self.refused(aliasKey).message?.contains("complex mapping keys") == true)
        let explicitKey = "a: &a [1, 2]\n? [*a, *a]\n: 3\n"
        #expect(Self.refused(explicitKey).message?.contains("complex mapping keys") == true)
        let fine = try YAML.parse("base: &b [x, y]\ncopy: *b\ntext: 'a *star, and: more'\n")
        #expect(fine["copy"] == .array([.string("x"), .string("y")]))
    }
}
