import Events
import Foundation
import Postgres

/// One `Migrations/NNNN_name.sql` file, carried in the binary: tables,
/// types, indexes, roles and grants, applied once, in version order.
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
        guard !file.name.contains("/"), let (version, stem) = numbered(file.name) else { return nil }
        return Migration(version: version, name: stem, sql: file.text, checksum: ChainHash.sha256Hex(file.text))
    }.sorted { $0.version < $1.version }

    /// The number and stem of `NNNN_name.sql`.
    static func numbered(_ fileName: String) -> (Int, String)? {
        let stem = fileName.hasSuffix(".sql") ? String(fileName.dropLast(4)) : fileName
        guard let underscore = stem.firstIndex(of: "_"), let number = Int(stem[..<underscore]) else { return nil }
        return (number, stem)
    }
}

/// One `Migrations/functions/NNNN_name.sql` file, carried in the binary: a
/// function (or the triggers of one table), written with `CREATE OR
/// REPLACE` so applying it again replaces it in place, keeping its grants.
/// `migrate` applies it with migration NNNN (the migration whose tables and
/// types it needs), and again whenever its text changes. See docs/ledger.md,
/// "Where the SQL lives".
public struct SchemaFunction: Sendable, Equatable {
    /// The file's name without its number: `append`, `events_append_only`.
    /// Its record in `dtledger.schema_functions`.
    public let name: String
    /// The migration it is applied with (the file's number).
    public let migration: Int
    /// Other function files that must be applied first (a trigger needs its
    /// function; an SQL function the functions it calls), from the header
    /// line `-- Requires: name, name`.
    public let requires: [String]
    public let sql: String
    /// SHA-256 of the file's text.
    public let checksum: String

    public init(name: String, migration: Int, requires: [String] = [], sql: String, checksum: String) {
        self.name = name
        self.migration = migration
        self.requires = requires
        self.sql = sql
        self.checksum = checksum
    }

    /// Every function file, in the order they are applied.
    public static let all: [SchemaFunction] = ordered(EmbeddedFiles.files.compactMap { file in
        guard file.name.hasPrefix("functions/"),
              let (number, stem) = Migration.numbered(String(file.name.dropFirst("functions/".count))) else { return nil }
        return SchemaFunction(name: String(stem.drop { $0 != "_" }.dropFirst()), migration: number,
                              requires: requirements(file.text), sql: file.text,
                              checksum: ChainHash.sha256Hex(file.text))
    })

    /// The names on the file's `-- Requires:` header line, if any.
    public static func requirements(_ sql: String) -> [String] {
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix("--") else { break }
            let text = line.dropFirst(2).trimmingCharacters(in: .whitespaces)
            guard text.hasPrefix("Requires:") else { continue }
            return text.dropFirst("Requires:".count).split(separator: ",").compactMap {
                // "name (a note)": the name is the first word.
                $0.split(separator: " ").first.map(String.init)
            }
        }
        return []
    }

    /// `functions` by migration number, then each after what it requires,
    /// then by name. A requirement that is not a function file, or one
    /// applied with a later migration, is a mistake in the files: it traps
    /// (the migration tests load every file).
    static func ordered(_ functions: [SchemaFunction]) -> [SchemaFunction] {
        let sorted = functions.sorted { ($0.migration, $0.name) < ($1.migration, $1.name) }
        let byName = Dictionary(uniqueKeysWithValues: sorted.map { ($0.name, $0) })
        var result: [SchemaFunction] = []
        var placed: Set<String> = []
        var visiting: Set<String> = []
        func place(_ function: SchemaFunction) {
            guard !placed.contains(function.name) else { return }
            precondition(visiting.insert(function.name).inserted, "functions/\(function.name): circular Requires")
            for name in function.requires {
                guard let required = byName[name] else {
                    preconditionFailure("functions/\(function.name) requires \(name), which is not a function file")
                }
                precondition(required.migration <= function.migration,
                             "functions/\(function.name) (migration \(function.migration)) requires \(name), applied later (migration \(required.migration))")
                place(required)
            }
            placed.insert(function.name)
            result.append(function)
        }
        sorted.forEach(place)
        return result
    }
}

/// Applies pending migrations in order, each in its own transaction, and
/// records each with its checksum; applies each function file that is new or
/// changed, and records its checksum. Safe to run twice, or from two
/// processes at once (a session advisory lock serialises runners).
public struct Migrator {
    public struct Applied: Sendable {
        public let name: String
        public let checksum: String
    }

    /// A migration file rewritten after it was applied, when its functions
    /// moved to `Migrations/functions/` (issue 14): a database that recorded
    /// the old checksum has the same migration as one that recorded the new
    /// one (the functions the old text created are replaced by the function
    /// files on the next `migrate`). `current` pins the rewrite: any other
    /// edit of the file is refused as before.
    public struct SupersededChecksum: Sendable {
        public let version: Int
        public let old: String
        public let current: String
    }

    /// The checksums of dtledger 0.1.0's 0001-0008 files (before their
    /// functions moved), each with the checksum of its rewritten file.
    /// 0004 only adds constraints and was not rewritten.
    public static let superseded: [SupersededChecksum] = [
        SupersededChecksum(version: 1, old: "8603f11d7185688fd2b6fb4c6e7191171ab6f07a5cbb866c8ec60cf684e6c14d",
                           current: "e3dfcad9b9fa7b710c32890abb1aa21b389c5a5e56ec838c63faa5204e9f9e5c"),
        SupersededChecksum(version: 2, old: "22fcb4b9a49d89171dd43045d6dcee2eab4fb46d8da2c678d436f4e2d56a30a5",
                           current: "44d9a24287420f915be5d1f028c178f7882ffbcc13029c8cb73e6fa1c3fdb725"),
        SupersededChecksum(version: 3, old: "a9ea0dbc7514fb4bf993445d7e3c3ab369031f75a61dba1d5879ff4575f2f6ec",
                           current: "95a98ede09656bcb41c66c073cba134fd8b94b55739ec77f981c8f21d3eec300"),
        SupersededChecksum(version: 5, old: "fa69e8c18277c3da2353d974cb8a18ade79e8358c57e1bc2cc1d11f9e297a6e1",
                           current: "9d1fab84699e95413a84995fd907b45c15269b8fe4b3620e1d0472a2f1bccc5d"),
        SupersededChecksum(version: 6, old: "f55904c897b4909583868e833f20fcac576f3a82e96a66b250cba634f55745c9",
                           current: "79af2812f790276a91d38021fdcab4dd4ea9f4dda57c5cf66282d3d223c569e7"),
        SupersededChecksum(version: 7, old: "3cd9381ea5afcb3fb6fd1e6fc890e7d171a6ca127bd0f4d36bda57266b9beeca",
                           current: "87f08c70114c4b89e5fbfa5c42d2784ede6875189d75a07520b9a595e0059797"),
        SupersededChecksum(version: 8, old: "7084c876a88b3d4c1aec6f2e848f6f7bb8a91d3c7e1fbecd850888f7c0e6333d",
                           current: "03b2e4d3ae2e78aa7d6a5d7eb3e0cd489f21784ce46cf8696c2ca01167883c31"),
    ]

    static let lockKey = "7305447236401"  // arbitrary, fixed: "dtledger migrate"

    let migrations: [Migration]
    let functions: [SchemaFunction]

    public init(migrations: [Migration] = Migration.all, functions: [SchemaFunction] = SchemaFunction.all) {
        self.migrations = migrations
        self.functions = functions
    }

    /// Returns the migrations applied by this run (empty when up to date).
    /// Function files are applied too, without a progress line: before each
    /// pending migration, the new or changed ones of earlier migrations, each
    /// in its own transaction; those of a pending migration in that
    /// migration's transaction, right after it; the rest at the end.
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
                CREATE TABLE IF NOT EXISTS dtledger.schema_functions (
                    name       text        PRIMARY KEY,
                    checksum   text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                );
                """)
            let applied = try appliedMigrations(connection)
            try check(applied)
            var stale = try staleFunctions(connection)[...]
            var done: [Migration] = []
            for migration in migrations where applied[migration.version] == nil {
                while let function = stale.first, function.migration < migration.version {
                    try Migrator.retryingClusterRaces { try connection.transaction { c in try apply(function, c) } }
                    stale.removeFirst()
                }
                progress("applying \(migration.name)")
                try Migrator.retryingClusterRaces {
                  try connection.transaction { c in
                    try c.execute(migration.sql)
                    try c.query("INSERT INTO dtledger.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                                [String(migration.version), migration.name, migration.checksum])
                    var pending = stale
                    while let function = pending.first, function.migration == migration.version {
                        try apply(function, c)
                        pending.removeFirst()
                    }
                    stale = pending
                  }
                }
                done.append(migration)
            }
            for function in stale {
                try Migrator.retryingClusterRaces { try connection.transaction { c in try apply(function, c) } }
            }
            return done
        }
    }

    /// Roles are cluster-wide, and the advisory lock that serialises
    /// migrations is per database: two databases of one cluster migrated at
    /// once (a test run, two environments on one server) race on creating
    /// and granting the same roles. The loser's transaction fails with
    /// "role ... does not exist" (its catalog lookup ran before the winner
    /// committed), a unique violation on the shared catalog, or "tuple
    /// concurrently updated"; it rolled back whole, so applying it again,
    /// once the winner has committed, is safe. Other errors, and the same
    /// error after `attempts`, are thrown as they are.
    static func retryingClusterRaces(attempts: Int = 5, _ body: () throws -> Void) throws {
        var attempt = 1
        while true {
            do {
                return try body()
            } catch let error as PostgresError where attempt < attempts && Migrator.isClusterRace(error) {
                attempt += 1
                Thread.sleep(forTimeInterval: 0.05 * Double(attempt))
            }
        }
    }

    static func isClusterRace(_ error: PostgresError) -> Bool {
        switch error.sqlState {
        case SQLState.undefinedObject?, SQLState.uniqueViolation?, SQLState.serializationFailure?,
             SQLState.deadlockDetected?:
            true
        case SQLState.internalError?:
            error.message.contains("tuple concurrently updated")
        default:
            false
        }
    }

    /// The function files whose text is not the one recorded (new, or
    /// changed since they were applied), in the order they are applied.
    public func staleFunctions(_ connection: Connection) throws -> [SchemaFunction] {
        let recorded = try mapped {
            try connection.query("SELECT to_regclass('dtledger.schema_functions') IS NOT NULL").scalar == "t"
                ? Dictionary(uniqueKeysWithValues: try connection.query("SELECT name, checksum FROM dtledger.schema_functions")
                    .rows.map { ($0[0]!, $0[1]!) })
                : [:]
        }
        return functions.filter { recorded[$0.name] != $0.checksum }
    }

    private func apply(_ function: SchemaFunction, _ connection: Connection) throws {
        try connection.execute(function.sql)
        try connection.query("""
            INSERT INTO dtledger.schema_functions (name, checksum) VALUES ($1, $2)
            ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()
            """, [function.name, function.checksum])
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
            let rewritten = Migrator.superseded.contains {
                $0.version == version && $0.old == record.checksum && $0.current == migration.checksum
            }
            guard migration.checksum == record.checksum || rewritten else {
                throw LedgerError.migration("\(migration.name).sql was changed after it was applied (checksum \(record.checksum.prefix(12)) in the database, \(migration.checksum.prefix(12)) now); add a new migration instead of editing an applied one")
            }
        }
    }
}
