import Foundation
import Ledger
import Postgres

/// A ledger as dtledger 0.1.0 made it, before issue 14 moved the SQL
/// functions out of the migrations: its `Migrations/0001-0008` files, copied
/// verbatim into `Fixtures/Migrations-0.1.0`, applied as its Migrator did.
public enum LegacyLedger {
    public static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/Migrations-0.1.0")

    /// 0.1.0's migrations, in version order, each with the checksum 0.1.0
    /// recorded (SHA-256 of the file's text).
    public static let migrations: [Migration] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".sql") }.sorted().map { name in
            let text = try! String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            let stem = String(name.dropLast(4))
            return Migration(version: Int(stem.prefix { $0 != "_" })!, name: stem, sql: text,
                             checksum: ChainHash.sha256Hex(text))
        }
    }()

    /// Applies 0.1.0's migrations up to `through`, as its Migrator did: the
    /// advisory lock, `dtledger.schema_migrations`, and each file in its own
    /// transaction with its row.
    public static func migrate(_ connection: Connection, through: Int = .max) throws {
        try connection.query("SELECT pg_advisory_lock($1::bigint)", ["7305447236401"])
        defer { _ = try? connection.query("SELECT pg_advisory_unlock($1::bigint)", ["7305447236401"]) }
        try connection.execute("""
            CREATE SCHEMA IF NOT EXISTS dtledger;
            CREATE TABLE IF NOT EXISTS dtledger.schema_migrations (
                version    integer     PRIMARY KEY,
                name       text        NOT NULL,
                checksum   text        NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            );
            """)
        for migration in migrations where migration.version <= through {
            try connection.transaction { c in
                try c.execute(migration.sql)
                try c.query("INSERT INTO dtledger.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                            [String(migration.version), migration.name, migration.checksum])
            }
        }
    }
}
