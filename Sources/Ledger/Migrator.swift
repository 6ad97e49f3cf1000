import Events
import Foundation
import Postgres

/// One `Migrations/NNNN_name.sql` file, carried in the binary.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let sql: String
    /// SHA-256 of the file's text.
    public let checksum: String

    public init(version: Int, name: String, sql: String, checksum: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = checksum
    }

    /// Every migration, in version order.
    public static let all: [Migration] = EmbeddedFiles.files.compactMap { file in
        let stem = file.name.hasSuffix(".sql") ? String(file.name.dropLast(4)) : file.name
        guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]) else { return nil }
        return Migration(version: version, name: stem, sql: file.text, checksum: ChainHash.sha256Hex(file.text))
    }.sorted { $0.version < $1.version }
}

/// Applies pending migrations in order, each in its own transaction, and
/// records each with its checksum. Safe to run twice, or from two processes
/// at once (a session advisory lock serialises runners).
public struct Migrator {
    public struct Applied: Sendable {
        public let name: String
        public let checksum: String
    }

    static let lockKey = "7305447236401"  // arbitrary, fixed: "dtledger migrate"

    let migrations: [Migration]

    public init(migrations: [Migration] = Migration.all) {
        self.migrations = migrations
    }

    /// Returns the migrations applied by this run (empty when up to date).
    public func migrate(_ connection: Connection, progress: (String) -> Void = { _ in }) throws -> [Migration] {
        try mapped {
            try connection.query("SELECT pg_advisory_lock($1::bigint)", [Migrator.lockKey])
            defer { _ = try? connection.query("SELECT pg_advisory_unlock($1::bigint)", [Migrator.lockKey]) }
            try connection.execute("""
                CREATE SCHEMA IF NOT EXISTS dtledger;
                CREATE TABLE IF NOT EXISTS dtledger.schema_migrations (
                    version    integer     PRIMARY KEY,
                    name       text        NOT NULL,
                    checksum   text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                );
                """)
            let applied = try appliedMigrations(connection)
            try check(applied)
            var done: [Migration] = []
            for migration in migrations where applied[migration.version] == nil {
                progress("applying \(migration.name)")
                try connection.transaction { c in
                    try c.execute(migration.sql)
                    try c.query("INSERT INTO dtledger.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                                [String(migration.version), migration.name, migration.checksum])
                }
                done.append(migration)
            }
            return done
        }
    }

    /// Fails when an applied migration's file changed, or the database has
    /// migrations this binary does not know (it is older than the schema).
    public func check(_ connection: Connection) throws {
        try mapped { try check(try appliedMigrations(connection)) }
    }

    /// Names of migrations not yet applied.
    public func pending(_ connection: Connection) throws -> [Migration] {
        let applied = try mapped {
            try connection.query("SELECT to_regclass('dtledger.schema_migrations') IS NOT NULL").scalar == "t"
                ? try appliedMigrations(connection) : [:]
        }
        return migrations.filter { applied[$0.version] == nil }
    }

    private func appliedMigrations(_ connection: Connection) throws -> [Int: Applied] {
        var applied: [Int: Applied] = [:]
        for row in try connection.query("SELECT version, name, checksum FROM dtledger.schema_migrations").rows {
            applied[Int(row[0]!)!] = Applied(name: row[1]!, checksum: row[2]!)
        }
        return applied
    }

    private func check(_ applied: [Int: Applied]) throws {
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for (version, record) in applied.sorted(by: { $0.key < $1.key }) {
            guard let migration = known[version] else {
                throw LedgerError.migration("the database has migration \(record.name), which this dtledger does not know; use a newer dtledger")
            }
            guard migration.checksum == record.checksum else {
                throw LedgerError.migration("\(migration.name).sql was changed after it was applied (checksum \(record.checksum.prefix(12)) in the database, \(migration.checksum.prefix(12)) now); add a new migration instead of editing an applied one")
            }
        }
    }
}
