import Compliance
import Envelope
import Foundation
import Postgres
import Process

/// The rows of the read models for one case, as text fields in table
/// column order (for parameterised INSERTs and for COPY alike).
struct CaseRows {
    let caseRow: [String?]
    let obligationRows: [[String?]]

    static func time(_ d: Date?) -> String? { d.map { RFC3339.format($0) } }

    /// `firstDecoded`: `Catalog.decode` of `events.first`, when the caller has it.
    init(report: CaseReport, events: [RecordedEvent], firstDecoded: CatalogEvent?? = nil) {
        let e = report.evaluation
        let c = report.counts
        let asOf = RFC3339.format(e.asOf)
        var title: String?
        if let first = events.first,
           let typed = firstDecoded ?? (try? Catalog.decode(type: first.type, data: first.data)) {
            switch typed {
            case .incidentOpened(let i): title = i.summary
            case .downtimePlanned(let d): title = d.title
            default: break
            }
        }
        let status: String = if e.cancelledAt != nil { "cancelled" }
            else if e.concludedAt != nil { "concluded" }
            else if e.resolvedAt != nil { "resolved" }
            else { "open" }
        let nextDeadline = e.obligations.filter { $0.verdict == .pending }.compactMap(\.deadline).min()
        caseRow = [
            e.caseID, e.kind?.rawValue, e.team?.rawValue, title, Self.time(e.openedAt), status,
            e.currentPriority?.rawValue, e.policyVersion, String(events.count),
            String(events.last?.position ?? 0), String(c.met), String(c.late), String(c.partial),
            String(c.missed), String(c.pending), String(c.notApplicable), Self.time(nextDeadline), asOf,
        ]
        obligationRows = e.obligations.enumerated().map { index, o in
            [e.caseID, String(index + 1), o.ruleID, o.occurrence, o.verdict.rawValue, Self.time(o.deadline),
             o.lateBy.map { String(Int64($0.rounded())) }, PGText.array(o.evidence), PGText.array(o.missing),
             o.reason, o.attestedLate ? "t" : "f", e.policyVersion, asOf]
        }
    }

    /// A case that could not be judged (no policy in force): state only.
    init(unjudged caseID: String, events: [RecordedEvent], asOf: Date) {
        caseRow = [caseID, nil, nil, nil, Self.time(events.first?.occurredAt), "open", nil, nil,
                   String(events.count), String(events.last?.position ?? 0), "0", "0", "0", "0", "0", "0", nil,
                   RFC3339.format(asOf)]
        obligationRows = []
    }

    static func timelineRow(_ t: TimelineEntry, caseID: String) -> [String?] {
        [String(t.position ?? 0), caseID, t.eventID, time(t.at), time(t.recordedAt), t.type, t.actor ?? "",
         PGText.array(t.actorRoles), t.summary, t.channel, t.destination, PGText.array(t.audience), t.priority,
         t.retracted ? "t" : "f"]
    }

    static let caseColumns = "case_id, kind, team, title, opened_at, status, priority, policy_version, event_count, last_position, met, late, partial, missed, pending, not_applicable, next_deadline, evaluated_as_of"
    static let obligationColumns = "case_id, ordinal, rule_id, occurrence, verdict, deadline, late_by_seconds, evidence, missing, reason, attested_late, policy_version, evaluated_as_of"
    static let timelineColumns = "position, case_id, event_id, occurred_at, recorded_at, type, actor, actor_roles, summary, channel, destination, audience, priority, retracted"
}
