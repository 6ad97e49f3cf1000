import ArgumentParser
import Events
import Foundation
import Operations
import Domain

/// Cases of the kinds a policy declares (`case_kinds:`): open and close.
struct CaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "case",
        abstract: "Record a case of a kind the policy declares: open, close.",
        discussion: """
            dtledger case open --kind vendor_outage_evaluation --title 'VA.gov login outage: does it affect us?'
            'case open' without --case generates CASE-YYYY-NNNN and prints it. The kind must be declared by a \
            published policy (case_kinds:); incidents and planned downtimes have their own commands.
            """,
        subcommands: [Open.self, Close.self])

    struct Open: RunbookCommand {
        static let configuration = CommandConfiguration(
            abstract: "\(EventType.caseOpened): a case of a declared kind (generates CASE-YYYY-NNNN unless --case).")
        @OptionGroup var options: EventOptions
        @Option(help: "The case kind, as the policy declares it in case_kinds: (a lowercase identifier).") var kind: String
        @Option(help: "What the case is about, in one line.") var title: String
        @Option(help: "api-platform, user-facing, vagov-platform or vahb-platform.") var team: Team?
        @Option(help: "Directory product id.") var product: String?
        @Option(name: .customLong("communication-owner"), help: "Handle of the communication owner.") var communicationOwner: String?

        func event(_ env: CommandEnvironment) throws -> RunbookEvent {
            guard let k = CaseKind(rawValue: kind) else {
                throw OperationError.usage("--kind must be a lowercase identifier (\(Identifier.pattern)), not '\(printable(kind))'")
            }
            if k.isBuiltIn {
                let command = k == .incident ? "incident open" : "downtime plan"
                throw OperationError.usage("--kind \(kind) is built in: use 'dtledger \(command)' (\(Catalog.openingType(of: k)))")
            }
            return RunbookEvent(CaseOpened(kind: k, title: title, team: team, product: product, communicationOwner: communicationOwner),
                                generate: .declaredCase)
        }
    }

    struct Close: RunbookCommand {
        static let configuration = CommandConfiguration(abstract: "\(EventType.caseClosed): a case of a declared kind is closed.")
        @OptionGroup var options: EventOptions
        @Option(help: "How it ended (text).") var outcome: String?
        @Option(help: "A note.") var note: String?
        func event(_ env: CommandEnvironment) throws -> RunbookEvent { RunbookEvent(CaseClosed(outcome: outcome, note: note)) }
    }
}

/// Decisions of a case (any kind).
struct DecisionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decision", abstract: "Record a decision of a case and its outcome.", subcommands: [Record.self])

    struct Record: RunbookCommand {
        static let configuration = CommandConfiguration(
            abstract: "\(EventType.decisionRecorded): e.g. --decision affects_us --outcome no (the actor decided).")
        @OptionGroup var options: EventOptions
        @Option(help: "The decision's name, as the policy names it (a lowercase identifier).") var decision: String
        @Option(help: "Its outcome (text, e.g. yes or no).") var outcome: String
        @Option(help: "Why.") var rationale: String?
        func event(_ env: CommandEnvironment) throws -> RunbookEvent {
            guard Identifier.isValid(decision) else {
                throw OperationError.usage("--decision must be a lowercase identifier (\(Identifier.pattern)), not '\(printable(decision))'")
            }
            return RunbookEvent(DecisionRecorded(decision: decision, outcome: outcome, rationale: rationale))
        }
    }
}
