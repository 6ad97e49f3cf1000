import Events
import Foundation

/// Typed `data` of each catalog event, decoded from JSON with errors that
/// name the field (`data.window.start`). The validator, the rule engine, the
/// CLI and the importers all use these: one source of truth. Unknown extra
/// fields stay in the stored JSON; these structs keep only what the domain
/// reads. Each payload's `json` is the form the CLI writes (CatalogPayload).

public struct Impact: Sendable, Equatable {
    public var users: Int64?
    public var services: [String]

    public init(users: Int64? = nil, services: [String]) {
        self.users = users
        self.services = services
    }

    init(_ r: FieldReader) throws(ValidationError) {
        users = try r.optionalInt("users")
        services = try r.stringArray("services")
    }

    /// `{"services": [...], "users": N}` (users left out when unknown).
    public var json: JSONValue {
        var o = JSONObjectBuilder()
        o.add("services", services)
        o.add("users", users)
        return o.json
    }
}

public struct TimeWindow: Sendable, Equatable {
    public var start: Date
    public var end: Date

    public init(start: Date, end: Date) {
        self.start = start
        self.end = end
    }

    init(_ r: FieldReader, startKey: String = "start", endKey: String = "end") throws(ValidationError) {
        start = try r.time(startKey)
        end = try r.time(endKey)
        guard end > start else {
            throw ValidationError(field: r.field(endKey), "must be after \(startKey)")
        }
    }

    public func covers(_ other: TimeWindow) -> Bool { start <= other.start && end >= other.end }

    /// Adds `start` and `end` to `o` (as RFC 3339 text).
    func add(to o: inout JSONObjectBuilder, startKey: String = "start", endKey: String = "end") {
        o.add(startKey, start)
        o.add(endKey, end)
    }

    /// `{"start": ..., "end": ...}`
    public var json: JSONValue {
        var o = JSONObjectBuilder()
        add(to: &o)
        return o.json
    }
}

public struct DowntimePlanned: CatalogPayload, Equatable {
    public static let eventType = EventType.downtimePlanned

    public var team: Team
    public var title: String
    public var reason: String
    public var anticipatedImpact: Impact
    public var window: TimeWindow
    public var rollbackPlan: String
    public var product: String?
    public var impactsMobile: Bool
    public var communicationOwner: String?
    /// Case attributes (`{users_affected: 1200}`); nil when not given.
    public var attributes: [String: AttributeValue]?

    public init(team: Team, title: String, reason: String, anticipatedImpact: Impact, window: TimeWindow,
                rollbackPlan: String, product: String? = nil, impactsMobile: Bool = false, communicationOwner: String? = nil,
                attributes: [String: AttributeValue]? = nil) {
        self.team = team
        self.title = title
        self.reason = reason
        self.anticipatedImpact = anticipatedImpact
        self.window = window
        self.rollbackPlan = rollbackPlan
        self.product = product
        self.impactsMobile = impactsMobile
        self.communicationOwner = communicationOwner
        self.attributes = attributes
    }

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        team = try r.enumValue("team", Team.self)
        title = try r.string("title")
        reason = try r.string("reason")
        anticipatedImpact = try Impact(r.object("anticipated_impact"))
        window = try TimeWindow(r.object("window"))
        rollbackPlan = try r.string("rollback_plan")
        product = try r.optionalString("product")
        impactsMobile = try r.bool("impacts_mobile", default: false)
        communicationOwner = try r.optionalString("communication_owner")
        attributes = try AttributeValue.attributes(r.value("attributes"), field: r.field("attributes"))
    }

    /// `impacts_mobile` is always written.
    public var json: JSONValue {
        var o = JSONObjectBuilder()
        o.add("team", team)
        o.add("title", title)
        o.add("reason", reason)
        o.add("anticipated_impact", anticipatedImpact.json)
        o.add("window", window.json)
        o.add("rollback_plan", rollbackPlan)
        o.add("product", product)
        o.add("impacts_mobile", impactsMobile)
        o.add("communication_owner", communicationOwner)
        o.add("attributes", AttributeValue.json(attributes))
        return o.json
    }
}

public struct DowntimeUpdated: CatalogPayload, Equatable {
    public static let eventType = EventType.downtimeUpdated

    public var reason: String?
    public var anticipatedImpact: Impact?
    public var window: TimeWindow?
    public var rollbackPlan: String?
    public var title: String?
    public var product: String?
    public var impactsMobile: Bool?
    public var communicationOwner: String?
    /// Case attributes this update sets (others keep their values).
    public var attributes: [String: AttributeValue]?

    /// At least one field must be given for the event to validate.
    public init(reason: String? = nil, anticipatedImpact: Impact? = nil, window: TimeWindow? = nil, rollbackPlan: String? = nil,
                title: String? = nil, product: String? = nil, impactsMobile: Bool? = nil, communicationOwner: String? = nil,
                attributes: [String: AttributeValue]? = nil) {
        self.reason = reason
        self.anticipatedImpact = anticipatedImpact
        self.window = window
        self.rollbackPlan = rollbackPlan
        self.title = title
        self.product = product
        self.impactsMobile = impactsMobile
        self.communicationOwner = communicationOwner
        self.attributes = attributes
    }

    static let fields = ["reason", "anticipated_impact", "window", "rollback_plan",
                         "title", "product", "impacts_mobile", "communication_owner", "attributes"]

    /// True when no field is given: such an event names no change and does not validate.
    public var isEmpty: Bool { json == .object([:]) }

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        reason = try r.optionalString("reason")
        anticipatedImpact = try r.optionalObject("anticipated_impact").map { (o) throws(ValidationError) in try Impact(o) }
        window = try r.optionalObject("window").map { (o) throws(ValidationError) in try TimeWindow(o) }
        rollbackPlan = try r.optionalString("rollback_plan")
        title = try r.optionalString("title")
        product = try r.optionalString("product")
        impactsMobile = try r.optionalBool("impacts_mobile")
        communicationOwner = try r.optionalString("communication_owner")
        attributes = try AttributeValue.attributes(r.value("attributes"), field: r.field("attributes"), update: true)
        try r.requireAny(of: Self.fields)
    }

    public var json: JSONValue {
        var o = JSONObjectBuilder()
        o.add("reason", reason)
        o.add("anticipated_impact", anticipatedImpact?.json)
        o.add("window", window?.json)
        o.add("rollback_plan", rollbackPlan)
        o.add("title", title)
        o.add("product", product)
        o.add("impacts_mobile", impactsMobile)
        o.add("communication_owner", communicationOwner)
        o.add("attributes", AttributeValue.json(attributes))
        return o.json
    }
}

/// `downtime.started`: no fields.
public struct DowntimeStarted: CatalogPayload, Equatable {
    public static let eventType = EventType.downtimeStarted

    public init() {}

    public init(data: JSONValue) throws(ValidationError) {
        _ = try FieldReader(data, path: "data")
    }

    public var json: JSONValue { .object([:]) }
}

public struct DowntimeConcluded: CatalogPayload, Equatable {
    public static let eventType = EventType.downtimeConcluded

    public var outcome: DowntimeOutcome
    public var note: String?

    public init(outcome: DowntimeOutcome, note: String? = nil) {
        self.outcome = outcome
        self.note = note
    }

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        outcome = try r.enumValue("outcome", DowntimeOutcome.self)
        note = try r.optionalString("note")
    }

    public var json: JSONValue {
        var o = JSONObjectBuilder()
        o.add("outcome", outcome)
        o.add("note", note)
        return o.json
    }
}

public struct IncidentOpened: CatalogPayload, Equatable {
    public static let eventType = EventType.incidentOpened

    public var team: Team
    public var summary: String
    public var estimatedUserImpact: Impact
    public var startedAt: Date
    public var product: String?
    /// The two flags as the event states them; nil when it leaves them out
    /// (they then count as false). The CLI states both; PagerDuty neither.
    public var statedDataCompromiseSuspected: Bool?
    public var statedImpactsMobile: Bool?
    /// Case attributes (`{users_affected: 1200}`); nil when not given.
    public var attributes: [String: AttributeValue]?

    public var dataCompromiseSuspected: Bool {
        get { statedDataCompromiseSuspected ?? false }
        set { statedDataCompromiseSuspected = newValue }
    }

    public var impactsMobile: Bool {
        get { statedImpactsMobile ?? false }
        set { statedImpactsMobile = newValue }
    }

    /// `dataCompromiseSuspected` and `impactsMobile` are written when given
    /// (the CLI gives both), left out when nil.
    public init(team: Team, summary: String, estimatedUserImpact: Impact, startedAt: Date, product: String? = nil,
                dataCompromiseSuspected: Bool? = nil, impactsMobile: Bool? = nil, attributes: [String: AttributeValue]? = nil) {
        self.team = team
        self.summary = summary
        self.estimatedUserImpact = estimatedUserImpact
        self.startedAt = startedAt
        self.product = product
        statedDataCompromiseSuspected = dataCompromiseSuspected
        statedImpactsMobile = impactsMobile
        self.attributes = attributes
    }

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        team = try r.enumValue("team", Team.self)
        summary = try r.string("summary")
        estimatedUserImpact = try Impact(r.object("estimated_user_impact"))
        startedAt = try r.time("started_at")
        product = try r.optionalString("product")
        statedDataCompromiseSuspected = try r.optionalBool("data_compromise_suspected")
        statedImpactsMobile = try r.optionalBool("impacts_mobile")
        attributes = try AttributeValue.attributes(r.value("attributes"), field: r.field("attributes"))
    }

    public var json: JSONValue {
        var o = JSONObjectBuilder()
        o.add("team", team)
        o.add("summary", summary)
        o.add("estimated_user_impact", estimatedUserImpact.json)
        o.add("started_at", startedAt)
        o.add("product", product)
        o.add("data_compromise_suspected", statedDataCompromiseSuspected)
        o.add("impacts_mobile", statedImpactsMobile)
        o.add("attributes", AttributeValue.json(attributes))
        return o.json
    }
}

public struct PrioritySet: CatalogPayload, Equatable {
    public static let eventType = EventType.incidentPrioritySet

    public var priority: Priority
    public var reason: String?

    public init(priority: Priority, reason: String? = nil) {
        self.priority = priority
        self.reason = reason
    }

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        priority = try r.enumValue("priority", Priority.self)
        reason = try r.optionalString("reason")
    }

    public var json: JSONValue {
        var o = JSONObjectBuilder()
        o.add("priority", priority)
        o.add("reason", reason)
        return o.json
    }
}

public struct IncidentUpdated: CatalogPayload, Equatable {
    public static let eventType = EventType.incidentUpdated

    public var summary: String?
    public var estimatedUserImpact: Impact?
    public var dataCompromiseSuspected: Bool?
    public var impactsMobile: Bool?
    public var product: String?
    /// Case attributes this update sets (others keep their values).
    public var attributes: [String: AttributeValue]?

    /// At least one field must be given for the event to validate.
    public init(summary: String? = nil, estimatedUserImpact: Impact? = nil, dataCompromiseSuspected: Bool? = nil,
                impactsMobile: Bool? = nil, product: String? = nil, attributes: [String: AttributeValue]? = nil) {
        self.summary = summary
        self.estimatedUserImpact = estimatedUserImpact
        self.dataCompromiseSuspected = dataCompromiseSuspected
        self.impactsMobile = impactsMobile
        self.product = product
        self.attributes = attributes
    }

    static let fields = ["summary", "estimated_user_impact", "data_compromise_suspected", "impacts_mobile", "product",
                         "attributes"]

    /// True when no field is given: such an event names no change and does not validate.
    public var isEmpty: Bool { json == .object([:]) }

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        summary = try r.optionalString("summary")
        estimatedUserImpact = try r.optionalObject("estimated_user_impact").map { (o) throws(ValidationError) in try Impact(o) }
        dataCompromiseSuspected = try r.optionalBool("data_compromise_suspected")
        impactsMobile = try r.optionalBool("impacts_mobile")
        product = try r.optionalString("product")
        attributes = try AttributeValue.attributes(r.value("attributes"), field: r.field("attributes"), update: true)
        try r.requireAny(of: Self.fields)
    }

    public var json: JSONValue {
        var o = JSONObjectBuilder()
        o.add("summary", summary)
        o.add("estimated_user_impact", estimatedUserImpact?.json)
        o.add("data_compromise_suspected", dataCompromiseSuspected)
        o.add("impacts_mobile", impactsMobile)
        o.add("product", product)
        o.add("attributes", AttributeValue.json(attributes))
        return o.json
    }
}

public struct IncidentMilestone: CatalogPayload, Equatable {
    public static let eventType = EventType.incidentMilestone

    public var kind: MilestoneKind
    public var note: String?

    public init(kind: MilestoneKind, note: String? = nil) {
        self.kind = kind
        self.note = note
    }

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        kind = try r.enumValue("kind", MilestoneKind.self)
        note = try r.optionalString("note")
    }

    public var json: JSONValue {
        var o = JSONObjectBuilder()
        o.add("kind", kind)
        o.add("note", note)
        return o.json
    }
}

public struct NotificationSent: CatalogPayload, Equatable {
    public static let eventType = EventType.notificationSent

    public var channel: Channel
    public var destination: String
    public var audience: [String]
    public var purpose: NotificationPurpose
    /// Field name -> the text the message carried (numbers and booleans as text).
    public var content: [String: String]
    public var messageRef: String?
    public var edits: String?

    public init(channel: Channel, destination: String, audience: [String], purpose: NotificationPurpose,
                content: [String: String], messageRef: String? = nil, edits: String? = nil) {
        self.channel = channel
        self.destination = destination
        self.audience = audience
        self.purpose = purpose
        self.content = content
        self.messageRef = messageRef
        self.edits = edits
    }

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        channel = try r.openValue("channel", Channel.self, what: "channel")
        destination = try r.string("destination")
        audience = try r.stringArray("audience")
        purpose = try r.enumValue("purpose", NotificationPurpose.self)
        let c = try r.object("content")
        var content = [String: String](minimumCapacity: c.object.count)
        for (name, value) in c.object {
            switch value {
            case .string(let s): content[name] = s
            case .int(let i): content[name] = String(i)
            case .double(let d): content[name] = String(d)
            case .bool(let b): content[name] = String(b)
            case .null: continue
            default:
                throw ValidationError(field: c.field(name), "expected text, got \(value.kindName)")
            }
        }
        self.content = content
        messageRef = try r.optionalString("message_ref")
        edits = try r.optionalString("edits")
    }

    /// `content` as an object of strings.
    public var json: JSONValue {
        var o = JSONObjectBuilder()
        o.add("channel", channel)
        o.add("destination", destination)
        o.add("audience", audience)
        o.add("purpose", purpose)
        o.add("content", .object(content.mapValues(JSONValue.string)))
        o.add("message_ref", messageRef)
        o.add("edits", edits)
        return o.json
    }
}

public struct TicketSubmitted: CatalogPayload, Equatable {
    public static let eventType = EventType.ticketSubmitted

    public var system: String
    public var number: String
    public var purpose: TicketPurpose
    public var url: String?

    public init(system: String, number: String, purpose: TicketPurpose, url: String? = nil) {
        self.system = system
        self.number = number
        self.purpose = purpose
        self.url = url
    }

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        system = try r.string("system")
        number = try r.string("number")
        purpose = try r.enumValue("purpose", TicketPurpose.self)
        url = try r.optionalString("url")
    }

    public var json: JSONValue {
        var o = JSONObjectBuilder()
        o.add("system", system)
        o.add("number", number)
        o.add("purpose", purpose)
        o.add("url", url)
        return o.json
    }
}

public struct ApprovalRecorded: CatalogPayload, Equatable {
    public static let eventType = EventType.approvalRecorded

    public var ticket: String
    public var approver: String
    public var decision: ApprovalDecision

    public init(ticket: String, approver: String, decision: ApprovalDecision) {
        self.ticket = ticket
        self.approver = approver
        self.decision = decision
    }

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        ticket = try r.string("ticket")
        approver = try r.string("approver")
        decision = try r.enumValue("decision", ApprovalDecision.self)
    }

    public var json: JSONValue {
        var o = JSONObjectBuilder()
        o.add("ticket", ticket)
        o.add("approver", approver)
        o.add("decision", decision)
        return o.json
    }
}

public struct MaintenanceWindowSet: CatalogPayload, Equatable {
    public static let eventType = EventType.maintenanceWindowSet

    public var system: String
    public var windowID: String
    public var window: TimeWindow
    public var services: [String]

    public init(system: String, windowID: String, window: TimeWindow, services: [String]) {
        self.system = system
        self.windowID = windowID
        self.window = window
        self.services = services
    }

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        system = try r.string("system")
        windowID = try r.string("window_id")
        window = try TimeWindow(r)
        services = try r.stringArray("services")
    }

    /// The window's `start` and `end` at the top level.
    public var json: JSONValue {
        var o = JSONObjectBuilder()
        o.add("system", system)
        o.add("window_id", windowID)
        window.add(to: &o)
        o.add("services", services)
        return o.json
    }
}

public struct MaintenanceWindowVerified: CatalogPayload, Equatable {
    public static let eventType = EventType.maintenanceWindowVerified

    public var windowID: String

    public init(windowID: String) {
        self.windowID = windowID
    }

    public init(data: JSONValue) throws(ValidationError) {
        windowID = try FieldReader(data, path: "data").string("window_id")
    }

    public var json: JSONValue { .object(["window_id": .string(windowID)]) }
}

public struct EscalationRequested: CatalogPayload, Equatable {
    public static let eventType = EventType.escalationRequested

    public var to: String
    public var reference: String?

    public init(to: String, reference: String? = nil) {
        self.to = to
        self.reference = reference
    }

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        to = try r.string("to")
        reference = try r.optionalString("reference")
    }

    public var json: JSONValue {
        var o = JSONObjectBuilder()
        o.add("to", to)
        o.add("reference", reference)
        return o.json
    }
}

public struct EventRetracted: CatalogPayload, Equatable {
    public static let eventType = EventType.eventRetracted

    public var eventID: String
    public var reason: String

    public init(eventID: String, reason: String) {
        self.eventID = eventID
        self.reason = reason
    }

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        eventID = try r.string("event_id")
        reason = try r.string("reason")
    }

    public var json: JSONValue { .object(["event_id": .string(eventID), "reason": .string(reason)]) }
}

/// `data` with a single required text field (`downtime.cancelled` reason,
/// `incident.resolved` resolution, `incident.reopened` reason, `note.added` text).
public struct TextOnly: Sendable, Equatable {
    public var text: String

    public init(data: JSONValue, field: String) throws(ValidationError) {
        text = try FieldReader(data, path: "data").string(field)
    }
}

/// A payload whose data is one required text field.
protocol TextPayload: CatalogPayload {
    /// The field's name in `data`.
    static var field: String { get }
    init(text: String)
    var text: String { get }
}

extension TextPayload {
    public init(data: JSONValue) throws(ValidationError) {
        self.init(text: try TextOnly(data: data, field: Self.field).text)
    }

    public var json: JSONValue { .object([Self.field: .string(text)]) }
}

public struct DowntimeCancelled: TextPayload, Equatable {
    public static let eventType = EventType.downtimeCancelled
    static let field = "reason"

    public var reason: String

    public init(reason: String) { self.reason = reason }
    init(text: String) { reason = text }
    var text: String { reason }
}

public struct IncidentResolved: TextPayload, Equatable {
    public static let eventType = EventType.incidentResolved
    static let field = "resolution"

    public var resolution: String

    public init(resolution: String) { self.resolution = resolution }
    init(text: String) { resolution = text }
    var text: String { resolution }
}

public struct IncidentReopened: TextPayload, Equatable {
    public static let eventType = EventType.incidentReopened
    static let field = "reason"

    public var reason: String

    public init(reason: String) { self.reason = reason }
    init(text: String) { reason = text }
    var text: String { reason }
}

public struct NoteAdded: TextPayload, Equatable {
    public static let eventType = EventType.noteAdded
    static let field = "text"

    public var text: String

    public init(text: String) { self.text = text }
}

public struct PolicyPublished: CatalogPayload {
    public static let eventType = EventType.policyPublished

    public var effectiveFrom: Date
    public var policy: Policy
    /// Hex SHA-256 of the policy document's JSON text, as `Publishing` stores
    /// it beside the policy; nil when not given. Read as-is, not checked.
    public var sha256: String?
    /// Why a publication effective before its recording re-judges the past
    /// (`retroactive_reason`); the append functions refuse a retroactive
    /// publication without one.
    public var retroactiveReason: String?

    public init(effectiveFrom: Date, policy: Policy, sha256: String? = nil, retroactiveReason: String? = nil) {
        self.effectiveFrom = effectiveFrom
        self.policy = policy
        self.sha256 = sha256
        self.retroactiveReason = retroactiveReason
    }

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        effectiveFrom = try r.time("effective_from")
        sha256 = r.value("sha256")?.stringValue
        retroactiveReason = try r.optionalString("retroactive_reason")
        guard let doc = r.value("policy") else { throw r.missing("policy") }
        do {
            policy = try Policy(json: doc)
        } catch {
            throw ValidationError(field: "data.policy" + (error.field.map { "." + $0 } ?? ""), error.message)
        }
    }

    public var json: JSONValue {
        var o = JSONObjectBuilder()
        o.add("effective_from", effectiveFrom)
        o.add("policy", policy.document)
        o.add("sha256", sha256)
        o.add("retroactive_reason", retroactiveReason)
        return o.json
    }
}

/// `case.opened`: opens a case of a kind a policy declares (`case_kinds:`),
/// e.g. `vendor_outage_evaluation`. The two built-in kinds have their own
/// opening events, so naming one of them here is refused.
public struct CaseOpened: CatalogPayload, Equatable {
    public static let eventType = EventType.caseOpened

    public var kind: CaseKind
    public var title: String
    public var team: Team?
    public var product: String?
    public var communicationOwner: String?
    /// Case attributes (`{users_affected: 1200}`); nil when not given.
    public var attributes: [String: AttributeValue]?

    public init(kind: CaseKind, title: String, team: Team? = nil, product: String? = nil, communicationOwner: String? = nil,
                attributes: [String: AttributeValue]? = nil) {
        self.kind = kind
        self.title = title
        self.team = team
        self.product = product
        self.communicationOwner = communicationOwner
        self.attributes = attributes
    }

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        kind = try r.openValue("kind", CaseKind.self, what: "case kind")
        if kind.isBuiltIn {
            throw ValidationError(field: r.field("kind"),
                                  "\(kind == .incident ? "an" : "a") \(kind.rawValue) case is opened by \(Catalog.openingType(of: kind).rawValue), not \(EventType.caseOpened.rawValue)")
        }
        title = try r.string("title")
        team = try r.optionalEnum("team", Team.self)
        product = try r.optionalString("product")
        communicationOwner = try r.optionalString("communication_owner")
        attributes = try AttributeValue.attributes(r.value("attributes"), field: r.field("attributes"))
    }

    public var json: JSONValue {
        var o = JSONObjectBuilder()
        o.add("kind", kind)
        o.add("title", title)
        o.add("team", team)
        o.add("product", product)
        o.add("communication_owner", communicationOwner)
        o.add("attributes", AttributeValue.json(attributes))
        return o.json
    }
}

/// `case.closed`: closes a case opened by `case.opened` (`outcome` is free
/// text, e.g. "no impact on us").
public struct CaseClosed: CatalogPayload, Equatable {
    public static let eventType = EventType.caseClosed

    public var outcome: String?
    public var note: String?

    public init(outcome: String? = nil, note: String? = nil) {
        self.outcome = outcome
        self.note = note
    }

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        outcome = try r.optionalString("outcome")
        note = try r.optionalString("note")
    }

    public var json: JSONValue {
        var o = JSONObjectBuilder()
        o.add("outcome", outcome)
        o.add("note", note)
        return o.json
    }
}

/// `decision.recorded`: a decision of the case and its outcome (`decision:
/// affects_us, outcome: "no"`), in a case of any kind; the actor decided.
/// `decision` is a lowercase identifier (a policy names it); `outcome` is
/// text, compared with a policy's `outcomes` without case.
public struct DecisionRecorded: CatalogPayload, Equatable {
    public static let eventType = EventType.decisionRecorded

    public var decision: String
    public var outcome: String
    public var rationale: String?

    public init(decision: String, outcome: String, rationale: String? = nil) {
        self.decision = decision
        self.outcome = outcome
        self.rationale = rationale
    }

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        decision = try r.string("decision")
        guard Identifier.isValid(decision) else {
            throw ValidationError(field: r.field("decision"),
                                  "'\(printable(decision))' is not a decision name: expected a lowercase identifier (\(Identifier.pattern)), e.g. affects_us")
        }
        outcome = try r.string("outcome")
        rationale = try r.optionalString("rationale")
    }

    public var json: JSONValue {
        var o = JSONObjectBuilder()
        o.add("decision", decision)
        o.add("outcome", outcome)
        o.add("rationale", rationale)
        return o.json
    }
}
