import Events
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

    /// Every event type, in catalog order (DOMAIN.md §2): the names of
    /// `catalog`.
    public static let knownTypes: [String] = catalog.map(\.type)

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

    typealias Decoder = @Sendable (JSONValue) throws(ValidationError) -> CatalogEvent

    /// Each event type with its decoder, in catalog order.
    static let catalog: [(type: String, decode: Decoder)] = [
        ("downtime.planned", { d throws(ValidationError) in .downtimePlanned(try DowntimePlanned(data: d)) }),
        ("downtime.updated", { d throws(ValidationError) in .downtimeUpdated(try DowntimeUpdated(data: d)) }),
        ("downtime.started", { d throws(ValidationError) in
            _ = try FieldReader(d, path: "data")
            return .downtimeStarted
        }),
        ("downtime.concluded", { d throws(ValidationError) in .downtimeConcluded(try DowntimeConcluded(data: d)) }),
        ("downtime.cancelled", { d throws(ValidationError) in .downtimeCancelled(reason: try TextOnly(data: d, field: "reason").text) }),
        ("incident.opened", { d throws(ValidationError) in .incidentOpened(try IncidentOpened(data: d)) }),
        ("incident.priority_set", { d throws(ValidationError) in .prioritySet(try PrioritySet(data: d)) }),
        ("incident.updated", { d throws(ValidationError) in .incidentUpdated(try IncidentUpdated(data: d)) }),
        ("incident.milestone", { d throws(ValidationError) in .milestone(try IncidentMilestone(data: d)) }),
        ("incident.resolved", { d throws(ValidationError) in .incidentResolved(resolution: try TextOnly(data: d, field: "resolution").text) }),
        ("incident.reopened", { d throws(ValidationError) in .incidentReopened(reason: try TextOnly(data: d, field: "reason").text) }),
        ("notification.sent", { d throws(ValidationError) in .notificationSent(try NotificationSent(data: d)) }),
        ("ticket.submitted", { d throws(ValidationError) in .ticketSubmitted(try TicketSubmitted(data: d)) }),
        ("approval.recorded", { d throws(ValidationError) in .approvalRecorded(try ApprovalRecorded(data: d)) }),
        ("maintenance_window.set", { d throws(ValidationError) in .maintenanceWindowSet(try MaintenanceWindowSet(data: d)) }),
        ("maintenance_window.verified", { d throws(ValidationError) in .maintenanceWindowVerified(try MaintenanceWindowVerified(data: d)) }),
        ("escalation.requested", { d throws(ValidationError) in .escalationRequested(try EscalationRequested(data: d)) }),
        ("note.added", { d throws(ValidationError) in .noteAdded(text: try TextOnly(data: d, field: "text").text) }),
        ("event.retracted", { d throws(ValidationError) in .eventRetracted(try EventRetracted(data: d)) }),
        ("directory.published", { d throws(ValidationError) in
            do throws(ValidationError) {
                return .directoryPublished(try Directory(json: d))
            } catch {
                throw ValidationError(field: "data" + (error.field.map { "." + $0 } ?? ""), error.message)
            }
        }),
        ("policy.published", { d throws(ValidationError) in .policyPublished(try PolicyPublished(data: d)) }),
    ]

    /// `catalog` by type: an event's decoder found with one lookup (a
    /// `switch` over the names compared its type with them one by one).
    static let decoders: [String: Decoder] = Dictionary(uniqueKeysWithValues: catalog.map { ($0.type, $0.decode) })

    /// Decodes `data` for `type`; errors name the field.
    public static func decode(type: String, data: JSONValue) throws(ValidationError) -> CatalogEvent {
        guard let decoder = decoders[type] else {
            throw ValidationError(field: "type", "unknown event type '\(printable(type))'; expected one of \(knownTypes.joined(separator: ", "))")
        }
        return try decoder(data)
    }
}
