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
            abstract: "downtime.planned: planning started (generates the case id PD-YYYY-NNNN unless --case).")
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
            var data: [String: JSONValue] = [
                "team": .string(team.rawValue), "title": .string(title), "reason": .string(reason),
                "anticipated_impact": impact, "window": try Runbook.window(start: start, end: end)!,
                "rollback_plan": .string(rollbackPlan), "impacts_mobile": .bool(impactsMobile),
            ]
            if let product { data["product"] = .string(product) }
            if let communicationOwner { data["communication_owner"] = .string(communicationOwner) }
            return RunbookEvent(type: "downtime.planned", data: data, generate: .downtime)
        }
    }

    struct Update: RunbookCommand {
        static let configuration = CommandConfiguration(
            abstract: "downtime.updated: reason, impact, window (a reschedule) or rollback plan changed.")
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
            var data: [String: JSONValue] = [:]
            if let reason { data["reason"] = .string(reason) }
            if let impact = try Runbook.impact(users: users, services: services) { data["anticipated_impact"] = impact }
            if let window = try Runbook.window(start: start, end: end) { data["window"] = window }
            if let rollbackPlan { data["rollback_plan"] = .string(rollbackPlan) }
            if let title { data["title"] = .string(title) }
            if let product { data["product"] = .string(product) }
            if let impactsMobile { data["impacts_mobile"] = .bool(impactsMobile) }
            if let communicationOwner { data["communication_owner"] = .string(communicationOwner) }
            guard !data.isEmpty else {
                throw OperationError.usage("nothing changed: give at least one of --reason, --services, --start/--end, --rollback-plan, --title, --product, --impacts-mobile, --communication-owner")
            }
            return RunbookEvent(type: "downtime.updated", data: data)
        }
    }

    struct Start: RunbookCommand {
        static let configuration = CommandConfiguration(abstract: "downtime.started: the downtime began.")
        @OptionGroup var options: EventOptions
        func event(_ env: CommandEnvironment) throws -> RunbookEvent { RunbookEvent(type: "downtime.started", data: [:]) }
    }

    struct Conclude: RunbookCommand {
        static let configuration = CommandConfiguration(abstract: "downtime.concluded: completed or rolled back.")
        @OptionGroup var options: EventOptions
        @Option(help: "completed or rolled_back.") var outcome: DowntimeOutcome
        @Option(help: "A note.") var note: String?
        func event(_ env: CommandEnvironment) throws -> RunbookEvent {
            var data: [String: JSONValue] = ["outcome": .string(outcome.rawValue)]
            if let note { data["note"] = .string(note) }
            return RunbookEvent(type: "downtime.concluded", data: data)
        }
    }

    struct Cancel: RunbookCommand {
        static let configuration = CommandConfiguration(abstract: "downtime.cancelled.")
        @OptionGroup var options: EventOptions
        @Option(help: "Why it was cancelled.") var reason: String
        func event(_ env: CommandEnvironment) throws -> RunbookEvent { RunbookEvent(type: "downtime.cancelled", data: ["reason": .string(reason)]) }
    }
}
