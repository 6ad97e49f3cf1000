import ArgumentParser
import Compliance
import Domain
import Events
import Foundation
import Ledger
import Operations

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

    /// Who, when and in which case, from the options and the environment
    /// (DTLEDGER_CASE, DTLEDGER_ACTOR). `generate`: the case id to generate
    /// when no --case is given.
    func context(generate: CasePrefix?, _ env: CommandEnvironment) throws -> RunbookContext {
        let occurred = try at.map { try parseTime($0, option: "--at") } ?? Date()
        guard let actor = actor ?? env.defaultActor else { throw OperationError.usage("missing --actor (or set DTLEDGER_ACTOR)") }
        let target: RunbookCase
        if let caseID {
            target = .existing(caseID)
        } else if let generate {
            target = .generate(generate)
        } else if let id = env.variables["DTLEDGER_CASE"], !id.isEmpty {
            target = .existing(id)
        } else {
            throw OperationError.usage("missing --case (or set DTLEDGER_CASE)")
        }
        return RunbookContext(target, occurredAt: occurred, actor: actor, key: key)
    }
}

/// A runbook event a command builds from its options: its catalog payload
/// (the event type and data), and the case id prefix to generate when no
/// case is given (INC, PD).
struct RunbookEvent {
    var payload: any CatalogPayload
    var generate: CasePrefix?

    init(_ payload: some CatalogPayload, generate: CasePrefix? = nil) {
        self.payload = payload
        self.generate = generate
    }
}

/// A typed runbook command: it only builds its event; recording and
/// printing are shared.
protocol RunbookCommand: ParsableCommand {
    var options: EventOptions { get }
    /// The event from the options (usage errors name the option).
    func event(_ env: CommandEnvironment) throws -> RunbookEvent
}

extension RunbookCommand {
    func run() throws {
        try guarded { print(try record(.process)) }
    }

    /// Builds the event, records it (Operations) and returns what is printed.
    func record(_ env: CommandEnvironment) throws -> String {
        let event = try event(env)
        let context = try options.context(generate: event.generate, env)
        let recorded = try options.connection.session(env).record(event.payload, context: context)
        return Runbook.render(recorded, json: options.json)
    }
}

/// The runbook commands' shared rendering and option helpers.
enum Runbook {
    /// The stored event as one line (or JSON); a generated case id first.
    static func render(_ recorded: RecordedRunbookEvent, json: Bool) -> String {
        let event = recorded.event
        if json { return event.json(duplicate: recorded.duplicate).jsonText() }
        var line = "\(event.caseID)  v\(event.version)  \(event.type)  at \(RFC3339.format(event.occurredAt))  by \(event.actor)  (position \(event.position), id \(event.id))"
        if recorded.duplicate { line += "  [already recorded: nothing appended]" }
        if recorded.generated { line = "case: \(event.caseID)\n" + line }
        return line
    }

    /// Values of a repeatable option whose values may also be comma-separated.
    static func list(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func time(_ text: String, _ option: String) throws -> Date {
        try parseTime(text, option: option)
    }

    static func impact(users: Int?, services: [String]) throws -> Impact? {
        let list = list(services)
        if list.isEmpty {
            if users != nil { throw OperationError.usage("--users needs --services (the impacted services)") }
            return nil
        }
        if let users, users < 0 { throw OperationError.usage("--users must be a whole number, 0 or more") }
        return Impact(users: users.map(Int64.init), services: list)
    }

    /// The impact of an opening event: --services is required.
    static func requiredImpact(users: Int?, services: [String]) throws -> Impact {
        guard let impact = try impact(users: users, services: services) else {
            throw OperationError.usage("missing --services (the impacted services)")
        }
        return impact
    }

    /// --start and --end, parsed in that order. That the end is after the
    /// start is the catalog's check (EventValidation), with its error.
    static func window(start: String, end: String) throws -> TimeWindow {
        TimeWindow(start: try time(start, "--start"), end: try time(end, "--end"))
    }

    /// The window of an update: both --start and --end, or neither.
    static func window(start: String?, end: String?) throws -> TimeWindow? {
        switch (start, end) {
        case (nil, nil): return nil
        case let (s?, e?): return try window(start: s, end: e)
        default: throw OperationError.usage("give both --start and --end")
        }
    }
}
