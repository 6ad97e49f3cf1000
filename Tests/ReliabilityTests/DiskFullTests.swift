import Events
import Foundation
import Ledger
import Postgres
import Testing
import TestSupport

/// A full disk, simulated with a small tmpfs as the data directory (root
/// only; skipped elsewhere, see docs/reliability.md).
@Suite("Faults: disk full", .enabled(if: DedicatedServer.canMountTmpfs, "needs root and permission to mount a tmpfs"))
struct DiskFullTests {
    @Test("appends on a full disk fail cleanly; after space is freed the ledger verifies, nothing acknowledged is lost, and the retry completes once each")
    func diskFull() throws {
        let server = try DedicatedServer(tmpfsMegabytes: 160)
        defer { server.stop() }
        // Leave about 6 MiB free: less than one WAL segment (16 MiB) beyond those already made.
        var fs = statvfs()
        #expect(statvfs(server.dataDirectory, &fs) == 0)
        let free = Int(fs.f_bavail) * Int(fs.f_frsize)
        let filler = server.dataDirectory + "/filler"
        try DedicatedServer.shell("head -c \(max(0, free - 6 << 20)) /dev/zero > \(DedicatedServer.quote(filler))")

        let url = server.url
        var store = EventStore(connection: try Connection(conninfo: url))
        var acknowledged = Set<String>()
        var attempted: [(caseID: String, keys: [String])] = []
        var errors: [String] = []
        let text = (0..<40).map { _ in UUID().uuidString }.joined()  // incompressible
        var n = 0
        let deadline = Date().addingTimeInterval(60)
        while errors.count < 5, Date() < deadline {
            let caseID = "DF-\(n % 10)"
            let keys = (0..<50).map { "df-\(n)-\($0)" }
            attempted.append((caseID, keys))
            do {
                _ = try store.append(caseID: caseID, events: keys.map { envelope(caseID, key: $0, text: text) })
                acknowledged.formUnion(keys)
            } catch let error as LedgerError {
                errors.append(error.description)
                // Reconnect (the server may have restarted after a PANIC) and go on.
                _ = waitUntil(timeout: 10) {
                    if let s = try? EventStore(connection: Connection(conninfo: url)) { store = s; return true }
                    return false
                }
            }
            n += 1
        }
        report("disk full: \(attempted.count) batches of 50 attempted, \(acknowledged.count) events acknowledged, \(errors.count) errors; first: \(errors.first?.prefix(200) ?? "none")")
        #expect(!errors.isEmpty, "the disk never filled")
        #expect(errors.allSatisfy { $0.contains("No space left on device") || $0.hasPrefix("database unavailable") || $0.contains("could not") },
                "\(errors)")

        // Free the space; start the server again if it gave up.
        try FileManager.default.removeItem(atPath: filler)
        let back = waitUntil(timeout: 20) { (try? Connection(conninfo: url)) != nil }
        if !back {
            server.crash()
            try server.start()
        }
        let after = EventStore(connection: try Connection(conninfo: url))
        let census = try LedgerCensus.take(after.connection)
        let stored = try keys(after.connection)
        #expect(acknowledged.isSubset(of: stored), "acknowledged events were lost")
        #expect(census.events == census.distinctKeys && census.positionsGapFree)
        #expect(census.events % 50 == 0, "a partial batch: \(census)")
        #expect(try after.verify().ok)

        for (caseID, keys) in attempted {
            _ = try after.append(caseID: caseID, events: keys.map { envelope(caseID, key: $0, text: text) })
        }
        let final = try LedgerCensus.take(after.connection)
        #expect(final.events == attempted.count * 50 && final.distinctKeys == final.events)
        #expect(try after.verify().ok)
        report("disk full: after freeing space and retrying, \(final.events) events for \(attempted.count * 50) keys, 0 duplicated, 0 lost (server restarted by the test: \(!back))")
    }
}
