import Compliance
import Events
import Foundation
import Postgres
import Domain

/// Writes read-model rows field by field, in table column order, one call
/// per column with the call for its type: as text fields (`TextRows`: INSERT
/// parameters and text COPY, for `projections run`) or as binary COPY
/// (`BinaryCopyRows`, for `projections rebuild`). Each table's columns are
/// listed once, in `CaseRows.write...`, for both.
protocol ReadModelRowWriter {
    mutating func row(fields: Int)
    mutating func text(_ value: String?)
    /// `integer` columns.
    mutating func integer(_ value: Int)
    /// `bigint` columns.
    mutating func int64(_ value: Int64?)
    mutating func bool(_ value: Bool)
    /// `timestamptz` columns.
    mutating func time(_ value: Date?)
    mutating func uuid(_ value: String?)
    mutating func textArray(_ values: [String])
}

/// Rows as text fields, the form parameterised INSERTs and text COPY take.
struct TextRows: ReadModelRowWriter {
    private(set) var rows: [[String?]] = []

    mutating func row(fields: Int) {
        rows.append([])
        rows[rows.count - 1].reserveCapacity(fields)
    }
    mutating func text(_ value: String?) { rows[rows.count - 1].append(value) }
    mutating func integer(_ value: Int) { text(String(value)) }
    mutating func int64(_ value: Int64?) { text(value.map { String($0) }) }
    mutating func bool(_ value: Bool) { text(value ? "t" : "f") }
    mutating func time(_ value: Date?) { text(value.map { RFC3339.format($0) }) }
    mutating func uuid(_ value: String?) { text(value) }
    mutating func textArray(_ values: [String]) { text(PGText.array(values)) }
}

extension BinaryCopyRows: ReadModelRowWriter {
    mutating func integer(_ value: Int) { int32(Int32(clamping: value)) }
    mutating func time(_ value: Date?) { timestamp(unixMicroseconds: value.map(RFC3339.microseconds)) }
}

/// The rows of the read models for one case. The values are worked out
/// once, typed, and written by a `ReadModelRowWriter` in the order of
/// `caseColumns`, `obligationColumns` and `timelineColumns`.
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
        /// met, late, partial, missed, pending, not applicable (`must` obligations of the primary policy).
        var counts: [Int]
        var nextDeadline: Date?
        var asOf: Date
        /// violated, should met, should judged (the primary policy's).
        var violatedAndShould: [Int] = [0, 0, 0]
        var policyName: String?
        /// Every policy that judged the case, "name vVERSION", the primary first.
        var policies: [String] = []
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
        var level: String
        var expected: String?
        var given: String?
        var policyName: String
    }

    let values: Case
    let obligations: [ObligationRow]

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
            case .caseOpened(let o): title = o.title
            default: break
            }
        }
        let status: String = if e.cancelledAt != nil { "cancelled" }
            else if e.concludedAt != nil { "concluded" }
            else if e.resolvedAt != nil { "resolved" }
            else if e.closedAt != nil { "closed" }
            else { "open" }
        values = Case(
            caseID: e.caseID, kind: e.kind?.rawValue, team: e.team?.rawValue, title: title, openedAt: e.openedAt,
            status: status, priority: e.currentPriority?.rawValue, policyVersion: e.policyVersion,
            eventCount: events.count, lastPosition: events.last?.position ?? 0,
            counts: [c.met, c.late, c.partial, c.missed, c.pending, c.notApplicable],
            nextDeadline: report.all.flatMap(\.evaluation.obligations).filter { $0.verdict == .pending }.compactMap(\.deadline).min(),
            asOf: e.asOf, violatedAndShould: [c.violated, c.shouldMet, c.shouldJudged], policyName: e.policyName,
            policies: report.all.map { "\($0.evaluation.policyName) v\($0.evaluation.policyVersion)" })
        // Every evaluation's obligations (the primary policy's, then each
        // scoped policy's), ordinals continuing; `policy_name` tells them apart.
        obligations = report.all.flatMap { r in r.evaluation.obligations.map { (r.evaluation, $0) } }
            .enumerated().map { index, item in
                let (e, o) = item
                return ObligationRow(ordinal: index + 1, ruleID: o.ruleID, occurrence: o.occurrence, verdict: o.verdict.rawValue,
                                     deadline: o.deadline, lateBySeconds: o.lateBy.map { Int64($0.rounded()) },
                                     evidence: o.evidence, missing: o.missing, reason: o.reason,
                                     attestedLate: o.attestedLate, policyVersion: e.policyVersion,
                                     level: o.level.rawValue, expected: o.expected, given: o.given, policyName: e.policyName)
            }
    }

    /// A case that could not be judged (no policy in force): state only.
    init(unjudged caseID: String, events: [RecordedEvent], asOf: Date) {
        values = Case(caseID: caseID, openedAt: events.first?.occurredAt, status: "open", eventCount: events.count,
                      lastPosition: events.last?.position ?? 0, counts: Array(repeating: 0, count: 6), asOf: asOf)
        obligations = []
    }

    // MARK: Rows

    func writeCase<W: ReadModelRowWriter>(to w: inout W) {
        let v = values
        w.row(fields: 23)
        w.text(v.caseID)
        w.text(v.kind)
        w.text(v.team)
        w.text(v.title)
        w.time(v.openedAt)
        w.text(v.status)
        w.text(v.priority)
        w.text(v.policyVersion)
        w.integer(v.eventCount)
        w.int64(v.lastPosition)
        for count in v.counts { w.integer(count) }
        w.time(v.nextDeadline)
        w.time(v.asOf)
        for count in v.violatedAndShould { w.integer(count) }
        w.text(v.policyName)
        w.textArray(v.policies)
    }

    func writeObligations<W: ReadModelRowWriter>(to w: inout W) {
        for o in obligations {
            w.row(fields: 17)
            w.text(values.caseID)
            w.integer(o.ordinal)
            w.text(o.ruleID)
            w.text(o.occurrence)
            w.text(o.verdict)
            w.time(o.deadline)
            w.int64(o.lateBySeconds)
            w.textArray(o.evidence)
            w.textArray(o.missing)
            w.text(o.reason)
            w.bool(o.attestedLate)
            w.text(o.policyVersion)
            w.time(values.asOf)
            w.text(o.level)
            w.text(o.expected)
            w.text(o.given)
            w.text(o.policyName)
        }
    }

    static func writeTimeline<W: ReadModelRowWriter>(_ t: TimelineEntry, caseID: String, to w: inout W) {
        w.row(fields: 14)
        w.int64(t.position ?? 0)
        w.text(caseID)
        w.uuid(t.eventID)
        w.time(t.at)
        w.time(t.recordedAt)
        w.text(t.type)
        w.text(t.actor ?? "")
        w.textArray(t.actorRoles)
        w.text(t.summary)
        w.text(t.channel)
        w.text(t.destination)
        w.textArray(t.audience)
        w.text(t.priority)
        w.bool(t.retracted)
    }

    // MARK: Text fields (projections run)

    var caseRow: [String?] {
        var rows = TextRows()
        writeCase(to: &rows)
        return rows.rows[0]
    }

    var obligationRows: [[String?]] {
        var rows = TextRows()
        writeObligations(to: &rows)
        return rows.rows
    }

    static func timelineRow(_ t: TimelineEntry, caseID: String) -> [String?] {
        var rows = TextRows()
        writeTimeline(t, caseID: caseID, to: &rows)
        return rows.rows[0]
    }

    static let caseColumns = "case_id, kind, team, title, opened_at, status, priority, policy_version, event_count, last_position, met, late, partial, missed, pending, not_applicable, next_deadline, evaluated_as_of, violated, should_met, should_judged, policy_name, policies"
    static let obligationColumns = "case_id, ordinal, rule_id, occurrence, verdict, deadline, late_by_seconds, evidence, missing, reason, attested_late, policy_version, evaluated_as_of, level, expected, given, policy_name"
    /// The columns before migration 0013 (a read model not migrated yet).
    static let caseColumnsBefore0013 = "case_id, kind, team, title, opened_at, status, priority, policy_version, event_count, last_position, met, late, partial, missed, pending, not_applicable, next_deadline, evaluated_as_of"
    static let obligationColumnsBefore0013 = "case_id, ordinal, rule_id, occurrence, verdict, deadline, late_by_seconds, evidence, missing, reason, attested_late, policy_version, evaluated_as_of"
    static let timelineColumns = "position, case_id, event_id, occurred_at, recorded_at, type, actor, actor_roles, summary, channel, destination, audience, priority, retracted"
}
