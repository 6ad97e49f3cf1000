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
}
