@testable import dtledger
import Events
import Foundation
import Ledger
import Operations
import Testing
import TestSupport

/// Opens an incident case through the CLI (in-process), as a runbook would.
@discardableResult
func openIncident(_ db: TestDatabase, _ caseID: String, at: String = "2026-04-07T09:00:00-04:00") throws -> CLIResult {
    let data = #"{"team":"user-facing","summary":"Medications list fails","estimated_user_impact":{"services":["medications"]},"started_at":"2026-04-07T08:55:00-04:00"}"#
    let result = InProcess.run(["append", "--case", caseID, "--type", "incident.opened", "--data", data,
                                "--occurred-at", at, "--key", "\(caseID)/opened"], database: db)
    #expect(result.status == 0, "\(result.stderr)")
    return result
}

/// In-process: the parser and Operations (EndToEndTests run the binary).
@Suite("CLI: append, read, digest, verify")
struct CLIAppendTests {
    @Test("append prints the stored event; a replayed key returns the original")
    func appendOne() throws {
        let db = try TestDatabase.make()
        try openIncident(db, "INC-2026-0001")
        let args = ["append", "--case", "INC-2026-0001", "--type", "note.added", "--data", #"{"text":"hello"}"#,
                    "--occurred-at", "2026-04-07T09:20:00-04:00", "--key", "INC-2026-0001/n1"]
        let first = InProcess.run(args, database: db)
        #expect(first.status == 0, "\(first.stderr)")
        let stored = try JSONValue.parse(first.stdout)
        #expect(stored["position"] == .int(2))
        #expect(stored["version"] == .int(2))
        #expect(stored["duplicate"] == .bool(false))
        #expect(stored["hash"]?.stringValue?.count == 64)
        let id = try #require(stored["id"]?.stringValue)

        let again = InProcess.run(args, database: db)
        #expect(again.status == 0)
        let replay = try JSONValue.parse(again.stdout)
        #expect(replay["duplicate"] == .bool(true))
        #expect(replay["id"]?.stringValue == id)
        #expect(try db.store().digest().position == 2)

        let read = InProcess.run(["read", "--case", "INC-2026-0001"], database: db)
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
            let result = InProcess.run(["append", "--file", path], database: db)
            #expect(result.status == 0, "\(result.stderr)")
            let summary = try JSONValue.parse(result.stdout)
            #expect(summary["appended"]?.intValue ?? 0 > 10)
            #expect(summary["duplicates"] == .int(0))
        }
        // Replaying a file appends nothing.
        let replay = InProcess.run(["append", "--file", CLI.scenarios.appendingPathComponent("planned-downtime-api-platform.jsonl").path],
                                   database: db)
        #expect(try JSONValue.parse(replay.stdout)["appended"] == .int(0))
        let read = InProcess.run(["read"], database: db)
        #expect(read.lines.count == 25)
        let table = InProcess.run(["read", "--format", "table", "--case", "PD-2026-0007"], database: db)
        #expect(table.lines.first?.hasPrefix("POSITION") == true)
        #expect(table.lines.count == 14)
        let after = InProcess.run(["read", "--after", "20"], database: db)
        #expect(after.lines.count == 5)
        let verify = try db.session().open().verify(digest: nil)
        #expect(verify.ok)
        #expect(verify.eventsChecked == 25)
    }

    @Test("append from stdin")
    func appendStdin() throws {
        let db = try TestDatabase.make()
        try openIncident(db, "C-1")
        let line = #"{"type":"note.added","case":"C-1","occurred_at":"2026-04-07T09:20:00Z","actor":"max-eng","data":{"text":"x"}}"#
        let result = InProcess.run(["append", "--file", "-"], database: db, stdin: Data((line + "\n").utf8))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try db.store().digest().position == 2)
    }

    @Test("an expected-version conflict exits 75")
    func conflict() throws {
        let db = try TestDatabase.make()
        try openIncident(db, "C-1")
        let base = ["append", "--case", "C-1", "--type", "note.added", "--data", #"{"text":"x"}"#]
        let conflict = InProcess.run(base + ["--expect-version", "none"], database: db)
        #expect(conflict.status == 75)
        #expect(conflict.stderr.contains("version conflict"))
        #expect(InProcess.run(base + ["--expect-version", "1"], database: db).status == 0)
        #expect(InProcess.run(base + ["--expect-version", "1"], database: db).status == 75)
    }

    @Test("digest, then verify --digest; tampering exits 1 and names the position")
    func digestAndVerify() throws {
        let db = try TestDatabase.make()
        try openIncident(db, "C-1")
        for i in 2...5 {
            InProcess.run(["append", "--case", "C-1", "--type", "note.added", "--data", "{\"text\":\"\(i)\"}"], database: db)
        }
        let ledger = try db.session().open()
        let value = try ledger.digest().json
        #expect(value["position"] == .int(5))
        #expect(value["hash"]?.stringValue?.count == 64)
        #expect(value["recorded_at"]?.stringValue?.isEmpty == false)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("digest-\(UUID()).json")
        try Data(value.jsonText().utf8).write(to: file)
        #expect(try ledger.verify(digest: try db.session().readDigest(file.path)).ok)

        let store = try db.store()
        try store.connection.execute("""
            SET session_replication_role = replica;
            DELETE FROM dtledger.events WHERE position = 5;
            UPDATE dtledger.head SET position = 4, hash = (SELECT hash FROM dtledger.events WHERE position = 4);
            """)
        // The streams table still counts the deleted event; fixed too, the
        // truncation is invisible without a digest.
        #expect(try db.session().open().verify(digest: nil).check("streams")?.ok == false)
        try store.connection.execute("""
            UPDATE dtledger.streams s SET version = x.n, last_position = x.last
              FROM (SELECT case_id, count(*) AS n, max(position) AS last FROM dtledger.events GROUP BY case_id) x
             WHERE x.case_id = s.case_id;
            """)
        #expect(try db.session().open().verify(digest: nil).ok)
        // verify --digest FILE --json: exit 1, the report names the position.
        let caught = try db.session().open().verify(digest: try db.session().readDigest(file.path))
        #expect(!caught.ok)
        let report = VerifyCommand.json(caught)
        #expect(report["ok"] == .bool(false))
        #expect(report["first_bad_position"] == .int(5))

        try store.connection.execute("UPDATE dtledger.events SET data = '{\"text\": \"99\"}' WHERE position = 2")
        let plain = try db.session().open().verify(digest: nil)
        #expect(!plain.ok)
        #expect(plain.firstBadPosition == 2)
    }

    @Test("every command has --help", arguments: [[], ["append"], ["read"], ["migrate"], ["verify"], ["digest"]])
    func help(command: [String]) throws {
        let result = InProcess.run(command + ["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE"))
    }

    @Test("migrate is idempotent")
    func migrate() throws {
        let db = try TestDatabase.makeEmpty()
        let first = try db.session().open().migrate(log: { _ in })
        #expect(!first.isEmpty, "applied")
        let second = try db.session().open().migrate(log: { _ in })
        #expect(second.isEmpty, "up to date")
    }
}
