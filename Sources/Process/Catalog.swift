import Envelope
import Foundation

/// One catalog event's typed data.
public enum CatalogEvent: Sendable {
    case downtimePlanned(DowntimePlanned)
    case downtimeUpdated(DowntimeUpdated)
    case downtimeStarted
    case downtimeConcluded(DowntimeConcluded)
    case downtimeCancelled(reason: String)
    case incidentOpened(IncidentOpened)
    case prioritySet(PrioritySet)
    case incidentUpdated(IncidentUpdated)
    case milestone(IncidentMilestone)
    case incidentResolved(resolution: String)
    case incidentReopened(reason: String)
    case notificationSent(NotificationSent)
    case ticketSubmitted(TicketSubmitted)
    case approvalRecorded(ApprovalRecorded)
    case maintenanceWindowSet(MaintenanceWindowSet)
    case maintenanceWindowVerified(MaintenanceWindowVerified)
    case escalationRequested(EscalationRequested)
    case noteAdded(text: String)
    case eventRetracted(EventRetracted)
    case directoryPublished(Directory)
    case policyPublished(PolicyPublished)
}

/// The event catalog of DOMAIN.md §2 as typed validation.
public enum Catalog {
    /// Stream (case id) of the reference-data events.
    public static let directoryStream = "directory"
    public static let policyStream = "policy"

    public static let knownTypes: [String] = [
        "downtime.planned", "downtime.updated", "downtime.started", "downtime.concluded", "downtime.cancelled",
        "incident.opened", "incident.priority_set", "incident.updated", "incident.milestone",
        "incident.resolved", "incident.reopened",
        "notification.sent", "ticket.submitted", "approval.recorded",
        "maintenance_window.set", "maintenance_window.verified", "escalation.requested",
        "note.added", "event.retracted",
        "directory.published", "policy.published",
    ]

    /// Reference-data types and the stream each must be appended to.
    public static let referenceStreams: [String: String] = [
        "directory.published": directoryStream, "policy.published": policyStream,
    ]

    /// True for the two events that open a case.
    public static func opensCase(_ type: String) -> Bool {
        caseKind(forOpeningType: type) != nil
    }

    public static func caseKind(forOpeningType type: String) -> CaseKind? {
        switch type {
        case "downtime.planned": .plannedDowntime
        case "incident.opened": .incident
        default: nil
        }
    }

    /// The case kind an event type belongs to, nil for events of either kind
    /// (actions, notes, retractions) and for reference data.
    public static func caseKind(ofType type: String) -> CaseKind? {
        if type.hasPrefix("downtime.") { return .plannedDowntime }
        if type.hasPrefix("incident.") { return .incident }
        return nil
    }

    /// Checks the event's type and data against the catalog, and that
    /// reference data goes to its own stream (and case events do not).
    public static func validate(_ envelope: Envelope) throws(ValidationError) {
        if let stream = referenceStreams[envelope.type] {
            guard envelope.caseID == stream else {
                throw ValidationError(field: "case", "\(envelope.type) belongs to the stream '\(stream)', not '\(printable(envelope.caseID))'")
            }
        } else if referenceStreams.values.contains(envelope.caseID), knownTypes.contains(envelope.type) {
            throw ValidationError(field: "case", "'\(envelope.caseID)' is reserved for reference data; pick another case id")
        }
        _ = try decode(type: envelope.type, data: envelope.data)
    }

    /// Decodes `data` for `type`; errors name the field.
    public static func decode(type: String, data: JSONValue) throws(ValidationError) -> CatalogEvent {
        switch type {
        case "downtime.planned": return .downtimePlanned(try DowntimePlanned(data: data))
        case "downtime.updated": return .downtimeUpdated(try DowntimeUpdated(data: data))
        case "downtime.started":
            _ = try FieldReader(data, path: "data")
            return .downtimeStarted
        case "downtime.concluded": return .downtimeConcluded(try DowntimeConcluded(data: data))
        case "downtime.cancelled": return .downtimeCancelled(reason: try TextOnly(data: data, field: "reason").text)
        case "incident.opened": return .incidentOpened(try IncidentOpened(data: data))
        case "incident.priority_set": return .prioritySet(try PrioritySet(data: data))
        case "incident.updated": return .incidentUpdated(try IncidentUpdated(data: data))
        case "incident.milestone": return .milestone(try IncidentMilestone(data: data))
        case "incident.resolved": return .incidentResolved(resolution: try TextOnly(data: data, field: "resolution").text)
        case "incident.reopened": return .incidentReopened(reason: try TextOnly(data: data, field: "reason").text)
        case "notification.sent": return .notificationSent(try NotificationSent(data: data))
        case "ticket.submitted": return .ticketSubmitted(try TicketSubmitted(data: data))
        case "approval.recorded": return .approvalRecorded(try ApprovalRecorded(data: data))
        case "maintenance_window.set": return .maintenanceWindowSet(try MaintenanceWindowSet(data: data))
        case "maintenance_window.verified": return .maintenanceWindowVerified(try MaintenanceWindowVerified(data: data))
        case "escalation.requested": return .escalationRequested(try EscalationRequested(data: data))
        case "note.added": return .noteAdded(text: try TextOnly(data: data, field: "text").text)
        case "event.retracted": return .eventRetracted(try EventRetracted(data: data))
        case "directory.published":
            do {
                return .directoryPublished(try Directory(json: data))
            } catch {
                throw ValidationError(field: "data" + (error.field.map { "." + $0 } ?? ""), error.message)
            }
        case "policy.published": return .policyPublished(try PolicyPublished(data: data))
        default:
            throw ValidationError(field: "type", "unknown event type '\(printable(type))'; expected one of \(knownTypes.joined(separator: ", "))")
        }
    }
}
