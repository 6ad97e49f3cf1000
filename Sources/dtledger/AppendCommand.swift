import ArgumentParser
import Domain
import Events
import Foundation
import Ledger
import Operations

struct AppendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append one event, or a file of events (all or nothing).",
        discussion: """
            One event: dtledger append --case INC-2026-0142 --type \(EventType.noteAdded) --data '{"text":"..."}'
            prints the stored event as one JSON line (id, position, version, hash, duplicate).
            A file: dtledger append --file events.jsonl (or - for stdin), one envelope per line
            (DOMAIN.md §1); every event of the file is appended in one transaction, or none is.
            Replaying an idempotency key appends nothing and returns the original event.
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .customLong("case"), help: "Case id, [A-Za-z0-9][A-Za-z0-9._-]{0,63}.")
    var caseID: String?

    @Option(help: "Event type, e.g. \(EventType.notificationSent).")
    var type: String?

    @Option(help: "Event data: a JSON object, @FILE to read it from a file, or - for stdin.")
    var data: String?

    @Option(name: .customLong("occurred-at"), help: "When it happened, RFC 3339 with offset (default: now).")
    var occurredAt: String?

    @Option(help: "Directory handle of who did it (default: DTLEDGER_ACTOR, else the login name).")
    var actor: String?

    @Option(help: "cli, pagerduty, slack, servicenow, email or import (default: cli).")
    var source: String?

    @Option(help: "Idempotency key: a retry with the same key appends nothing.")
    var key: String?

    @Option(name: .customLong("expect-version"), help: "any (default), none (the case must be new), or N.")
    var expectVersion: String?

    @Option(help: "A JSONL file of envelopes to append atomically, or - for stdin.")
    var file: String?

    func validate() throws {
        if file != nil {
            let single = [caseID, type, data, occurredAt, key, expectVersion]
            if single.contains(where: { $0 != nil }) {
                throw ArgumentParser.ValidationError("--file cannot be combined with --case, --type, --data, --occurred-at, --key or --expect-version")
            }
        } else {
            if caseID == nil { throw ArgumentParser.ValidationError("missing --case (or give --file)") }
            if type == nil { throw ArgumentParser.ValidationError("missing --type") }
            if let expectVersion, ExpectedVersion(expectVersion) == nil {
                throw ArgumentParser.ValidationError("--expect-version must be any, none or a whole number, not '\(printable(expectVersion))'")
            }
        }
        if let source, EventSource(rawValue: source) == nil {
            throw ArgumentParser.ValidationError("--source must be one of \(EventSource.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        try guarded { print(try execute(.process)) }
    }

    /// Appends (Operations) and returns the line printed: the stored event,
    /// or the file's summary.
    func execute(_ env: CommandEnvironment) throws -> String {
        let session = connection.session(env)
        if let file {
            return try session.appendFile(file, actor: actor, source: source.flatMap(EventSource.init) ?? .cli).json.jsonText()
        }
        let data: EventData = switch self.data {
        case nil: .none
        case "-"?: .file("-")
        case let text? where text.hasPrefix("@"): .file(String(text.dropFirst()))
        case let text?: .text(text)
        }
        var request = AppendRequest(caseID: caseID!, type: type!)
        (request.data, request.occurredAt, request.actor, request.source, request.key) = (data, occurredAt, actor, source, key)
        request.expected = expectVersion.flatMap(ExpectedVersion.init) ?? .any
        return try session.append(request).json.jsonText()
    }
}
