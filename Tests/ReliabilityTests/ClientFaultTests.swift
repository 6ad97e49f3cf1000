import Events
import Foundation
import Ledger
import Postgres
import Testing
import TestSupport

/// Faults on the client side and lost connections, on the shared test
/// server (each test has its own database; only our own backends are ended).
@Suite("Faults: the client killed, the connection dropped")
struct ClientFaultTests {
    @Test("kill -9 of the CLI in the middle of a file import, again and again: all or nothing, then the retry completes")
    func killClientDuringImport() throws {
        let db = try TestDatabase.make()
        let admin = try db.connect()
        let total = 8_000
        let events = (0..<total).map { i in envelope("CLI-\(i / 400)", key: "cli-\(i)", text: "event \(i)") }
        let file = jsonl(events)
        var rng = SeededRandom(seed: 7)
        var kills = 0, completed = 0
        for round in 0..<6 {
            let cli = try BackgroundCLI(["append", "--file", "-"], database: db.url, stdin: file)
            // Kill at a random moment: before connecting, mid-transaction, or around COMMIT.
            usleep(UInt32.random(in: 20_000...900_000, using: &rng))
            if cli.isRunning { cli.crash(); kills += 1 }
            let result = try #require(cli.wait(timeout: 60))
            if result.status == 0 { completed += 1 }
            // The server finishes or rolls back the orphaned transaction.
            #expect(try waitUntil { try cliBackends(admin, database: db.name).isEmpty })
            let census = try LedgerCensus.take(admin)
            #expect(census.events == 0 || census.events == total, "round \(round): partial import: \(census)")
            #expect(census.positionsGapFree)
            if census.events == total { break }
        }
        let retry = try CLI.run(["append", "--file", "-"], database: db.url, stdin: file)
        #expect(retry.status == 0, "\(retry.stderr)")
        let final = try LedgerCensus.take(admin)
        #expect(final.events == total && final.distinctKeys == total)
        #expect(try db.store().verify().ok)
        report("client kill during import: \(total) events, \(kills) client kill -9s, \(completed) runs completed before the kill, final \(final.events) events, 0 duplicated, 0 lost")
    }

    @Test("kill -9 of clients appending single events: each event wholly in or out, and retries land each key once")
    func killClientsDuringSingleAppends() throws {
        let db = try TestDatabase.make()
        let admin = try db.connect()
        var rng = SeededRandom(seed: 11)
        var clis: [BackgroundCLI] = []
        let count = 24
        // Hold the head row so every append is caught mid-command, waiting
        // inside dtledger.append; kill a third of them there, release the
        // rest, and kill another few at random moments while they commit.
        let holder = try db.connect()
        try holder.execute("BEGIN; SELECT 1 FROM dtledger.head FOR UPDATE")
        for i in 0..<count {
            clis.append(try BackgroundCLI(["append", "--case", "SGL-\(i % 3)", "--type", "incident.opened", "--data", openingData, "--key", "sgl-\(i)"],
                                          database: db.url))
        }
        #expect(try waitUntil { try cliBackends(admin, database: db.name, waitingForLock: true).count == count })
        var kills = 0
        let order = clis.shuffled(using: &rng)
        for cli in order.prefix(count / 3) where cli.isRunning { cli.crash(); kills += 1 }
        try holder.execute("ROLLBACK")
        for cli in order.dropFirst(count / 3).prefix(count / 3) {
            usleep(UInt32.random(in: 0...5_000, using: &rng))
            if cli.isRunning { cli.crash(); kills += 1 }
        }
        for cli in clis { _ = cli.wait(timeout: 60) }
        #expect(try waitUntil { try cliBackends(admin, database: db.name).isEmpty })
        let census = try LedgerCensus.take(admin)
        #expect(census.events == census.distinctKeys && census.positionsGapFree)
        #expect(try db.store().verify().ok)
        for i in 0..<count {
            let r = try CLI.run(["append", "--case", "SGL-\(i % 3)", "--type", "incident.opened", "--data", openingData, "--key", "sgl-\(i)"],
                                database: db.url)
            #expect(r.status == 0, "\(r.stderr)")
        }
        let final = try LedgerCensus.take(admin)
        #expect(final.events == count && final.distinctKeys == count)
        #expect(try db.store().verify().ok)
        report("client kill during single appends: \(count) appends, \(kills) client kill -9s, \(census.events) in before the retry, \(final.events) after, 0 duplicated, 0 lost")
    }

    /// Holds the ledger's head row so appends wait, then ends the waiting
    /// CLI's session with pg_terminate_backend.
    func terminateWaiting(_ db: TestDatabase, _ arguments: [String], stdin: Data? = nil,
                          release: Bool) throws -> CLIResult {
        let holder = try db.connect()
        try holder.execute("BEGIN; SELECT 1 FROM dtledger.head FOR UPDATE")
        let admin = try Connection(conninfo: TestDatabase.adminURL)
        let cli = try BackgroundCLI(arguments, database: db.url, stdin: stdin)
        var first: [Int32] = []
        #expect(try waitUntil { first = try cliBackends(admin, database: db.name, waitingForLock: true); return !first.isEmpty })
        for pid in first { try admin.query("SELECT pg_terminate_backend($1)", [String(pid)]) }
        if release {
            // The retry connects again and waits for the lock in turn.
            #expect(try waitUntil {
                let now = try cliBackends(admin, database: db.name, waitingForLock: true)
                return !now.isEmpty && Set(now).isDisjoint(with: first)
            })
        }
        try holder.execute("ROLLBACK")
        return try #require(cli.wait(timeout: 60))
    }

    @Test("pg_terminate_backend mid-append without a key: exit 69, one clear line, nothing written")
    func terminatedWithoutKey() throws {
        let db = try TestDatabase.make()
        let result = try terminateWaiting(db, ["append", "--case", "TRM-1", "--type", "incident.opened", "--data", openingData], release: false)
        #expect(result.status == 69)
        #expect(errorLines(result).count == 1)
        #expect(result.stderr.contains("database unavailable"))
        #expect(result.stderr.contains("not retried"))
        #expect(try LedgerCensus.take(try db.connect()).events == 0)
    }

    @Test("pg_terminate_backend mid-import without keys, before its commit: retried from the top of the file, lands once")
    func terminatedImportWithoutKeys() throws {
        // The connection is lost while the import waits for the head lock,
        // long before COMMIT: nothing was recorded, so a retry is safe even
        // without keys (README, "Retries"), and the file is read again.
        let db = try TestDatabase.make()
        let file = jsonl((0..<50).map { envelope("TRM-\($0 % 2)", key: nil) })
        let result = try terminateWaiting(db, ["append", "--file", "-"], stdin: file, release: true)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("retrying"))
        #expect(result.stdout.contains("\"appended\":50"))
        #expect(try LedgerCensus.take(try db.connect()).events == 50)
    }

    @Test("pg_terminate_backend mid-append with a key: the CLI reconnects, retries, and the event lands once")
    func terminatedWithKeyRetries() throws {
        let db = try TestDatabase.make()
        let result = try terminateWaiting(db, ["append", "--case", "TRM-1", "--type", "incident.opened", "--data", openingData, "--key", "trm-1"], release: true)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("retrying"))
        let line = try JSONValue.parse(result.stdout)
        #expect(line["duplicate"]?.boolValue == false)
        #expect(try LedgerCensus.take(try db.connect()) == LedgerCensus(events: 1, keyed: 1, distinctKeys: 1, positionsGapFree: true))
    }

    @Test("pg_terminate_backend mid-import with keys: retried, every event once")
    func terminatedImportWithKeysRetries() throws {
        let db = try TestDatabase.make()
        let file = jsonl((0..<50).map { envelope("TRM-\($0 % 2)", key: "trm-\($0)") })
        let result = try terminateWaiting(db, ["append", "--file", "-"], stdin: file, release: true)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try JSONValue.parse(result.stdout)["appended"]?.intValue == 50)
        let census = try LedgerCensus.take(try db.connect())
        #expect(census.events == 50 && census.distinctKeys == 50)
    }

    @Test("retry rule: only when every event has a key; bounded attempts with backoff")
    func retryRule() throws {
        let down = DatabaseSettings.resolve(explicit: "host=127.0.0.1 port=1 dbname=x user=x connect_timeout=2", environment: [:])
        var waits: [Double] = []
        var calls = 0
        #expect(throws: LedgerError.self) {
            try AppendRetry(attempts: 4).run(settings: down, idempotent: true, sleep: { waits.append($0) }) { _ in calls += 1 }
        }
        #expect(waits == [0.25, 0.5, 1.0])
        #expect(calls == 0)
        waits = []
        #expect(throws: LedgerError.self) {
            try AppendRetry(attempts: 4).run(settings: down, idempotent: false, sleep: { waits.append($0) }) { _ in calls += 1 }
        }
        #expect(waits.isEmpty)
        #expect(AppendRetry.from(environment: ["DTLEDGER_APPEND_RETRIES": "0"]) == .never)
        #expect(AppendRetry.from(environment: [:]) == .standard)
        #expect(AppendRetry.standard.delay(before: 10) == 2)
    }
}
