import ArgumentParser
import Foundation
import Ledger

struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending database migrations (safe to run twice or concurrently).",
        discussion: "Run by the database owner role. Creates the dtledger_writer and dtledger_reader roles.")

    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        try guarded {
            let store = try connection.store()
            let applied = try Migrator().migrate(store.connection) { message in
                FileHandle.standardError.write(Data("\(message)\n".utf8))
            }
            if applied.isEmpty {
                print("migrations: up to date (\(Migration.all.count) applied)")
            } else {
                print("migrations: applied \(applied.map(\.name).joined(separator: ", "))")
            }
        }
    }
}
