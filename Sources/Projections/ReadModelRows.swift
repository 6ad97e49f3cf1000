import Compliance
import Envelope
import Foundation
import Postgres
import Process

/// The rows of the read models for one case. The values are worked out
/// once, typed, and written either as text fields in table column order
/// (parameterised INSERTs and text COPY, for `projections run`) or as
/// binary COPY rows (for `projections rebuild`); the two writers below list
/// the columns in the same order as `caseColumns` and `obligationColumns`.
struct CaseRows {
    struct Case {
        var caseID: String
        var kind: String?
        var team: String?
        var title: String?
        var openedAt: Date?
        var status: String
        var priority: String?
        var policyVersion: String?
        var eventCount: Int
        var lastPosition: Int64
        /// met, late, partial, missed, pending, not applicable.
        var counts: [Int]
        var nextDeadline: Date?
        var asOf: Date
    }

    struct ObligationRow {
        var ordinal: Int
        var ruleID: String
        var occurrence: String?
        var verdict: String
        var deadline: Date?
        var lateBySeconds: Int64?
        var evidence: [String]
        var missing: [String]
        var reason: String?
        var attestedLate: Bool
        var policyVersion: String
    }

    let values: Case
    let obligations: [ObligationRow]

    static func time(_ d: Date?) -> String? { d.map { RFC3339.format($0) } }

    /// `firstDecoded`: `Catalog.decode` of `events.first`, when the caller has it.
    init(report: CaseReport, events: [RecordedEvent], firstDecoded: CatalogEvent?? = nil) {
        let e = report.evaluation
        let c = report.counts
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
        values = Case(
            caseID: e.caseID, kind: e.kind?.rawValue, team: e.team?.rawValue, title: title, openedAt: e.openedAt,
            status: status, priority: e.currentPriority?.rawValue, policyVersion: e.policyVersion,
            eventCount: events.count, lastPosition: events.last?.position ?? 0,
            counts: [c.met, c.late, c.partial, c.missed, c.pending, c.notApplicable],
            nextDeadline: e.obligations.filter { $0.verdict == .pending }.compactMap(\.deadline).min(),
            asOf: e.asOf)
        obligations = e.obligations.enumerated().map { index, o in
            ObligationRow(ordinal: index + 1, ruleID: o.ruleID, occurrence: o.occurrence, verdict: o.verdict.rawValue,
                          deadline: o.deadline, lateBySeconds: o.lateBy.map { Int64($0.rounded()) },
                          evidence: o.evidence, missing: o.missing, reason: o.reason,
                          attestedLate: o.attestedLate, policyVersion: e.policyVersion)
        }
    }

    /// A case that could not be judged (no policy in force): state only.
    init(unjudged caseID: String, events: [RecordedEvent], asOf: Date) {
        values = Case(caseID: caseID, openedAt: events.first?.occurredAt, status: "open", eventCount: events.count,
                      lastPosition: events.last?.position ?? 0, counts: Array(repeating: 0, count: 6), asOf: asOf)
        obligations = []
    }

    // MARK: Text fields

    var caseRow: [String?] {
        let v = values
        return [v.caseID, v.kind, v.team, v.title, Self.time(v.openedAt), v.status, v.priority, v.policyVersion,
                String(v.eventCount), String(v.lastPosition)] + v.counts.map { String($0) }
            + [Self.time(v.nextDeadline), RFC3339.format(v.asOf)]
    }

    var obligationRows: [[String?]] {
        let asOf = RFC3339.format(values.asOf)
        return obligations.map { o in
            [values.caseID, String(o.ordinal), o.ruleID, o.occurrence, o.verdict, Self.time(o.deadline),
             o.lateBySeconds.map { String($0) }, PGText.array(o.evidence), PGText.array(o.missing),
             o.reason, o.attestedLate ? "t" : "f", o.policyVersion, asOf]
        }
    }

    static func timelineRow(_ t: TimelineEntry, caseID: String) -> [String?] {
        [String(t.position ?? 0), caseID, t.eventID, time(t.at), time(t.recordedAt), t.type, t.actor ?? "",
         PGText.array(t.actorRoles), t.summary, t.channel, t.destination, PGText.array(t.audience), t.priority,
         t.retracted ? "t" : "f"]
    }

    // MARK: Binary COPY rows

    func appendCase(to rows: inout BinaryCopyRows) {
        let v = values
        rows.row(fields: 18)
        rows.text(v.caseID)
        rows.text(v.kind)
        rows.text(v.team)
        rows.text(v.title)
        rows.timestamp(unixMicroseconds: v.openedAt.map(RFC3339.microseconds))
        rows.text(v.status)
        rows.text(v.priority)
        rows.text(v.policyVersion)
        rows.int32(Int32(clamping: v.eventCount))
        rows.int64(v.lastPosition)
        for count in v.counts { rows.int32(Int32(clamping: count)) }
        rows.timestamp(unixMicroseconds: v.nextDeadline.map(RFC3339.microseconds))
        rows.timestamp(unixMicroseconds: RFC3339.microseconds(v.asOf))
    }

    func appendObligations(to rows: inout BinaryCopyRows) {
        let asOf = RFC3339.microseconds(values.asOf)
        for o in obligations {
            rows.row(fields: 13)
            rows.text(values.caseID)
            rows.int32(Int32(clamping: o.ordinal))
            rows.text(o.ruleID)
            rows.text(o.occurrence)
            rows.text(o.verdict)
            rows.timestamp(unixMicroseconds: o.deadline.map(RFC3339.microseconds))
            rows.int64(o.lateBySeconds)
            rows.textArray(o.evidence)
            rows.textArray(o.missing)
            rows.text(o.reason)
            rows.bool(o.attestedLate)
            rows.text(o.policyVersion)
            rows.timestamp(unixMicroseconds: asOf)
        }
    }

    static func appendTimeline(_ t: TimelineEntry, caseID: String, to rows: inout BinaryCopyRows) {
        rows.row(fields: 14)
        rows.int64(t.position ?? 0)
        rows.text(caseID)
        rows.uuid(t.eventID)
        rows.timestamp(unixMicroseconds: RFC3339.microseconds(t.at))
        rows.timestamp(unixMicroseconds: t.recordedAt.map(RFC3339.microseconds))
        rows.text(t.type)
        rows.text(t.actor ?? "")
        rows.textArray(t.actorRoles)
        rows.text(t.summary)
        rows.text(t.channel)
        rows.text(t.destination)
        rows.textArray(t.audience)
        rows.text(t.priority)
        rows.bool(t.retracted)
    }

    static let caseColumns = "case_id, kind, team, title, opened_at, status, priority, policy_version, event_count, last_position, met, late, partial, missed, pending, not_applicable, next_deadline, evaluated_as_of"
    static let obligationColumns = "case_id, ordinal, rule_id, occurrence, verdict, deadline, late_by_seconds, evidence, missing, reason, attested_late, policy_version, evaluated_as_of"
    static let timelineColumns = "position, case_id, event_id, occurred_at, recorded_at, type, actor, actor_roles, summary, channel, destination, audience, priority, retracted"
}
