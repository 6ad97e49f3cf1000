import Events
import Foundation
import Ledger
import Postgres
import Testing
import TestSupport

/// The checks `verify` makes beyond the hash chain (issue 15, section 2):
/// positions from 1, recording times, the digest's recording time, the
/// streams table and the head row against the events, and the database
/// functions, triggers and grants against what the binary ships. Each
/// attack is played with the privileges it needs (the owner, or a
/// superuser with triggers off) and each finding names what was changed.
@Suite("Verify: everything the reports trust")
struct VerifyChecksTests {
    static func ledger() throws -> (TestDatabase, EventStore, Digest) { try TamperTests.ledger() }

    static func failing(_ report: VerificationReport, _ check: String) -> [String] {
        report.check(check)?.problems ?? []
    }

    @Test("an intact ledger passes every check, each reported")
    func intact() throws {
        let (_, store, digest) = try Self.ledger()
        let report = try store.verify(digest: digest)
        #expect(report.ok, "\(report.problem ?? "")")
        #expect(report.checks.map(\.name) == ["chain", "positions", "head", "digest", "recorded_at", "streams",
                                             "functions", "triggers", "grants"])
        #expect(report.checks.allSatisfy { $0.ok })
        #expect(!SchemaCheck.shipped.functions.isEmpty)
        #expect(SchemaCheck.shipped.functions.contains { $0.name == "dtledger.append" && $0.securityDefiner })
        #expect(SchemaCheck.shipped.triggers.contains { $0.name == "events_no_update" && $0.table == "dtledger.events" })
    }

    @Test("editing a streams row is caught, naming the case")
    func editStreamsRow() throws {
        let (_, store, _) = try Self.ledger()
        try TamperTests.tamper(store, "UPDATE dtledger.streams SET version = 1, last_position = 1 WHERE case_id = 'C1'")
        let report = try store.verify()
        #expect(!report.ok)
        let problems = Self.failing(report, "streams")
        #expect(problems.count == 1)
        #expect(problems.first?.contains("case C1") == true)
        #expect(problems.first?.contains("version 1") == true)
        #expect(report.problem == problems.first)

        try TamperTests.tamper(store, "UPDATE dtledger.streams SET opened_at = '2001-01-01' WHERE case_id = 'C2'")
        #expect(Self.failing(try store.verify(), "streams").contains { $0.contains("case C2") && $0.contains("opened_at") })
    }

    @Test("deleting a streams row (hiding a case) or adding one is caught, naming the case")
    func deleteStreamsRow() throws {
        let (_, store, _) = try Self.ledger()
        try TamperTests.tamper(store, """
            DELETE FROM dtledger.streams WHERE case_id = 'C0';
            INSERT INTO dtledger.streams VALUES ('GHOST-1', 1, 'incident.opened', now(), 3);
            """)
        let problems = Self.failing(try store.verify(), "streams")
        #expect(problems.contains { $0.contains("case C0") && $0.contains("no row") })
        #expect(problems.contains { $0.contains("case GHOST-1") && $0.contains("no event") })
    }

    @Test("moving the head row is caught")
    func moveHead() throws {
        let (_, store, _) = try Self.ledger()
        try TamperTests.tamper(store, "UPDATE dtledger.head SET position = 7, hash = (SELECT hash FROM dtledger.events WHERE position = 7)")
        let report = try store.verify()
        #expect(!report.ok)
        #expect(Self.failing(report, "head").first?.contains("head records position 7") == true)
    }

    @Test("an event inserted at position 0 or -1 (triggers off) is caught")
    func positionsBelowOne() throws {
        for position in [0, -1] {
            let (_, store, _) = try Self.ledger()
            // The superuser drops the CHECK that keeps positions from 1 first.
            try TamperTests.tamper(store, """
                ALTER TABLE dtledger.events DROP CONSTRAINT IF EXISTS events_position_from_1;
                INSERT INTO dtledger.events (position, id, case_id, version, type, occurred_at, recorded_at, actor, source,
                                             data, metadata, previous_hash, hash)
                SELECT \(position), gen_random_uuid(), 'C1', 99, 'note.added', now(), now(), 'x', 'cli', '{}', '{}',
                       previous_hash, hash FROM dtledger.events WHERE position = 1
                """)
            let report = try store.verify()
            #expect(!report.ok)
            #expect(report.firstBadPosition == Int64(position))
            #expect(Self.failing(report, "positions").first?.contains("position \(position)") == true)
            #expect(report.check("chain")?.ok == true, "the chain from 1 is intact")
        }
    }

    @Test("an event forged after a digest with a back-dated recorded_at (chain recomputed) is caught against the digest")
    func forgedAfterDigest() throws {
        let (_, store, digest) = try Self.ledger()
        // The forger appends position 11 recorded an hour before the digest,
        // computes its hash with the published recipe and moves the head.
        try TamperTests.tamper(store, """
            INSERT INTO dtledger.events (position, id, case_id, version, type, occurred_at, recorded_at, actor, source,
                                         data, metadata, previous_hash, hash)
            SELECT 11, gen_random_uuid(), 'C1', (SELECT version + 1 FROM dtledger.streams WHERE case_id = 'C1'),
                   'note.added', recorded_at - interval '1 hour', recorded_at - interval '1 hour', 'jdoe', 'cli',
                   '{"text": "forged"}', '{}', hash, hash
              FROM dtledger.events WHERE position = 10
            """)
        var forged: StoredEvent?
        try store.forEachEvent(after: 10) { forged = $0 }
        let previous = ChainHash.bytes(hex: forged!.previousHash)!
        let hash = ChainHash.hex(ChainHash.hash(previous: previous, fields: forged!.hashFields))
        try TamperTests.tamper(store, """
            UPDATE dtledger.events SET hash = decode('\(hash)', 'hex') WHERE position = 11;
            UPDATE dtledger.head SET position = 11, hash = decode('\(hash)', 'hex');
            UPDATE dtledger.streams SET version = version + 1, last_position = 11 WHERE case_id = 'C1';
            """)
        let report = try store.verify(digest: digest)
        #expect(!report.ok)
        #expect(report.check("chain")?.ok == true, "the hashes are consistent")
        let problems = Self.failing(report, "digest")
        #expect(problems.first?.contains("position 11") == true)
        #expect(problems.first?.contains("forged after the digest") == true)
        #expect(report.problem == problems.first)
        #expect(report.digestMatched == false)
        // Without the digest, the recording times still go backwards along the chain.
        #expect(Self.failing(try store.verify(), "recorded_at").first?.contains("position 11") == true)
    }

    @Test("a replaced dtledger.append (CREATE OR REPLACE by the owner) is named")
    func replacedAppend() throws {
        let (db, _, _) = try Self.ledger()
        let owner = try db.connect()
        let definition = try owner.query("SELECT pg_get_functiondef('dtledger.append(text,bigint,jsonb,text[],text)'::regprocedure)").scalar!
        // The same function with one line added: still appends, now also trusts the caller.
        let replaced = definition.replacingOccurrences(of: "BEGIN\n", with: "BEGIN\n    PERFORM 1; -- replaced\n")
        #expect(replaced != definition)
        try owner.execute(replaced)
        let report = try EventStore(connection: owner).verify()
        #expect(!report.ok)
        let problems = Self.failing(report, "functions")
        #expect(problems.count == 1)
        #expect(problems.first?.contains("dtledger.append") == true)
        #expect(problems.first?.contains("its body") == true)
        #expect(problems.first?.contains("0001_append.sql") == true)

        // Dropping SECURITY DEFINER is named too; an added overload is named.
        try owner.execute("ALTER FUNCTION dtledger.append_many(jsonb, text[], text) SECURITY INVOKER")
        try owner.execute("CREATE FUNCTION dtledger.append(p text) RETURNS void LANGUAGE sql AS 'SELECT 1'")
        let again = Self.failing(try EventStore(connection: owner).verify(), "functions")
        #expect(again.contains { $0.contains("dtledger.append_many") && $0.contains("no longer SECURITY DEFINER") })
        #expect(again.contains { $0.contains("dtledger.append(text)") && $0.contains("added") })
    }

    @Test("a disabled or dropped immutability trigger is named")
    func disabledTrigger() throws {
        let (db, _, _) = try Self.ledger()
        let owner = try db.connect()
        try owner.execute("ALTER TABLE dtledger.events DISABLE TRIGGER events_no_update")
        try owner.execute("DROP TRIGGER streams_no_truncate ON dtledger.streams")
        let report = try EventStore(connection: owner).verify()
        #expect(!report.ok)
        let problems = Self.failing(report, "triggers")
        #expect(problems.contains { $0.contains("events_no_update") && $0.contains("disabled") })
        #expect(problems.contains { $0.contains("streams_no_truncate") && $0.contains("missing") })
    }

    @Test("an extra GRANT to the writer, the reader or PUBLIC is named")
    func extraGrant() throws {
        let (db, _, _) = try Self.ledger()
        let owner = try db.connect()
        try owner.execute("""
            GRANT INSERT, UPDATE ON dtledger.streams TO dtledger_writer;
            GRANT DELETE ON dtledger.events TO dtledger_reader;
            GRANT SELECT ON dtledger.head TO PUBLIC;
            GRANT EXECUTE ON FUNCTION dtledger.create_read_models(text) TO dtledger_writer;
            """)
        let report = try EventStore(connection: owner).verify()
        #expect(!report.ok)
        let problems = Self.failing(report, "grants")
        #expect(problems.contains { $0.contains("dtledger_writer holds INSERT on dtledger.streams") })
        #expect(problems.contains { $0.contains("dtledger_writer holds UPDATE on dtledger.streams") })
        #expect(problems.contains { $0.contains("dtledger_reader holds DELETE on dtledger.events") })
        #expect(problems.contains { $0.contains("PUBLIC holds SELECT on dtledger.head") })
        #expect(problems.contains { $0.contains("dtledger_writer may execute dtledger.create_read_models") })
    }

    @Test("a reader login runs every check")
    func readerRunsEveryCheck() throws {
        let (db, _, digest) = try Self.ledger()
        let owner = try db.connect()
        let reader = "dtl_reader_\(UInt32.random(in: 0...UInt32.max))"
        try owner.execute("CREATE ROLE \(reader) LOGIN IN ROLE dtledger_reader")
        defer { _ = try? owner.execute("DROP ROLE IF EXISTS \(reader)") }
        let asReader = EventStore(connection: try Connection(
            conninfo: db.url.replacingOccurrences(of: "user=dtledger", with: "user=\(reader)")))
        let clean = try asReader.verify(digest: digest)
        #expect(clean.ok, "\(clean.problem ?? "")")
        #expect(clean.checks.count == 9)
        try owner.execute("ALTER TABLE dtledger.head DISABLE TRIGGER head_no_delete")
        #expect(Self.failing(try asReader.verify(), "triggers").first?.contains("head_no_delete") == true)
    }
}
