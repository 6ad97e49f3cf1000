import Events
import Foundation

/// The rule engine: judges one case's events against a policy, as of a
/// time. Pure: no database, no clock. See docs/policy.md for semantics.
public func evaluate(caseID: String, events: [RecordedEvent], policy: Policy, policyVersion: String,
                     directories: DirectoryHistory, asOf: Date) -> CaseEvaluation {
    evaluate(state: CaseState(caseID: caseID, events: events, asOf: asOf, directories: directories), caseID: caseID, policy: policy,
             policyVersion: policyVersion, directories: directories, asOf: asOf)
}

/// The engine on a case state already folded from the events.
func evaluate(state: CaseState, caseID: String, policy: Policy, policyVersion: String,
              directories: DirectoryHistory, asOf: Date) -> CaseEvaluation {
    var state = state
    state.directoryHistory = directories   // product conditions read the directory in force
    var result = CaseEvaluation(
        caseID: caseID, kind: state.kind, team: state.team, openedAt: state.openedAt,
        currentPriority: state.currentPriority, priorityHistory: state.priorities,
        resolvedAt: state.isClosed ? state.resolvedAt : nil, concludedAt: state.concludedAt,
        cancelledAt: state.cancelledAt, closedAt: state.isClosed ? state.caseClosedAt : nil, window: state.window,
        policyName: policy.name, policyVersion: policyVersion, asOf: asOf, obligations: [])
    guard let kind = state.kind else { return result }
    let engine = RuleEvaluator(policy: policy, state: state, directories: directories, asOf: asOf)
    var found = state.findings
    for (index, rule) in policy.rules.enumerated() {
        if let k = rule.appliesWhen.kind, k != kind { continue }
        // A case without a team (a declared kind may have none) has none of a rule's teams.
        if let teams = rule.appliesWhen.teams, !(state.team.map(teams.contains) ?? false) { continue }
        result.obligations += engine.obligations(for: rule, targets: policy.ruleTargets[index], found: &found,
                                                 dynamic: policy.ruleAudiences[index])
    }
    // Each obligation's findings (late recording) and every candidate's
    // (logins of evidence no obligation used), then claimed provenance.
    for o in result.obligations where !o.findings.isEmpty { found += o.findings }
    for e in state.events where e.recorded.metadata["import"] != nil {
        if let f = Provenance.of(e.recorded, directories: directories).finding(eventID: e.id) { found.append(f) }
    }
    result.findings = Finding.unique(found)
    return result
}

/// `Catalog.decode` of each event (nil where its data does not validate):
/// decode a case once and share it between the engine and the timeline.
public func decodeAll(_ events: [RecordedEvent]) -> [CatalogEvent?] {
    events.map { try? Catalog.decode(type: $0.type, data: $0.data) }
}

/// Judges a case with the policy in force when it was opened.
/// Nil when the case was never opened or no policy was in force then.
/// `decoded`, when given, is `Catalog.decode` of each of `events` (nil
/// where it fails), for callers that decoded them already.
public func evaluate(caseID: String, events: [RecordedEvent], decoded: [CatalogEvent?]? = nil, policies: PolicyHistory,
                     directories: DirectoryHistory, asOf: Date) -> CaseEvaluation? {
    let state = CaseState(caseID: caseID, events: events, decoded: decoded, asOf: asOf, directories: directories)
    guard let opened = state.openedAt, let (version, policy) = policies.inForce(at: opened) else { return nil }
    return evaluate(state: state, caseID: caseID, policy: policy, policyVersion: version,
                    directories: directories, asOf: asOf)
}

struct RuleEvaluator {
    let policy: Policy
    let state: CaseState
    let directories: DirectoryHistory
    let asOf: Date
    let days: LocalCalendar
    let audience: AudienceResolver
    /// The case's messages (`notification.sent`), with who each reached:
    /// the same for every rule, so resolved once per case.
    let messages: [Message]

    init(policy: Policy, state: CaseState, directories: DirectoryHistory, asOf: Date) {
        self.policy = policy
        self.state = state
        self.directories = directories
        self.asOf = asOf
        days = policy.days
        let audience = AudienceResolver(policy: policy, directories: directories, product: state.product,
                                        caseRoles: state.caseRoles)
        self.audience = audience
        messages = state.events.compactMap { e in
            guard case .notificationSent(let m) = e.event else { return nil }
            return Message(event: e, sent: m, reach: audience.reach(of: m.audience, at: e.time))
        }
    }

    func obligations(for rule: Rule, targets: [AudienceTarget]) -> [Obligation] {
        var found: [Finding] = []
        return obligations(for: rule, targets: targets, found: &found)
    }

    /// `obligations(for:targets:)`, adding the findings of every candidate
    /// considered to `found`.
    /// `dynamic`: the rule's audience when it has conditional entries or
    /// quantifiers; its targets are then chosen per occasion.
    func obligations(for rule: Rule, targets plainTargets: [AudienceTarget], found: inout [Finding],
                     dynamic: RuleAudience? = nil) -> [Obligation] {
        var base = Obligation(ruleID: rule.id, title: rule.title, quote: rule.quote, verdict: .pending)
        base.level = rule.level
        if case .everyMessageContent(let kind) = rule.requirement {
            return [content(rule, kind: kind, base: base)]
        }
        if case .prohibitedContent(let p) = rule.requirement {
            return [prohibited(rule, p, base: base)]
        }
        if case .invalid = rule.requirement {
            return [notApplicable(base, nil, "the rule is invalid; see the policy check")]
        }
        let universe = dynamic.map { self.universe($0) }
        let targets = universe?.targets ?? plainTargets
        let finder = EvidenceFinder(rule: rule, state: state, audience: audience, directories: directories,
                                    messages: messages, targets: targets)
        let candidates = finder.candidates()
        for c in candidates where !c.findings.isEmpty { found += c.findings }
        let resolver = audience
        let what = rule.requirement.missingText
        var out: [Obligation] = []
        let slots = limitToNext(rule.due.flatMap { occurrences(rule, $0) })
        func judge(_ occ: Occurrence) -> Obligation {
            let at = min(occ.deadline, asOf)
            if case .priorityMatrix(let rows) = rule.requirement {
                return priorityMatrix(rows, occ, rule: rule, base: base)
            }
            if let dynamic, let universe {
                let active = required(dynamic, universe, occ)
                var o = Judge.judge(occ, candidates: Self.restrict(candidates, to: active), targets: active.count,
                                    label: { resolver.label(targets[active[$0]], at: at) }, asOf: asOf, base: base,
                                    requirement: what)
                o.missing = Self.mergeEvery(o.missing)
                return o
            }
            return Judge.judge(occ, candidates: candidates, targets: targets.count,
                               label: { resolver.label(targets[$0], at: at) }, asOf: asOf, base: base,
                               requirement: what)
        }
        for slot in slots {
                switch slot {
                case .judge(let occ):
                    out.append(judge(occ))
                case .untilEvent(let occ, let reason):
                    // Its deadline event has not happened: met if already
                    // complete, else pending with no deadline.
                    var o = judge(occ)
                    o.deadline = nil
                    if o.verdict == .pending { o.reason = reason }
                    out.append(o)
                case .notApplicable(let label, let reason):
                    out.append(notApplicable(base, label, reason))
                case .waiting(let label, let reason):
                    var o = base
                    o.occurrence = label
                    o.reason = reason
                    out.append(o)
                }
        }
        return out
    }

    /// With several due entries (a rule's occasions, e.g. planning, day
    /// before, concluded), evidence for one occasion stops where the next
    /// occasion's window begins: a later occasion's message does not
    /// complete an earlier one.
    func limitToNext(_ slots: [Slot]) -> [Slot] {
        var out = slots
        for i in out.indices {
            guard case .judge(var occ) = out[i] else { continue }
            let nextFrom = out[(i + 1)...].lazy.compactMap { s -> Date? in
                if case .judge(let n) = s, n.from > occ.from { return n.from }
                return nil
            }.first
            if let nextFrom, occ.lateLimit.map({ $0 > nextFrom }) ?? true {
                occ.lateLimit = nextFrom
                occ.exclusiveLimit = true
                out[i] = .judge(occ)
            }
        }
        return out
    }

    func notApplicable(_ base: Obligation, _ label: String?, _ reason: String) -> Obligation {
        var o = base
        o.occurrence = label
        o.verdict = .notApplicable
        o.reason = reason
        return o
    }

    // MARK: Content

    func content(_ rule: Rule, kind: CaseKind, base: Obligation) -> Obligation {
        let fields = policy.content[kind] ?? []
        var o = base
        var messages: [CaseEvent] = []
        for e in state.events { if case .notificationSent = e.event { messages.append(e) } }
        guard !messages.isEmpty else { return notApplicable(base, nil, "no notification has been sent") }
        o.evidence = messages.map(\.id)
        o.attestedLate = messages.contains { $0.recorded.recordedAt.timeIntervalSince($0.time) > Judge.attestationLimit }
        for e in messages {
            guard case .notificationSent(let m) = e.event else { continue }
            let missing = fields.filter { Blank.isBlank(m.content[$0] ?? "", newlines: true) }
            if !missing.isEmpty { o.missing.append("\(e.id): \(missing.joined(separator: ", "))") }
        }
        o.verdict = o.missing.isEmpty ? .met : .partial
        return o
    }

    // MARK: Occurrences

    enum Slot {
        case judge(Occurrence)
        case notApplicable(String?, String)
        /// Not yet due: its anchor has not happened (verdict pending, no deadline).
        case waiting(String?, String)
        /// Due by an event that has not happened yet: evidence so far is
        /// judged (met when complete); else pending with this reason.
        case untilEvent(Occurrence, String)
    }

    func occurrences(_ rule: Rule, _ due: Due) -> [Slot] {
        let cond = rule.appliesWhen
        let label = due.label
        switch due.timing {
        case .invalid, .always:
            return [.notApplicable(label, "the rule's timing is invalid; see the policy check")]

        case .within(let seconds, _, let after):
            guard let anchor = anchorTime(after) else { return [absent(after, label)] }
            var start = anchor
            if cond.hasCondition {
                if state.holds(cond, at: anchor) {
                    start = anchor
                } else if Catalog.opensCase(after), let entry = state.entry(into: cond, from: anchor) {
                    start = entry
                } else {
                    return [.notApplicable(label, conditionFalse(cond, at: Catalog.opensCase(after) ? nil : anchor, event: after))]
                }
            }
            return [.judge(Occurrence(label: label, from: start, deadline: start.addingTimeInterval(seconds)))]

        case .each(let type, let milestone, let seconds, _):
            let anchors = state.all(type).filter { e in
                guard let milestone else { return true }
                if case .milestone(let m) = e.event { return m.kind == milestone }
                return false
            }
            let name = milestone.map { "\(type) \($0.rawValue)" } ?? type
            guard !anchors.isEmpty else { return [absent(name, label)] }
            return anchors.map { e in
                let occLabel = label.map { "\($0) \(e.id)" } ?? e.id
                if cond.hasCondition && !state.holds(cond, at: e.time) {
                    return .notApplicable(occLabel, conditionFalse(cond, at: e.time, event: name))
                }
                return .judge(Occurrence(label: occLabel, from: e.time, deadline: e.time.addingTimeInterval(seconds)))
            }

        case .before(let edge):
            if let no = windowless(label) { return [no] }
            return [before(cond, deadline: edgeTime(edge)!, occasion: edge.rawValue, label)]

        case .dayBefore(let edge):
            if let no = windowless(label) { return [no] }
            let t = edgeTime(edge)!
            let dayEnd = days.startOfDay(t)
            let dayStart = days.startOfPreviousDay(t)
            if let opened = state.openedAt, opened >= dayStart {
                return [.notApplicable(label, "planning started on or after the day before (\(days.label(dayStart)))")]
            }
            // The occasion is the day before: the rule applies when its
            // condition holds at the end of that day (as a daily rule is
            // judged by the end of each day); the whole day's messages count.
            if cond.hasCondition, state.stretchStart(cond, before: dayEnd) == nil {
                return [.notApplicable(label, conditionMissed(cond, at: dayEnd,
                                                              occasion: "the day before the window (\(days.label(dayStart)))",
                                                              dayForm: true))]
            }
            return [.judge(Occurrence(label: label ?? days.label(dayStart), from: dayStart, deadline: dayEnd,
                                      lateLimit: t, exclusiveLimit: true))]

        case .beforeEvent(let type):
            return beforeEvent(cond, type, label)

        case .every(let seconds, _, let after):
            return intervals(cond, seconds: seconds, after: after, label)

        case .dailyWhileUnresolved:
            return daily(cond, label)
        }
    }

    /// First non-retracted event of `type` (the case-opening event for opening types).
    func anchorTime(_ type: String) -> Date? {
        if Catalog.opensCase(type) { return state.first(type)?.time ?? state.openedAt }
        return state.first(type)?.time
    }

    func absent(_ name: String, _ label: String?) -> Slot {
        if name == EventType.downtimeConcluded, state.cancelledAt != nil {
            return .notApplicable(label, "the downtime was cancelled")
        }
        if state.isClosed {
            return .notApplicable(label, "no \(name) in this case")
        }
        return .waiting(label, "not yet due: waiting for \(name)")
    }

    func conditionFalse(_ cond: Applicability, at t: Date?, event: String) -> String {
        guard let t else { return "the case has not met the condition (\(state.conditionText(cond)))" }
        return "the condition (\(state.conditionText(cond))) did not hold at \(event): \(state.stateText(cond, at: t))"
    }

    func edgeTime(_ edge: WindowEdge) -> Date? {
        guard let w = state.window else { return nil }
        return edge == .start ? w.start : w.end
    }

    /// Why a window-anchored rule does not apply (cancelled, no window),
    /// or nil when it may; its condition is judged at its occasion.
    func windowless(_ label: String?) -> Slot? {
        if state.cancelledAt != nil { return .notApplicable(label, "the downtime was cancelled") }
        if state.window == nil { return .notApplicable(label, "the case has no downtime window") }
        return nil
    }

    /// Why a window rule's condition did not hold just before `t`, its
    /// occasion: it stopped holding before ("impacts_mobile became false on
    /// 2026-04-28, before the day before the window (2026-05-01)"), it began
    /// only after ("... became true on 2026-05-02, after ..."), or never held.
    /// `dayForm`: name the local day of the change, else its time.
    func conditionMissed(_ cond: Applicability, at t: Date, occasion: String, dayForm: Bool) -> String {
        func when(_ x: Date) -> String { dayForm ? "on \(days.label(x))" : "at \(RFC3339.format(x))" }
        if let exit = state.lastExit(from: cond, before: t) {
            let end = dayForm ? "before the end of \(occasion)" : "before \(occasion)"
            return "\(state.changeText(cond, at: exit, entering: false)) \(when(exit)), \(end)"
        }
        if let entry = state.changeTimes(cond).first(where: { $0 >= t && state.holds(cond, at: $0) }) {
            return "\(state.changeText(cond, at: entry, entering: true)) \(when(entry)), after \(occasion)"
        }
        return "the case has not met the condition (\(state.conditionText(cond)))"
    }

    /// Each local day the case is unresolved at its end (and in the
    /// condition), from the day the rule starts to apply until resolution.
    func daily(_ cond: Applicability, _ prefix: String?) -> [Slot] {
        guard let opened = state.openedAt else { return [] }
        let start: Date
        if cond.hasCondition {
            guard let entry = state.entry(into: cond, from: opened) else {
                return [.notApplicable(prefix, "the case has not met the condition (\(state.conditionText(cond)))")]
            }
            start = entry
        } else {
            start = opened
        }
        return periods(from: days.startOfDay(start), limit: 3660, next: { day, _ in days.startOfNextDay(day) },
                       label: { day in prefix.map { "\($0) \(days.label(day))" } ?? days.label(day) },
                       cond, closedText: "not due: resolved that day", period: "day")
    }

    /// The slots of a repeating form (`daily`, `intervals`): one per period
    /// from `start` while the case is open. A period during which the case
    /// closed (and is closed at its end) is not applicable (`closedText`);
    /// none follow the final closure; a period ending outside the
    /// condition is not applicable; the others are judged, evidence counting
    /// within the period only. `next(from, n)`: the end of the n-th period.
    func periods(from start: Date, limit: Int, next: (Date, Int) -> Date, label: (Date) -> String,
                 _ cond: Applicability, closedText: String, period: String) -> [Slot] {
        var out: [Slot] = []
        var from = start
        var count = 0
        while from <= asOf && count < limit {
            count += 1
            let next = next(from, count)
            let label = label(from)
            let end = min(next, asOf)
            let closedAtEnd = state.closures.last { $0.0 < next && $0.0 <= asOf }?.1 ?? false
            let closedDuring = state.closures.contains { $0.1 && $0.0 >= from && $0.0 < next && $0.0 <= asOf }
            if closedAtEnd {
                if closedDuring { out.append(.notApplicable(label, closedText)) }
                if state.isClosed, let closed = state.closedAt, closed < next { break }
            } else if !state.holds(cond, at: end) {
                out.append(.notApplicable(label, "not due: \(state.stateText(cond, at: end)) at the end of the \(period)"))
            } else {
                out.append(.judge(Occurrence(label: label, from: from, deadline: next, lateLimit: next, exclusiveLimit: true)))
            }
            from = next
        }
        return out
    }
}
