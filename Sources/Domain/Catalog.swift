import Events
import Foundation

/// One catalog event's typed data. The text-only events keep their text as
/// the associated value (`downtimeCancelled(reason:)`); `payload` gives every
/// case as its `CatalogPayload`.
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
    case caseRoleAssigned(CaseRoleAssigned)
    case directoryPublished(Directory)
    case policyPublished(PolicyPublished)
    case caseOpened(CaseOpened)
    case caseClosed(CaseClosed)
    case decisionRecorded(DecisionRecorded)

    /// The event's data as its payload type (the text-only cases as
    /// `DowntimeCancelled`, `IncidentResolved`, `IncidentReopened`, `NoteAdded`;
    /// `downtimeStarted` as `DowntimeStarted`).
    public var payload: any CatalogPayload {
        switch self {
        case .downtimePlanned(let p): p
        case .downtimeUpdated(let p): p
        case .downtimeStarted: DowntimeStarted()
        case .downtimeConcluded(let p): p
        case .downtimeCancelled(let reason): DowntimeCancelled(reason: reason)
        case .incidentOpened(let p): p
        case .prioritySet(let p): p
        case .incidentUpdated(let p): p
        case .milestone(let p): p
        case .incidentResolved(let resolution): IncidentResolved(resolution: resolution)
        case .incidentReopened(let reason): IncidentReopened(reason: reason)
        case .notificationSent(let p): p
        case .ticketSubmitted(let p): p
        case .approvalRecorded(let p): p
        case .maintenanceWindowSet(let p): p
        case .maintenanceWindowVerified(let p): p
        case .escalationRequested(let p): p
        case .noteAdded(let text): NoteAdded(text: text)
        case .eventRetracted(let p): p
        case .caseRoleAssigned(let p): p
        case .directoryPublished(let p): p
        case .policyPublished(let p): p
        case .caseOpened(let p): p
        case .caseClosed(let p): p
        case .decisionRecorded(let p): p
        }
    }

    /// The event's type.
    public var type: EventType { payload.eventType }
}

/// The event catalog of DOMAIN.md §2 as typed validation.
public enum Catalog {
    /// Stream (case id) of the reference-data events.
    public static let directoryStream = "directory"
    public static let policyStream = "policy"

    /// Every event type, in catalog order (DOMAIN.md §2): the types of `catalog`.
    public static let eventTypes: [EventType] = catalog.map(\.type)

    /// `eventTypes` as text.
    public static let knownTypes: [String] = eventTypes.map(\.rawValue)

    /// True for a type of the catalog.
    public static func isKnown(_ type: EventType) -> Bool { decoders[type.rawValue] != nil }

    /// Reference-data types and the stream each must be appended to.
    public static let referenceStreams: [String: String] = [
        EventType.directoryPublished.rawValue: directoryStream, EventType.policyPublished.rawValue: policyStream,
    ]

    /// The stream a reference-data type must be appended to; nil for case events.
    public static func referenceStream(of type: EventType) -> String? { referenceStreams[type.rawValue] }

    /// The types that may start a stream that does not exist yet: the
    /// case-opening types and the two reference-data types (what the ledger's
    /// append takes as `openingTypes`).
    public static let streamOpeningTypes: [EventType] = [
        .downtimePlanned, .incidentOpened, .directoryPublished, .policyPublished, .caseOpened,
    ]

    /// True for the events that open a case: `downtime.planned`,
    /// `incident.opened` and `case.opened` (a declared kind).
    public static func opensCase(_ type: String) -> Bool {
        caseKind(forOpeningType: type) != nil || type == EventType.caseOpened
    }

    public static func opensCase(_ type: EventType) -> Bool { opensCase(type.rawValue) }

    /// The kind a built-in opening type opens; nil for `case.opened`, whose
    /// kind is in its data (`caseKind(forOpeningType:data:)`), and for other types.
    public static func caseKind(forOpeningType type: String) -> CaseKind? {
        switch type {
        case EventType.downtimePlanned: .plannedDowntime
        case EventType.incidentOpened: .incident
        default: nil
        }
    }

    public static func caseKind(forOpeningType type: EventType) -> CaseKind? { caseKind(forOpeningType: type.rawValue) }

    /// The kind an opening event opens, `case.opened`'s from its data (nil
    /// when that does not validate); nil for events that do not open a case.
    public static func caseKind(forOpeningType type: String, data: JSONValue) -> CaseKind? {
        if type == EventType.caseOpened { return (try? CaseOpened(data: data))?.kind }
        return caseKind(forOpeningType: type)
    }

    /// The opening type of each case kind (`case.opened` for a declared kind).
    public static func openingType(of kind: CaseKind) -> EventType {
        switch kind {
        case .plannedDowntime: .downtimePlanned
        case .incident: .incidentOpened
        default: .caseOpened
        }
    }

    /// Type-name prefix of each case kind's own events (`downtime.`, `incident.`).
    static let kindPrefixes: [(prefix: String, kind: CaseKind)] = [
        (namespace(of: .downtimePlanned), .plannedDowntime), (namespace(of: .incidentOpened), .incident),
    ]

    /// `downtime.` for `downtime.planned`: the part up to and including the dot.
    static func namespace(of type: EventType) -> String {
        String(type.rawValue[...type.rawValue.firstIndex(of: ".")!])
    }

    /// The case kind an event type belongs to, nil for events of either kind
    /// (actions, notes, retractions) and for reference data.
    public static func caseKind(ofType type: String) -> CaseKind? {
        for (prefix, kind) in kindPrefixes where type.hasPrefix(prefix) { return kind }
        return nil
    }

    public static func caseKind(ofType type: EventType) -> CaseKind? { caseKind(ofType: type.rawValue) }

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

    /// A catalog entry: `P`'s type, and its decoder wrapped into the `CatalogEvent` case.
    private static func entry<P: CatalogPayload>(_ payload: P.Type, _ wrap: @escaping @Sendable (P) -> CatalogEvent)
        -> (type: EventType, decode: Decoder) {
        (P.eventType, { d throws(ValidationError) in wrap(try P(data: d)) })
    }

    /// Each event type with its decoder, in catalog order.
    static let catalog: [(type: EventType, decode: Decoder)] = [
        entry(DowntimePlanned.self, CatalogEvent.downtimePlanned),
        entry(DowntimeUpdated.self, CatalogEvent.downtimeUpdated),
        entry(DowntimeStarted.self) { _ in .downtimeStarted },
        entry(DowntimeConcluded.self, CatalogEvent.downtimeConcluded),
        entry(DowntimeCancelled.self) { .downtimeCancelled(reason: $0.reason) },
        entry(IncidentOpened.self, CatalogEvent.incidentOpened),
        entry(PrioritySet.self, CatalogEvent.prioritySet),
        entry(IncidentUpdated.self, CatalogEvent.incidentUpdated),
        entry(IncidentMilestone.self, CatalogEvent.milestone),
        entry(IncidentResolved.self) { .incidentResolved(resolution: $0.resolution) },
        entry(IncidentReopened.self) { .incidentReopened(reason: $0.reason) },
        entry(NotificationSent.self, CatalogEvent.notificationSent),
        entry(TicketSubmitted.self, CatalogEvent.ticketSubmitted),
        entry(ApprovalRecorded.self, CatalogEvent.approvalRecorded),
        entry(MaintenanceWindowSet.self, CatalogEvent.maintenanceWindowSet),
        entry(MaintenanceWindowVerified.self, CatalogEvent.maintenanceWindowVerified),
        entry(EscalationRequested.self, CatalogEvent.escalationRequested),
        entry(NoteAdded.self) { .noteAdded(text: $0.text) },
        entry(EventRetracted.self, CatalogEvent.eventRetracted),
        entry(CaseRoleAssigned.self, CatalogEvent.caseRoleAssigned),
        entry(Directory.self, CatalogEvent.directoryPublished),
        entry(PolicyPublished.self, CatalogEvent.policyPublished),
        entry(CaseOpened.self, CatalogEvent.caseOpened),
        entry(CaseClosed.self, CatalogEvent.caseClosed),
        entry(DecisionRecorded.self, CatalogEvent.decisionRecorded),
    ]

    /// `catalog` by type name: an event's decoder found with one lookup (a
    /// `switch` over the names compared its type with them one by one).
    static let decoders: [String: Decoder] = Dictionary(uniqueKeysWithValues: catalog.map { ($0.type.rawValue, $0.decode) })

    /// Decodes `data` for `type`; errors name the field.
    public static func decode(type: String, data: JSONValue) throws(ValidationError) -> CatalogEvent {
        guard let decoder = decoders[type] else {
            throw ValidationError(field: "type", "unknown event type '\(printable(type))'; expected one of \(knownTypes.joined(separator: ", "))")
        }
        return try decoder(data)
    }

    public static func decode(type: EventType, data: JSONValue) throws(ValidationError) -> CatalogEvent {
        try decode(type: type.rawValue, data: data)
    }
}
