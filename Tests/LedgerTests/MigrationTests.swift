import Foundation
import Ledger
import Postgres
import Testing
import TestSupport

@Suite("Migrations")
struct MigrationTests {
    @Test("migration files have unique, ordered versions")
    func versions() {
        let versions = Migration.all.map(\.version)
        #expect(!versions.isEmpty)
        #expect(versions == versions.sorted())
        #expect(Set(versions).count == versions.count)
    }

    @Test("migrate applies everything once; a second run does nothing")
    func twice() throws {
        let db = try TestDatabase.makeEmpty()
        let connection = try db.connect()
        let first = try Migrator().migrate(connection)
        #expect(first.count == Migration.all.count)
        let second = try Migrator().migrate(connection)
        #expect(second.isEmpty)
        let count = try connection.query("SELECT count(*) FROM dtledger.schema_migrations").scalar
        #expect(count == String(Migration.all.count))
    }

    @Test("two processes migrating at once both succeed and apply each file once")
    func concurrent() throws {
        let db = try TestDatabase.makeEmpty()
        let applied = Locked<[Int]>([])
        let errors = Locked<[String]>([])
        onThreads(4) { _ in
            do {
                let connection = try db.connect()
                let done = try Migrator().migrate(connection)
                applied.withLock { $0.append(done.count) }
            } catch {
                errors.withLock { $0.append("\(error)") }
            }
        }
        #expect(errors.current.isEmpty, "\(errors.current)")
        #expect(applied.current.reduce(0, +) == Migration.all.count)
    }

    @Test("an applied migration whose file changed is refused")
    func changedFile() throws {
        let db = try TestDatabase.makeEmpty()
        let connection = try db.connect()
        _ = try Migrator().migrate(connection)
        let original = Migration.all[0]
        let edited = Migration(version: original.version, name: original.name, sql: original.sql + "\n-- edited",
                               checksum: ChainHash.sha256Hex(original.sql + "\n-- edited"))
        do {
            _ = try Migrator(migrations: [edited] + Migration.all.dropFirst()).migrate(connection)
            Issue.record("a changed migration was accepted")
        } catch let error as LedgerError {
            #expect(error.description.contains("was changed after it was applied"))
        }
    }
    /// A migration whose SQL fails with `sqlState` on its first `failures`
    /// attempts (a sequence counts the attempts: it is not rolled back).
    static func racing(failures: Int, sqlState: String) -> Migration {
        let sql = """
            DO $$ BEGIN
                IF nextval('public.race_attempts') <= \(failures) THEN
                    RAISE EXCEPTION 'role "dtledger_racer" does not exist' USING ERRCODE = '\(sqlState)';
                END IF;
            END $$;
            CREATE TABLE public.race_done (x integer);
            """
        return Migration(version: 1, name: "0001_racing", sql: sql, checksum: ChainHash.sha256Hex(sql))
    }

    @Test("a migration that lost a race on the cluster's roles to another database's migration is applied again")
    func clusterRaceRetried() throws {
        let db = try TestDatabase.makeEmpty()
        let connection = try db.connect()
        try connection.execute("CREATE SEQUENCE public.race_attempts")
        let done = try Migrator(migrations: [Self.racing(failures: 2, sqlState: "42704")], functions: []).migrate(connection)
        #expect(done.map(\.name) == ["0001_racing"])
        #expect(try connection.query("SELECT currval('public.race_attempts')").scalar == "3")
        #expect(try connection.query("SELECT to_regclass('public.race_done') IS NOT NULL").scalar == "t")
    }

    @Test("a race that never ends is reported after five attempts, and nothing is applied")
    func clusterRaceGivesUp() throws {
        let db = try TestDatabase.makeEmpty()
        let connection = try db.connect()
        try connection.execute("CREATE SEQUENCE public.race_attempts")
        #expect(throws: LedgerError.self) {
            _ = try Migrator(migrations: [Self.racing(failures: 100, sqlState: "23505")], functions: []).migrate(connection)
        }
        #expect(try connection.query("SELECT currval('public.race_attempts')").scalar == "5")
        #expect(try connection.query("SELECT count(*) FROM dtledger.schema_migrations").scalar == "0")
    }

    @Test("a migration failing for another reason is not tried again")
    func otherFailureNotRetried() throws {
        let db = try TestDatabase.makeEmpty()
        let connection = try db.connect()
        try connection.execute("CREATE SEQUENCE public.race_attempts")
        #expect(throws: LedgerError.self) {
            _ = try Migrator(migrations: [Self.racing(failures: 100, sqlState: "23514")], functions: []).migrate(connection)
        }
        #expect(try connection.query("SELECT currval('public.race_attempts')").scalar == "1")
        #expect(try connection.query("SELECT to_regclass('public.race_done') IS NULL").scalar == "t")
    }
}

