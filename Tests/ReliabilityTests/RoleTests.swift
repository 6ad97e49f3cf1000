import Events
import Foundation
import Ledger
import Postgres
import Testing
import TestSupport

/// Each person their own login (SECURITY.md): a LOGIN role that is a member
/// of dtledger_writer appends through the CLI, and the ledger records who.
@Suite("Roles: personal logins")
struct RoleTests {
    @Test("a personal login in dtledger_writer appends via the CLI, is named in metadata.db_role, and can do nothing else")
    func personalWriter() throws {
        let db = try TestDatabase.make()
        let owner = try db.connect()
        let alice = "dtl_alice_\(UInt32.random(in: 0...UInt32.max))"
        let bob = "dtl_bob_\(UInt32.random(in: 0...UInt32.max))"
        try owner.execute("CREATE ROLE \(alice) LOGIN IN ROLE dtledger_writer; CREATE ROLE \(bob) LOGIN IN ROLE dtledger_reader")
        defer { _ = try? owner.execute("DROP ROLE IF EXISTS \(alice); DROP ROLE IF EXISTS \(bob)") }
        let aliceURL = db.url.replacingOccurrences(of: "user=dtledger", with: "user=\(alice)")
        let bobURL = db.url.replacingOccurrences(of: "user=dtledger", with: "user=\(bob)")

        let appended = try CLI.run(["append", "--case", "ROLE-1", "--type", "incident.opened", "--data", openingData, "--actor", "alice"], database: aliceURL)
        #expect(appended.status == 0, "\(appended.stderr)")
        let stored = try EventStore(connection: owner).events(caseID: "ROLE-1")
        #expect(stored.first?.metadata["db_role"]?.stringValue == alice)
        // The actor is what the person claims; db_role is what the database knows.
        #expect(stored.first?.actor == "alice")

        // The writer cannot read, verify, call internal functions or write around append().
        #expect(try CLI.run(["read"], database: aliceURL).status == 77)
        #expect(try CLI.run(["verify"], database: aliceURL).status == 77)
        let asAlice = try Connection(conninfo: aliceURL)
        for sql in ["SELECT dtledger.event_hash('\\x00', gen_random_uuid(), 1, 'c', 1, 't', now(), now(), 'a', 'cli', NULL, '{}', '{}')",
                    "SELECT dtledger.create_read_models('mine')",
                    "SELECT * FROM dtledger.head",
                    "INSERT INTO dtledger.events (position) VALUES (99)",
                    "INSERT INTO dtledger.streams VALUES ('X', 1, 't', now(), 1)",
                    "UPDATE dtledger.head SET position = 0",
                    "CREATE TABLE dtledger.mine (x int)",
                    "CREATE FUNCTION dtledger.event_hash(v integer) RETURNS text LANGUAGE sql AS 'select 1'",
                    "SET ROLE dtledger_reader",
                    "SET ROLE dtledger"] {
            #expect(throws: PostgresError.self, "\(sql)") { try asAlice.execute(sql) }
        }
        // Claiming another db_role in the metadata does not stick.
        try asAlice.query("SELECT * FROM dtledger.append('ROLE-2', NULL, $1::jsonb, NULL, 'x')",
                          [#"[{"type":"note.added","occurred_at":"2026-01-01T00:00:00Z","actor":"a","source":"cli","data":{},"metadata":{"db_role":"dtledger"}}]"#])
        let forged = try EventStore(connection: owner).events(caseID: "ROLE-2")
        #expect(forged.first?.metadata["db_role"]?.stringValue == alice)

        // The reader reads and verifies, and cannot append.
        #expect(try CLI.run(["read", "--case", "ROLE-1"], database: bobURL).status == 0)
        #expect(try CLI.run(["verify"], database: bobURL).status == 0)
        let refused = try CLI.run(["append", "--case", "ROLE-1", "--type", "incident.opened", "--data", openingData], database: bobURL)
        #expect(refused.status == 77)
        #expect(errorLines(refused).count == 1)
        #expect(try EventStore(connection: owner).events(caseID: "ROLE-1").count == 1)
    }
}
