import Events
import Foundation
import Ledger
import Postgres
import Testing
import TestSupport

/// Every stored event's position and hash, in position order.
private func hashes(_ store: EventStore) throws -> [String] {
    var out: [String] = []
    try store.forEachEvent { out.append("\($0.position) \($0.hash)") }
    return out
}

/// Appends a mix through `store`'s database functions: single appends (one
/// event, a batch of one case, expected versions, a replayed key) and two
/// `append_many` batches across cases, with keys and without.
private func appendMix(_ store: EventStore, prefix: String) throws {
    let a = "\(prefix)-A", b = "\(prefix)-B", c = "\(prefix)-C"
    _ = try store.append(caseID: a, events: [event(a, "incident.opened", key: "\(prefix)-a1")], expected: .none,
                         openingTypes: ["incident.opened"])
    _ = try store.append(caseID: a, events: [event(a, key: "\(prefix)-a2"), event(a, data: .object(["n": .int(2)]))],
                         expected: .exact(1))
    let replay = try store.append(caseID: a, events: [event(a, key: "\(prefix)-a2")])
    #expect(replay.map(\.duplicate) == [true])
    _ = try store.append(caseID: b, events: [event(b, "incident.opened", at: "2026-03-04T01:02:03.456789Z",
                                                   actor: "greg-kirk", source: .pagerduty)],
                         metadata: [.object(["payload_sha256": .string("abc")])])
    let batches: [[Envelope]] = [
        [event(c, "incident.opened", key: "\(prefix)-c1"), event(a, key: "\(prefix)-a3"), event(c),
         event(b, key: "\(prefix)-b2", data: .object(["text": .string("ünïcödé \"quoted\"\n")]))],
        [event(c, "incident.opened", key: "\(prefix)-c1"), event(c, key: "\(prefix)-c2", source: .slack)],
    ]
    var next = batches.makeIterator()
    var summaries: [BatchSummary] = []
    try store.atomically {
        try store.appendMany(openingTypes: ["incident.opened"], next: { next.next() }, onBatch: { summaries.append($1) })
    }
    #expect(summaries.map(\.appended) == [4, 1])
    #expect(summaries.map(\.duplicates) == [0, 1])
}

@Suite("Upgrading a ledger made before the SQL moved to function files")
struct UpgradeTests {
    @Test("a 0.1.0 ledger migrates, verifies against its old digest, keeps its hashes, and appends on")
    func legacyLedger() throws {
        let db = try TestDatabase.makeEmpty()
        let connection = try db.connect()
        try LegacyLedger.migrate(connection)
        let recorded = try connection.query("SELECT version, checksum FROM dtledger.schema_migrations ORDER BY version")
            .rows.map { "\($0[0]!) \($0[1]!)" }
        #expect(recorded == LegacyLedger.migrations.map { "\($0.version) \($0.checksum)" })
        #expect(recorded.count == 8)

        // Events appended by 0.1.0's dtledger.append and dtledger.append_many.
        let old = EventStore(connection: try db.connect())
        try appendMix(old, prefix: "OLD")
        try appendMix(old, prefix: "OLD2")
        let oldDigest = try old.digest()
        let oldHashes = try hashes(old)
        #expect(oldDigest.position == 18)

        let applied = try Migrator().migrate(connection)
        #expect(applied.map(\.version) == Migration.all.map(\.version).filter { $0 > 8 })
        #expect(try Migrator().staleFunctions(connection).isEmpty)
        let functions = try connection.query("SELECT name, checksum FROM dtledger.schema_functions ORDER BY name")
            .rows.map { "\($0[0]!) \($0[1]!)" }
        #expect(functions == SchemaFunction.all.map { "\($0.name) \($0.checksum)" }.sorted())
        // What 0009 removed, and the functions' grants as 0.1.0 had them.
        #expect(try connection.query("SELECT to_regprocedure('dtledger.canonical_field(text)') IS NULL").scalar == "t")
        #expect(try connection.query("""
            SELECT count(*) FROM pg_attribute
             WHERE attrelid = 'dtledger.append_row'::regclass AND attname = 'canonical' AND NOT attisdropped
            """).scalar == "0")
        for (function, writer) in [("dtledger.append(text, bigint, jsonb, text[], text)", "t"),
                                   ("dtledger.append_many(jsonb, text[], text)", "t"),
                                   ("dtledger.next_case_id(text, integer)", "t"),
                                   ("dtledger.create_read_models(text)", "f")] {
            let row = try connection.query("""
                SELECT has_function_privilege('dtledger_writer', $1, 'EXECUTE'),
                       has_function_privilege('dtledger_reader', $1, 'EXECUTE')
                """, [function]).row(0)
            #expect(row[0] == writer && row[1] == "f", "\(function)")
        }

        // The chain verifies unchanged against the digest taken before.
        let store = EventStore(connection: try db.connect())
        let report = try store.verify(digest: oldDigest)
        #expect(report.ok, "\(report.problem ?? "")")
        #expect(report.digestMatched == true)
        #expect(report.eventsChecked == oldDigest.position)
        #expect(try hashes(store) == oldHashes)

        // The new functions extend the chain; the old events are untouched.
        try appendMix(store, prefix: "NEW")
        let after = try store.verify(digest: oldDigest)
        #expect(after.ok, "\(after.problem ?? "")")
        #expect(after.digestMatched == true)
        #expect(after.eventsChecked == oldDigest.position + 9)
        #expect(Array(try hashes(store).prefix(oldHashes.count)) == oldHashes)
        #expect(try Migrator().migrate(connection).isEmpty)
    }

    @Test("the superseded checksums are 0.1.0's files and pin today's rewritten files")
    func supersededTable() throws {
        let legacy = Dictionary(uniqueKeysWithValues: LegacyLedger.migrations.map { ($0.version, $0) })
        let current = Dictionary(uniqueKeysWithValues: Migration.all.map { ($0.version, $0) })
        for entry in Migrator.superseded {
            #expect(legacy[entry.version]?.checksum == entry.old, "0\(entry.version)'s old checksum")
            #expect(current[entry.version]?.checksum == entry.current, "0\(entry.version)'s rewritten file changed: add a migration instead")
            #expect(entry.old != entry.current)
        }
        // Every 0.1.0 file is either unchanged or listed.
        for migration in LegacyLedger.migrations where current[migration.version]?.checksum != migration.checksum {
            #expect(Migrator.superseded.contains { $0.version == migration.version }, "\(migration.name)")
        }
    }

    @Test("an edit of a rewritten migration is refused on a 0.1.0 ledger too")
    func editedRewrittenMigration() throws {
        let db = try TestDatabase.makeEmpty()
        let connection = try db.connect()
        try LegacyLedger.migrate(connection)
        let original = Migration.all[0]
        let edited = Migration(version: original.version, name: original.name, sql: original.sql + "\n-- edited",
                               checksum: ChainHash.sha256Hex(original.sql + "\n-- edited"))
        do {
            _ = try Migrator(migrations: [edited] + Migration.all.dropFirst()).migrate(connection)
            Issue.record("an edited migration was accepted")
        } catch let error as LedgerError {
            #expect(error.code == .migration)
            #expect(error.description.contains("0001_event_store.sql was changed after it was applied"), "\(error)")
        }
    }
}
