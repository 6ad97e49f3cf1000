import Events
import Foundation
import Ledger
import Postgres
import Testing
import TestSupport

@Suite("Global order")
struct OrderingTests {
    @Test("a reader never skips an event that commits later with a lower position")
    func noSkippedEvents() throws {
        let db = try TestDatabase.make()
        _ = try db.store().append(caseID: "C0", events: [event("C0")])

        // Writer A takes position 2 and holds its transaction open.
        let holder = try db.store()
        try holder.connection.execute("BEGIN")
        let held = try holder.append(caseID: "A", events: [event("A")])[0]
        #expect(held.position == 2)

        // Meanwhile three other writers try to commit.
        let done = Locked(0)
        let group = DispatchGroup()
        for w in 0..<3 {
            group.enter()
            Thread {
                let store = try! db.store()
                _ = try! store.append(caseID: "B\(w)", events: [event("B\(w)")])
                done.withLock { $0 += 1 }
                group.leave()
            }.start()
        }
        // A reader following positions sees nothing past position 1 while A is open.
        Thread.sleep(forTimeInterval: 0.5)
        let reader = try db.store()
        var seen: [Int64] = []
        try reader.forEachEvent(after: 0) { seen.append($0.position) }
        #expect(seen == [1])
        #expect(done.current == 0, "later writers must wait for the open transaction")

        try holder.connection.execute("COMMIT")
        group.wait()
        var after: [Int64] = []
        try reader.forEachEvent(after: 1) { after.append($0.position) }
        #expect(after == [2, 3, 4, 5])
    }
}
