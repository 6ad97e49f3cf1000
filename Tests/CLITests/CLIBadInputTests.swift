import Events
import Foundation
import Ledger
import Operations
import Reports
import Testing
import TestSupport

/// Bad input gets a one-line error, the documented exit code, and the
/// ledger is unchanged. In-process: the parser and Operations (EndToEndTests
/// run the binary for each exit code).
@Suite("CLI: bad input")
struct CLIBadInputTests {
    struct Case: Sendable, CustomStringConvertible {
        let description: String
        let arguments: [String]
        let stdin: String?
        let status: Int32
        let mentions: String
    }

    static let ok = ["--type", "note.added", "--occurred-at", "2026-04-07T09:20:00-04:00"]

    static let cases: [Case] = [
        Case(description: "malformed JSON data", arguments: ["append", "--case", "C-1", "--data", "{\"text\": "] + ok,
             stdin: nil, status: 65, mentions: "data: malformed JSON"),
        Case(description: "data that is not an object", arguments: ["append", "--case", "C-1", "--data", "[1,2]"] + ok,
             stdin: nil, status: 65, mentions: "data: expected a JSON object"),
        Case(description: "missing case", arguments: ["append", "--type", "note.added"],
             stdin: nil, status: 64, mentions: "--case"),
        Case(description: "bad timestamp", arguments: ["append", "--case", "C-1", "--type", "note.added", "--occurred-at", "2026-04-07 09:20"],
             stdin: nil, status: 65, mentions: "occurred_at"),
        Case(description: "timestamp without offset", arguments: ["append", "--case", "C-1", "--type", "note.added", "--occurred-at", "2026-04-07T09:20:00"],
             stdin: nil, status: 65, mentions: "missing offset"),
        Case(description: "impossible date", arguments: ["append", "--case", "C-1", "--type", "note.added", "--occurred-at", "2026-02-30T09:20:00Z"],
             stdin: nil, status: 65, mentions: "day out of range"),
        Case(description: "unknown flag", arguments: ["append", "--case", "C-1", "--colour", "red"] + ok,
             stdin: nil, status: 64, mentions: "--colour"),
        Case(description: "SQL in the case id", arguments: ["append", "--case", "x'; DROP TABLE dtledger.events; --"] + ok,
             stdin: nil, status: 65, mentions: "not a valid case id"),
        Case(description: "unknown source", arguments: ["append", "--case", "C-1", "--source", "carrier-pigeon"] + ok,
             stdin: nil, status: 64, mentions: "--source"),
        Case(description: "bad expected version", arguments: ["append", "--case", "C-1", "--expect-version", "-3"] + ok,
             stdin: nil, status: 64, mentions: "--expect-version"),
        Case(description: "NUL character in data", arguments: ["append", "--case", "C-1", "--data", #"{"text":"a\u0000b"}"#] + ok,
             stdin: nil, status: 65, mentions: "NUL"),
        Case(description: "a file with a bad line in the middle", arguments: ["append", "--file", "-"],
             stdin: """
             {"type":"note.added","case":"C-1","occurred_at":"2026-04-07T09:20:00Z","actor":"a","data":{"text":"x"}}
             {"type":"note.added","case":"C-1","occurred_at":"yesterday","actor":"a","data":{"text":"x"}}
             {"type":"note.added","case":"C-1","occurred_at":"2026-04-07T09:22:00Z","actor":"a","data":{"text":"x"}}
             """, status: 65, mentions: "line 2: occurred_at"),
        Case(description: "a file with malformed JSON", arguments: ["append", "--file", "-"],
             stdin: "{\"type\":\"note.added\",\n", status: 65, mentions: "line 1: malformed JSON"),
        Case(description: "a file line that is not an object", arguments: ["append", "--file", "-"],
             stdin: "42\n", status: 65, mentions: "must be a JSON object"),
        Case(description: "an envelope field misspelt", arguments: ["append", "--file", "-"],
             stdin: #"{"type":"note.added","case":"C-1","occured_at":"2026-04-07T09:20:00Z","actor":"a","data":{"text":"x"}}"#,
             status: 65, mentions: "occured_at"),
        Case(description: "an unknown event type", arguments: ["append", "--case", "C-1", "--type", "incident.exploded", "--data", "{}"],
             stdin: nil, status: 65, mentions: "type: unknown event type 'incident.exploded'"),
        Case(description: "a missing required data field", arguments: ["append", "--case", "C-1", "--type", "incident.priority_set", "--data", "{}"],
             stdin: nil, status: 65, mentions: "data.priority"),
        Case(description: "an unknown priority", arguments: ["append", "--case", "C-1", "--type", "incident.priority_set", "--data", #"{"priority":"P9"}"#],
             stdin: nil, status: 65, mentions: "data.priority"),
        Case(description: "an ill-typed data field", arguments: ["append", "--case", "C-1", "--type", "note.added", "--data", #"{"text":42}"#],
             stdin: nil, status: 65, mentions: "data.text"),
        Case(description: "an event for a case never opened", arguments: ["append", "--case", "NEVER-OPENED", "--type", "note.added", "--data", #"{"text":"x"}"#],
             stdin: nil, status: 65, mentions: "never opened"),
        Case(description: "an empty file", arguments: ["append", "--file", "-"], stdin: "\n\n", status: 65, mentions: "no events"),
        Case(description: "a missing file", arguments: ["append", "--file", "/nonexistent/events.jsonl"],
             stdin: nil, status: 66, mentions: "cannot read"),
        Case(description: "--file with --case", arguments: ["append", "--file", "x.jsonl", "--case", "C-1"],
             stdin: nil, status: 64, mentions: "cannot be combined"),
        Case(description: "invalid UTF-8 in a file", arguments: ["append", "--file", "-"],
             stdin: "{\"type\":\"note.added\",\"case\":\"C-1\",\"actor\":\"a\",\"data\":{\"t\":\"\u{FFFD}\"}}", status: 65, mentions: "occurred_at"),
    ]

    @Test("bad input is refused with a one-line error and nothing is written", arguments: cases)
    func refused(_ c: Case) throws {
        let db = try TestDatabase.make()
        let before = try db.store().digest()
        let result = InProcess.run(c.arguments, database: db, stdin: c.stdin.map { Data($0.utf8) })
        #expect(result.status == c.status, "\(result.stderr)")
        #expect(result.stderr.contains(c.mentions), "stderr: \(result.stderr)")
        let errorLines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("dtledger: error:") || $0.hasPrefix("Error:") }
        #expect(errorLines.count == 1, "one error line, got: \(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(try db.store().digest() == before)
    }

    @Test("invalid UTF-8 bytes are refused")
    func invalidUTF8() throws {
        let db = try TestDatabase.make()
        var bytes = Data(#"{"type":"note.added","case":"C-1","occurred_at":"2026-04-07T09:20:00Z","actor":"a","data":{"t":""#.utf8)
        bytes.append(contentsOf: [0xC3, 0x28, 0xFF])
        bytes.append(contentsOf: Array(#""}}"#.utf8) + [0x0A])
        let result = InProcess.run(["append", "--file", "-"], database: db, stdin: bytes)
        #expect(result.status == 65)
        #expect(result.stderr.contains("UTF-8"))
        #expect(try db.store().digest().position == 0)
    }

    @Test("a 10 MB payload is refused, by --data @file and by --file")
    func hugePayload() throws {
        let db = try TestDatabase.make()
        let big = String(repeating: "x", count: 10 * 1024 * 1024)
        let dataFile = FileManager.default.temporaryDirectory.appendingPathComponent("big-\(UUID()).json")
        try Data("{\"text\":\"\(big)\"}".utf8).write(to: dataFile)
        defer { try? FileManager.default.removeItem(at: dataFile) }
        let viaData = InProcess.run(["append", "--case", "C-1", "--data", "@\(dataFile.path)"] + Self.ok, database: db)
        #expect(viaData.status == 65)
        #expect(viaData.stderr.contains("at most"))
        let line = "{\"type\":\"note.added\",\"case\":\"C-1\",\"occurred_at\":\"2026-04-07T09:20:00Z\",\"actor\":\"a\",\"data\":{\"text\":\"\(big)\"}}\n"
        let viaFile = InProcess.run(["append", "--file", "-"], database: db, stdin: Data(line.utf8))
        #expect(viaFile.status == 65)
        #expect(viaFile.stderr.contains("line 1"))
        #expect(try db.store().digest().position == 0)
    }

    @Test("SQL-looking and shell-looking strings are stored verbatim, not run")
    func hostileStrings() throws {
        let db = try TestDatabase.make()
        try openIncident(db, "C-1")
        let hostile = #"'); DROP TABLE dtledger.events; -- $(rm -rf /) `id` \"quoted\" \\ ; COMMIT;"#
        let data = JSONValue.object(["text": .string(hostile), hostile: .string("key too")]).jsonText()
        let result = InProcess.run(["append", "--case", "C-1", "--data", data, "--key", hostile] + Self.ok, database: db)
        #expect(result.status == 0, "\(result.stderr)")
        let stored = try db.store().events(caseID: "C-1")
        #expect(stored.count == 2)
        #expect(stored[1].data["text"] == .string(hostile))
        #expect(stored[1].data[hostile] == .string("key too"))
        #expect(stored[1].key == hostile)
        #expect(try db.store().verify().ok)
    }

    @Test("an unreachable database exits 69 and never prints the password")
    func unavailable() throws {
        let result = InProcess.run(["append", "--case", "C-1", "--data", #"{"text":"x"}"#, "--database-url",
                                    "postgresql://someone:s3cret-pw@127.0.0.1:1/nowhere?connect_timeout=2"] + Self.ok)
        #expect(result.status == 69)
        #expect(result.stderr.contains("database unavailable"))
        #expect(!result.stderr.contains("s3cret-pw"))
        #expect(result.stderr.contains("***"))
    }
}

@Suite("CLI: a database that was never migrated")
struct UnmigratedTests {
    /// Each command's operation, given an unmigrated database.
    static let commands: [String: @Sendable (TestDatabase) throws -> Void] = [
        "append": { db in
            let r = InProcess.run(["append", "--case", "C-1", "--type", "note.added", "--data", #"{"text":"x"}"#], database: db)
            if r.status != 0 { throw Failed(result: r) }
        },
        "read": { db in
            let r = InProcess.run(["read"], database: db)
            if r.status != 0 { throw Failed(result: r) }
        },
        "verify": { db in _ = try db.session().open().verify(digest: nil) },
        "digest": { db in _ = try db.session().open().digest() },
        "compliance C-1": { db in _ = try db.session().open().compliance(caseID: "C-1", asOf: nil, format: .table, write: { _ in }) },
        "projections status": { db in _ = try db.session().projectionStatus() },
    ]

    struct Failed: Error { let result: CLIResult }

    @Test("every command says to run dtledger migrate", arguments: ["append", "read", "verify", "digest", "compliance C-1", "projections status"])
    func unmigrated(command: String) throws {
        let db = try TestDatabase.makeEmpty()
        var r = CLIResult(status: 0, stdout: "", stderr: "")
        do { try Self.commands[command]!(db) } catch let failed as Failed { r = failed.result } catch { r = InProcess.failure(error) }
        #expect(r.status == 70)
        #expect(r.stderr.contains("run 'dtledger migrate'"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
    }
}
