import Foundation
import Ledger
import Operations
import Testing
import TestSupport

@Suite("CLI: YAML bombs")
struct YAMLBombCLITests {
    @Test("policy check of billion laughs and of a million-node document: exit 65, one line naming the limit, quickly")
    func refused() throws {
        var lines = [#"a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]"#]
        let names = Array("abcdefghi")
        for i in 1..<names.count {
            lines.append("\(names[i]): &\(names[i]) [\(Array(repeating: "*\(names[i - 1])", count: 9).joined(separator: ","))]")
        }
        let laughs = lines.joined(separator: "\n") + "\n"
        let million = "rules: [" + String(repeating: "0, ", count: 1_000_000) + "0]\n"
        let session = Session(settings: .resolve(explicit: nil, environment: [:]))
        for yaml in [laughs, million] {
            let start = Date()
            let r = InProcess.outcome { _ = try session.checkPolicy(yaml: yaml, directory: .none) }
            #expect(Date().timeIntervalSince(start) < 10)
            #expect(r.status == 65)
            #expect(r.stderr.split(separator: "\n").count == 1)
            #expect(r.stderr.contains("nodes (the limit"), "\(r.stderr)")
        }
    }
}
