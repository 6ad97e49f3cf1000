import Events
import Foundation

/// The name of an event type (DOMAIN.md §2), e.g. `EventType.incidentOpened`.
///
/// The catalog types are the constants below: code names a type by its
/// constant, never by a string literal, so a misspelt name fails to compile.
/// Not `ExpressibleByStringLiteral` for the same reason: `EventType("...")`
/// is the one way in from text (an envelope's `type`, a policy's `after:`),
/// and such a value may name a type the catalog does not know
/// (`Catalog.isKnown`). The stored envelope keeps `type` as a String (module
/// Events does not depend on Domain); compare with `==` either way round.
/// Codable as its name (a JSON string).
public struct EventType: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    public let rawValue: String

    @inlinable public init(rawValue: String) { self.rawValue = rawValue }
    @inlinable public init(_ rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    public static func < (a: EventType, b: EventType) -> Bool { a.rawValue < b.rawValue }

    // MARK: The catalog's types, in catalog order

    public static let downtimePlanned = EventType(rawValue: "downtime.planned")
    public static let downtimeUpdated = EventType(rawValue: "downtime.updated")
    public static let downtimeStarted = EventType(rawValue: "downtime.started")
    public static let downtimeConcluded = EventType(rawValue: "downtime.concluded")
    public static let downtimeCancelled = EventType(rawValue: "downtime.cancelled")
    public static let incidentOpened = EventType(rawValue: "incident.opened")
    public static let incidentPrioritySet = EventType(rawValue: "incident.priority_set")
    public static let incidentUpdated = EventType(rawValue: "incident.updated")
    public static let incidentMilestone = EventType(rawValue: "incident.milestone")
    public static let incidentResolved = EventType(rawValue: "incident.resolved")
    public static let incidentReopened = EventType(rawValue: "incident.reopened")
    public static let notificationSent = EventType(rawValue: "notification.sent")
    public static let ticketSubmitted = EventType(rawValue: "ticket.submitted")
    public static let approvalRecorded = EventType(rawValue: "approval.recorded")
    public static let maintenanceWindowSet = EventType(rawValue: "maintenance_window.set")
    public static let maintenanceWindowVerified = EventType(rawValue: "maintenance_window.verified")
    public static let escalationRequested = EventType(rawValue: "escalation.requested")
    public static let noteAdded = EventType(rawValue: "note.added")
    public static let eventRetracted = EventType(rawValue: "event.retracted")
    public static let caseRoleAssigned = EventType(rawValue: "case.role_assigned")
    public static let directoryPublished = EventType(rawValue: "directory.published")
    public static let policyPublished = EventType(rawValue: "policy.published")

    // Cases of the kinds a policy declares, and decisions (issue 17)
    public static let caseOpened = EventType(rawValue: "case.opened")
    public static let caseClosed = EventType(rawValue: "case.closed")
    public static let decisionRecorded = EventType(rawValue: "decision.recorded")
}

// Comparisons with the String `type` of stored envelopes and events.
extension EventType {
    @inlinable public static func == (a: String, b: EventType) -> Bool { a == b.rawValue }
    @inlinable public static func == (a: EventType, b: String) -> Bool { a.rawValue == b }
    @inlinable public static func != (a: String, b: EventType) -> Bool { a != b.rawValue }
    @inlinable public static func != (a: EventType, b: String) -> Bool { a.rawValue != b }
    /// `switch envelope.type { case EventType.noteAdded: ... }`
    @inlinable public static func ~= (pattern: EventType, value: String) -> Bool { pattern.rawValue == value }
}

extension Envelope {
    /// `type` as an `EventType`.
    @inlinable public var eventType: EventType { EventType(rawValue: type) }

    /// An envelope whose type and data are `payload`'s.
    public init(_ payload: some CatalogPayload, caseID: String, occurredAt: Date, actor: String,
                source: EventSource = .cli, key: String? = nil) {
        self.init(type: payload.eventType.rawValue, caseID: caseID, occurredAt: occurredAt, actor: actor,
                  source: source, key: key, data: payload.json)
    }
}

extension RecordedEvent {
    /// `type` as an `EventType`.
    @inlinable public var eventType: EventType { EventType(rawValue: type) }
}
