import ArgumentParser
import Events
import Foundation
import Operations
import Domain

struct IncidentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incident",
        abstract: "Record an incident: open, priority, update, milestone, resolve, reopen.",
        discussion: "Runbook: docs/runbooks.md. 'incident open' without --case generates INC-YYYY-NNNN and prints it.",
        subcommands: [Open.self, PriorityCommand.self, Update.self, Milestone.self, Resolve.self, Reopen.self])

    struct Open: RunbookCommand {
        static let configuration = CommandConfiguration(
            abstract: "\(EventType.incidentOpened): detected (generates the case id INC-YYYY-NNNN unless --case).")
        @OptionGroup var options: EventOptions
        @Option(help: "api-platform, user-facing, vagov-platform or vahb-platform.") var team: Team
        @Option(help: "What is wrong, in one line.") var summary: String
        @Option(help: "Estimated number of users affected.") var users: Int?
        @Option(help: "Impacted services (repeatable or comma-separated).") var services: [String] = []
        @Option(name: .customLong("started-at"), help: "When the incident started (RFC 3339; may be before detection).") var startedAt: String
        @Option(help: "Directory product id.") var product: String?
        @Flag(name: .customLong("data-compromise-suspected"), help: "Veteran data may be compromised.") var dataCompromiseSuspected = false
        @Flag(name: .customLong("impacts-mobile"), help: "The incident affects the mobile app.") var impactsMobile = false

        func event(_ env: CommandEnvironment) throws -> RunbookEvent {
            let impact = try Runbook.requiredImpact(users: users, services: services)
            // The CLI states both flags, false when not given.
            return RunbookEvent(IncidentOpened(team: team, summary: summary, estimatedUserImpact: impact,
                                               startedAt: try Runbook.time(startedAt, "--started-at"), product: product,
                                               dataCompromiseSuspected: dataCompromiseSuspected, impactsMobile: impactsMobile),
                                generate: .incident)
        }
    }

    struct PriorityCommand: RunbookCommand {
        static let configuration = CommandConfiguration(
            commandName: "priority", abstract: "\(EventType.incidentPrioritySet): the initial rating or a change (P1..P4).")
        @OptionGroup var options: EventOptions
        @Option(help: "P1, P2, P3 or P4.") var priority: Priority
        @Option(help: "Why this priority.") var reason: String?
        func event(_ env: CommandEnvironment) throws -> RunbookEvent {
            RunbookEvent(PrioritySet(priority: priority, reason: reason))
        }
    }

    struct Update: RunbookCommand {
        static let configuration = CommandConfiguration(
            abstract: "\(EventType.incidentUpdated): summary, impact or flags changed.")
        @OptionGroup var options: EventOptions
        @Option(help: "New summary.") var summary: String?
        @Option(help: "Estimated number of users affected (with --services).") var users: Int?
        @Option(help: "Impacted services (repeatable or comma-separated).") var services: [String] = []
        @Flag(name: .customLong("data-compromise-suspected"), inversion: .prefixedNo, help: "Whether Veteran data may be compromised.")
        var dataCompromiseSuspected: Bool?
        @Flag(name: .customLong("impacts-mobile"), inversion: .prefixedNo, help: "Whether it affects the mobile app.") var impactsMobile: Bool?
        @Option(help: "Directory product id.") var product: String?
        func event(_ env: CommandEnvironment) throws -> RunbookEvent {
            let update = IncidentUpdated(summary: summary, estimatedUserImpact: try Runbook.impact(users: users, services: services),
                                         dataCompromiseSuspected: dataCompromiseSuspected, impactsMobile: impactsMobile, product: product)
            guard !update.isEmpty else {
                throw OperationError.usage("nothing changed: give at least one of --summary, --services, --data-compromise-suspected, --impacts-mobile, --product")
            }
            return RunbookEvent(update)
        }
    }

    struct Milestone: RunbookCommand {
        static let configuration = CommandConfiguration(abstract: "\(EventType.incidentMilestone): e.g. solution_determined, contained, recovered.")
        @OptionGroup var options: EventOptions
        @Option(help: "\(MilestoneKind.allCases.map(\.rawValue).joined(separator: ", ")).") var kind: MilestoneKind
        @Option(help: "A note.") var note: String?
        func event(_ env: CommandEnvironment) throws -> RunbookEvent {
            RunbookEvent(IncidentMilestone(kind: kind, note: note))
        }
    }

    struct Resolve: RunbookCommand {
        static let configuration = CommandConfiguration(abstract: "\(EventType.incidentResolved).")
        @OptionGroup var options: EventOptions
        @Option(help: "How it was resolved.") var resolution: String
        func event(_ env: CommandEnvironment) throws -> RunbookEvent { RunbookEvent(IncidentResolved(resolution: resolution)) }
    }

    struct Reopen: RunbookCommand {
        static let configuration = CommandConfiguration(abstract: "\(EventType.incidentReopened).")
        @OptionGroup var options: EventOptions
        @Option(help: "Why it was reopened.") var reason: String
        func event(_ env: CommandEnvironment) throws -> RunbookEvent { RunbookEvent(IncidentReopened(reason: reason)) }
    }
}
