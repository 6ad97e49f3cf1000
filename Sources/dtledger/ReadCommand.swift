import ArgumentParser
import Events
import Foundation
import Ledger
import Operations
import Reports

struct ReadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Print stored events in position order.")

    enum Format: String, ExpressibleByArgument, CaseIterable { case jsonl, table }

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .customLong("case"), help: "Only this case's events.")
    var caseID: String?

    @Option(help: "Only events after this global position (default 0: from the start).")
    var after: Int64 = 0

    @Option(help: "jsonl (default) or table.")
    var format: Format = .jsonl

    func validate() throws {
        if after < 0 { throw ArgumentParser.ValidationError("--after must be 0 or more") }
        if let caseID, !Envelope.isValidCaseID(caseID) {
            throw ArgumentParser.ValidationError("--case: '\(printable(caseID))' is not a valid case id")
        }
    }

    func run() throws {
        try guarded { try execute(.process, Output()) }
    }

    /// Streams the events (Operations) into `out`, as JSON lines or a table.
    func execute(_ env: CommandEnvironment, _ out: Output) throws {
        let ledger = try connection.session(env).open()
        if format == .table {
            out.line(Table.row(["POSITION", "CASE", "VER", "TYPE", "OCCURRED_AT", "ACTOR", "SOURCE"], widths: Self.widths))
        }
        try ledger.read(caseID: caseID, after: after) { event in
            switch format {
            case .jsonl:
                out.line { event.writeJSONLine(to: &$0) }
            case .table:
                out.line(Table.row([
                    String(event.position), event.caseID, String(event.version), event.type,
                    RFC3339.format(RFC3339.date(microseconds: event.occurredMicros)), event.actor, event.source,
                ], widths: Self.widths))
            }
        }
        out.flush()
    }

    static let widths = [8, 16, 4, 28, 26, 14, 10]
}

enum Table {
    /// Left-aligned columns padded to `widths` (the last column is not
    /// padded); controls and bidirectional overrides shown escaped (Visible).
    static func row(_ cells: [String], widths: [Int]) -> String {
        var line = ""
        for (index, cell) in cells.enumerated() {
            let text = Visible.escape(cell, limit: 200)
            if index == cells.count - 1 {
                line += text
            } else {
                line += text + String(repeating: " ", count: max(1, widths[index] - text.count + 1))
            }
        }
        return line
    }
}
