import ArgumentParser
import Foundation
import Ledger
import Operations

struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending database migrations (safe to run twice or concurrently).",
        discussion: """
            Run by the database owner role. Creates the dtledger_writer and dtledger_reader roles. \
            When no policy has been published yet, publishes the default policy (the seed process, \
            effective 2026-01-01) so cases can be judged; publish the policy your team adopts with \
            'dtledger policy publish'.
            """)

    @OptionGroup var connection: ConnectionOptions

    @Flag(name: .customLong("no-default-policy"), help: "Do not publish the default policy when none exists.")
    var noDefaultPolicy = false

    func run() throws {
        try guarded {
            let ledger = try connection.session().open()
            let applied = try ledger.migrate { message in
                FileHandle.standardError.write(Data("\(message)\n".utf8))
            }
            if applied.isEmpty {
                print("migrations: up to date (\(Migration.all.count) applied)")
            } else {
                print("migrations: applied \(applied.map(\.name).joined(separator: ", "))")
            }
            if !noDefaultPolicy, let position = try ledger.publishDefaultPolicyIfNone() {
                print("policy: published the default policy at position \(position)")
            }
        }
    }
}
