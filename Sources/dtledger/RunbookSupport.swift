import ArgumentParser
import Compliance
import Events
import Foundation
import Ledger
import Domain

extension Team: ExpressibleByArgument {}
extension Priority: ExpressibleByArgument {}
extension NotificationPurpose: ExpressibleByArgument {}
extension MilestoneKind: ExpressibleByArgument {}
extension DowntimeOutcome: ExpressibleByArgument {}
extension ApprovalDecision: ExpressibleByArgument {}
extension TicketPurpose: ExpressibleByArgument {}

/// Options every typed runbook command shares (docs/runbooks.md).
struct EventOptions: ParsableArguments {
    @OptionGroup var connection: ConnectionOptions

    @Option(name: .customLong("case"), help: "The case id (default: DTLEDGER_CASE).")
    var caseID: String?

    @Option(name: [.customLong("at"), .customLong("occurred-at")],
            help: "When it happened, RFC 3339 with offset (default: now).")
    var at: String?

    @Option(help: "Directory handle of who did it (default: DTLEDGER_ACTOR, else the login name).")
    var actor: String?

    @Option(help: "Idempotency key: a retry with the same key appends nothing and prints the original.")
    var key: String?

    @Flag(help: "Print the stored event as one JSON line.")
    var json = false

    /// The case from --case or DTLEDGER_CASE (usage error when neither).
    func requiredCase() throws -> String {
        guard let id = caseID ?? ProcessInfo.processInfo.environment["DTLEDGER_CASE"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw CLIError.usage("missing --case (or set DTLEDGER_CASE)")
        }
        try Envelope.validateCaseID(id)
        return id
    }

    func occurredAt() throws -> Date {
        try at.map { try parseTime($0, option: "--at") } ?? Date()
    }
}

/// Appends one typed event and prints it.
enum Runbook {
    /// Builds, validates (envelope, catalog, audience), appends and prints
    /// one event. `generate` names the prefix of a case id to generate when
    /// no case was given (INC, PD).
    static func append(type: String, data: [String: JSONValue], options: EventOptions, generate: String? = nil) throws {
        let occurred = try options.occurredAt()
        guard let actor = options.actor ?? defaultActor() else { throw CLIError.usage("missing --actor (or set DTLEDGER_ACTOR)") }
        var explicitCase = options.caseID
        if explicitCase == nil && generate == nil { explicitCase = try options.requiredCase() }
        if let explicitCase { try Envelope.validateCaseID(explicitCase) }
        // Check everything before generating an id or touching the database.
        let envelope = Envelope(type: type, caseID: explicitCase ?? "\(generate ?? "X")-0000-0000", occurredAt: occurred,
                                actor: actor, source: .cli, key: options.key, data: .object(data))
        try EventValidation.validate(envelope)
        // With a key, a lost connection is retried safely (AppendRetry; README, "Retries").
        let line = try AppendRetry.from(environment: ProcessInfo.processInfo.environment)
            .run(settings: options.connection.settings, idempotent: options.key != nil,
                 notice: { printWarning($0) }) { store -> String in
                var envelope = envelope
                if explicitCase == nil, let generate {
                    // A retry of a command that generated its id finds the original by its key.
                    if let key = options.key, let original = try store.event(key: key) {
                        guard original.type == type else {
                            throw CLIError.input("key: '\(printable(key))' was already used for a \(original.type) event of case \(original.caseID)")
                        }
                        return render(original, duplicate: true, json: options.json, generated: true)
                    }
                    var calendar = Calendar(identifier: .gregorian)
                    calendar.timeZone = TimeZone(identifier: "America/New_York")!
                    envelope.caseID = try store.nextCaseID(prefix: generate, year: calendar.component(.year, from: occurred))
                }
                if type == "notification.sent" { try checkAudience(envelope, store: store) }
                let result = try store.append(caseID: envelope.caseID, events: [envelope], openingTypes: EventValidation.openingTypes)[0]
                guard let stored = try store.event(caseID: envelope.caseID, position: result.position) else {
                    throw CLIError(message: "the appended event at position \(result.position) cannot be read back", code: 70)
                }
                return render(stored, duplicate: result.duplicate, json: options.json, generated: explicitCase == nil)
            }
        print(line)
    }

    static func render(_ event: RecordedEvent, duplicate: Bool, json: Bool, generated: Bool) -> String {
        if json { return event.json(duplicate: duplicate).jsonText() }
        var line = "\(event.caseID)  v\(event.version)  \(event.type)  at \(RFC3339.format(event.occurredAt))  by \(event.actor)  (position \(event.position), id \(event.id))"
        if duplicate { line += "  [already recorded: nothing appended]" }
        if generated { line = "case: \(event.caseID)\n" + line }
        return line
    }

    /// Every audience ref must be something the directory in force knows
    /// (a person, a group, a role) or an email address: a typo would
    /// otherwise silently miss a required audience.
    static func checkAudience(_ envelope: Envelope, store: EventStore) throws {
        let reference = try ReferenceData.load(store, through: try store.digest().position)
        guard let directory = reference.directories.at(envelope.occurredAt) ?? reference.directories.directories.last else { return }
        let refs = envelope.data["audience"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let unknown = refs.filter { ref in
            if ref.hasPrefix("role:") { return !directory.roles.contains(String(ref.dropFirst(5))) }
            if directory.person(ref: ref) != nil || directory.group(ref: ref) != nil { return false }
            return !(ref.contains("@") && ref.contains(".") && !ref.hasPrefix("@"))
        }
        if !unknown.isEmpty {
            throw InputError(field: "data.audience", "not in the directory: \(unknown.map { printable($0) }.joined(separator: ", ")) (use handles, Slack ids, group handles, role:NAME or email addresses)")
        }
    }

    /// Values of a repeatable option whose values may also be comma-separated.
    static func list(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func time(_ text: String, _ option: String) throws -> JSONValue {
        .string(RFC3339.format(try parseTime(text, option: option)))
    }

    static func impact(users: Int?, services: [String], option: String) throws -> JSONValue? {
        let list = list(services)
        if list.isEmpty {
            if users != nil { throw CLIError.usage("--users needs --services (the impacted services)") }
            return nil
        }
        var o: [String: JSONValue] = ["services": .array(list.map(JSONValue.string))]
        if let users {
            guard users >= 0 else { throw CLIError.usage("--users must be a whole number, 0 or more") }
            o["users"] = .int(Int64(users))
        }
        return .object(o)
    }

    static func window(start: String?, end: String?) throws -> JSONValue? {
        switch (start, end) {
        case (nil, nil): return nil
        case let (s?, e?): return .object(["start": try time(s, "--start"), "end": try time(e, "--end")])
        default: throw CLIError.usage("give both --start and --end")
        }
    }
}
