import Events
import Foundation

/// Typed `data` of each catalog event, decoded from JSON with errors that
/// name the field (`data.window.start`). The validator and the rule engine
/// both use these: one source of truth. Unknown extra fields stay in the
/// stored JSON; these structs keep only what the domain reads.

public struct Impact: Sendable, Equatable {
    public var users: Int64?
    public var services: [String]

    init(_ r: FieldReader) throws(ValidationError) {
        users = try r.optionalInt("users")
        services = try r.stringArray("services")
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
}

public struct DowntimePlanned: Sendable, Equatable {
    public var team: Team
    public var title: String
    public var reason: String
    public var anticipatedImpact: Impact
    public var window: TimeWindow
    public var rollbackPlan: String
    public var product: String?
    public var impactsMobile: Bool
    public var communicationOwner: String?

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
    }
}

public struct DowntimeUpdated: Sendable, Equatable {
    public var reason: String?
    public var anticipatedImpact: Impact?
    public var window: TimeWindow?
    public var rollbackPlan: String?
    public var title: String?
    public var product: String?
    public var impactsMobile: Bool?
    public var communicationOwner: String?

    static let fields = ["reason", "anticipated_impact", "window", "rollback_plan",
                         "title", "product", "impacts_mobile", "communication_owner"]

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
        try r.requireAny(of: Self.fields)
    }
}

public struct DowntimeConcluded: Sendable, Equatable {
    public var outcome: DowntimeOutcome
    public var note: String?

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        outcome = try r.enumValue("outcome", DowntimeOutcome.self)
        note = try r.optionalString("note")
    }
}

public struct IncidentOpened: Sendable, Equatable {
    public var team: Team
    public var summary: String
    public var estimatedUserImpact: Impact
    public var startedAt: Date
    public var product: String?
    public var dataCompromiseSuspected: Bool
    public var impactsMobile: Bool

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        team = try r.enumValue("team", Team.self)
        summary = try r.string("summary")
        estimatedUserImpact = try Impact(r.object("estimated_user_impact"))
        startedAt = try r.time("started_at")
        product = try r.optionalString("product")
        dataCompromiseSuspected = try r.bool("data_compromise_suspected", default: false)
        impactsMobile = try r.bool("impacts_mobile", default: false)
    }
}

public struct PrioritySet: Sendable, Equatable {
    public var priority: Priority
    public var reason: String?

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        priority = try r.enumValue("priority", Priority.self)
        reason = try r.optionalString("reason")
    }
}

public struct IncidentUpdated: Sendable, Equatable {
    public var summary: String?
    public var estimatedUserImpact: Impact?
    public var dataCompromiseSuspected: Bool?
    public var impactsMobile: Bool?
    public var product: String?

    static let fields = ["summary", "estimated_user_impact", "data_compromise_suspected", "impacts_mobile", "product"]

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        summary = try r.optionalString("summary")
        estimatedUserImpact = try r.optionalObject("estimated_user_impact").map { (o) throws(ValidationError) in try Impact(o) }
        dataCompromiseSuspected = try r.optionalBool("data_compromise_suspected")
        impactsMobile = try r.optionalBool("impacts_mobile")
        product = try r.optionalString("product")
        try r.requireAny(of: Self.fields)
    }
}

public struct IncidentMilestone: Sendable, Equatable {
    public var kind: MilestoneKind
    public var note: String?

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        kind = try r.enumValue("kind", MilestoneKind.self)
        note = try r.optionalString("note")
    }
}

public struct NotificationSent: Sendable, Equatable {
    public var channel: Channel
    public var destination: String
    public var audience: [String]
    public var purpose: NotificationPurpose
    /// Field name -> the text the message carried (numbers and booleans as text).
    public var content: [String: String]
    public var messageRef: String?
    public var edits: String?

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        channel = try r.enumValue("channel", Channel.self)
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
}

public struct TicketSubmitted: Sendable, Equatable {
    public var system: String
    public var number: String
    public var purpose: TicketPurpose
    public var url: String?

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        system = try r.string("system")
        number = try r.string("number")
        purpose = try r.enumValue("purpose", TicketPurpose.self)
        url = try r.optionalString("url")
    }
}

public struct ApprovalRecorded: Sendable, Equatable {
    public var ticket: String
    public var approver: String
    public var decision: ApprovalDecision

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        ticket = try r.string("ticket")
        approver = try r.string("approver")
        decision = try r.enumValue("decision", ApprovalDecision.self)
    }
}

public struct MaintenanceWindowSet: Sendable, Equatable {
    public var system: String
    public var windowID: String
    public var window: TimeWindow
    public var services: [String]

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        system = try r.string("system")
        windowID = try r.string("window_id")
        window = try TimeWindow(r)
        services = try r.stringArray("services")
    }
}

public struct MaintenanceWindowVerified: Sendable, Equatable {
    public var windowID: String

    public init(data: JSONValue) throws(ValidationError) {
        windowID = try FieldReader(data, path: "data").string("window_id")
    }
}

public struct EscalationRequested: Sendable, Equatable {
    public var to: String
    public var reference: String?

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        to = try r.string("to")
        reference = try r.optionalString("reference")
    }
}

public struct EventRetracted: Sendable, Equatable {
    public var eventID: String
    public var reason: String

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        eventID = try r.string("event_id")
        reason = try r.string("reason")
    }
}

/// `data` with a single required text field (`downtime.cancelled` reason,
/// `incident.resolved` resolution, `incident.reopened` reason, `note.added` text).
public struct TextOnly: Sendable, Equatable {
    public var text: String

    public init(data: JSONValue, field: String) throws(ValidationError) {
        text = try FieldReader(data, path: "data").string(field)
    }
}

public struct PolicyPublished: Sendable {
    public var effectiveFrom: Date
    public var policy: Policy

    public init(effectiveFrom: Date, policy: Policy) {
        self.effectiveFrom = effectiveFrom
        self.policy = policy
    }

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        effectiveFrom = try r.time("effective_from")
        guard let doc = r.value("policy") else { throw r.missing("policy") }
        do {
            policy = try Policy(json: doc)
        } catch {
            throw ValidationError(field: "data.policy" + (error.field.map { "." + $0 } ?? ""), error.message)
        }
    }

    public var json: JSONValue {
        .object(["effective_from": .string(RFC3339.format(effectiveFrom)), "policy": policy.document])
    }
}
