import Foundation
import Ledger
import Operations
import Testing
import TestSupport

@Suite("CLI: malformed YAML")
struct YAMLErrorTests {
    @Test("a malformed policy gets a short one-line error with its line")
    func malformed() throws {
        let session = Session(settings: .resolve(explicit: nil, environment: [:]))
        let r = InProcess.outcome { _ = try session.checkPolicy(yaml: "name: a\nversion: \"1\"\nname: b\nrules: []\n", directory: .none) }
        #expect(r.status == 65)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.count < 400)
        #expect(r.stderr.contains("'name'"))
        #expect(r.stderr.contains("(at line "))
        let syntax = InProcess.outcome { _ = try session.checkPolicy(yaml: "name: a\nversion: \"1\"\nrules: [\n  {id: X\n", directory: .none) }
        #expect(syntax.status == 65)
        #expect(syntax.stderr.split(separator: "\n").count == 1)
        #expect(syntax.stderr.contains("(at line 5") || syntax.stderr.contains("(at line 4"), "\(syntax.stderr)")
    }
}
