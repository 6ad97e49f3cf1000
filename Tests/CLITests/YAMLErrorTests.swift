import Foundation
import Testing
import TestSupport

@Suite("CLI: malformed YAML")
struct YAMLErrorTests {
    @Test("a malformed policy gets a short one-line error with its line")
    func malformed() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID()).yaml")
        try Data("name: a\nversion: \"1\"\nname: b\nrules: []\n".utf8).write(to: url)
        let r = try CLI.run(["policy", "check", url.path])
        #expect(r.status == 65)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.count < 400)
        #expect(r.stderr.contains("'name'"))
        #expect(r.stderr.contains("(at line "))
        try Data("name: a\nversion: \"1\"\nrules: [\n  {id: X\n".utf8).write(to: url)
        let syntax = try CLI.run(["policy", "check", url.path])
        #expect(syntax.status == 65)
        #expect(syntax.stderr.split(separator: "\n").count == 1)
        #expect(syntax.stderr.contains("(at line 5") || syntax.stderr.contains("(at line 4"), "\(syntax.stderr)")
    }
}
