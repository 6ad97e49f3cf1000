import Events
import Foundation
import Ledger
import Postgres
import Projections
import Testing
import TestSupport

/// Load: 8 writers on 2,000 cases (about as many events per case as real cases have) for DTLEDGER_SOAK_SECONDS (default 20; the
/// Scripts/soak default is 180) while a reader follows positions. Then no
/// event is lost or duplicated, the reader never saw a gap, and the ledger
/// verifies against a digest taken at the start; a projector following the
/// ledger (LISTEN/NOTIFY) ends equal to a fresh rebuild.
@Suite("Load (soak)")
struct SoakTests {
    static let seconds = environmentInt("DTLEDGER_SOAK_SECONDS", default: 20)
    static let writers = 8

    @Test("8 writers on many cases, a reader following positions: nothing lost, nothing duplicated, no gaps, verifies against the starting digest")
    func soak() throws {
        let db = try TestDatabase.make()
        let store = try db.store()
        for i in 0..<50 { _ = try store.append(caseID: "SOAK-SEED", events: [envelope("SOAK-SEED", key: "seed-\(i)")]) }
        let startDigest = try store.digest()
        let url = db.url
        let deadline = Date().addingTimeInterval(Double(Self.seconds))
        let acknowledged = Locked<[Int: Int]>([:])   // writer -> events acknowledged
        let conflicts = Locked(0)
        let errors = Locked<[String]>([])
        let readerDone = Locked(false)
        let readerStats = Locked<(seen: Int64, gaps: Int, reads: Int)>((0, 0, 0))

        let reader = Thread {
            do {
                let r = EventStore(connection: try Connection(conninfo: url))
                var last: Int64 = 0
                while !readerDone.current {
                    var gaps = 0
                    try r.forEachEvent(after: last, limit: 2_000) { e in
                        if e.position != last + 1 { gaps += 1 }
                        last = e.position
                    }
                    readerStats.withLock { $0.seen = last; $0.gaps += gaps; $0.reads += 1 }
                    usleep(2_000)
                }
            } catch {
                errors.withLock { $0.append("reader: \(error)") }
            }
        }
        reader.start()

        // A projector following the ledger while the writers run.
        let projectorDone = Locked(false)
        let projectorBatches = Locked(0)
        let follower = Thread {
            do {
                let projector = try Projector(settings: DatabaseSettings.resolve(explicit: url, environment: [:]))
                try projector.lock(wait: true)
                defer { projector.unlock() }
                try projector.follow(shouldStop: { projectorDone.current }) { _ in projectorBatches.withLock { $0 += 1 } }
            } catch {
                errors.withLock { $0.append("projector: \(error)") }
            }
        }
        follower.start()

        onThreads(Self.writers) { w in
            do {
                let s = EventStore(connection: try Connection(conninfo: url))
                var rng = SeededRandom(seed: UInt64(w) &* 7919)
                var n = 0
                while Date() < deadline {
                    // Many cases; sometimes a batch, sometimes an expected version (conflicts are fine).
                    let caseID = "SOAK-\(Int.random(in: 0..<2000, using: &rng))"
                    let size = Int.random(in: 0..<10, using: &rng) == 0 ? Int.random(in: 2...20, using: &rng) : 1
                    let batch = (0..<size).map { j in envelope(caseID, key: "w\(w)-\(n)-\(j)", text: "writer \(w) event \(n).\(j)") }
                    let expected: ExpectedVersion = Int.random(in: 0..<5, using: &rng) == 0
                        ? .exact(try s.version(caseID: caseID)) : .any
                    do {
                        let results = try s.append(caseID: caseID, events: batch, expected: expected == .exact(0) ? .none : expected)
                        acknowledged.withLock { $0[w, default: 0] += results.count }
                        n += 1
                    } catch LedgerError.Code.versionConflict {
                        conflicts.withLock { $0 += 1 }
                        n += 1
                    }
                }
            } catch {
                errors.withLock { $0.append("writer \(w): \(error)") }
            }
        }
        // Let the reader catch up with the end, then stop it.
        let expectedTotal = 50 + acknowledged.current.values.reduce(0, +)
        _ = waitUntil(timeout: 60) { readerStats.current.seen >= Int64(expectedTotal) }
        readerDone.withLock { $0 = true }
        while !reader.isFinished { usleep(10_000) }
        // The projector catches up, then stops.
        let checkpointConnection = try Connection(conninfo: url)
        func checkpoint() -> Int64 {
            Int64((try? checkpointConnection.query("SELECT position FROM dtledger_read.checkpoint").scalar) ?? "0") ?? 0
        }
        let caughtUp = waitUntil(timeout: 180) { checkpoint() >= Int64(expectedTotal) }
        projectorDone.withLock { $0 = true }
        while !follower.isFinished { usleep(10_000) }
        #expect(caughtUp, "the projector caught up with the writers (checkpoint \(checkpoint()) of \(expectedTotal))")
        func snapshot() throws -> [String] {
            try checkpointConnection.query("SELECT case_id || ' ' || event_count || ' ' || last_position || ' ' || status FROM dtledger_read.cases ORDER BY case_id").rows.map { $0[0]! }
                + checkpointConnection.query("SELECT position || ' ' || case_id || ' ' || summary || ' ' || retracted FROM dtledger_read.timeline ORDER BY position").rows.map { $0[0]! }
        }
        let followed = try snapshot()
        let rebuilder = try Projector(settings: DatabaseSettings.resolve(explicit: url, environment: [:]))
        try rebuilder.lock(wait: false)
        _ = try rebuilder.rebuild()
        rebuilder.unlock()
        let rebuilt = try snapshot()
        #expect(followed.count == rebuilt.count)
        #expect(followed == rebuilt, "the followed read models equal a fresh rebuild")

        #expect(errors.current.isEmpty, "\(errors.current.prefix(3))")
        let census = try LedgerCensus.take(store.connection)
        #expect(census.events == expectedTotal, "lost or extra events: \(census) vs \(expectedTotal) acknowledged")
        #expect(census.distinctKeys == census.events, "duplicated events")
        #expect(census.positionsGapFree)
        #expect(readerStats.current.gaps == 0, "the reader saw a gap in positions")
        #expect(readerStats.current.seen == Int64(expectedTotal))
        let report0 = try store.verify(digest: startDigest)
        #expect(report0.ok && report0.digestMatched == true, "\(report0.problem ?? "")")
        let rate = Double(expectedTotal - 50) / Double(Self.seconds)
        report("soak: \(Self.seconds)s, \(Self.writers) writers, 2000 cases, \(expectedTotal - 50) events appended (\(Int(rate))/s), \(conflicts.current) expected-version conflicts refused, reader \(readerStats.current.reads) reads, 0 gaps, 0 lost, 0 duplicated, verifies against the starting digest (\(report0.eventsChecked) events); projector followed in \(projectorBatches.current) wake-ups and equals a rebuild (\(rebuilt.count) rows)")
    }
}
