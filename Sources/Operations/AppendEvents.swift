import Events
import Foundation
import Ledger

/// Where an appended event's `data` comes from.
public enum EventData: Sendable {
    /// No data: an empty object.
    case none
    /// JSON text.
    case text(String)
    /// A file holding the JSON (`"-"`: the session's standard input).
    case file(String)
}

/// One event to append, as a front end received it: the envelope's fields
/// as text, checked here (DOMAIN.md §1).
public struct AppendRequest: Sendable {
    public var caseID: String
    public var type: String
    public var data: EventData = .none
    /// RFC 3339 with offset; default: the session's now.
    public var occurredAt: String?
    /// Default: the session's default actor.
    public var actor: String?
    /// An EventSource raw value; default cli.
    public var source: String?
    public var key: String?
    public var expected: ExpectedVersion = .any

    /// An event of `type` in `caseID`; the other fields are set as given.
    public init(caseID: String, type: String) {
        self.caseID = caseID
        self.type = type
    }
}

/// An appended event (or, for a replayed key, the original).
public struct AppendedEvent: Sendable {
    public let result: AppendResult
    public let envelope: Envelope

    /// The stored event as one JSON object (id, position, version, hash, duplicate).
    public var json: JSONValue {
        JSONValue.object([
            "id": .string(result.id), "position": .int(result.position), "version": .int(result.version),
            "hash": .string(result.hash), "case": .string(envelope.caseID), "type": .string(envelope.type),
            "recorded_at": .string(RFC3339.format(result.recordedAt)), "duplicate": .bool(result.duplicate),
        ])
    }
}

/// What appending a file did.
public struct FileAppendSummary: Sendable {
    public var appended: Int64 = 0
    public var duplicates: Int64 = 0
    public var cases = 0
    public var firstPosition: Int64?
    public var lastPosition: Int64?

    public var json: JSONValue {
        var summary: [String: JSONValue] = [
            "appended": .int(appended), "duplicates": .int(duplicates), "cases": .int(Int64(cases)),
        ]
        if let firstPosition, let lastPosition {
            summary["first_position"] = .int(firstPosition)
            summary["last_position"] = .int(lastPosition)
        }
        return .object(summary)
    }
}

extension Session {
    /// Appends one event: parses and validates the envelope and the catalog
    /// before connecting, then appends at the expected version (a replayed
    /// key returns the original), retrying after a lost connection when it
    /// has a key.
    public func append(_ request: AppendRequest) throws -> AppendedEvent {
        var object: [String: JSONValue] = ["type": .string(request.type), "case": .string(request.caseID)]
        if let occurredAt = request.occurredAt { object["occurred_at"] = .string(occurredAt) }
        if let actor = request.actor { object["actor"] = .string(actor) }
        if let source = request.source { object["source"] = .string(source) }
        if let key = request.key { object["key"] = .string(key) }
        object["data"] = try dataValue(request.data)
        let envelope = try Envelope.parse(.object(object), defaults: .init(occurredAt: now(), actor: defaultActor))
        try EventValidation.validate(envelope)
        let result = try retrying(idempotent: envelope.key != nil) { store in
            try store.append(caseID: envelope.caseID, events: [envelope], expected: request.expected,
                             openingTypes: EventValidation.openingTypes)[0]
        }
        return AppendedEvent(result: result, envelope: envelope)
    }

    private func dataValue(_ data: EventData) throws -> JSONValue {
        let bytes: Data
        switch data {
        case .none: return .object([:])
        case .text(let text): bytes = Data(text.utf8)
        case .file(let path): bytes = try read(path)
        }
        guard bytes.count <= EventValidation.maxDataBytes * 2 else {
            throw InputError(field: "data", "is \(bytes.count) bytes; an event's data may be at most \(EventValidation.maxDataBytes) bytes (1 MiB)")
        }
        do { return try JSONValue.parse(bytes) } catch {
            throw InputError(field: "data", error.description)
        }
    }

    /// Appends a JSONL file of envelopes (`"-"`: standard input) in one
    /// transaction, all or nothing, streamed in batches. A refused event is
    /// named by its line. `actor` and `source` are the defaults of lines
    /// that give none.
    public func appendFile(_ path: String, actor: String?, source: EventSource) throws -> FileAppendSummary {
        let file = try EnvelopeFile(path: path, defaults: .init(occurredAt: nil, actor: actor ?? defaultActor, source: source),
                                    standardInput: standardInput)
        // The first batch is read before connecting: a small file with a bad
        // line is refused (65) without touching the database.
        var pending = try file.nextBatch()
        guard pending != nil else { throw OperationError.invalid("\(path): no events in the file") }
        var summary = FileAppendSummary()
        var cases = Set<String>()
        var attempt = 0
        var sentAll = false
        // A lost connection before COMMIT leaves nothing behind (the file is
        // read again from the top); during COMMIT it is ambiguous, so the
        // retry needs every event to have a key (README, "Retries").
        try retrying(idempotent: !sentAll || file.allKeyed) { store in
            attempt += 1
            if attempt > 1 { try file.rewind(); pending = try file.nextBatch() }
            summary = FileAppendSummary(); cases = []; sentAll = false
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
                    }, onBatch: { index, batch in
                        lines[index] = nil
                        summary.appended += batch.appended
                        summary.duplicates += batch.duplicates
                        if let p = batch.firstPosition { summary.firstPosition = summary.firstPosition ?? p }
                        if let p = batch.lastPosition { summary.lastPosition = p }
                        let done = summary.appended + summary.duplicates
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
        summary.cases = cases.count
        return summary
    }
}
