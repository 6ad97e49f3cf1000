import ArgumentParser
import Compliance
import Events
import Foundation
import Ledger
import Operations
import Reports

extension TimelineFormat: ExpressibleByArgument {}
extension ReportFormat: ExpressibleByArgument {}

struct TimelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeline",
        abstract: "A case in order of occurrence, with the deadlines that fell due between events.",
        discussion: "Shows occurred_at (and recorded_at when the event was entered later), the actor and their roles then, channel and audience of messages, priority changes, and retracted events marked as such.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The case id.") var caseID: String
    @Option(help: "table (default), markdown or json.") var format: TimelineFormat = .table
    @OptionGroup var asOf: AsOfOption

    func run() throws {
        try guarded {
            try Envelope.validateCaseID(caseID)
            let when = try asOf.date()
            writeStdout(try connection.session().open().timeline(caseID: caseID, asOf: when, format: format))
        }
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Post-incident review and compliance audit reports.",
        subcommands: [ReviewReport.self, AuditReport.self])

    struct ReviewReport: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "review",
            abstract: "The post-incident review of a case: summary, timeline, key figures, compliance, evidence.",
            discussion: "HTML is one self-contained file (inline CSS and SVG chart, no scripts, no network) that prints well.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The case id.") var caseID: String
        @Option(help: "markdown (default), html, json or csv.") var format: ReportFormat = .markdown
        @Option(help: "Write to this file instead of stdout.") var output: String?
        @OptionGroup var asOf: AsOfOption

        func run() throws {
            try guarded {
                try Envelope.validateCaseID(caseID)
                let when = try asOf.date()
                try emit(try connection.session().open().review(caseID: caseID, asOf: when, format: format), to: output)
            }
        }
    }

    struct AuditReport: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "audit",
            abstract: "The audit of a period: cases, rates per rule and team, violations, policies, chain verification.",
            discussion: "Verifies the whole hash chain as part of the report (and against --digest FILE when given). Exit 1 when the chain does not verify.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "Start of the period (RFC 3339), inclusive.") var from: String
        @Option(help: "End of the period (RFC 3339), exclusive.") var to: String
        @Option(help: "markdown (default), html, json or csv.") var format: ReportFormat = .markdown
        @Option(help: "Write to this file instead of stdout.") var output: String?
        @Option(help: "A digest file kept outside the database to verify against.") var digest: String?
        @OptionGroup var asOf: AsOfOption

        func run() throws {
            try guarded {
                let start = try parseTime(from, option: "--from"), end = try parseTime(to, option: "--to")
                guard start < end else { throw OperationError.usage("--from must be before --to") }
                let when = try asOf.date()
                let session = connection.session()
                let expected = try digest.map { try session.readDigest($0) }
                let audit = try session.open().audit(from: start, to: end, asOf: when, digest: expected, format: format)
                try emit(audit.text, to: output)
                if !audit.verified { throw ExitCode(1) }
            }
        }
    }
}

/// `--as-of` of the reports of a case or a period.
struct AsOfOption: ParsableArguments {
    @Option(name: .customLong("as-of"), help: "As of this time (default now).") var asOf: String?

    /// The time given (nil: now).
    func date() throws -> Date? { try asOf.map { try parseTime($0, option: "--as-of") } }
}

/// Writes a report to a file (atomically) or stdout.
func emit(_ text: String, to path: String?) throws {
    guard let path else {
        writeStdout(text)
        return
    }
    do {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw OperationError(.cannotWrite, "cannot write \(path): \(error.localizedDescription)")
    }
    FileHandle.standardError.write(Data("wrote \(path)\n".utf8))
}
