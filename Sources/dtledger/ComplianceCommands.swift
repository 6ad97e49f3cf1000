import ArgumentParser
import Compliance
import Events
import Foundation
import Operations
import Reports

extension ComplianceFormat: ExpressibleByArgument {}

struct ComplianceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compliance",
        abstract: "Judge every obligation of the process for one case, or for every case opened in a period.",
        discussion: """
            dtledger compliance INC-2026-0142
            dtledger compliance --from 2026-01-01T00:00:00-05:00 --to 2026-04-01T00:00:00-04:00 --format markdown
            Verdicts: met, late, partial, missed, pending, not_applicable, with the evidence. The output names \
            the policy version(s) used and the ledger position and hash it was computed at. The compliance \
            rate is met / (met + late + partial + missed). --strict exits 1 when anything is late, partial or missed.
            """)

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "A case id (or give --from and --to).") var caseID: String?
    @Option(help: "Start of the period (RFC 3339), inclusive: cases opened at or after it.") var from: String?
    @Option(help: "End of the period (RFC 3339), exclusive.") var to: String?
    @Option(name: .customLong("as-of"), help: "Evaluate as of this time (default now): what was pending then.")
    var asOf: String?
    @Option(help: "table (default), markdown, json or csv.") var format: ComplianceFormat = .table
    @Flag(help: "Exit 1 when any obligation is late, partial or missed.") var strict = false

    func validate() throws {
        if caseID != nil && (from != nil || to != nil) {
            throw ArgumentParser.ValidationError("give a case id or --from/--to, not both")
        }
        if caseID == nil && (from == nil || to == nil) {
            throw ArgumentParser.ValidationError("give a case id, or both --from and --to")
        }
    }

    func run() throws {
        try guarded {
            let asOfDate = try asOf.map { try parseTime($0, option: "--as-of") }
            let ledger = try connection.session().open()
            let output = if let caseID {
                try ledger.compliance(caseID: caseID, asOf: asOfDate, format: format, write: writeStdout)
            } else {
                try ledger.compliance(from: try parseTime(from!, option: "--from"), to: try parseTime(to!, option: "--to"),
                                      asOf: asOfDate, format: format, write: writeStdout)
            }
            if strict && output.violations > 0 { throw ExitCode(1) }
        }
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "The on-call view of a case: what is overdue, what is due next and by when.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The case id.") var caseID: String
    @OptionGroup var asOf: AsOfOption

    func run() throws {
        try guarded {
            try Envelope.validateCaseID(caseID)
            let now = try asOf.date() ?? Date()
            print(try connection.session().open().status(caseID: caseID, asOf: now))
        }
    }
}
