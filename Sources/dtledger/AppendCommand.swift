import ArgumentParser
import Envelope
import Foundation
import Ledger

struct AppendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append one event, or a file of events (all or nothing).",
        discussion: """
            One event: dtledger append --case INC-2026-0142 --type note.added --data '{"text":"..."}'
            prints the stored event as one JSON line (id, position, version, hash, duplicate).
            A file: dtledger append --file events.jsonl (or - for stdin), one envelope per line
            (DOMAIN.md §1); every event of the file is appended in one transaction, or none is.
            Replaying an idempotency key appends nothing and returns the original event.
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .customLong("case"), help: "Case id, [A-Za-z0-9][A-Za-z0-9._-]{0,63}.")
    var caseID: String?

    @Option(help: "Event type, e.g. notification.sent.")
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
        try guarded {
            if let file { try appendFile(file) } else { try appendOne() }
        }
    }

    private func appendOne() throws {
        var object: [String: JSONValue] = ["type": .string(type!), "case": .string(caseID!)]
        if let occurredAt { object["occurred_at"] = .string(occurredAt) }
        if let actor { object["actor"] = .string(actor) }
        if let source { object["source"] = .string(source) }
        if let key { object["key"] = .string(key) }
        object["data"] = try dataValue()
        let envelope = try Envelope.parse(.object(object), defaults: .init(occurredAt: Date(), actor: defaultActor()))
        try EventValidation.validate(envelope)
        let expected = expectVersion.flatMap(ExpectedVersion.init) ?? .any
        let result = try retrying(idempotent: envelope.key != nil) { store in
            try store.append(caseID: envelope.caseID, events: [envelope], expected: expected,
                             openingTypes: EventValidation.openingTypes)[0]
        }
        print(Self.json(result, envelope: envelope))
    }

    private func dataValue() throws -> JSONValue {
        guard let data else { return .object([:]) }
        let bytes: Data
        if data == "-" {
            bytes = FileHandle.standardInput.readDataToEndOfFile()
        } else if data.hasPrefix("@") {
            bytes = try readInput(String(data.dropFirst()))
        } else {
            bytes = Data(data.utf8)
        }
        guard bytes.count <= EventValidation.maxDataBytes * 2 else {
            throw InputError(field: "data", "is \(bytes.count) bytes; an event's data may be at most \(EventValidation.maxDataBytes) bytes (1 MiB)")
        }
        do { return try JSONValue.parse(bytes) } catch {
            throw InputError(field: "data", error.description)
        }
    }

    /// Runs an append, retrying after a lost connection only when every
    /// event has an idempotency key (AppendRetry; README, "Retries").
    private func retrying<T>(idempotent: Bool, _ body: (EventStore) throws -> T) throws -> T {
        try AppendRetry.from(environment: ProcessInfo.processInfo.environment)
            .run(settings: connection.settings, idempotent: idempotent,
                 notice: { printWarning($0) }, body)
    }

    static func json(_ result: AppendResult, envelope: Envelope) -> String {
        JSONValue.object([
            "id": .string(result.id), "position": .int(result.position), "version": .int(result.version),
            "hash": .string(result.hash), "case": .string(envelope.caseID), "type": .string(envelope.type),
            "recorded_at": .string(RFC3339.format(result.recordedAt)), "duplicate": .bool(result.duplicate),
        ]).jsonText()
    }

    private func appendFile(_ path: String) throws {
        let lines = try EnvelopeFile.parse(try readInput(path), name: path == "-" ? "stdin" : path,
                                               defaults: .init(occurredAt: nil, actor: actor ?? defaultActor(),
                                                               source: source.flatMap(EventSource.init) ?? .cli))
        let envelopes = lines.map(\.envelope)
        guard !envelopes.isEmpty else { throw CLIError.input("\(path): no events in the file") }
        let progress = Progress()
        var appended = 0, duplicates = 0
        var first: Int64?, last: Int64?
        var cases = Set<String>()
        try retrying(idempotent: envelopes.allSatisfy { $0.key != nil }) { store in
            appended = 0; duplicates = 0; first = nil; last = nil; cases = []
            try store.atomically {
                // A run of consecutive events of one case (up to 1000) is one
                // batch; batches are sent pipelined (issue 6: no round trip each).
                var batches: [(caseID: String, events: ArraySlice<Envelope>)] = []
                var starts: [Int] = []
                var index = 0
                while index < envelopes.count {
                    var end = index + 1
                    while end < envelopes.count, envelopes[end].caseID == envelopes[index].caseID, end - index < 1000 { end += 1 }
                    batches.append((envelopes[index].caseID, envelopes[index..<end]))
                    starts.append(index)
                    index = end
                }
                do {
                    try store.appendPipelined(batches, openingTypes: EventValidation.openingTypes) { b, results in
                        for r in results {
                            if r.duplicate { duplicates += 1 } else {
                                appended += 1
                                first = first ?? r.position
                                last = r.position
                            }
                        }
                        cases.insert(batches[b].caseID)
                        let done = starts[b] + batches[b].events.count
                        if done % 10_000 < batches[b].events.count { progress.update("appending: \(done)/\(envelopes.count) events") }
                    }
                } catch let failure as BatchFailure {
                    if case LedgerError.invalid(var error) = failure.error {
                        error.line = lines[starts[failure.index]].line
                        throw LedgerError.invalid(error)
                    }
                    throw failure.error
                }
            }
        }
        progress.done()
        var summary: [String: JSONValue] = [
            "appended": .int(Int64(appended)), "duplicates": .int(Int64(duplicates)),
            "cases": .int(Int64(cases.count)),
        ]
        if let first, let last { summary["first_position"] = .int(first); summary["last_position"] = .int(last) }
        print(JSONValue.object(summary).jsonText())
    }
}

