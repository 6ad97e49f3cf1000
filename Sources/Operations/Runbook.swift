import Compliance
import Domain
import Events
import Foundation
import Ledger

/// The prefix of a case id the runbook generates when none is given:
/// PREFIX-YYYY-NNNN, YYYY the year in America/New_York.
public struct CasePrefix: RawRepresentable, Hashable, Sendable {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Incidents: INC-YYYY-NNNN.
    public static let incident = CasePrefix(rawValue: "INC")
    /// Planned downtimes: PD-YYYY-NNNN.
    public static let downtime = CasePrefix(rawValue: "PD")
    /// Cases of a kind a policy declares: CASE-YYYY-NNNN.
    public static let declaredCase = CasePrefix(rawValue: "CASE")
}

/// The case a runbook event goes to.
public enum RunbookCase: Sendable, Equatable {
    /// This case.
    case existing(String)
    /// A new case whose id is generated with this prefix.
    case generate(CasePrefix)
}

/// Who records a runbook event, when, in which case: what every runbook
/// action has besides its event type and data.
public struct RunbookContext: Sendable {
    public var target: RunbookCase
    public var occurredAt: Date
    public var actor: String
    /// Idempotency key: a retry with it appends nothing and returns the original.
    public var key: String?

    public init(_ target: RunbookCase, occurredAt: Date, actor: String, key: String? = nil) {
        (self.target, self.occurredAt, self.actor, self.key) = (target, occurredAt, actor, key)
    }
}

/// A recorded runbook event, as read back from the ledger.
public struct RecordedRunbookEvent: Sendable {
    public let event: RecordedEvent
    /// Whether the key had been used: nothing was appended, `event` is the original.
    public let duplicate: Bool
    /// Whether the case id was generated.
    public let generated: Bool
}

extension Session {
    /// Records one runbook event (every runbook action is this with its own
    /// catalog payload, which gives the event type and the data): checks the
    /// envelope and the catalog before touching the database, generates the
    /// case id when asked (a retry with the key finds the original), checks a
    /// notification's audience against the directory in force, appends, and
    /// reads the stored event back.
    public func record<P: CatalogPayload>(_ payload: P, context: RunbookContext) throws -> RecordedRunbookEvent {
        let explicitCase: String?, generate: CasePrefix?
        switch context.target {
        case .existing(let id): (explicitCase, generate) = (id, nil)
        case .generate(let prefix): (explicitCase, generate) = (nil, prefix)
        }
        if let explicitCase { try Envelope.validateCaseID(explicitCase) }
        // Check everything before generating an id or touching the database
        // (the catalog's checks too: e.g. a window's end after its start).
        let envelope = Envelope(payload, caseID: explicitCase ?? "\(generate?.rawValue ?? "X")-0000-0000",
                                occurredAt: context.occurredAt, actor: context.actor, source: .cli, key: context.key)
        try EventValidation.validate(envelope)
        // With a key, a lost connection is retried safely (AppendRetry; README, "Retries").
        return try retrying(idempotent: context.key != nil) { store -> RecordedRunbookEvent in
            var envelope = envelope
            // Before a case id is generated: a refused kind uses no number.
            if let notification = payload as? NotificationSent, !notification.channel.isBuiltIn {
                try Self.checkDeclared(channel: notification.channel, store: store)
            }
            if let opened = payload as? CaseOpened { try Self.checkDeclared(kind: opened.kind, store: store) }
            if let generate {
                // A retry of a command that generated its id finds the original by its key.
                if let key = context.key, let original = try WriterReads.event(key: key, store) {
                    guard original.type == P.eventType.rawValue else {
                        throw OperationError.invalid("key: '\(printable(key))' was already used for a \(original.type) event of case \(original.caseID)")
                    }
                    envelope.caseID = original.caseID
                    let stored = try Self.readBack(envelope, id: original.id, position: original.position, version: original.version,
                                                   hash: original.hash, recordedAt: original.recordedAt, store)
                    return RecordedRunbookEvent(event: stored, duplicate: true, generated: true)
                }
                envelope.caseID = try store.nextCaseID(prefix: generate.rawValue, year: Self.caseYear(context.occurredAt))
            }
            if let notification = payload as? NotificationSent {
                try Self.checkAudience(notification.audience, at: envelope.occurredAt, store: store)
            }
            let result = try store.append(caseID: envelope.caseID, events: [envelope], openingTypes: EventValidation.openingTypes)[0]
            let stored = try Self.readBack(envelope, id: result.id, position: result.position, version: result.version,
                                           hash: result.hash, recordedAt: result.recordedAt, store)
            return RecordedRunbookEvent(event: stored, duplicate: result.duplicate, generated: explicitCase == nil)
        }
    }

    /// The stored event an append answered with: read through
    /// dtledger.own_event when this login recorded it (a writer has no
    /// SELECT on the ledger); an event of another login (a key reused) is
    /// read as the login may, and for a writer, which may not, shown from
    /// what the append returned and the request's own fields.
    static func readBack(_ envelope: Envelope, id: String, position: Int64, version: Int64, hash: String, recordedAt: Date,
                         _ store: EventStore) throws -> RecordedEvent {
        if let own = try WriterReads.ownEvent(position: position, store) { return own }
        do {
            if let stored = try store.event(caseID: envelope.caseID, position: position) { return stored }
        } catch let error as LedgerError where error.code == .permissionDenied {
            return RecordedEvent(id: id, position: position, caseID: envelope.caseID, version: version,
                                 type: envelope.type, occurredAt: envelope.occurredAt, recordedAt: recordedAt,
                                 actor: envelope.actor, source: envelope.source.rawValue, key: envelope.key,
                                 data: envelope.data, hash: hash)
        }
        throw OperationError(.internal, "the appended event at position \(position) cannot be read back")
    }

    /// The year of a generated case id: the year in America/New_York when it happened.
    static func caseYear(_ date: Date) -> Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "America/New_York")!
        return calendar.component(.year, from: date)
    }

    /// A channel other than Slack and email must be declared by a published
    /// policy (`channels:`): a typo would otherwise record a message no rule reads.
    static func checkDeclared(channel: Channel, store: EventStore) throws {
        let policies = try WriterReads.policies(store)
        guard !policies.contains(where: { $0.knows(channel) }) else { return }
        let declared = Set(policies.flatMap(\.channels)).map(\.rawValue).sorted()
        throw InputError(field: "data.channel", "channel '\(channel.rawValue)' is not declared by any published policy (channels: [...]); known: \((["slack", "email"] + declared).joined(separator: ", "))")
    }

    /// A case kind other than the built-in ones must be declared by a
    /// published policy (`case_kinds:`).
    static func checkDeclared(kind: CaseKind, store: EventStore) throws {
        let policies = try WriterReads.policies(store)
        guard !policies.contains(where: { $0.knows(kind) }) else { return }
        let declared = Set(policies.flatMap(\.caseKinds.keys)).map(\.rawValue).sorted()
        throw InputError(field: "data.kind", "case kind '\(kind.rawValue)' is not declared by any published policy (case_kinds:)" + (declared.isEmpty ? "" : "; declared: \(declared.joined(separator: ", "))"))
    }

    /// Every audience ref must be something the directory in force knows
    /// (a person, a group, a role) or an email address: a typo would
    /// otherwise silently miss a required audience.
    static func checkAudience(_ refs: [String], at occurredAt: Date, store: EventStore) throws {
        // Through dtledger.reference_events: a writer has no SELECT on the ledger.
        let directories = try WriterReads.directories(store)
        guard let directory = directories.at(occurredAt) ?? directories.directories.last else { return }
        let unknown = refs.filter { ref in
            if ref.hasPrefix("role:") { return !directory.roles.contains(String(ref.dropFirst(5))) }
            if directory.person(ref: ref) != nil || directory.group(ref: ref) != nil { return false }
            return !(ref.contains("@") && ref.contains(".") && !ref.hasPrefix("@"))
        }
        if !unknown.isEmpty {
            throw InputError(field: "data.audience", "not in the directory: \(unknown.map { printable($0) }.joined(separator: ", ")) (use handles, Slack ids, group handles, role:NAME or email addresses)")
        }
    }
}
