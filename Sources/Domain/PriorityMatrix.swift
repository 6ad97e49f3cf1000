import Events
import Foundation

/// A row of `requires: {priority_matrix: [...]}`: the priority expected
/// when `when` holds (nil: always, the default row).
public struct PriorityMatrixRow: Sendable {
    public var when: Applicability?
    public var priority: Priority
}

extension RuleParser {
    /// `priority_matrix: [{when: {...}, priority: P1}, ..., {priority: P3}]`.
    mutating func parsePriorityMatrix(_ body: JSONValue) -> Requirement {
        guard let items = body.arrayValue, !items.isEmpty else {
            problem("requires.priority_matrix: expected a list of rows {when: {...}, priority: P1..P4}")
            return .invalid
        }
        var rows: [PriorityMatrixRow] = []
        var ok = true
        let parser = ConditionParser(attributes: attributes)
        for (i, item) in items.enumerated() {
            let f = "requires.priority_matrix[\(i)]"
            guard let o = item.objectValue else { problem("\(f): expected {when: {...}, priority: P1..P4}"); ok = false; continue }
            for k in o.keys.sorted() where !["when", "priority"].contains(k) { problem("\(f): unknown key '\(k)'"); ok = false }
            guard let p = o["priority"]?.stringValue.flatMap(Priority.init(rawValue:)) else {
                problem("\(f).priority: expected P1..P4"); ok = false; continue
            }
            var when: Applicability?
            if let w = o["when"] {
                var found: [String] = []
                when = parser.when(w, field: "\(f).when", problems: &found)
                for x in found { problem(x) }
                if !found.isEmpty { ok = false; continue }
                if when?.hasCondition == false { when = nil }
            }
            if rows.contains(where: { $0.when == nil }) { problem("\(f): never used (an earlier row has no when)") }
            rows.append(PriorityMatrixRow(when: when, priority: p))
        }
        return ok ? .priorityMatrix(rows) : .invalid
    }
}

extension RuleEvaluator {
    /// Judges a priority-matrix occasion: the first row whose condition
    /// holds at the deadline (at as-of while it is ahead) gives the expected
    /// priority; the case's priority at the deadline must equal it.
    func priorityMatrix(_ rows: [PriorityMatrixRow], _ occ: Occurrence, rule: Rule, base: Obligation) -> Obligation {
        var o = base
        o.occurrence = occ.label
        o.deadline = occ.deadline
        let t = min(occ.deadline, asOf)
        guard let row = rows.first(where: { $0.when.map { state.holds($0, at: t) } ?? true }) else {
            let conds = rows.compactMap(\.when)
            o.verdict = .notApplicable
            o.reason = "no row of the priority matrix applies: "
                + conds.map { "not (\(state.conditionText($0))): \(state.stateText($0, at: t))" }.joined(separator: "; ")
            return o
        }
        let expected = row.priority
        o.expected = expected.rawValue
        let finder = EvidenceFinder(rule: rule, state: state, audience: audience, directories: directories,
                                    messages: [], targets: [])
        /// The priority change's `by:` problem, if any (its actor may not set it).
        func actorProblem(_ change: PriorityChange) -> String? {
            guard let e = state.events.first(where: { $0.id == change.eventID }) else { return nil }
            var c = Candidate(time: e.time, events: [e], covers: [], issues: [])
            finder.checkActor(e, &c)
            o.findings = Finding.unique(o.findings + c.findings)
            return c.issues.first
        }
        let atDeadline = state.priorities.last { $0.at <= t }
        o.given = atDeadline?.priority.rawValue
        if let atDeadline, atDeadline.priority == expected {
            o.evidence = [atDeadline.eventID]
            if let issue = actorProblem(atDeadline) {
                o.verdict = asOf < occ.deadline ? .pending : .partial
                o.missing = [issue]
                o.reason = issue
            } else {
                o.verdict = .met
            }
            return o
        }
        let wrong = atDeadline.map { "priority \($0.priority.rawValue), expected \(expected.rawValue)" }
        if asOf < occ.deadline {
            o.verdict = .pending
            o.reason = "due by \(RFC3339.format(occ.deadline))"
            o.missing = [wrong ?? "incident.priority_set \(expected.rawValue)"]
            return o
        }
        let after = state.priorities.filter { $0.at > occ.deadline && $0.at <= asOf }
        if let fixed = after.first(where: { $0.priority == expected }), actorProblem(fixed) == nil {
            o.verdict = .late
            o.evidence = [fixed.eventID]
            o.given = expected.rawValue
            o.lateBy = Judge.seconds(fixed.at.timeIntervalSince(occ.deadline))
            o.reason = wrong.map { "at the deadline: \($0)" }
            return o
        }
        if let given = atDeadline ?? after.last {
            o.verdict = .partial
            o.evidence = [given.eventID]
            o.given = given.priority.rawValue
            o.missing = ["priority \(given.priority.rawValue), expected \(expected.rawValue)"]
            return o
        }
        o.verdict = .missed
        o.missing = ["incident.priority_set \(expected.rawValue)"]
        return o
    }
}
