import Events
import Foundation
import Ledger
import Postgres
import Testing
import TestSupport

/// Tampering as a superuser who disables the immutability triggers: each
/// kind is caught by `verify`, which names the position.
@Suite("Tamper evidence")
struct TamperTests {
    /// A ledger of 10 events over three cases, and a digest taken at the end.
    static func ledger() throws -> (TestDatabase, EventStore, Digest) {
        let db = try TestDatabase.make()
        let store = try db.store()
        for i in 1...10 {
            _ = try store.append(caseID: "C\(i % 3)", events: [event("C\(i % 3)", key: "k\(i)",
                                  data: .object(["text": .string("event \(i)")]))])
        }
        #expect(try store.verify().ok)
        return (db, store, try store.digest())
    }

    static func tamper(_ store: EventStore, _ sql: String) throws {
        try store.connection.execute("SET session_replication_role = replica")  // triggers off
        try store.connection.execute(sql)
        try store.connection.execute("SET session_replication_role = origin")
    }

    @Test("changing one byte of a payload is caught at that position")
    func payloadByte() throws {
        let (_, store, _) = try Self.ledger()
        try Self.tamper(store, "UPDATE dtledger.events SET data = jsonb_set(data, '{text}', '\"event 5!\"') WHERE position = 5")
        let report = try store.verify()
        #expect(!report.ok)
        #expect(report.firstBadPosition == 5)
        #expect(report.eventsChecked == 4)
        #expect(report.problem?.contains("do not match its hash") == true)
    }

    @Test("changing a column outside data (actor, occurred_at) is caught")
    func otherColumns() throws {
        let (_, store, _) = try Self.ledger()
        try Self.tamper(store, "UPDATE dtledger.events SET occurred_at = occurred_at + interval '1 hour' WHERE position = 7")
        #expect(try store.verify().firstBadPosition == 7)
        let (_, store2, _) = try Self.ledger()
        try Self.tamper(store2, "UPDATE dtledger.events SET actor = 'someone-else' WHERE position = 3")
        #expect(try store2.verify().firstBadPosition == 3)
    }

    @Test("deleting a middle event is caught at its position")
    func deleteMiddle() throws {
        let (_, store, _) = try Self.ledger()
        try Self.tamper(store, "DELETE FROM dtledger.events WHERE position = 6")
        let report = try store.verify()
        #expect(report.firstBadPosition == 6)
        #expect(report.problem?.contains("missing") == true)
    }

    @Test("deleting a middle event and renumbering is caught")
    func deleteAndRenumber() throws {
        let (_, store, _) = try Self.ledger()
        try Self.tamper(store, """
            DELETE FROM dtledger.events WHERE position = 6;
            UPDATE dtledger.events SET position = position - 1 WHERE position > 6;
            """)
        #expect(try store.verify().firstBadPosition == 6)
    }

    @Test("reordering two events is caught")
    func reorder() throws {
        let (_, store, _) = try Self.ledger()
        // The swap goes through a free position above the head: positions
        // below 1 are refused by a CHECK even with the triggers off.
        try Self.tamper(store, """
            UPDATE dtledger.events SET position = 1000000 WHERE position = 4;
            UPDATE dtledger.events SET position = 4 WHERE position = 5;
            UPDATE dtledger.events SET position = 5 WHERE position = 1000000;
            """)
        let report = try store.verify()
        #expect(report.firstBadPosition == 4)
    }

    @Test("deleting the newest events is caught by the head row")
    func deleteNewest() throws {
        let (_, store, _) = try Self.ledger()
        try Self.tamper(store, "DELETE FROM dtledger.events WHERE position > 8")
        let report = try store.verify()
        #expect(!report.ok)
        #expect(report.firstBadPosition == 9)
    }

    @Test("deleting the newest events and fixing the head is caught by the digest")
    func truncateTail() throws {
        let (_, store, digest) = try Self.ledger()
        try Self.tamper(store, """
            DELETE FROM dtledger.events WHERE position > 8;
            UPDATE dtledger.head SET position = 8, hash = (SELECT hash FROM dtledger.events WHERE position = 8);
            """)
        // The streams table still records the deleted events.
        #expect(try store.verify().check("streams")?.ok == false)
        try Self.tamper(store, """
            UPDATE dtledger.streams s SET version = x.n, last_position = x.last
              FROM (SELECT case_id, count(*) AS n, max(position) AS last FROM dtledger.events GROUP BY case_id) x
             WHERE x.case_id = s.case_id;
            """)
        #expect(try store.verify().ok, "without a digest, a clean truncation (streams fixed too) is invisible")
        let report = try store.verify(digest: digest)
        #expect(!report.ok)
        #expect(report.digestMatched == false)
        #expect(report.firstBadPosition == 9)
        #expect(report.problem?.contains("deleted from the end") == true)
    }

    @Test("rewriting the chain from a point (recomputing every hash) is caught by the digest")
    func rewriteChain() throws {
        let (_, store, digest) = try Self.ledger()
        // Change event 6 and recompute the chain from there, as a careful
        // tamperer with the hash recipe would.
        try Self.tamper(store, "UPDATE dtledger.events SET data = '{\"text\": \"rewritten\"}' WHERE position = 6")
        var previous = ChainHash.bytes(hex: try store.connection.query(
            "SELECT encode(hash, 'hex') FROM dtledger.events WHERE position = 5").scalar!)!
        var rewritten: [(Int64, String, String)] = []
        try store.forEachEvent(after: 5) { e in
            let h = ChainHash.hash(previous: previous, fields: e.hashFields)
            rewritten.append((e.position, ChainHash.hex(previous), ChainHash.hex(h)))
            previous = h
        }
        for (position, prev, hash) in rewritten {
            try Self.tamper(store, "UPDATE dtledger.events SET previous_hash = decode('\(prev)', 'hex'), hash = decode('\(hash)', 'hex') WHERE position = \(position)")
        }
        try Self.tamper(store, "UPDATE dtledger.head SET hash = decode('\(ChainHash.hex(previous))', 'hex')")
        #expect(try store.verify().ok, "a consistent rewrite passes without a digest")
        let report = try store.verify(digest: digest)
        #expect(!report.ok)
        #expect(report.firstBadPosition == 10)
        #expect(report.problem?.contains("rewritten") == true)
    }

    @Test("an intact ledger extends an older digest")
    func extendsOlderDigest() throws {
        let (_, store, digest) = try Self.ledger()
        _ = try store.append(caseID: "C1", events: [event("C1")])
        let report = try store.verify(digest: digest)
        #expect(report.ok)
        #expect(report.digestMatched == true)
        #expect(report.eventsChecked == 11)
    }
}
