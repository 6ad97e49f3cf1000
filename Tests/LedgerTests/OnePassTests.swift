import Events
import Foundation
import Ledger
import Postgres
import Testing
import TestSupport

/// `EventStore.forEachCaseInOnePass` (issue 6: period compliance reads in
/// position order, without the server's sort) hands over exactly what the
/// case-by-case read does: every case whole, its events in version order.
@Suite("Reading cases in one pass")
struct OnePassTests {
    /// Cases A0..A(n-1) with interleaved events: case i gets 1 + i % 4
    /// events, appended round-robin, so cases start and end at different
    /// points of the log; a long case L spans all of it.
    static func interleaved(_ n: Int) throws -> TestDatabase {
        let db = try TestDatabase.make()
        let store = try db.store()
        var remaining = (0..<n).map { 1 + $0 % 4 }
        _ = try store.append(caseID: "L", events: [event("L", text: "L 1")])
        var round = 0
        while remaining.contains(where: { $0 > 0 }) {
            for i in 0..<n where remaining[i] > 0 {
                remaining[i] -= 1
                _ = try store.append(caseID: "A\(i)", events: [event("A\(i)", text: "A\(i) \(round)")])
            }
            round += 1
        }
        _ = try store.append(caseID: "L", events: [event("L", text: "L 2")])
        return db
    }

    static func event(_ caseID: String, text: String) -> Envelope {
        Envelope(type: "note.added", caseID: caseID, occurredAt: Date(timeIntervalSince1970: 1_772_564_700),
                 actor: "jdoe", source: .cli, key: nil, data: .object(["text": .string(text)]))
    }

    /// Each case's events as "position:version:text", by case.
    static func collect(_ read: ((String, [StoredEvent]) throws -> Void) throws -> Void) throws -> (order: [String], events: [String: [String]]) {
        var order: [String] = []
        var events: [String: [String]] = [:]
        try read { caseID, stored in
            #expect(events[caseID] == nil, "case \(caseID) handed over twice")
            order.append(caseID)
            events[caseID] = stored.map { "\($0.position):\($0.version):\($0.dataText)" }
        }
        return (order, events)
    }

    static func extents(_ store: EventStore, _ ids: Set<String>? = nil) throws -> [EventStore.CaseExtent] {
        try store.cases().filter { ids?.contains($0.caseID) ?? true }
            .map { EventStore.CaseExtent(caseID: $0.caseID, version: $0.version, lastPosition: $0.lastPosition) }
    }

    @Test("the same cases and events as the case-by-case read, each case whole and in version order")
    func sameAsCaseByCase() throws {
        let db = try Self.interleaved(30)
        let store = try db.store()
        let head = try store.digest().position
        let all = try Self.extents(store)
        let byCase = try Self.collect { try store.forEachCaseUndecoded(all.map(\.caseID), through: head, $0) }
        let onePass = try Self.collect { try store.forEachCaseInOnePass(all, through: head, $0) }
        #expect(onePass.events == byCase.events)
        #expect(byCase.events.count == 31)
        for (caseID, events) in onePass.events {
            let versions = events.map { Int($0.split(separator: ":")[1])! }
            #expect(versions == Array(1...versions.count), "case \(caseID)")
        }
        // Handed over as each case ends: the long case L, whose last event
        // is the last of the log, comes last; A0 (one event) first.
        #expect(onePass.order.first == "A0")
        #expect(onePass.order.last == "L")
    }

    @Test("past the hold limit, the unfinished cases are read case by case, and the connection stays usable")
    func holdLimit() throws {
        let db = try Self.interleaved(30)
        let store = try db.store()
        let head = try store.digest().position
        let all = try Self.extents(store)
        let byCase = try Self.collect { try store.forEachCaseUndecoded(all.map(\.caseID), through: head, $0) }
        for limit in [0, 1, 5, 40] {
            let onePass = try Self.collect { try store.forEachCaseInOnePass(all, through: head, holdLimit: limit, $0) }
            #expect(onePass.events == byCase.events, "hold limit \(limit)")
        }
        #expect(try store.connection.query("SELECT count(*) FROM dtledger.events").scalar == String(head))
    }

    @Test("events after `through` are left out; a case with none up to it is not handed over")
    func through() throws {
        let db = try Self.interleaved(12)
        let store = try db.store()
        let through = try store.digest().position
        _ = try store.append(caseID: "A3", events: [Self.event("A3", text: "late")])
        _ = try store.append(caseID: "NEW", events: [Self.event("NEW", text: "new")])
        let all = try Self.extents(store)
        #expect(all.contains { $0.caseID == "NEW" })
        let byCase = try Self.collect { try store.forEachCaseUndecoded(all.map(\.caseID), through: through, $0) }
        let onePass = try Self.collect { try store.forEachCaseInOnePass(all, through: through, $0) }
        #expect(onePass.events == byCase.events)
        #expect(onePass.events["NEW"] == nil)
        #expect(onePass.events["A3"]?.contains { $0.hasSuffix("late\"}") } == false)
        #expect(onePass.events["A3"]?.count == 4)
    }

    @Test("a few cases of a long log (sparse) and an empty list give the same as the case-by-case read")
    func sparseAndEmpty() throws {
        let db = try Self.interleaved(40)
        let store = try db.store()
        let head = try store.digest().position
        let some = try Self.extents(store, ["A1", "A38"])
        let byCase = try Self.collect { try store.forEachCaseUndecoded(some.map(\.caseID), through: head, $0) }
        let onePass = try Self.collect { try store.forEachCaseInOnePass(some, through: head, $0) }
        #expect(onePass.events == byCase.events)
        #expect(onePass.events.keys.sorted() == ["A1", "A38"])
        let none = try Self.collect { try store.forEachCaseInOnePass([], through: head, $0) }
        #expect(none.order.isEmpty)
    }
}
