import Events
import Foundation
import Ledger
import Testing
import TestSupport

@Suite("Idempotency keys")
struct IdempotencyTests {
    @Test("a replayed key appends nothing and returns the original")
    func sequential() throws {
        let db = try TestDatabase.make()
        let store = try db.store()
        let original = try store.append(caseID: "C1", events: [event("C1", key: "INC/initial")])[0]
        // Even with another payload and a stale expected version.
        let replay = try store.append(caseID: "C1", events: [event("C1", key: "INC/initial", data: .object(["text": .string("retry")]))],
                                      expected: .none)[0]
        #expect(replay.duplicate)
        #expect(replay.id == original.id)
        #expect(replay.position == original.position)
        #expect(replay.hash == original.hash)
        #expect(try store.digest().position == 1)
    }

    @Test("a batch with some replayed keys appends only the new events")
    func partialBatch() throws {
        let db = try TestDatabase.make()
        let store = try db.store()
        _ = try store.append(caseID: "C1", events: [event("C1", key: "a"), event("C1", key: "b")])
        let results = try store.append(caseID: "C1", events: [event("C1", key: "a"), event("C1", key: "c"), event("C1", key: "b")])
        #expect(results.map(\.duplicate) == [true, false, true])
        #expect(try store.version(caseID: "C1") == 3)
    }

    @Test("a key reused for another case or type is refused")
    func reusedKey() throws {
        let db = try TestDatabase.make()
        let store = try db.store()
        _ = try store.append(caseID: "C1", events: [event("C1", key: "k")])
        #expect(throws: LedgerError.self) { try store.append(caseID: "C2", events: [event("C2", key: "k")]) }
        #expect(try store.digest().position == 1)
    }

    @Test("the same key from 8 writers at once is appended once")
    func concurrent() throws {
        let db = try TestDatabase.make()
        let ids = Locked<[String]>([])
        onThreads(8) { _ in
            let store = try! db.store()
            for i in 0..<10 {
                let r = try! store.append(caseID: "C1", events: [event("C1", key: "retry-\(i)")])[0]
                ids.withLock { $0.append("\(i):\(r.id):\(r.position)") }
            }
        }
        let store = try db.store()
        #expect(try store.digest().position == 10)
        #expect(Set(ids.current).count == 10, "every retry of one key saw the same event")
        #expect(ids.current.count == 80)
    }
}
