import ArgumentParser
import Events
import Foundation
import Ledger

@main
struct DTLedger: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dtledger",
        abstract: "An append-only, tamper-evident ledger of downtime and incident notifications.",
        discussion: """
            Exit codes: 0 ok; 1 a check failed (tampering found, --strict violations); \
            64 usage; 65 invalid input; 69 database unavailable; 70 internal or database error; \
            75 expected-version conflict (reload and retry); 77 permission denied; 78 configuration (serve).
            """,
        version: DTLedgerVersion.current,
        subcommands: [
            // Runbook commands.
            IncidentCommand.self, DowntimeCommand.self, NotifyCommand.self, TicketCommand.self,
            WindowCommand.self, EscalateCommand.self, NoteCommand.self, RetractCommand.self,
            CaseCommand.self, DecisionCommand.self,
            // Any event, and imports.
            AppendCommand.self, ImportCommand.self, ReadCommand.self,
            // Judging and reporting.
            StatusCommand.self, ComplianceCommand.self, TimelineCommand.self, ReportCommand.self,
            ProjectionsCommand.self,
            // Reference data and the ledger itself.
            DirectoryCommand.self, PolicyCommand.self,
            MigrateCommand.self, VerifyCommand.self, DigestCommand.self,
            // Receiving evidence live.
            ServeCommand.self, InboxCommand.self,
        ]
    )
}
