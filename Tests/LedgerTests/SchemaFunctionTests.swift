import Events
import Foundation
import Ledger
import Postgres
import Testing
import TestSupport

@Suite("Function files")
struct SchemaFunctionTests {
    @Test("each function file is applied with a known migration, after what it requires, and documents itself")
    func filesAndOrder() throws {
        let functions = SchemaFunction.all
        #expect(functions.count >= 10)
        let versions = Set(Migration.all.map(\.version))
        #expect(Set(functions.map(\.name)).count == functions.count, "function file names are unique")
        let position = Dictionary(uniqueKeysWithValues: functions.enumerated().map { ($1.name, $0) })
        let codes = [LedgerSQLState.invalid, LedgerSQLState.versionConflict, LedgerSQLState.appendOnly,
                     LedgerSQLState.keyReused, LedgerSQLState.caseNotOpened]
        for function in functions {
            #expect(versions.contains(function.migration), "\(function.name): no migration \(function.migration)")
            for name in function.requires {
                #expect((position[name] ?? .max) < position[function.name]!, "\(function.name) requires \(name)")
            }
            #expect(function.sql.contains("CREATE OR REPLACE"), "\(function.name)")
            #expect(function.sql.contains("-- Raises:"), "\(function.name): its header lists the SQLSTATEs it raises")
            // Each ledger SQLSTATE a file raises is in its header and is named in LedgerSQLState.
            let header = function.sql.components(separatedBy: "CREATE OR REPLACE")[0]  // the comments before it
            for match in function.sql.matches(of: /ERRCODE = '(DTL[0-9]{2})'/) {
                let code = String(match.1)
                #expect(codes.contains(code), "\(function.name) raises \(code), which LedgerSQLState does not name")
                #expect(header.contains(code), "\(function.name) raises \(code) without listing it")
            }
        }
        let triggers = functions.filter { $0.sql.contains("CREATE OR REPLACE TRIGGER") }
        #expect(!triggers.isEmpty)
        #expect(triggers.allSatisfy { $0.requires == ["reject_change"] })
        #expect(SchemaFunction.requirements("-- a\n-- Requires:   event_hash (a note), other\n\nSELECT 1") == ["event_hash", "other"])
    }

    @Test("a function file is applied again when its text changes, and not otherwise")
    func reappliedOnChange() throws {
        let db = try TestDatabase.makeEmpty()
        let connection = try db.connect()
        _ = try Migrator().migrate(connection)
        func records() throws -> [String: String] {
            Dictionary(uniqueKeysWithValues: try connection.query(
                "SELECT name, checksum || ' ' || applied_at::text FROM dtledger.schema_functions").rows.map { ($0[0]!, $0[1]!) })
        }
        let first = try records()
        #expect(first.count == SchemaFunction.all.count)

        // Unchanged: nothing is applied again.
        #expect(try Migrator().staleFunctions(connection).isEmpty)
        #expect(try Migrator().migrate(connection).isEmpty)
        #expect(try records() == first)

        // One file changed: only it is applied again, and its new text runs.
        let functions = SchemaFunction.all.map { function in
            guard function.name == "append" else { return function }
            let sql = function.sql + "\nCOMMENT ON FUNCTION dtledger.append(text, bigint, jsonb, text[], text) IS 'edited';\n"
            return SchemaFunction(name: function.name, migration: function.migration, requires: function.requires,
                                  sql: sql, checksum: ChainHash.sha256Hex(sql))
        }
        let edited = Migrator(functions: functions)
        #expect(try edited.staleFunctions(connection).map(\.name) == ["append"])
        #expect(try edited.migrate(connection).isEmpty, "no migration is applied")
        let second = try records()
        #expect(second["append"] != first["append"])
        #expect(second["append"]?.hasPrefix(functions.first { $0.name == "append" }!.checksum) == true)
        #expect(second.filter { $0.key != "append" } == first.filter { $0.key != "append" })
        #expect(try connection.query("SELECT obj_description('dtledger.append(text, bigint, jsonb, text[], text)'::regprocedure)").scalar == "edited")
        #expect(try edited.staleFunctions(connection).isEmpty)
        // Its grants survive CREATE OR REPLACE, and the writer can append.
        #expect(try connection.query("SELECT has_function_privilege('dtledger_writer', 'dtledger.append(text, bigint, jsonb, text[], text)', 'EXECUTE')").scalar == "t")
        _ = try db.store().append(caseID: "F-1", events: [event("F-1")])

        // Back to the shipped file: applied again.
        #expect(try Migrator().staleFunctions(connection).map(\.name) == ["append"])
        _ = try Migrator().migrate(connection)
        #expect(try records()["append"]?.hasPrefix(SchemaFunction.all.first { $0.name == "append" }!.checksum) == true)
    }

    @Test("dtledger.event_hash builds the bytes and hash the Swift verifier builds")
    func eventHashMatchesSwift() throws {
        let db = try TestDatabase.make()
        let connection = try db.connect()
        let previous = (0..<32).map { UInt8($0 * 7 % 256) }
        for key in [nil, "key-ü"] as [String?] {
            let fields = ChainHash.Fields(
                id: "8f0c2d1e-7b6a-4c3d-9e8f-0a1b2c3d4e5f", position: 12345, caseID: "INC-2026-0001", version: 7,
                type: "notification.sent", occurredMicros: 1_772_550_300_123_456, recordedMicros: 1_772_550_301_000_001,
                actor: "greg-kirk", source: "pagerduty", key: key,
                dataText: #"{"a": [1, 2.5, "ünï"], "b": {"c": null}}"#, metadataText: #"{"db_role": "dtledger"}"#)
            let sql = """
                SELECT encode(dtledger.event_hash(decode($1, 'hex'), $2::uuid, $3::bigint, $4, $5::bigint, $6,
                       'epoch'::timestamptz + $7::bigint * interval '1 microsecond',
                       'epoch'::timestamptz + $8::bigint * interval '1 microsecond', $9, $10, $11,
                       $12::jsonb, $13::jsonb), 'hex')
                """
            let stored = try connection.query(sql, [
                ChainHash.hex(previous), fields.id, String(fields.position), fields.caseID, String(fields.version),
                fields.type, String(fields.occurredMicros), String(fields.recordedMicros), fields.actor, fields.source,
                fields.key, fields.dataText, fields.metadataText,
            ]).scalar
            #expect(stored == ChainHash.hex(ChainHash.hash(previous: previous, fields: fields)), "key \(key ?? "nil")")
        }
    }

    @Test("an event appended alone and in a batch of one get the same canonical bytes and hash")
    func singleAndBatchAgree() throws {
        let envelope = event("INC-2026-0007", "incident.opened", key: "same-1",
                             data: .object(["title": .string("Checkout \"down\" ✓"), "n": .int(3), "x": .double(0.5)]),
                             at: "2026-03-03T14:05:00.123456-05:00", actor: "greg-kirk", source: .pagerduty)
        let single = try TestDatabase.make().store()
        _ = try single.append(caseID: envelope.caseID, events: [envelope], openingTypes: ["incident.opened"])
        let batch = try TestDatabase.make().store()
        var sent = false
        try batch.atomically {
            try batch.appendMany(openingTypes: ["incident.opened"], next: {
                defer { sent = true }
                return sent ? nil : [envelope]
            }, onBatch: { _, summary in #expect(summary.appended == 1) })
        }
        var a: StoredEvent?, b: StoredEvent?
        try single.forEachEvent { a = $0 }
        try batch.forEachEvent { b = $0 }
        let alone = try #require(a), inBatch = try #require(b)
        #expect(try single.verify().ok)
        #expect(try batch.verify().ok)
        // The server assigns the id and recorded_at; everything else the
        // hash covers is the same, byte for byte.
        var fields = inBatch.hashFields
        #expect(fields.metadataText == alone.hashFields.metadataText)
        fields.id = alone.id
        fields.recordedMicros = alone.recordedMicros
        #expect(ChainHash.canonicalBytes(fields) == ChainHash.canonicalBytes(alone.hashFields))
        #expect(ChainHash.hex(ChainHash.hash(previous: ChainHash.genesis, fields: fields)) == alone.hash)
        #expect(ChainHash.hex(ChainHash.hash(previous: ChainHash.genesis, fields: inBatch.hashFields)) == inBatch.hash)
    }
}
