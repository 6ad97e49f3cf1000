import ArgumentParser
import Events
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
    private func retrying<T>(idempotent: @autoclosure () -> Bool, _ body: (EventStore) throws -> T) throws -> T {
        try AppendRetry.from(environment: ProcessInfo.processInfo.environment)
            .run(settings: connection.settings, idempotent: idempotent(),
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
        let file = try EnvelopeFile(path: path, defaults: .init(occurredAt: nil, actor: actor ?? defaultActor(),
                                                                  source: source.flatMap(EventSource.init) ?? .cli))
        // The first batch is read before connecting: a small file with a bad
        // line is refused (65) without touching the database.
        var pending = try file.nextBatch()
        guard pending != nil else { throw CLIError.input("\(path): no events in the file") }
        let progress = Progress()
        var appended: Int64 = 0, duplicates: Int64 = 0
        var first: Int64?, last: Int64?
        var cases = Set<String>()
        var attempt = 0
        var sentAll = false
        // A lost connection before COMMIT leaves nothing behind (the file is
        // read again from the top); during COMMIT it is ambiguous, so the
        // retry needs every event to have a key (README, "Retries").
        try retrying(idempotent: !sentAll || file.allKeyed) { store in
            attempt += 1
            if attempt > 1 { try file.rewind(); pending = try file.nextBatch() }
            appended = 0; duplicates = 0; first = nil; last = nil; cases = []; sentAll = false
            // Line numbers of the batches in flight, to name a refused event's line.
            var lines: [Int: [Int]] = [:]
            var sent = 0
            try store.atomically {
                do {
                    try store.appendMany(openingTypes: EventValidation.openingTypes, next: {
                        guard let batch = try pending ?? file.nextBatch() else { return nil }
                        pending = nil
                        lines[sent] = batch.map(\.line)
                        sent += 1
                        for e in batch { cases.insert(e.envelope.caseID) }
                        return batch.map(\.envelope)
                    }, onBatch: { index, summary in
                        lines[index] = nil
                        appended += summary.appended
                        duplicates += summary.duplicates
                        if let p = summary.firstPosition { first = first ?? p }
                        if let p = summary.lastPosition { last = p }
                        let done = appended + duplicates
                        if let total = file.totalBytes, total > 0 {
                            progress.update("appending: \(done) events (\(file.bytesRead * 100 / total)% of the file)")
                        } else {
                            progress.update("appending: \(done) events")
                        }
                    })
                } catch let failure as BatchFailure {
                    if var error = (failure.error as? LedgerError)?.validation, let batchLines = lines[failure.index] {
                        let item = min(max(failure.item ?? 1, 1), batchLines.count)
                        error.line = batchLines[item - 1]
                        throw LedgerError.invalid(error)
                    }
                    throw failure.error
                }
                sentAll = true
            }
        }
        progress.done()
        var summary: [String: JSONValue] = [
            "appended": .int(appended), "duplicates": .int(duplicates),
            "cases": .int(Int64(cases.count)),
        ]
        if let first, let last { summary["first_position"] = .int(first); summary["last_position"] = .int(last) }
        print(JSONValue.object(summary).jsonText())
    }
}

