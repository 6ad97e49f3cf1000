import Events
import Foundation
import Ledger
import Postgres
import Testing
import TestSupport

/// `append --file` streams the file in batches of many cases each
/// (`dtledger.append_many`, migration 0005), pipelined. These tests use files
/// longer than one batch (2,000 events), so refusals and replays are checked
/// across batch boundaries too. In-process: the parser and Operations.
@Suite("CLI: append --file in batches across cases (append_many)")
struct CLIImportManyTests {
    static let opened = #"{"team":"user-facing","summary":"s","estimated_user_impact":{"services":["medications"]},"started_at":"2026-04-07T08:55:00-04:00"}"#

    /// Line `i` of an interleaved file: `cases` cases, each opened by its
    /// first line, then notes, round robin.
    static func line(_ i: Int, cases: Int, key: String? = nil, type: String? = nil, caseID: String? = nil) -> String {
        let c = caseID ?? "MANY-\(i % cases)"
        let isOpening = i < cases
        let t = type ?? (isOpening ? "incident.opened" : "note.added")
        let data = t == "incident.opened" ? opened : #"{"text":"note \#(i) with \"quotes\" and ünïcödé"}"#
        let k = key.map { #","key":"\#($0)""# } ?? #","key":"\#(c)/\#(i)""#
        return #"{"case":"\#(c)","type":"\#(t)","occurred_at":"2026-04-07T09:00:00-04:00","actor":"max-eng","source":"cli"\#(k),"data":\#(data)}"#
    }

    static func file(_ lines: [String]) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("dtl-many-\(UUID().uuidString).jsonl")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        return url.path
    }

    @Test("5,000 interleaved events of 37 cases: positions follow the file, versions follow each case, the chain verifies, a replay appends nothing")
    func interleaved() throws {
        let db = try TestDatabase.make()
        let lines = (0..<5000).map { CLIImportManyTests.line($0, cases: 37) }
        let path = try CLIImportManyTests.file(lines)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = InProcess.run(["append", "--file", path], database: db)
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try JSONValue.parse(result.stdout)
        #expect(summary["appended"] == .int(5000))
        #expect(summary["cases"] == .int(37))
        #expect(summary["first_position"] == .int(1))
        #expect(summary["last_position"] == .int(5000))

        // Position i is line i; each case's versions count its lines in order.
        let rows = try db.connect().query("SELECT position, case_id, version, idempotency_key FROM dtledger.events ORDER BY position").rows
        #expect(rows.count == 5000)
        var versions: [String: Int64] = [:]
        var mismatches = 0
        for (i, row) in rows.enumerated() {
            let caseID = "MANY-\(i % 37)"
            let expected = (versions[caseID] ?? 0) + 1
            versions[caseID] = expected
            if row.int64(0) != Int64(i + 1) || row[1] != caseID || row.int64(2) != expected || row[3] != "\(caseID)/\(i)" {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
        let streams = try db.connect().query("SELECT count(*), sum(version), max(last_position) FROM dtledger.streams").row(0)
        #expect(streams.int64(0) == 37 && streams.int64(1) == 5000 && streams.int64(2) == 5000)
        #expect(try db.session().open().verify(digest: nil).ok)

        let again = InProcess.run(["append", "--file", path], database: db)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try JSONValue.parse(again.stdout)["duplicates"] == .int(5000))
        #expect(try JSONValue.parse(again.stdout)["appended"] == .int(0))
        #expect(try db.store().digest().position == 5000)
    }

    @Test("a key repeated in the file for the same case and type is a replay; for another type it is refused naming the later line")
    func repeatedKeys() throws {
        let db = try TestDatabase.make()
        var lines = (0..<3000).map { CLIImportManyTests.line($0, cases: 10) }
        lines[2500] = CLIImportManyTests.line(2500, cases: 10, key: "MANY-0/20")  // line 20 is MANY-0's note
        let path = try CLIImportManyTests.file(lines)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = InProcess.run(["append", "--file", path], database: db)
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try JSONValue.parse(result.stdout)
        #expect(summary["appended"] == .int(2999))
        #expect(summary["duplicates"] == .int(1))

        // Line 2 opened MANY-1 with key MANY-1/1; a note of MANY-0 reusing
        // it is refused, whether it comes in the same batch (line 1501) or
        // in a later one (line 2601).
        for index in [1500, 2600] {
            let db2 = try TestDatabase.make()
            var bad = (0..<3000).map { CLIImportManyTests.line($0, cases: 10) }
            bad[index] = CLIImportManyTests.line(index, cases: 10, key: "MANY-1/1")
            let badPath = try CLIImportManyTests.file(bad)
            defer { try? FileManager.default.removeItem(atPath: badPath) }
            let refused = InProcess.run(["append", "--file", badPath], database: db2)
            #expect(refused.status == 65)
            #expect(refused.stderr.contains("line \(index + 1)"), "\(refused.stderr)")
            #expect(refused.stderr.contains("MANY-1/1"))
            #expect(refused.stderr.split(separator: "\n").count == 1)
            #expect(try db2.store().digest().position == 0)
        }
    }

    @Test("a case never opened, in the second batch, is refused naming its line; nothing of the file is written")
    func neverOpenedLater() throws {
        let db = try TestDatabase.make()
        var lines = (0..<4500).map { CLIImportManyTests.line($0, cases: 20) }
        lines[3210] = CLIImportManyTests.line(3210, cases: 20, caseID: "NEVER-OPENED")
        let path = try CLIImportManyTests.file(lines)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = InProcess.run(["append", "--file", path], database: db)
        #expect(result.status == 65)
        #expect(result.stderr.contains("line 3211"), "\(result.stderr)")
        #expect(result.stderr.contains("NEVER-OPENED"))
        #expect(try db.store().digest().position == 0)
        #expect(try db.connect().query("SELECT count(*) FROM dtledger.streams").scalar == "0")
    }

    @Test("a malformed line after the first batches were appended: exit 65 naming it, and the transaction appends nothing")
    func malformedLater() throws {
        let db = try TestDatabase.make()
        var lines = (0..<7000).map { CLIImportManyTests.line($0, cases: 20) }
        lines[6543] = #"{"case":"MANY-3","type":"note.added","occurred_at":"2026-04-07 09:00","actor":"a","data":{}}"#
        let path = try CLIImportManyTests.file(lines)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = InProcess.run(["append", "--file", path], database: db)
        #expect(result.status == 65)
        #expect(result.stderr.contains("line 6544"), "\(result.stderr)")
        #expect(result.stderr.contains("occurred_at"))
        #expect(try db.store().digest().position == 0)
    }

    @Test("a small bad file is refused before connecting; blank lines and CRLF are fine; an empty file and a directory are named")
    func beforeConnecting() throws {
        let unreachable = "host=/nonexistent-dtledger-socket port=1 dbname=none connect_timeout=2"
        let bad = try CLIImportManyTests.file([CLIImportManyTests.line(0, cases: 1), #"{"case":"X-1","type":"note.added""#])
        defer { try? FileManager.default.removeItem(atPath: bad) }
        let refused = InProcess.run(["append", "--file", bad], environment: ["DTLEDGER_DATABASE_URL": unreachable])
        #expect(refused.status == 65, "\(refused.stderr)")
        #expect(refused.stderr.contains("line 2"))

        let blank = try CLIImportManyTests.file(["", "   ", "\t"])
        defer { try? FileManager.default.removeItem(atPath: blank) }
        let empty = InProcess.run(["append", "--file", blank], environment: ["DTLEDGER_DATABASE_URL": unreachable])
        #expect(empty.status == 65)
        #expect(empty.stderr.contains("no events in the file"))

        let directory = InProcess.run(["append", "--file", FileManager.default.temporaryDirectory.path],
                                      environment: ["DTLEDGER_DATABASE_URL": unreachable])
        #expect(directory.status == 66)
        #expect(directory.stderr.contains("cannot read"))

        let db = try TestDatabase.make()
        let crlf = (0..<3).map { CLIImportManyTests.line($0, cases: 1) }.joined(separator: "\r\n\r\n") + "\r\n"
        let ok = InProcess.run(["append", "--file", "-"], database: db, stdin: Data(crlf.utf8))
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try JSONValue.parse(ok.stdout)["appended"] == .int(3))

        // A path that is a pipe (here /dev/stdin of the binary) is read whole, like "-".
        let more = (3..<6).map { CLIImportManyTests.line($0, cases: 1) }.joined(separator: "\n")
        let piped = try CLI.run(["append", "--file", "/dev/stdin"], database: db.url, stdin: Data(more.utf8))
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(try JSONValue.parse(piped.stdout)["appended"] == .int(3))
    }

    @Test("append_many is the writer role's to call, and nobody else's")
    func grants() throws {
        let db = try TestDatabase.make()
        let admin = try db.connect()
        let can: (String) throws -> Bool = { role in
            try admin.query("SELECT has_function_privilege($1, 'dtledger.append_many(jsonb, text[], text)', 'EXECUTE')", [role]).scalar == "t"
        }
        #expect(try can("dtledger_writer"))
        #expect(try !can("dtledger_reader"))
        #expect(try !can("public"))
    }
}
