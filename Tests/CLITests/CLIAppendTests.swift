import Events
import Foundation
import Ledger
import Testing
import TestSupport

/// Opens an incident case through the CLI, as a runbook would.
@discardableResult
func openIncident(_ db: TestDatabase, _ caseID: String, at: String = "2026-04-07T09:00:00-04:00") throws -> CLIResult {
    let data = #"{"team":"user-facing","summary":"Medications list fails","estimated_user_impact":{"services":["medications"]},"started_at":"2026-04-07T08:55:00-04:00"}"#
    let result = try CLI.run(["append", "--case", caseID, "--type", "incident.opened", "--data", data,
                              "--occurred-at", at, "--key", "\(caseID)/opened"], database: db.url)
    #expect(result.status == 0, "\(result.stderr)")
    return result
}

@Suite("CLI: append, read, digest, verify")
struct CLIAppendTests {
    @Test("append prints the stored event; a replayed key returns the original")
    func appendOne() throws {
        let db = try TestDatabase.make()
        try openIncident(db, "INC-2026-0001")
        let args = ["append", "--case", "INC-2026-0001", "--type", "note.added", "--data", #"{"text":"hello"}"#,
                    "--occurred-at", "2026-04-07T09:20:00-04:00", "--key", "INC-2026-0001/n1"]
        let first = try CLI.run(args, database: db.url)
        #expect(first.status == 0, "\(first.stderr)")
        let stored = try JSONValue.parse(first.stdout)
        #expect(stored["position"] == .int(2))
        #expect(stored["version"] == .int(2))
        #expect(stored["duplicate"] == .bool(false))
        #expect(stored["hash"]?.stringValue?.count == 64)
        let id = try #require(stored["id"]?.stringValue)

        let again = try CLI.run(args, database: db.url)
        #expect(again.status == 0)
        let replay = try JSONValue.parse(again.stdout)
        #expect(replay["duplicate"] == .bool(true))
        #expect(replay["id"]?.stringValue == id)
        #expect(try db.store().digest().position == 2)

        let read = try CLI.run(["read", "--case", "INC-2026-0001"], database: db.url)
        #expect(read.lines.count == 2)
        let event = try JSONValue.parse(read.lines[1])
        #expect(event["actor"] == .string("test-runner"))
        #expect(event["occurred_at"] == .string("2026-04-07T13:20:00Z"))
        #expect(event["data"] == .object(["text": .string("hello")]))
    }

    @Test("append --file appends the sample scenarios atomically; read and verify see them")
    func appendScenarioFiles() throws {
        let db = try TestDatabase.make()
        for name in ["planned-downtime-api-platform.jsonl", "incident-user-facing-escalated.jsonl"] {
            let path = CLI.scenarios.appendingPathComponent(name).path
            let result = try CLI.run(["append", "--file", path], database: db.url)
            #expect(result.status == 0, "\(result.stderr)")
            let summary = try JSONValue.parse(result.stdout)
            #expect(summary["appended"]?.intValue ?? 0 > 10)
            #expect(summary["duplicates"] == .int(0))
        }
        // Replaying a file appends nothing.
        let replay = try CLI.run(["append", "--file", CLI.scenarios.appendingPathComponent("planned-downtime-api-platform.jsonl").path],
                                 database: db.url)
        #expect(try JSONValue.parse(replay.stdout)["appended"] == .int(0))
        let read = try CLI.run(["read"], database: db.url)
        #expect(read.lines.count == 25)
        let table = try CLI.run(["read", "--format", "table", "--case", "PD-2026-0007"], database: db.url)
        #expect(table.lines.first?.hasPrefix("POSITION") == true)
        #expect(table.lines.count == 14)
        let after = try CLI.run(["read", "--after", "20"], database: db.url)
        #expect(after.lines.count == 5)
        let verify = try CLI.run(["verify"], database: db.url)
        #expect(verify.status == 0)
        #expect(verify.stdout.hasPrefix("ok: 25 events verified"))
    }

    @Test("append from stdin")
    func appendStdin() throws {
        let db = try TestDatabase.make()
        try openIncident(db, "C-1")
        let line = #"{"type":"note.added","case":"C-1","occurred_at":"2026-04-07T09:20:00Z","actor":"max-eng","data":{"text":"x"}}"#
        let result = try CLI.run(["append", "--file", "-"], database: db.url, stdin: Data((line + "\n").utf8))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try db.store().digest().position == 2)
    }

    @Test("an expected-version conflict exits 75")
    func conflict() throws {
        let db = try TestDatabase.make()
        try openIncident(db, "C-1")
        let base = ["append", "--case", "C-1", "--type", "note.added", "--data", #"{"text":"x"}"#]
        let conflict = try CLI.run(base + ["--expect-version", "none"], database: db.url)
        #expect(conflict.status == 75)
        #expect(conflict.stderr.contains("version conflict"))
        #expect(try CLI.run(base + ["--expect-version", "1"], database: db.url).status == 0)
        #expect(try CLI.run(base + ["--expect-version", "1"], database: db.url).status == 75)
    }

    @Test("digest, then verify --digest; tampering exits 1 and names the position")
    func digestAndVerify() throws {
        let db = try TestDatabase.make()
        try openIncident(db, "C-1")
        for i in 2...5 {
            try CLI.run(["append", "--case", "C-1", "--type", "note.added", "--data", "{\"text\":\"\(i)\"}"], database: db.url)
        }
        let digest = try CLI.run(["digest"], database: db.url)
        let value = try JSONValue.parse(digest.stdout)
        #expect(value["position"] == .int(5))
        #expect(value["hash"]?.stringValue?.count == 64)
        #expect(value["recorded_at"]?.stringValue?.isEmpty == false)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("digest-\(UUID()).json")
        try Data(digest.stdout.utf8).write(to: file)
        #expect(try CLI.run(["verify", "--digest", file.path], database: db.url).status == 0)

        let store = try db.store()
        try store.connection.execute("""
            SET session_replication_role = replica;
            DELETE FROM dtledger.events WHERE position = 5;
            UPDATE dtledger.head SET position = 4, hash = (SELECT hash FROM dtledger.events WHERE position = 4);
            """)
        #expect(try CLI.run(["verify"], database: db.url).status == 0)
        let caught = try CLI.run(["verify", "--digest", file.path, "--json"], database: db.url)
        #expect(caught.status == 1)
        let report = try JSONValue.parse(caught.stdout)
        #expect(report["ok"] == .bool(false))
        #expect(report["first_bad_position"] == .int(5))

        try store.connection.execute("UPDATE dtledger.events SET data = '{\"text\": \"99\"}' WHERE position = 2")
        let plain = try CLI.run(["verify"], database: db.url)
        #expect(plain.status == 1)
        #expect(plain.stdout.contains("TAMPERING DETECTED at position 2"))
    }

    @Test("every command has --help", arguments: [[], ["append"], ["read"], ["migrate"], ["verify"], ["digest"]])
    func help(command: [String]) throws {
        let result = try CLI.run(command + ["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE"))
    }

    @Test("migrate via the CLI is idempotent")
    func migrate() throws {
        let db = try TestDatabase.makeEmpty()
        let first = try CLI.run(["migrate"], database: db.url)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("applied"))
        let second = try CLI.run(["migrate"], database: db.url)
        #expect(second.stdout.contains("up to date"))
    }
}
