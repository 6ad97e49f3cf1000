import Events
import Foundation
import Ledger
import Postgres
import Testing
import TestSupport

/// Faults of the server, each on a dedicated PostgreSQL (with fsync and
/// synchronous commit on, as in production) that the test kills or restarts.
@Suite("Faults: the server killed or restarted", .serialized)
struct ServerFaultTests {
    @Test("kill -9 of the server in the middle of a file import: all or nothing, and the retry completes without duplicates")
    func killDuringImport() throws {
        let server = try DedicatedServer()
        defer { server.stop() }
        let store = EventStore(connection: try Connection(conninfo: server.url))
        // Some history first, and a digest of it kept "outside".
        for i in 0..<20 { _ = try store.append(caseID: "OLD-\(i % 4)", events: [envelope("OLD-\(i % 4)", key: "old-\(i)")]) }
        let digest = try store.digest()

        let total = 30_000
        let events = (0..<total).map { i in envelope("IMP-\(i / 500)", key: "imp-\(i)", text: "event \(i) " + String(repeating: "x", count: 200)) }
        let file = jsonl(events)
        let admin = try Connection(conninfo: server.adminURL)
        let cli = try BackgroundCLI(["append", "--file", "-"], database: server.url, stdin: file,
                                    environment: ["DTLEDGER_APPEND_RETRIES": "0"])
        // Wait until the import's transaction is under way, then crash the server.
        let started = try waitUntil(timeout: 60) {
            try admin.query("""
                SELECT count(*) FROM pg_stat_activity
                 WHERE application_name = 'dtledger' AND xact_start IS NOT NULL
                   AND now() - xact_start > interval '300 milliseconds'
                """).scalar != "0"
        }
        #expect(started, "the import never started")
        server.crash()
        let result = try #require(cli.wait(timeout: 60), "the CLI hung after the server died")
        report("server kill during import: CLI exit \(result.status), stderr: \(result.stderr.prefix(200))")
        #expect(result.status == 69 || result.status == 0)
        if result.status == 69 {
            #expect(errorLines(result).count == 1)
            #expect(result.stderr.contains("database unavailable"))
        }

        try server.start()
        let after = EventStore(connection: try Connection(conninfo: server.url))
        let census = try LedgerCensus.take(after.connection)
        report("after restart: \(census)")
        #expect(census.events == 20 || census.events == 20 + total, "a partial import survived: \(census)")
        #expect(census.positionsGapFree)
        let verified = try after.verify(digest: try Digest.parse(digest.json.jsonText()))
        #expect(verified.ok, "\(verified.problem ?? "")")

        // The same file again: completes, and every event is in exactly once.
        let retry = try CLI.run(["append", "--file", "-"], database: server.url, stdin: file)
        #expect(retry.status == 0, "\(retry.stderr)")
        let final = try LedgerCensus.take(after.connection)
        #expect(final.events == 20 + total)
        #expect(final.distinctKeys == 20 + total)
        #expect(try after.verify(digest: digest).ok)
        report("import fault: \(total) events in the file, 1 server kill -9, after retry \(final.events) events, \(final.events - final.distinctKeys) duplicates, 0 lost")
    }

    @Test("kill -9 of the server during a burst of single appends from 8 writers: acknowledged events survive, the retry completes once each")
    func killDuringBurst() throws {
        let server = try DedicatedServer()
        defer { server.stop() }
        let url = server.url
        let acknowledged = Locked<Set<String>>([])
        let attempted = Locked<[String]>([])
        let failures = Locked<[String]>([])
        let stop = Locked(false)
        let writers = 8
        // Crash the server from another thread once the writers are going.
        let crasher = Thread {
            _ = waitUntil(timeout: 30) { acknowledged.current.count >= 400 }
            server.crash()
            stop.withLock { $0 = true }
        }
        crasher.start()
        onThreads(writers) { w in
            guard let store = try? EventStore(connection: Connection(conninfo: url)) else { return }
            var i = 0
            while !stop.current {
                let key = "burst-\(w)-\(i)"
                attempted.withLock { $0.append(key) }
                do {
                    _ = try store.append(caseID: "BURST-\(w)-\(i % 5)", events: [envelope("BURST-\(w)-\(i % 5)", key: key)])
                    acknowledged.withLock { _ = $0.insert(key) }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                    return
                }
                i += 1
            }
        }
        _ = waitUntil(timeout: 30) { server.postmasterPID == nil }
        #expect(!failures.current.isEmpty, "no writer noticed the crash")
        #expect(failures.current.allSatisfy { $0.hasPrefix("database unavailable") }, "\(failures.current.prefix(3))")

        try server.start()
        let store = EventStore(connection: try Connection(conninfo: url))
        let census = try LedgerCensus.take(store.connection)
        let stored = try keys(store.connection)
        let acked = acknowledged.current
        report("burst fault: \(attempted.current.count) appends attempted, \(acked.count) acknowledged before kill -9, \(census.events) stored after restart")
        #expect(acked.isSubset(of: stored), "acknowledged events were lost: \(acked.subtracting(stored).prefix(5))")
        #expect(census.events == census.distinctKeys)
        #expect(census.positionsGapFree)
        #expect(stored.count - acked.count <= writers, "more unacknowledged events than in-flight appends")
        #expect(try store.verify().ok)

        // Everything again, with the same keys: each key lands exactly once.
        var duplicates = 0
        for key in attempted.current {
            let parts = key.split(separator: "-")
            let caseID = "BURST-\(parts[1])-\(Int(parts[2])! % 5)"
            if try store.append(caseID: caseID, events: [envelope(caseID, key: key)])[0].duplicate { duplicates += 1 }
        }
        let final = try LedgerCensus.take(store.connection)
        #expect(final.events == attempted.current.count)
        #expect(final.distinctKeys == final.events)
        #expect(duplicates == stored.count)
        #expect(try store.verify().ok)
        report("burst fault: after retry \(final.events) events for \(attempted.current.count) keys, 0 duplicated, 0 lost")
    }

    @Test("a server restart while appends wait: keyed appends retry and land once, unkeyed ones exit 69 and write nothing")
    func restartMidCommand() throws {
        let server = try DedicatedServer()
        defer { server.stop() }
        let holder = try Connection(conninfo: server.url)
        try holder.execute("BEGIN; SELECT 1 FROM dtledger.head FOR UPDATE")
        let keyed = try BackgroundCLI(["append", "--case", "RST-1", "--type", "incident.opened", "--data", openingData, "--key", "rst-keyed"],
                                      database: server.url)
        let unkeyed = try BackgroundCLI(["append", "--case", "RST-2", "--type", "incident.opened", "--data", openingData], database: server.url,
                                        environment: ["DTLEDGER_APPEND_RETRIES": "5"])
        let admin = try Connection(conninfo: server.adminURL)
        #expect(try waitUntil { try cliBackends(admin, database: "ledger", waitingForLock: true).count == 2 })
        try server.restart()
        let k = try #require(keyed.wait(timeout: 60))
        let u = try #require(unkeyed.wait(timeout: 60))
        report("restart mid-command: keyed exit \(k.status), unkeyed exit \(u.status): \(u.stderr.prefix(300))")
        #expect(k.status == 0, "\(k.stderr)")
        #expect(k.stderr.contains("retrying"))
        #expect(u.status == 69)
        #expect(errorLines(u).count == 1)
        #expect(u.stderr.contains("may or may not have been recorded"))
        let store = EventStore(connection: try Connection(conninfo: server.url))
        #expect(try store.events(caseID: "RST-1").count == 1)
        #expect(try store.events(caseID: "RST-2").isEmpty)
        #expect(try store.verify().ok)
    }
}
