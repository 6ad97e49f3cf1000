import Crypto
import Events
import Foundation
import Domain

/// PagerDuty webhook v3 payloads and REST maintenance windows -> catalog
/// events (docs/importers.md, "PagerDuty").
public enum PagerDutyImporter {
    /// PagerDuty's webhook v3 event types that are imported (PagerDuty's
    /// names, not the catalog's: `incident.triggered` becomes `incident.opened`).
    enum WebhookType: String, CaseIterable {
        case triggered = "incident.triggered"
        case acknowledged = "incident.acknowledged"
        case priorityUpdated = "incident.priority_updated"
        case resolved = "incident.resolved"
        case reopened = "incident.reopened"
        case annotated = "incident.annotated"
    }

    public static let supportedEventTypes = WebhookType.allCases.map(\.rawValue)

    public static func map(_ payloads: [RawPayload], context: ImportContext) -> ImportOutcome {
        Pipeline.run(payloads, source: .pagerduty, context: context, scheme: .pagerDutyV1,
                     verify: { p, secret, _ in Signatures.verifyPagerDuty(body: p.body, header: p.header("X-PagerDuty-Signature"), secret: secret) },
                     map: { p, body in mapBody(body, payload: p, context: context) })
    }

    static func mapBody(_ body: JSONValue, payload: RawPayload, context: ImportContext) -> [Mapped] {
        if let event = body["event"], event.objectValue != nil {
            return [webhook(event, context: context)]
        }
        if let list = body["maintenance_windows"]?.arrayValue {
            if list.isEmpty { return [.skip(sourceID: nil, reason: "an empty list of maintenance windows")] }
            return list.map { window($0, payload: payload, context: context) }
        }
        if let one = body["maintenance_window"], one.objectValue != nil {
            return [window(one, payload: payload, context: context)]
        }
        if body["type"]?.stringValue == "maintenance_window" {
            return [window(body, payload: payload, context: context)]
        }
        return [.skip(sourceID: nil, reason: "not a PagerDuty webhook v3 payload ({\"event\": ...}) or maintenance window ({\"maintenance_window(s)\": ...})")]
    }

    static func webhook(_ event: JSONValue, context: ImportContext) -> Mapped {
        let id = event.str("id")
        guard let id, !id.isEmpty else { return .skip(sourceID: nil, reason: "event.id is missing") }
        guard let typeName = event.str("event_type") else { return .skip(sourceID: id, reason: "event.event_type is missing") }
        guard let type = WebhookType(rawValue: typeName) else {
            return .skip(sourceID: id, reason: "event type \(printable(typeName)) is not imported (supported: \(supportedEventTypes.joined(separator: ", ")))")
        }
        guard let occurred = parseTime(event.str("occurred_at")) else {
            return .skip(sourceID: id, reason: "event.occurred_at is missing or not RFC 3339")
        }
        guard let data = event["data"], data.objectValue != nil else { return .skip(sourceID: id, reason: "event.data is missing") }
        // incident.annotated carries a note whose `incident` is the incident.
        let incident = type == .annotated ? (data["incident"] ?? .object([:])) : data
        let incidentID = incident.str("id")
        let serviceID = incident.str("service", "id")
        let service = serviceID.flatMap { context.config.pagerDutyServices[$0] }
        let agent = event["agent"]
        let actor = context.handle(ids: [agent?.str("id"), agent?.str("email"), agent?.str("summary")], at: occurred)
        var caseID = context.caseFor(ids: [incidentID, serviceID], texts: [incident.str("title")])
        var extra: [String: JSONValue] = [:]
        // dtledger serve: the case an earlier event of this incident was
        // mapped to. A new incident.triggered has none: the receiver
        // allocates a case and maps it again with caseOverride.
        if caseID == nil, let lookups = context.lookups, let incidentID, !incidentID.isEmpty,
           let c = lookups.caseForRef("pagerduty:incident:\(incidentID)") {
            caseID = c
            extra["case_inferred_by"] = .string("pagerduty_incident")
        }
        // Skips a config change would fix wait for a person under a receiver.
        let configCode: Unmapped.Code = context.lookups == nil ? .notMapped : .needsConfig
        if let incidentID { extra["pagerduty_incident"] = .string(incidentID) }
        if let url = incident.str("html_url") { extra["url"] = .string(url) }
        if let a = agent?.str("summary") { extra["source_actor"] = .string(a) }
        let payload: any CatalogPayload
        switch type {
        case .triggered:
            guard let title = incident.str("title") else { return .skip(sourceID: id, reason: "data.title is missing") }
            guard let teamName = service?.team ?? context.defaultTeam?.rawValue else {
                return .skip(sourceID: id, reason: "no team for service \(serviceID ?? "(none)"): set pagerduty.services.\(serviceID ?? "ID").team in the config, or --team", code: configCode)
            }
            // IngestConfig.parse refuses unknown teams; this is for a config changed in code.
            guard let team = Team(rawValue: teamName) else {
                return .skip(sourceID: id, reason: "team '\(printable(teamName))' of service \(serviceID ?? "(none)") is not one of \(Team.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let name = service?.name ?? incident.str("service", "summary") ?? serviceID ?? "unknown"
            // PagerDuty says nothing of data compromise or the mobile app: both flags are left out.
            payload = IncidentOpened(team: team, summary: title,
                                     estimatedUserImpact: Impact(services: service?.impactServices ?? [name]),
                                     startedAt: parseTime(incident.str("created_at")) ?? occurred, product: service?.product)
        case .priorityUpdated:
            guard let name = incident.str("priority", "summary") ?? incident.str("priority", "name") else {
                return .skip(sourceID: id, reason: "the incident has no priority (priority removed): nothing to record")
            }
            guard let p = priority(name, config: context.config) else {
                return .skip(sourceID: id, reason: "priority '\(printable(name))' is not P1..P4: map it in pagerduty.priorities", code: configCode)
            }
            payload = PrioritySet(priority: p, reason: "Priority set to \(name) in PagerDuty")
        case .acknowledged:
            payload = NoteAdded(text: "Acknowledged in PagerDuty by \(agent?.str("summary") ?? actor ?? "unknown")")
        case .resolved:
            let reason = incident.str("resolve_reason", "summary") ?? incident.str("resolve_reason")
            payload = IncidentResolved(resolution: reason ?? "Resolved in PagerDuty")
        case .reopened:
            payload = IncidentReopened(reason: "Reopened in PagerDuty")
        case .annotated:
            guard let content = data.str("content"), !content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                return .skip(sourceID: id, reason: "data.content (the note) is missing")
            }
            let labels = Labels.lines(content)
            if let kindText = labels.first(where: { $0.label == "milestone" })?.value {
                let name = kindText.lowercased().replacingOccurrences(of: " ", with: "_")
                guard let kind = MilestoneKind(rawValue: name) else {
                    return .skip(sourceID: id, reason: "Milestone: '\(printable(kindText))' is not one of \(MilestoneKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let note = content.components(separatedBy: .newlines)
                    .filter { !$0.lowercased().hasPrefix("milestone:") }.joined(separator: "\n")
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                payload = IncidentMilestone(kind: kind, note: note.isEmpty ? nil : note)
            } else {
                payload = NoteAdded(text: content)
            }
        }
        return .event(Draft(payload: payload, caseID: caseID, occurredAt: occurred, actor: actor, key: "pagerduty/\(id)",
                            sourceID: id, extra: extra))
    }

    static func priority(_ name: String, config: IngestConfig) -> Priority? {
        if let mapped = config.pagerDutyPriorities[name] { return Priority(rawValue: mapped) }
        let upper = name.uppercased()
        for p in Priority.allCases where upper == p.rawValue || upper.hasPrefix(p.rawValue + " ") || upper.hasPrefix(p.rawValue + "-") {
            return p
        }
        return nil
    }

    /// A maintenance window object of the REST API (`GET /maintenance_windows[/ID]`).
    static func window(_ w: JSONValue, payload: RawPayload, context: ImportContext) -> Mapped {
        guard let id = w.str("id") else { return .skip(sourceID: nil, reason: "maintenance window without an id") }
        guard let start = parseTime(w.str("start_time")), let end = parseTime(w.str("end_time")) else {
            return .skip(sourceID: id, reason: "start_time and end_time must be RFC 3339 times")
        }
        let services = w["services"]?.arrayValue ?? []
        let serviceIDs = services.compactMap { $0.str("id") }
        let names = services.map { s in
            s.str("id").flatMap { context.config.pagerDutyServices[$0]?.name } ?? s.str("summary") ?? s.str("id") ?? "unknown"
        }
        // When was it set? created_at when the export has it, else when the
        // saved payload was received (it existed then), else now.
        let setAt = parseTime(w.str("created_at")) ?? payload.receivedAt ?? context.now
        let actor = context.handle(ids: [w.str("created_by", "id"), w.str("created_by", "email"), w.str("created_by", "summary")], at: setAt)
        let caseID = context.caseFor(ids: [id] + serviceIDs, texts: [w.str("description"), w.str("summary")])
        var extra: [String: JSONValue] = ["occurred_at_from": .string(w.str("created_at") != nil ? "created_at" : payload.receivedAt != nil ? "received_at" : "import_time")]
        if let url = w.str("html_url") { extra["url"] = .string(url) }
        return .event(Draft(
            payload: MaintenanceWindowSet(system: "pagerduty", windowID: id, window: TimeWindow(start: start, end: end), services: names),
            caseID: caseID, occurredAt: setAt, actor: actor,
            key: windowKey(id: id, start: start, end: end, services: names, serve: context.lookups != nil),
            sourceID: id, extra: extra))
    }

    /// A window version's idempotency key: its id and times (as every import
    /// has keyed it) and, for `dtledger serve` (whose poller records a window
    /// again when anything of it changes), the services it covers too, so a
    /// window extended to another service is a new `maintenance_window.set`.
    static func windowKey(id: String, start: Date, end: Date, services: [String], serve: Bool) -> String {
        let base = "pagerduty/maintenance_window/\(id)/\(RFC3339.format(start))/\(RFC3339.format(end))"
        guard serve else { return base }
        let digest = SHA256.hash(data: Data(services.sorted().joined(separator: "\n").utf8))
        return base + "/" + Hex.encode(digest).prefix(16)
    }
}
