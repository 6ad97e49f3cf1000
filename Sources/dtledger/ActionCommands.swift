import ArgumentParser
import Events
import Foundation
import Operations
import Domain

struct TicketCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ticket", abstract: "Record a ticket and its approval.", subcommands: [Submit.self, Approve.self])

    struct Submit: RunbookCommand {
        static let configuration = CommandConfiguration(abstract: "\(EventType.ticketSubmitted) (e.g. a SNOW change request).")
        @OptionGroup var options: EventOptions
        @Option(help: "snow (default), psets, ...") var system = "snow"
        @Option(help: "The ticket number, e.g. CHG0031337.") var number: String
        @Option(help: "downtime_approval, security_incident or other.") var purpose: TicketPurpose
        @Option(help: "Link to the ticket.") var url: String?
        func event(_ env: CommandEnvironment) throws -> RunbookEvent {
            RunbookEvent(TicketSubmitted(system: system, number: number, purpose: purpose, url: url))
        }
    }

    struct Approve: RunbookCommand {
        static let configuration = CommandConfiguration(abstract: "\(EventType.approvalRecorded): a ticket was approved or rejected.")
        @OptionGroup var options: EventOptions
        @Option(help: "The ticket number.") var ticket: String
        @Option(help: "Handle of the approver (default: the actor).") var approver: String?
        @Option(help: "approved (default) or rejected.") var decision: ApprovalDecision = .approved
        func event(_ env: CommandEnvironment) throws -> RunbookEvent {
            guard let who = approver ?? options.actor ?? env.defaultActor else { throw OperationError.usage("missing --approver") }
            return RunbookEvent(ApprovalRecorded(ticket: ticket, approver: who, decision: decision))
        }
    }
}

struct WindowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "window", abstract: "Record a maintenance window and its verification.", subcommands: [Set.self, Verify.self])

    struct Set: RunbookCommand {
        static let configuration = CommandConfiguration(abstract: "\(EventType.maintenanceWindowSet) (e.g. in PagerDuty).")
        @OptionGroup var options: EventOptions
        @Option(help: "pagerduty (default).") var system = "pagerduty"
        @Option(name: .customLong("window-id"), help: "The window's id, e.g. PW12345.") var windowID: String
        @Option(help: "Window start (RFC 3339).") var start: String
        @Option(help: "Window end (RFC 3339).") var end: String
        @Option(help: "Services covered (repeatable or comma-separated).") var services: [String] = []
        func event(_ env: CommandEnvironment) throws -> RunbookEvent {
            let list = Runbook.list(services)
            guard !list.isEmpty else { throw OperationError.usage("missing --services (the services the window covers)") }
            return RunbookEvent(MaintenanceWindowSet(system: system, windowID: windowID,
                                                     window: try Runbook.window(start: start, end: end), services: list))
        }
    }

    struct Verify: RunbookCommand {
        static let configuration = CommandConfiguration(abstract: "\(EventType.maintenanceWindowVerified): the actor reviewed the window.")
        @OptionGroup var options: EventOptions
        @Option(name: .customLong("window-id"), help: "The window's id.") var windowID: String
        func event(_ env: CommandEnvironment) throws -> RunbookEvent { RunbookEvent(MaintenanceWindowVerified(windowID: windowID)) }
    }
}

struct EscalateCommand: RunbookCommand {
    static let configuration = CommandConfiguration(commandName: "escalate", abstract: "\(EventType.escalationRequested) (csoc-dbrs, csoc, nsoc, mim, ...).")
    @OptionGroup var options: EventOptions
    @Option(help: "Who it was escalated to: csoc-dbrs, csoc, nsoc, mim, ...") var to: String
    @Option(help: "Their ticket or reference.") var reference: String?
    func event(_ env: CommandEnvironment) throws -> RunbookEvent {
        RunbookEvent(EscalationRequested(to: to, reference: reference))
    }
}

struct NoteCommand: RunbookCommand {
    static let configuration = CommandConfiguration(commandName: "note", abstract: "\(EventType.noteAdded): free text on the case's timeline.")
    @OptionGroup var options: EventOptions
    @Option(help: "The note.") var text: String
    func event(_ env: CommandEnvironment) throws -> RunbookEvent { RunbookEvent(NoteAdded(text: text)) }
}

struct RetractCommand: RunbookCommand {
    static let configuration = CommandConfiguration(
        commandName: "retract", abstract: "\(EventType.eventRetracted): an event of the case no longer counts as evidence (it stays in the ledger).")
    @OptionGroup var options: EventOptions
    @Argument(help: "The id of the event to retract.") var eventID: String
    @Option(help: "Why.") var reason: String
    func event(_ env: CommandEnvironment) throws -> RunbookEvent {
        guard UUID(uuidString: eventID) != nil else { throw OperationError.usage("EVENT_ID must be an event id (a UUID), not '\(printable(eventID))'") }
        return RunbookEvent(EventRetracted(eventID: eventID.lowercased(), reason: reason))
    }
}
