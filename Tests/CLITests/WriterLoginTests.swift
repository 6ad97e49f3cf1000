import Events
import Foundation
import Ledger
import Operations
import Testing
import TestSupport

/// The documented least-privilege writer login (a member of dtledger_writer:
/// no SELECT on the ledger) runs every runbook command, `incident open` with
/// a generated id (and its retry), `notify` and imports: what they read back
/// comes through the SECURITY DEFINER functions, never a SELECT.
@Suite("CLI: runbooks and imports as a writer-only login")
struct WriterLoginTests {
    static let inc = CLIRunbookTests.inc

    /// A fresh sample database and the URL of a new personal writer login on it (dropped by `drop`).
    static func writerDatabase() throws -> (db: TestDatabase, url: String, drop: () -> Void) {
        let db = try TestDatabase.withSampleDirectory()
        let owner = try db.connect()
        let login = "dtl_writer_\(UInt32.random(in: 0...UInt32.max))"
        try owner.execute("CREATE ROLE \(login) LOGIN IN ROLE dtledger_writer")
        let url = db.url.replacingOccurrences(of: "user=dtledger", with: "user=\(login)")
        return (db, url, { _ = try? owner.execute("DROP OWNED BY \(login); DROP ROLE IF EXISTS \(login)") })
    }

    /// Runs a command in-process against the database at `url`.
    static func run(_ args: [String], url: String) -> CLIResult {
        InProcess.run(args, database: nil, environment: ["DTLEDGER_DATABASE_URL": url])
    }

    /// An event's JSON without what differs between two ledgers and two logins.
    static func comparable(_ text: String) throws -> JSONValue {
        guard case .object(var o) = try JSONValue.parse(text) else { return .null }
        // occurred_at: a command without --at happens now.
        for k in ["id", "recorded_at", "hash", "previous_hash", "occurred_at"] { o[k] = nil }
        if case .object(var m) = o["metadata"] ?? .null { m["db_role"] = nil; o["metadata"] = .object(m) }
        if case .object(var d) = o["data"] ?? .null, d["event_id"] != nil { d["event_id"] = nil; o["data"] = .object(d) }
        return .object(o)
    }

    @Test("every runbook command succeeds as a writer and prints what it prints for the owner")
    func everyCommand() throws {
        let owner = try TestDatabase.withSampleDirectory()
        let (writerDB, writerURL, drop) = try Self.writerDatabase()
        defer { drop() }
        // The writer really cannot read.
        #expect(Self.run(["read"], url: writerURL).status == 77)
        var noteIDs: [String] = []
        for command in CLIRunbookTests.commands + [CLIRunbookTests.Command(args: ["note", "--case", Self.inc, "--text", "wrong case"],
                                                                           required: [], wrong: [], type: "note.added")] {
            let args = command.args + ["--json"]
            let a = InProcess.run(args, database: owner)
            let b = Self.run(args, url: writerURL)
            #expect(a.status == 0, "\(command) as owner: \(a.stderr)")
            #expect(b.status == 0, "\(command) as writer: \(b.stderr)")
            guard a.status == 0, b.status == 0 else { continue }
            #expect(try Self.comparable(a.stdout) == Self.comparable(b.stdout), "\(command)")
            let stored = try JSONValue.parse(b.stdout)
            #expect(stored["metadata"]?["db_role"]?.stringValue?.hasPrefix("dtl_writer_") == true)
            noteIDs = [try JSONValue.parse(a.stdout)["id"]?.stringValue ?? "", stored["id"]?.stringValue ?? ""]
            // The human form: the same line but for the event's id.
            let key = ["--key", "human/\(command)"]
            let ha = InProcess.run(command.args + key, database: owner), hb = Self.run(command.args + key, url: writerURL)
            #expect(hb.status == 0, "\(command) as writer: \(hb.stderr)")
            func masked(_ s: String) -> String {
                s.replacingOccurrences(of: #"id [0-9a-f-]{36}"#, with: "id X", options: .regularExpression)
                    .replacingOccurrences(of: #"at [0-9T:.-]+Z"#, with: "at T", options: .regularExpression)
            }
            #expect(masked(ha.stdout) == masked(hb.stdout), "\(command)")
            // A retry with the key: the original, as a duplicate, for the writer too.
            let again = Self.run(command.args + key + ["--json"], url: writerURL)
            #expect(again.status == 0, "\(command) retried as writer: \(again.stderr)")
            #expect(try JSONValue.parse(again.stdout)["duplicate"] == .bool(true))
        }
        // retract, of the last note each wrote.
        let ra = InProcess.run(["retract", "--case", Self.inc, noteIDs[0], "--reason", "meant for another case", "--json"], database: owner)
        let rb = Self.run(["retract", "--case", Self.inc, noteIDs[1], "--reason", "meant for another case", "--json"], url: writerURL)
        #expect(ra.status == 0 && rb.status == 0, "\(ra.stderr) \(rb.stderr)")
        #expect(try Self.comparable(ra.stdout) == Self.comparable(rb.stdout))
        #expect(try writerDB.store().verify().ok)
    }

    @Test("incident open with a generated id, retried with the same --key after the first answer was lost, opens one case")
    func generatedRetry() throws {
        let (db, url, drop) = try Self.writerDatabase()
        defer { drop() }
        let open = CLIRunbookTests.without(CLIRunbookTests.commands[0].args, "--case") + ["--key", "open/once", "--json"]
        let first = Self.run(open, url: url)
        #expect(first.status == 0, "\(first.stderr)")
        // The first answer never reached the operator (a lost connection after the commit): they run it again.
        let second = Self.run(open, url: url)
        #expect(second.status == 0, "\(second.stderr)")
        let a = try JSONValue.parse(first.stdout), b = try JSONValue.parse(second.stdout)
        #expect(a["case"] == b["case"])
        #expect(a["id"] == b["id"])
        #expect(b["duplicate"] == .bool(true))
        let opened = try db.store().cases().filter { $0.caseID.hasPrefix("INC-") }
        #expect(opened.count == 1, "\(opened.map(\.caseID))")
        // The key of another event type is refused, naming the case.
        let clash = Self.run(CLIRunbookTests.without(CLIRunbookTests.commands[1].args, "--case") + ["--key", "open/once"], url: url)
        #expect(clash.status == 65)
    }
}
