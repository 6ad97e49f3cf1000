import ArgumentParser
import Events
import Foundation
import Operations
import Domain

struct DowntimeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "downtime",
        abstract: "Record a planned downtime: plan, update, start, conclude, cancel.",
        discussion: "Runbook: docs/runbooks.md. 'downtime plan' without --case generates PD-YYYY-NNNN and prints it.",
        subcommands: [Plan.self, Update.self, Start.self, Conclude.self, Cancel.self])

    struct Plan: RunbookCommand {
        static let configuration = CommandConfiguration(
            abstract: "\(EventType.downtimePlanned): planning started (generates the case id PD-YYYY-NNNN unless --case).")
        @OptionGroup var options: EventOptions
        @Option(help: "api-platform, user-facing, vagov-platform or vahb-platform.") var team: Team
        @Option(help: "Short title.") var title: String
        @Option(help: "Why the downtime is needed.") var reason: String
        @Option(help: "Anticipated number of users affected.") var users: Int?
        @Option(help: "Impacted services (repeatable or comma-separated).") var services: [String] = []
        @Option(help: "Window start (RFC 3339).") var start: String
        @Option(help: "Window end (RFC 3339).") var end: String
        @Option(name: .customLong("rollback-plan"), help: "The rollback plan.") var rollbackPlan: String
        @Option(help: "Directory product id.") var product: String?
        @Flag(name: .customLong("impacts-mobile"), help: "The downtime affects the mobile app.") var impactsMobile = false
        @Option(name: .customLong("communication-owner"), help: "Handle of the communication owner.") var communicationOwner: String?

        func event(_ env: CommandEnvironment) throws -> RunbookEvent {
            let impact = try Runbook.requiredImpact(users: users, services: services)
            return RunbookEvent(DowntimePlanned(team: team, title: title, reason: reason, anticipatedImpact: impact,
                                                window: try Runbook.window(start: start, end: end), rollbackPlan: rollbackPlan,
                                                product: product, impactsMobile: impactsMobile, communicationOwner: communicationOwner),
                                generate: .downtime)
        }
    }

    struct Update: RunbookCommand {
        static let configuration = CommandConfiguration(
            abstract: "\(EventType.downtimeUpdated): reason, impact, window (a reschedule) or rollback plan changed.")
        @OptionGroup var options: EventOptions
        @Option(help: "New reason.") var reason: String?
        @Option(help: "Anticipated number of users affected (with --services).") var users: Int?
        @Option(help: "Impacted services (repeatable or comma-separated).") var services: [String] = []
        @Option(help: "New window start (with --end).") var start: String?
        @Option(help: "New window end (with --start).") var end: String?
        @Option(name: .customLong("rollback-plan"), help: "New rollback plan.") var rollbackPlan: String?
        @Option(help: "New title.") var title: String?
        @Option(help: "Directory product id.") var product: String?
        @Flag(name: .customLong("impacts-mobile"), inversion: .prefixedNo, help: "Whether it affects the mobile app.") var impactsMobile: Bool?
        @Option(name: .customLong("communication-owner"), help: "Handle of the communication owner.") var communicationOwner: String?

        func event(_ env: CommandEnvironment) throws -> RunbookEvent {
            // The impact is checked before the window.
            let update = DowntimeUpdated(reason: reason, anticipatedImpact: try Runbook.impact(users: users, services: services),
                                         window: try Runbook.window(start: start, end: end), rollbackPlan: rollbackPlan,
                                         title: title, product: product, impactsMobile: impactsMobile, communicationOwner: communicationOwner)
            guard !update.isEmpty else {
                throw OperationError.usage("nothing changed: give at least one of --reason, --services, --start/--end, --rollback-plan, --title, --product, --impacts-mobile, --communication-owner")
            }
            return RunbookEvent(update)
        }
    }

    struct Start: RunbookCommand {
        static let configuration = CommandConfiguration(abstract: "\(EventType.downtimeStarted): the downtime began.")
        @OptionGroup var options: EventOptions
        func event(_ env: CommandEnvironment) throws -> RunbookEvent { RunbookEvent(DowntimeStarted()) }
    }

    struct Conclude: RunbookCommand {
        static let configuration = CommandConfiguration(abstract: "\(EventType.downtimeConcluded): completed or rolled back.")
        @OptionGroup var options: EventOptions
        @Option(help: "completed or rolled_back.") var outcome: DowntimeOutcome
        @Option(help: "A note.") var note: String?
        func event(_ env: CommandEnvironment) throws -> RunbookEvent {
            RunbookEvent(DowntimeConcluded(outcome: outcome, note: note))
        }
    }

    struct Cancel: RunbookCommand {
        static let configuration = CommandConfiguration(abstract: "\(EventType.downtimeCancelled).")
        @OptionGroup var options: EventOptions
        @Option(help: "Why it was cancelled.") var reason: String
        func event(_ env: CommandEnvironment) throws -> RunbookEvent { RunbookEvent(DowntimeCancelled(reason: reason)) }
    }
}
