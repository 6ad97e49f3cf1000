import Events
import Foundation
import Ledger
import Postgres
import Testing
import TestSupport

@Suite("Immutability and roles")
struct ImmutabilityTests {
    static let changes = [
        "UPDATE dtledger.events SET actor = 'mallory'",
        "DELETE FROM dtledger.events WHERE position = 1",
        "TRUNCATE dtledger.events",
        "UPDATE dtledger.events SET data = '{}'::jsonb WHERE position = 1",
    ]

    @Test("the owner (who runs the tool) cannot change events", arguments: changes)
    func owner(sql: String) throws {
        let db = try TestDatabase.make()
        let store = try db.store()
        _ = try store.append(caseID: "C1", events: [event("C1")])
        do {
            try store.connection.execute(sql)
            Issue.record("\(sql) was allowed")
        } catch {
            #expect(error.sqlState == LedgerSQLState.appendOnly)
            #expect(error.message.contains("append-only"))
        }
        #expect(try store.verify().ok)
    }

    @Test("the writer and reader roles cannot change events", arguments: ["dtledger_writer", "dtledger_reader"], changes)
    func roles(role: String, sql: String) throws {
        let db = try TestDatabase.make()
        let store = try db.store()
        _ = try store.append(caseID: "C1", events: [event("C1")])
        try store.connection.execute("SET ROLE \(role)")
        do {
            try store.connection.execute(sql)
            Issue.record("\(sql) was allowed for \(role)")
        } catch {
            #expect(error.sqlState == SQLState.insufficientPrivilege)
        }
    }

    @Test("the writer can append through the function and do nothing else")
    func writerOnlyAppends() throws {
        let db = try TestDatabase.make()
        let store = try db.store()
        try store.connection.execute("SET ROLE dtledger_writer")
        let r = try store.append(caseID: "C1", events: [event("C1")])
        #expect(r[0].position == 1)
        for sql in ["SELECT * FROM dtledger.events",
                    "INSERT INTO dtledger.events (position) VALUES (99)",
                    "UPDATE dtledger.head SET position = 0",
                    "SELECT * FROM dtledger.streams"] {
            #expect(throws: PostgresError.self, "\(sql)") { try store.connection.execute(sql) }
        }
    }

    @Test("the reader can read and cannot append")
    func readerOnlyReads() throws {
        let db = try TestDatabase.make()
        let store = try db.store()
        _ = try store.append(caseID: "C1", events: [event("C1")])
        try store.connection.execute("SET ROLE dtledger_reader")
        #expect(try store.events(caseID: "C1").count == 1)
        #expect(try store.verify().ok)
        do {
            _ = try store.append(caseID: "C1", events: [event("C1")])
            Issue.record("the reader appended")
        } catch let error as LedgerError {
            #expect(error.code == .permissionDenied)
        }
    }
}

@Suite("Envelope rules in the database")
struct DatabaseEnvelopeRuleTests {
    static let bad: [(String, String)] = [
        ("bad case id", #"[{"type":"note.added","occurred_at":"2026-01-01T00:00:00Z","actor":"a","source":"cli","data":{}}]"#),
        ("unknown source", #"[{"type":"note.added","occurred_at":"2026-01-01T00:00:00Z","actor":"a","source":"fax","data":{}}]"#),
        ("actor with a space", #"[{"type":"note.added","occurred_at":"2026-01-01T00:00:00Z","actor":"a b","source":"cli","data":{}}]"#),
        ("empty key", #"[{"type":"note.added","occurred_at":"2026-01-01T00:00:00Z","actor":"a","source":"cli","key":"","data":{}}]"#),
    ]

    @Test("a writer calling dtledger.append directly cannot store what the CLI refuses", arguments: 0..<4)
    func refused(index: Int) throws {
        let (name, events) = Self.bad[index]
        let db = try TestDatabase.make()
        let c = try db.connect()
        try c.execute("SET ROLE dtledger_writer")
        let caseID = name == "bad case id" ? "-bad case-" : "C-1"
        do {
            try c.query("SELECT * FROM dtledger.append($1, NULL, $2::jsonb, NULL, 'test')", [caseID, events])
            Issue.record("\(name) was stored")
        } catch {
            #expect(error.sqlState == SQLState.checkViolation, "\(name): \(error)")
            #expect(LedgerError.from(error).code == .invalid)
        }
        try c.execute("RESET ROLE")
        #expect(try EventStore(connection: c).digest().position == 0)
    }
}
