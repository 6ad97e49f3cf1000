import Events
import Foundation
import Ledger
import Postgres
import Testing
import TestSupport

/// A writer-only login's `incident open` with a generated id, its connection
/// lost mid-append: the CLI reconnects and retries with its --key, and one
/// case is opened (the retry's key lookup and read-back go through the
/// writer's functions, not a SELECT it does not have).
@Suite("Faults: a writer's generated-id retry")
struct WriterRetryTests {
    @Test("pg_terminate_backend mid-append of a writer's incident open --key (generated id): retried, one case")
    func terminatedGeneratedOpen() throws {
        let db = try TestDatabase.make()
        let owner = try db.connect()
        let login = "dtl_writer_\(UInt32.random(in: 0...UInt32.max))"
        try owner.execute("CREATE ROLE \(login) LOGIN IN ROLE dtledger_writer")
        defer { _ = try? owner.execute("DROP OWNED BY \(login); DROP ROLE IF EXISTS \(login)") }
        let url = db.url.replacingOccurrences(of: "user=dtledger", with: "user=\(login)")
        let open = ["incident", "open", "--team", "user-facing", "--summary", "s", "--services", "medications",
                    "--started-at", "2026-04-07T08:55:00-04:00", "--at", "2026-04-07T09:20:00-04:00", "--key", "open/lost", "--json"]

        let holder = try db.connect()
        try holder.execute("BEGIN; SELECT 1 FROM dtledger.head FOR UPDATE")
        let admin = try Connection(conninfo: TestDatabase.adminURL)
        let cli = try BackgroundCLI(open, database: url)
        var first: [Int32] = []
        #expect(try waitUntil { first = try cliBackends(admin, database: db.name, waitingForLock: true); return !first.isEmpty })
        for pid in first { try admin.query("SELECT pg_terminate_backend($1)", [String(pid)]) }
        #expect(try waitUntil {
            let now = try cliBackends(admin, database: db.name, waitingForLock: true)
            return !now.isEmpty && Set(now).isDisjoint(with: first)
        })
        try holder.execute("ROLLBACK")
        let result = try #require(cli.wait(timeout: 60))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("retrying"))
        let event = try JSONValue.parse(result.stdout)
        #expect(event["metadata"]?["db_role"]?.stringValue == login)

        // And run again by hand, as after an answer lost after the commit: the same case, nothing appended.
        let again = try CLI.run(open, database: url)
        #expect(again.status == 0, "\(again.stderr)")
        let repeated = try JSONValue.parse(again.stdout)
        #expect(repeated["case"] == event["case"])
        #expect(repeated["duplicate"] == .bool(true))
        let cases = try EventStore(connection: owner).cases().map(\.caseID)
        #expect(cases.filter { $0.hasPrefix("INC-") } == [event["case"]?.stringValue ?? "?"])
        #expect(try EventStore(connection: owner).verify().ok)
    }
}
