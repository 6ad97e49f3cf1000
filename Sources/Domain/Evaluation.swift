import Events
import Foundation

public enum Verdict: String, Sendable, CaseIterable, Codable {
    case met, late, partial, missed, pending
    case notApplicable = "not_applicable"
    /// A prohibition was broken (content that must not appear did): judged,
    /// and a violation, like missed.
    case violated
}

/// How binding a rule is: a `should` obligation is judged and reported but
/// not counted in the compliance rate (docs/policy.md, "Levels").
public enum RuleLevel: String, Sendable, CaseIterable, Codable {
    case must, should
}

/// One obligation of one rule (a rule with several occurrences, such as a
/// daily update, gives one obligation per occurrence).
public struct Obligation: Sendable, Equatable {
    public var ruleID: String
    public var title: String
    public var quote: String
    /// Which occurrence: a `due` label, a local date (daily rules) or the
    /// anchoring event id (per-event rules); nil for single obligations.
    public var occurrence: String?
    public var verdict: Verdict
    public var deadline: Date?
    /// Seconds past the deadline when the obligation was met (late or partial).
    public var lateBy: TimeInterval?
    public var evidence: [String]
    public var missing: [String]
    public var reason: String?
    /// Some evidence was recorded more than PT24H after it occurred.
    public var attestedLate: Bool
    /// What the report must say about this obligation's evidence (logins,
    /// provenance, late recording), once each.
    public var findings: [Finding] = []
    /// The rule's level: `should` obligations are not counted in the rate.
    public var level: RuleLevel = .must
    /// For a requirement on a value (a priority matrix): the value the
    /// policy expects and the value the case gave (nil: none given).
    public var expected: String?
    public var given: String?

    public init(ruleID: String, title: String, quote: String, occurrence: String? = nil, verdict: Verdict,
                deadline: Date? = nil, lateBy: TimeInterval? = nil, evidence: [String] = [], missing: [String] = [],
                reason: String? = nil, attestedLate: Bool = false) {
        self.ruleID = ruleID
        self.title = title
        self.quote = quote
        self.occurrence = occurrence
        self.verdict = verdict
        self.deadline = deadline
        self.lateBy = lateBy
        self.evidence = evidence
        self.missing = missing
        self.reason = reason
        self.attestedLate = attestedLate
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "rule": .string(ruleID), "title": .string(title), "quote": .string(quote),
            "verdict": .string(verdict.rawValue),
            "evidence": .array(evidence.map(JSONValue.string)),
            "missing": .array(missing.map(JSONValue.string)),
            "attested_late": .bool(attestedLate),
            "findings": .array(findings.map(\.json)),
        ]
        o["occurrence"] = occurrence.map(JSONValue.string) ?? .null
        o["deadline"] = deadline.map { .string(RFC3339.format($0)) } ?? .null
        o["late_by"] = lateBy.map { .int(Int64($0.rounded())) } ?? .null
        o["late_by_text"] = lateBy.map { .string(ISODuration.format($0)) } ?? .null
        o["reason"] = reason.map(JSONValue.string) ?? .null
        o["level"] = .string(level.rawValue)
        if let expected { o["expected"] = .string(expected) }
        if let given { o["given"] = .string(given) }
        return .object(o)
    }
}

public struct PriorityChange: Sendable, Equatable {
    public var at: Date
    public var priority: Priority
    public var eventID: String
}

public struct CaseEvaluation: Sendable {
    public var caseID: String
    /// Nil when the case was never opened.
    public var kind: CaseKind?
    public var team: Team?
    public var openedAt: Date?
    public var currentPriority: Priority?
    public var priorityHistory: [PriorityChange]
    public var resolvedAt: Date?
    public var concludedAt: Date?
    public var cancelledAt: Date?
    /// When `case.closed` closed a case of a declared kind (nil while open).
    public var closedAt: Date? = nil
    public var window: TimeWindow?
    public var policyName: String
    public var policyVersion: String
    public var asOf: Date
    public var obligations: [Obligation]
    /// Everything found in the case (its obligations' findings, and those
    /// of events no obligation cited), once each.
    public var findings: [Finding] = []

    public func obligations(rule id: String) -> [Obligation] { obligations.filter { $0.ruleID == id } }

    public var json: JSONValue {
        func t(_ d: Date?) -> JSONValue { d.map { .string(RFC3339.format($0)) } ?? .null }
        var o: [String: JSONValue] = [
            "case": .string(caseID),
            "kind": kind.map { .string($0.rawValue) } ?? .null,
            "team": team.map { .string($0.rawValue) } ?? .null,
            "opened_at": t(openedAt),
            "current_priority": currentPriority.map { .string($0.rawValue) } ?? .null,
            "priority_history": .array(priorityHistory.map {
                .object(["at": .string(RFC3339.format($0.at)), "priority": .string($0.priority.rawValue),
                         "event": .string($0.eventID)])
            }),
            "resolved_at": t(resolvedAt), "concluded_at": t(concludedAt), "cancelled_at": t(cancelledAt),
            "policy": .object(["name": .string(policyName), "version": .string(policyVersion)]),
            "as_of": .string(RFC3339.format(asOf)),
            "obligations": .array(obligations.map(\.json)),
            "findings": .array(findings.map(\.json)),
        ]
        if let closedAt { o["closed_at"] = t(closedAt) }
        if let window {
            o["window"] = .object(["start": .string(RFC3339.format(window.start)), "end": .string(RFC3339.format(window.end))])
        }
        return .object(o)
    }
}
