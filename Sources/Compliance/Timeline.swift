import Events
import Foundation
import Domain

/// One line of a case's timeline.
public struct TimelineEntry: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case event
        /// An obligation's deadline, placed among the events.
        case deadline
    }

    public var kind: Kind
    public var at: Date
    /// Event entries: when it was recorded (differs from `at` when entered late).
    public var recordedAt: Date?
    public var position: Int64?
    public var eventID: String?
    public var type: String
    public var actor: String?
    /// The actor's roles in the directory in force when it happened.
    public var actorRoles: [String]
    public var summary: String
    public var channel: String?
    public var destination: String?
    public var audience: [String]
    /// The priority this event set, for priority events.
    public var priority: String?
    /// This event was retracted: it stays in the timeline but is not evidence.
    public var retracted: Bool
    public var retractionReason: String?
    /// Deadline entries: the rule, occurrence and verdict.
    public var ruleID: String?
    public var verdict: Verdict?

    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "kind": .string(kind.rawValue), "at": .string(RFC3339.format(at)), "type": .string(type),
            "summary": .string(summary), "retracted": .bool(retracted),
            "audience": .array(audience.map(JSONValue.string)),
            "actor_roles": .array(actorRoles.map(JSONValue.string)),
        ]
        o["recorded_at"] = recordedAt.map { .string(RFC3339.format($0)) }
        o["position"] = position.map(JSONValue.int)
        o["event_id"] = eventID.map(JSONValue.string)
        o["actor"] = actor.map(JSONValue.string)
        o["channel"] = channel.map(JSONValue.string)
        o["destination"] = destination.map(JSONValue.string)
        o["priority"] = priority.map(JSONValue.string)
        o["retraction_reason"] = retractionReason.map(JSONValue.string)
        o["rule"] = ruleID.map(JSONValue.string)
        o["verdict"] = verdict.map { .string($0.rawValue) }
        return .object(o)
    }
}

/// Builds timelines from a case's events: pure, shared by the projector,
/// `dtledger timeline` and the reports.
public enum TimelineBuilder {
    /// The event entries, in order of occurrence (ties by position).
    /// `decoded`: `decodeAll(events)`, when the caller has it.
    public static func entries(events: [RecordedEvent], decoded: [CatalogEvent?]? = nil,
                               directories: DirectoryHistory) -> [TimelineEntry] {
        var retractions: [String: String] = [:]
        // A retraction recorded by another person's login is not honoured (docs/policy.md).
        for e in events where e.type == EventType.eventRetracted && directories.honoursRetraction(e) {
            if let id = e.data["event_id"]?.stringValue, retractions[id] == nil {
                retractions[id] = e.data["reason"]?.stringValue ?? ""
            }
        }
        var lastPriority: String?
        var out: [TimelineEntry] = []
        let order = events.indices.sorted {
            (events[$0].occurredAt, events[$0].position) < (events[$1].occurredAt, events[$1].position)
        }
        for i in order {
            let e = events[i]
            let typed = decoded.map { $0[i] } ?? (try? Catalog.decode(type: e.type, data: e.data))
            out.append(entry(e, typed: typed, directories: directories, retractions: retractions, lastPriority: &lastPriority))
        }
        return out
    }

    /// Event entries merged with the deadlines of the case's obligations.
    public static func withDeadlines(_ entries: [TimelineEntry], evaluation: CaseEvaluation) -> [TimelineEntry] {
        var all = entries
        let positions = Dictionary(uniqueKeysWithValues: entries.compactMap { e in e.eventID.map { ($0, e.position ?? 0) } })
        for o in evaluation.obligations {
            guard let deadline = o.deadline, o.verdict != .notApplicable else { continue }
            let label = o.occurrence.map { occ in " [\(positions[occ].map { "after #\($0)" } ?? occ)]" } ?? ""
            all.append(TimelineEntry(
                kind: .deadline, at: deadline, recordedAt: nil, position: nil, eventID: nil, type: "deadline",
                actor: nil, actorRoles: [], summary: "Due: \(o.ruleID)\(label) — \(o.title) (\(o.verdict.rawValue))",
                channel: nil, destination: nil, audience: [], priority: nil, retracted: false,
                retractionReason: nil, ruleID: o.ruleID, verdict: o.verdict))
        }
        // Stable: events before deadlines at the same instant.
        return all.enumerated().sorted {
            ($0.element.at, $0.element.kind == .deadline ? 1 : 0, $0.offset) <
                ($1.element.at, $1.element.kind == .deadline ? 1 : 0, $1.offset)
        }.map(\.element)
    }

    static func entry(_ e: RecordedEvent, typed: CatalogEvent?, directories: DirectoryHistory, retractions: [String: String],
                      lastPriority: inout String?) -> TimelineEntry {
        let roles = directories.at(e.occurredAt)?.person(handle: e.actor)?.roles ?? []
        var entry = TimelineEntry(
            kind: .event, at: e.occurredAt, recordedAt: e.recordedAt, position: e.position, eventID: e.id,
            type: e.type, actor: e.actor, actorRoles: roles, summary: e.type, channel: nil, destination: nil,
            audience: [], priority: nil, retracted: retractions[e.id] != nil,
            retractionReason: retractions[e.id], ruleID: nil, verdict: nil)
        guard let typed else { return entry }
        switch typed {
        case .downtimePlanned(let d):
            entry.summary = "Downtime planned: \(d.title) — window \(RFC3339.format(d.window.start)) to \(RFC3339.format(d.window.end)); reason: \(d.reason)"
        case .downtimeUpdated(let d):
            var parts: [String] = []
            if let w = d.window { parts.append("window moved to \(RFC3339.format(w.start)) – \(RFC3339.format(w.end))") }
            if d.reason != nil { parts.append("reason") }
            if d.anticipatedImpact != nil { parts.append("anticipated impact") }
            if d.rollbackPlan != nil { parts.append("rollback plan") }
            entry.summary = "Downtime updated: " + (parts.isEmpty ? "details" : parts.joined(separator: ", "))
        case .downtimeStarted: entry.summary = "Downtime started"
        case .downtimeConcluded(let d): entry.summary = "Downtime concluded (\(d.outcome.rawValue))\(d.note.map { ": \($0)" } ?? "")"
        case .downtimeCancelled(let reason): entry.summary = "Downtime cancelled: \(reason)"
        case .incidentOpened(let i):
            entry.summary = "Incident opened: \(i.summary) (started \(RFC3339.format(i.startedAt)))"
        case .prioritySet(let p):
            let previous = lastPriority
            if !entry.retracted { lastPriority = p.priority.rawValue }
            entry.priority = p.priority.rawValue
            entry.summary = (previous.map { "Priority changed \($0) → \(p.priority.rawValue)" } ?? "Priority rated \(p.priority.rawValue)")
                + (p.reason.map { ": \($0)" } ?? "")
        case .incidentUpdated: entry.summary = "Incident details updated"
        case .milestone(let m): entry.summary = "Milestone: \(String(m.kind.rawValue.map { $0 == "_" ? " " : $0 }))\(m.note.map { " — \($0)" } ?? "")"
        case .incidentResolved(let resolution): entry.summary = "Incident resolved: \(resolution)"
        case .incidentReopened(let reason): entry.summary = "Incident reopened: \(reason)"
        case .notificationSent(let n):
            entry.channel = n.channel.rawValue
            entry.destination = n.destination
            entry.audience = n.audience
            let what = n.edits != nil ? "edit of an earlier message" : "\(n.purpose.rawValue) message"
            entry.summary = "\(n.channel.displayName) \(what) to \(n.destination)"
        case .ticketSubmitted(let t): entry.summary = "Ticket submitted: \(t.system.uppercased()) \(t.number) (\(t.purpose.rawValue))"
        case .approvalRecorded(let a): entry.summary = "Approval: \(a.approver) \(a.decision.rawValue) \(a.ticket)"
        case .maintenanceWindowSet(let w):
            entry.summary = "Maintenance window \(w.windowID) set in \(w.system): \(RFC3339.format(w.window.start)) to \(RFC3339.format(w.window.end))"
        case .maintenanceWindowVerified(let w): entry.summary = "Maintenance window \(w.windowID) verified"
        case .escalationRequested(let x): entry.summary = "Escalated to \(x.to)\(x.reference.map { " (\($0))" } ?? "")"
        case .noteAdded(let text): entry.summary = "Note: \(text)"
        case .eventRetracted(let r): entry.summary = "Retracted event \(r.eventID): \(r.reason)"
        case .caseRoleAssigned(let r): entry.summary = "Case role \(r.role) assigned to \(r.person)\(r.note.map { ": \($0)" } ?? "")"
        case .directoryPublished: entry.summary = "Directory published"
        case .policyPublished(let p): entry.summary = "Policy \(p.policy.name) v\(p.policy.version) published"
        case .caseOpened(let o): entry.summary = "Case opened (\(o.kind.rawValue.replacingOccurrences(of: "_", with: " "))): \(o.title)"
        case .caseClosed(let c):
            entry.summary = "Case closed" + (c.outcome.map { ": \($0)" } ?? "") + (c.note.map { " — \($0)" } ?? "")
        case .decisionRecorded(let d):
            entry.summary = "Decision \(d.decision): \(d.outcome)" + (d.rationale.map { " — \($0)" } ?? "")
        }
        return entry
    }
}
