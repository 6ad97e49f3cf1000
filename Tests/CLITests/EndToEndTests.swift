import Events
import Foundation
import Testing
import TestSupport

/// The binary itself, for what only a process shows: exit codes, stdout,
/// the stderr line, a report written to a file. Everything else about the
/// commands is tested in-process (InProcess, Operations).
@Suite("CLI: the binary end to end")
struct EndToEndTests {
    @Test("append prints the stored event as one JSON line; read prints it back")
    func append() throws {
        let db = try TestDatabase.make()
        let opened = #"{"team":"user-facing","summary":"Medications list fails","estimated_user_impact":{"services":["medications"]},"started_at":"2026-04-07T08:55:00-04:00"}"#
        let r = try CLI.run(["append", "--case", "C-1", "--type", "incident.opened", "--data", opened,
                             "--occurred-at", "2026-04-07T09:00:00-04:00"], database: db.url)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty)
        #expect(r.lines.count == 1)
        let stored = try JSONValue.parse(r.stdout)
        #expect(stored["position"] == .int(1))
        #expect(stored["case"] == .string("C-1"))
        let read = try CLI.run(["read"], database: db.url)
        #expect(read.status == 0)
        #expect(try JSONValue.parse(read.lines[0])["actor"] == .string("test-runner"))
    }

    struct Bad: Sendable, CustomStringConvertible {
        let description: String
        let arguments: [String]
        let database: Bool
        let status: Int32
        let mentions: String
    }

    static let note = ["--type", "note.added", "--data", #"{"text":"x"}"#]

    @Test("each exit code of bad input, with one stderr line", arguments: [
        Bad(description: "usage (64)", arguments: ["append", "--type", "note.added"], database: true, status: 64, mentions: "--case"),
        Bad(description: "invalid input (65)", arguments: ["append", "--case", "C-1", "--data", "[1,2]", "--type", "note.added"],
            database: true, status: 65, mentions: "dtledger: error: data: expected a JSON object"),
        Bad(description: "unreadable file (66)", arguments: ["append", "--file", "/nonexistent/events.jsonl"],
            database: true, status: 66, mentions: "dtledger: error: cannot read /nonexistent/events.jsonl"),
        Bad(description: "database unavailable (69)", arguments: ["append", "--case", "C-1", "--database-url",
                                                                  "postgresql://someone:s3cret-pw@127.0.0.1:1/nowhere?connect_timeout=2"] + note,
            database: false, status: 69, mentions: "dtledger: error: database unavailable"),
        Bad(description: "version conflict (75)", arguments: ["append", "--case", "C-1", "--expect-version", "none"] + note,
            database: true, status: 75, mentions: "dtledger: error: version conflict"),
    ])
    func exitCodes(_ c: Bad) throws {
        let db = try TestDatabase.make()
        let opened = #"{"team":"user-facing","summary":"s","estimated_user_impact":{"services":["medications"]},"started_at":"2026-04-07T08:55:00-04:00"}"#
        #expect(try CLI.run(["append", "--case", "C-1", "--type", "incident.opened", "--data", opened], database: db.url).status == 0)
        let before = try db.store().digest()
        let r = try CLI.run(c.arguments, database: c.database ? db.url : nil)
        #expect(r.status == c.status, "\(r.stderr)")
        #expect(r.stderr.contains(c.mentions), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
        let errorLines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("dtledger: error:") || $0.hasPrefix("Error:") }
        #expect(errorLines.count == 1, "\(r.stderr)")
        #expect(!r.stderr.contains("s3cret-pw"))
        #expect(try db.store().digest() == before)
    }

    @Test("a runbook command generates the case id and prints it")
    func runbook() throws {
        let db = try TestDatabase.withSampleDirectory()
        let r = try CLI.run(["incident", "open", "--team", "user-facing", "--summary", "Medications list fails to load",
                             "--services", "medications", "--started-at", "2026-04-07T08:55:00-04:00",
                             "--at", "2026-04-07T09:20:00-04:00"], database: db.url)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.lines.first == "case: INC-2026-0001")
        #expect(r.lines.count == 2)
        #expect(r.lines[1].hasPrefix("INC-2026-0001  v1  incident.opened  at 2026-04-07T13:20:00Z  by test-runner  (position "))
    }

    @Test("an import prints its summary and reports skipped payloads on stderr")
    func importSlack() throws {
        let db = try TestDatabase.withSampleDirectory()
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("IngestTests/Fixtures")
        let config = fixtures.appendingPathComponent("config.yaml").path
        let pd = try CLI.run(["import", "pagerduty", fixtures.appendingPathComponent("pagerduty-incident.jsonl").path, "--config", config],
                             database: db.url)
        #expect(pd.status == 0, "\(pd.stderr)")
        #expect(try JSONValue.parse(pd.lines.last ?? "")["appended"] == .int(6))
        let r = try CLI.run(["import", "slack", fixtures.appendingPathComponent("slack-other.jsonl").path, "--config", config, "--json"],
                            database: db.url)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").filter { $0.hasPrefix("dtledger: skipped: ") }.count == 6)
        let summary = try JSONValue.parse(r.lines.last ?? "")
        #expect(summary["appended"] == .int(1))
        #expect(r.lines.count == 2, "one event line (--json), then the summary")
    }

    @Test("compliance --strict exits 1 on violations and still prints the report")
    func strict() throws {
        let db = try TestDatabase.withSamples()
        let r = try CLI.run(["compliance", "INC-2026-0142", "--strict"], database: db.url)
        #expect(r.status == 1)
        #expect(r.stdout.contains("MISSED"))
        #expect(r.stderr.isEmpty)
        #expect(try CLI.run(["compliance", "PD-2026-0007", "--strict"], database: db.url).status == 0)
    }

    @Test("report --output writes the file and says so on stderr")
    func reportToFile() throws {
        let db = try TestDatabase.withSamples()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("dtl-\(UUID().uuidString.prefix(8))-review.md")
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try CLI.run(["report", "review", "INC-2026-0142", "--output", file.path], database: db.url)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.isEmpty)
        #expect(r.stderr == "wrote \(file.path)\n")
        #expect(try String(contentsOf: file, encoding: .utf8).contains("## Evidence appendix"))
        let unwritable = try CLI.run(["report", "review", "INC-2026-0142", "--output", "/nonexistent/dir/review.md"], database: db.url)
        #expect(unwritable.status == 73)
        #expect(unwritable.stderr.hasPrefix("dtledger: error: cannot write /nonexistent/dir/review.md"))
    }
}
