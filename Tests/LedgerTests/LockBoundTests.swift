import Events
import Foundation
import Ledger
import Postgres
import Testing
import TestSupport

/// One writer cannot stop the others (issue 15): a writer that appends and
/// then holds its transaction open keeps the head lock, but the others'
/// appends give up after a bounded wait (55P03, exit 75, safe to retry with
/// a key), and the server ends the idle transaction.
@Suite("Append: bounded waiting on the head lock")
struct LockBoundTests {
    static func writer(_ db: TestDatabase, _ owner: Connection) throws -> (name: String, url: String) {
        let name = "dtl_w_\(UInt32.random(in: 0...UInt32.max))"
        try owner.execute("CREATE ROLE \(name) LOGIN IN ROLE dtledger_writer")
        return (name, db.url.replacingOccurrences(of: "user=dtledger", with: "user=\(name)"))
    }

    /// The LedgerError code `body` throws.
    static func code(_ body: () throws -> Void) -> LedgerError.Code? {
        do { try body(); return nil } catch let e as LedgerError { return e.code } catch { return nil }
    }

    static func note(_ caseID: String, key: String? = nil) -> Envelope {
        Envelope(type: "incident.opened", caseID: caseID, occurredAt: try! RFC3339.parse("2026-03-03T14:05:00-05:00"),
                 actor: "jdoe", source: .cli, key: key, data: .object(["text": .string("x")]))
    }

    @Test("a second writer's append fails within the documented 5 s with a clear error while another holds the lock")
    func boundedWait() throws {
        let db = try TestDatabase.make()
        let owner = try db.connect()
        let (a, aURL) = try Self.writer(db, owner)
        let (b, bURL) = try Self.writer(db, owner)
        defer { _ = try? owner.execute("DROP ROLE IF EXISTS \(a); DROP ROLE IF EXISTS \(b)") }

        let holder = EventStore(connection: try Connection(conninfo: aURL))
        try holder.connection.execute("BEGIN")
        _ = try holder.append(caseID: "HOLD-1", events: [Self.note("HOLD-1")])

        let waiter = EventStore(connection: try Connection(conninfo: bURL))
        let start = Date()
        do {
            _ = try waiter.append(caseID: "WAIT-1", events: [Self.note("WAIT-1", key: "wait-1")])
            Issue.record("the append should not have been granted the lock")
        } catch let error as LedgerError {
            let waited = Date().timeIntervalSince(start)
            #expect(waited >= 4.5 && waited < 8, "waited \(waited) s")
            #expect(error.code == .versionConflict)
            #expect(error.sqlState == SQLState.lockNotAvailable)
            #expect(error.message == "another session holds the ledger's append lock; retry (with --key it is safe)")
        }
        // The waiter's own lock_timeout is back to what it was.
        #expect(try waiter.connection.query("SHOW lock_timeout").scalar == "0")

        // A session may shorten the wait, not lengthen it.
        try waiter.connection.execute("SET dtledger.append_lock_timeout = 300")
        let quick = Date()
        #expect(Self.code { _ = try waiter.append(caseID: "WAIT-1", events: [Self.note("WAIT-1", key: "wait-1")]) } == .versionConflict)
        #expect(Date().timeIntervalSince(quick) < 3)
        try waiter.connection.execute("SET dtledger.append_lock_timeout = 600000")
        let capped = Date()
        #expect(Self.code { _ = try waiter.append(caseID: "WAIT-1", events: [Self.note("WAIT-1", key: "wait-1")]) } == .versionConflict)
        #expect(Date().timeIntervalSince(capped) < 8)

        try holder.connection.execute("COMMIT")
        // Retrying with the key is safe: it appends once.
        let r = try waiter.append(caseID: "WAIT-1", events: [Self.note("WAIT-1", key: "wait-1")])
        #expect(r[0].duplicate == false)
        #expect(try EventStore(connection: owner).events(caseID: "WAIT-1").count == 1)
    }

    @Test("a transaction left idle after appending is ended by the server, which frees the lock")
    func idleEnded() throws {
        let db = try TestDatabase.make()
        let owner = try db.connect()
        let (a, aURL) = try Self.writer(db, owner)
        defer { _ = try? owner.execute("DROP ROLE IF EXISTS \(a)") }

        let holder = EventStore(connection: try Connection(conninfo: aURL))
        // A short bound for the test (the default, and the most, is 30 s).
        try holder.connection.execute("SET dtledger.append_idle_timeout = 1000")
        try holder.connection.execute("BEGIN")
        _ = try holder.append(caseID: "IDLE-1", events: [Self.note("IDLE-1")])
        #expect(try holder.connection.query("SHOW idle_in_transaction_session_timeout").scalar == "1s")
        Thread.sleep(forTimeInterval: 2.5)
        // The server ended the session: the next statement finds the connection gone.
        #expect(throws: (any Error).self) { try holder.connection.execute("COMMIT") }
        // Nothing was committed, and others append at once.
        let other = try db.store()
        let start = Date()
        _ = try other.append(caseID: "NEXT-1", events: [Self.note("NEXT-1")])
        #expect(Date().timeIntervalSince(start) < 2)
        #expect(try other.events(caseID: "IDLE-1").isEmpty)
        // Outside a transaction the setting is the session's own again.
        #expect(try other.connection.query("SHOW idle_in_transaction_session_timeout").scalar == "0")
    }
}
