import Events
import Foundation
import Ledger
import Postgres
import Testing
import TestSupport

func event(_ caseID: String, _ type: String = "note.added", key: String? = nil,
           data: JSONValue = .object(["text": .string("hello")]),
           at: String = "2026-03-03T14:05:00-05:00", actor: String = "jdoe",
           source: EventSource = .cli) -> Envelope {
    Envelope(type: type, caseID: caseID, occurredAt: try! RFC3339.parse(at), actor: actor,
             source: source, key: key, data: data)
}

@Suite("Appending events")
struct AppendTests {
    @Test("every envelope field round-trips; versions 1..n; positions strictly increase")
    func roundTrip() throws {
        let db = try TestDatabase.make()
        let store = try db.store()
        let data: JSONValue = .object([
            "channel": .string("slack"), "audience": .array([.string("@octo-health-engineers"), .string("role:isso")]),
            "content": .object(["summary": .string("It's \"down\" — ünïcödé ✓\n2nd line")]),
            "count": .int(42), "ratio": .double(0.25), "flag": .bool(true), "nothing": .null,
        ])
        let first = event("INC-2026-0001", "incident.opened", key: "k-1", data: data,
                          at: "2026-03-03T14:05:00.123456-05:00", actor: "greg-kirk", source: .pagerduty)
        var results = try store.append(caseID: "INC-2026-0001", events: [first])
        for i in 2...5 {
            results += try store.append(caseID: "INC-2026-0001", events: [event("INC-2026-0001", key: "k-\(i)")])
        }
        #expect(results.map(\.version) == [1, 2, 3, 4, 5])
        #expect(results.map(\.position) == [1, 2, 3, 4, 5])
        #expect(results.allSatisfy { !$0.duplicate })

        let stored = try store.events(caseID: "INC-2026-0001")
        #expect(stored.count == 5)
        let e = try #require(stored.first)
        #expect(e.id == results[0].id)
        #expect(e.type == "incident.opened")
        #expect(e.caseID == "INC-2026-0001")
        #expect(e.actor == "greg-kirk")
        #expect(e.source == "pagerduty")
        #expect(e.key == "k-1")
        #expect(e.data == data)
        #expect(RFC3339.format(e.occurredAt) == "2026-03-03T19:05:00.123456Z")
        #expect(e.hash == results[0].hash)
        #expect(e.previousHash == String(repeating: "0", count: 64))
        #expect(abs(e.recordedAt.timeIntervalSinceNow) < 60)
        // The ledger's own metadata: who appended, from where, with what.
        #expect(e.metadata["db_role"]?.stringValue == "dtledger")
        #expect(e.metadata["tool_version"]?.stringValue == DTLedgerVersion.current)
        #expect(e.metadata["client_addr"]?.stringValue == "local")
        #expect(stored[1].previousHash == stored[0].hash)
        #expect(zip(stored, stored.dropFirst()).allSatisfy { $0.position < $1.position })
    }

    @Test("a batch is atomic: one bad event leaves nothing behind")
    func atomicBatch() throws {
        let db = try TestDatabase.make()
        let store = try db.store()
        _ = try store.append(caseID: "C1", events: [event("C1", key: "a")])
        // The second event reuses key "a" for another type: the whole batch fails.
        #expect(throws: LedgerError.self) {
            try store.append(caseID: "C1", events: [event("C1", key: "b"), event("C1", "other.type", key: "a")])
        }
        #expect(try store.version(caseID: "C1") == 1)
        #expect(try store.digest().position == 1)
    }

    @Test("expected version: none, exact, any; a conflict is a typed error")
    func expectedVersion() throws {
        let db = try TestDatabase.make()
        let store = try db.store()
        _ = try store.append(caseID: "C2", events: [event("C2")], expected: .none)
        #expect(throws: LedgerError.self) { try store.append(caseID: "C2", events: [event("C2")], expected: .none) }
        _ = try store.append(caseID: "C2", events: [event("C2")], expected: .exact(1))
        do {
            _ = try store.append(caseID: "C2", events: [event("C2")], expected: .exact(1))
            Issue.record("expected a conflict")
        } catch let error as LedgerError {
            guard error.code == .versionConflict else { Issue.record("wrong error \(error)"); return }
            #expect(error.message.contains("version 2, expected 1"))
            #expect(error.code == .versionConflict)
        }
        // The refused batch left the stream's row as it was (dtledger.append
        // advances it before checking the expected version).
        let stream = try db.connect().query("SELECT version, last_position FROM dtledger.streams WHERE case_id = 'C2'").row(0)
        #expect(stream[0] == "2" && stream[1] == "2")
        _ = try store.append(caseID: "C2", events: [event("C2")], expected: .any)
        #expect(try store.version(caseID: "C2") == 3)
        #expect(try db.connect().query("SELECT last_position FROM dtledger.streams WHERE case_id = 'C2'").scalar == "3")
    }

    @Test("a case must be opened by one of the opening types")
    func openingTypes() throws {
        let db = try TestDatabase.make()
        let store = try db.store()
        let opening = ["incident.opened", "downtime.planned"]
        do {
            _ = try store.append(caseID: "C3", events: [event("C3", "note.added")], openingTypes: opening)
            Issue.record("expected the unopened case to be refused")
        } catch let error as LedgerError {
            #expect(error.code == .invalid)
            #expect(error.description.contains("never opened"))
        }
        _ = try store.append(caseID: "C3", events: [event("C3", "incident.opened"), event("C3")], openingTypes: opening)
        _ = try store.append(caseID: "C3", events: [event("C3", "note.added")], openingTypes: opening)
        #expect(try store.version(caseID: "C3") == 3)
    }

    @Test("8 concurrent writers with expected versions: one winner per version, nothing lost")
    func concurrentConflicts() throws {
        let db = try TestDatabase.make()
        _ = try db.store().append(caseID: "HOT", events: [event("HOT")])
        let wins = Locked<[Int64: Int]>([:])
        let conflicts = Locked(0)
        let otherErrors = Locked<[String]>([])
        onThreads(8) { writer in
            do {
                let store = try db.store()
                for attempt in 0..<25 {
                    let version = try store.version(caseID: "HOT")
                    do {
                        let r = try store.append(caseID: "HOT", events: [event("HOT", key: "w\(writer)-\(attempt)")],
                                                 expected: .exact(version))
                        wins.withLock { $0[r[0].version, default: 0] += 1 }
                    } catch LedgerError.Code.versionConflict {
                        conflicts.withLock { $0 += 1 }
                    }
                }
            } catch {
                otherErrors.withLock { $0.append("\(error)") }
            }
        }
        #expect(otherErrors.current.isEmpty, "\(otherErrors.current)")
        let winners = wins.current
        #expect(winners.values.allSatisfy { $0 == 1 }, "two writers won the same version")
        #expect(winners.count + conflicts.current == 200)
        let store = try db.store()
        let stored = try store.events(caseID: "HOT")
        #expect(stored.count == winners.count + 1)
        #expect(stored.map(\.version) == Array(1...Int64(stored.count)))
        #expect(Set(stored.map(\.position)).count == stored.count)
        #expect(try store.verify().ok)
    }

    @Test("8 concurrent writers on many cases: positions gap-free, chain intact")
    func concurrentAppends() throws {
        let db = try TestDatabase.make()
        onThreads(8) { writer in
            let store = try! db.store()
            for i in 0..<30 {
                _ = try! store.append(caseID: "CASE-\(i % 5)", events: [event("CASE-\(i % 5)", key: "t\(writer)-\(i)")])
            }
        }
        let store = try db.store()
        var positions: [Int64] = []
        try store.forEachEvent { positions.append($0.position) }
        #expect(positions == Array(1...240))
        let report = try store.verify()
        #expect(report.ok)
        #expect(report.eventsChecked == 240)
    }
}
