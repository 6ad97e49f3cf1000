import Events
import Foundation
@testable import Domain
import Testing

/// Issue 17: timing relative to a later event (`before: incident.resolved`,
/// `before: case.closed`) and repeating intervals (`every: PT4H`), each met
/// and missed, and with a while-condition that starts late or ends early
/// (docs/policy.md §2, "due: timing forms").
@Suite("Timing relative to a later event")
struct BeforeEventTimingTests {
    static let policyYAML = """
    name: later-events
    version: "1"
    rules:
      - id: B-RESOLVED
        title: Solution milestone before resolution
        quote: q
        applies_when: {kind: incident}
        requires: {milestone: {kind: solution_determined}}
        due: {before: incident.resolved}
      - id: B-CLOSED
        title: A note to the stakeholders before the case is closed
        quote: q
        applies_when: {kind: incident}
        requires: {notification: {channels: [email]}}
        due: {before: case.closed}
      - id: B-MOBILE
        title: Mobile Slack message before resolution
        quote: q
        level: should
        applies_when: {kind: incident, impacts_mobile: true}
        requires: {notification: {channels: [slack]}}
        due: {before: incident.resolved}
      - id: B-CONCLUDED
        title: Verified window before the downtime concluded
        quote: q
        applies_when: {kind: planned_downtime}
        requires: {maintenance_window_verified: {system: pagerduty}}
        due: {before: downtime.concluded}
    """

    static func policy() throws -> Policy {
        let p = try Policy.parse(yaml: policyYAML)
        #expect(p.problems(directory: nil).isEmpty, "\(p.problems(directory: nil))")
        return p
    }

    static let opened = "INC-2026-0142/opened"
    static func judge(_ s: Scenario, asOf: Date = Fixtures.later) throws -> CaseEvaluation {
        try Fixtures.judge(s, asOf: asOf, policy: policy())
    }

    @Test("The form parses with its level, and reads back as text")
    func parses() throws {
        let p = try Self.policy()
        let rule = try #require(p.rule("B-RESOLVED"))
        #expect(rule.due.map(\.timing.description) == ["before incident.resolved"])
        #expect(rule.level == .must)
        #expect(p.rule("B-MOBILE")?.level == .should)
        #expect(p.rule("B-CLOSED")?.due.map(\.timing.description) == ["before case.closed"])
    }

    @Test("before incident.resolved: met by evidence before the resolution; deadline = the resolution")
    func resolvedMet() throws {
        let o = try Self.judge(Scenario.incident()).only("B-RESOLVED")
        #expect(o.verdict == .met)
        #expect(o.deadline == Fixtures.time("2026-04-09T15:00:00-04:00"))
        #expect(o.level == .must)
    }

    @Test("before incident.resolved: evidence after the resolution is late; none is missed")
    func resolvedMissed() throws {
        let late = try Scenario.incident().envelope("INC-2026-0142/solution", "occurred_at", "2026-04-09T16:00:00-04:00")
        let o = try Self.judge(late).only("B-RESOLVED")
        #expect(o.verdict == .late)
        #expect(o.lateBy == 3600)
        let none = try Scenario.incident().removing("INC-2026-0142/solution")
        let m = try Self.judge(none).only("B-RESOLVED")
        #expect(m.verdict == .missed)
        #expect(m.missing == ["incident.milestone solution_determined"])
    }

    @Test("before incident.resolved: pending while unresolved; met early when already done")
    func resolvedPending() throws {
        let asOf = Fixtures.time("2026-04-08T12:00:00-04:00")
        let o = try Self.judge(Scenario.incident(), asOf: asOf).only("B-RESOLVED")
        #expect(o.verdict == .pending)
        #expect(o.deadline == nil)
        #expect(o.reason == "not yet due: waiting for incident.resolved")
        let done = try Self.judge(Scenario.incident(), asOf: Fixtures.time("2026-04-09T12:00:00-04:00")).only("B-RESOLVED")
        #expect(done.verdict == .met)
        #expect(done.deadline == nil)
    }

    @Test("before case.closed: the closing event, whichever it is (the email before resolution meets it)")
    func caseClosed() throws {
        let o = try Self.judge(Scenario.incident()).only("B-CLOSED")
        #expect(o.verdict == .met)
        #expect(o.deadline == Fixtures.time("2026-04-09T15:00:00-04:00"))
        let none = try Scenario.incident().removing("INC-2026-0142/p1-email")
        #expect(try Self.judge(none).only("B-CLOSED").verdict == .missed)
        // Reopened and resolved again: the first closure stays the deadline.
        let reopened = try Scenario.incident()
            .appending("incident.reopened", at: "2026-04-10T09:00:00-04:00", key: "reopen", data: obj(["reason": "back"]))
            .appending("incident.resolved", at: "2026-04-10T12:00:00-04:00", key: "resolved-2", data: obj(["resolution": "fixed"]))
        #expect(try Self.judge(reopened).only("B-CLOSED").deadline == Fixtures.time("2026-04-09T15:00:00-04:00"))
    }

    @Test("before downtime.concluded: met; a cancelled downtime makes it not applicable")
    func downtime() throws {
        let o = try Self.judge(Scenario.planned()).only("B-CONCLUDED")
        #expect(o.verdict == .met)
        let cancelled = try Scenario.planned().removing("PD-2026-0007/concluded")
            .appending("downtime.cancelled", at: "2026-03-14T20:00:00-04:00", key: "cancel", data: obj(["reason": "not needed"]))
        let c = try Self.judge(cancelled).only("B-CONCLUDED")
        #expect(c.verdict == .notApplicable)
        #expect(c.reason == "the downtime was cancelled")
    }

    @Test("With a while-condition: holds throughout: met by a Slack message before resolution")
    func conditionThroughout() throws {
        let s = try Scenario.incident().setting(Self.opened, "impacts_mobile", .bool(true))
        let o = try Self.judge(s).only("B-MOBILE")
        #expect(o.verdict == .met)
        #expect(o.level == .should)
    }

    @Test("With a while-condition that starts only after the resolution: not applicable, saying when")
    func conditionStartsLate() throws {
        let s = try Scenario.incident().setting(Self.opened, "impacts_mobile", .bool(false))
            .appending("incident.updated", at: "2026-04-09T16:00:00-04:00", key: "mobile", data: obj(["impacts_mobile": .bool(true)]))
        let o = try Self.judge(s).only("B-MOBILE")
        #expect(o.verdict == .notApplicable)
        #expect(o.reason?.hasPrefix("impacts_mobile became true at ") == true, "\(o.reason ?? "")")
        #expect(o.reason?.contains("after incident.resolved (") == true, "\(o.reason ?? "")")
    }

    @Test("With a while-condition that starts late but before the resolution: evidence counts from the entry")
    func conditionStartsLateInTime() throws {
        let s = try Scenario.incident().setting(Self.opened, "impacts_mobile", .bool(false))
            .appending("incident.updated", at: "2026-04-09T12:00:00-04:00", key: "mobile", data: obj(["impacts_mobile": .bool(true)]))
        let o = try Self.judge(s).only("B-MOBILE")
        // Every Slack message before 12:00 was before the condition; the next one (21:00) is after the resolution.
        #expect(o.verdict == .late)
        #expect(o.evidence == [s.id(ofKey: "INC-2026-0142/update-resolved")!])
    }

    @Test("With a while-condition that ends before the resolution: not applicable, saying when")
    func conditionEndsEarly() throws {
        let s = try Scenario.incident().setting(Self.opened, "impacts_mobile", .bool(true))
            .appending("incident.updated", at: "2026-04-08T09:00:00-04:00", key: "mobile", data: obj(["impacts_mobile": .bool(false)]))
        let o = try Self.judge(s).only("B-MOBILE")
        #expect(o.verdict == .notApplicable)
        #expect(o.reason?.hasPrefix("impacts_mobile became false at ") == true, "\(o.reason ?? "")")
        #expect(o.reason?.contains("before incident.resolved (") == true, "\(o.reason ?? "")")
    }

    @Test("Policy check: an unknown anchor and a bad level are named")
    func problems() throws {
        let yaml = Self.policyYAML
            .replacingOccurrences(of: "due: {before: incident.resolved}\n  - id: B-CLOSED", with: "due: {before: incident.fixed}\n  - id: B-CLOSED")
            .replacingOccurrences(of: "level: should", with: "level: could")
        let p = try Policy.parse(yaml: yaml)
        let problems = p.problems(directory: nil)
        #expect(problems.contains("rule B-RESOLVED: due.before: unknown anchor \"incident.fixed\" (expected window.start, window.end, case.closed or a case event type)"), "\(problems)")
        #expect(problems.contains("rule B-MOBILE: level: unknown level \"could\" (expected must or should)"), "\(problems)")
        #expect(try Fixtures.judge(Scenario.incident(), policy: p).only("B-RESOLVED").verdict == .notApplicable)
    }
}

@Suite("Repeating timing by interval")
struct IntervalTimingTests {
    static let policyYAML = """
    name: intervals
    version: "1"
    timezone: America/New_York
    rules:
      - id: E-DAY
        title: A Slack update every 24 hours while unresolved
        quote: q
        applies_when: {kind: incident}
        requires: {notification: {channels: [slack]}}
        due: {every: PT24H, while: unresolved}
      - id: E-4H
        title: A Slack update every 4 hours
        quote: q
        applies_when: {kind: incident}
        requires: {notification: {channels: [slack]}}
        due: {every: PT4H}
      - id: E-AFTER
        title: Every 24 hours from the first priority
        quote: q
        applies_when: {kind: incident}
        requires: {notification: {channels: [slack]}}
        due: {every: PT24H, while: unresolved, after: incident.priority_set}
      - id: E-MOBILE
        title: Every 12 hours while mobile-impacting
        quote: q
        applies_when: {kind: incident, impacts_mobile: true}
        requires: {notification: {channels: [slack]}}
        due: {every: PT12H, while: unresolved}
    """

    static func policy() throws -> Policy {
        let p = try Policy.parse(yaml: policyYAML)
        #expect(p.problems(directory: nil).isEmpty, "\(p.problems(directory: nil))")
        return p
    }

    static let opened = "INC-2026-0142/opened"
    static func judge(_ s: Scenario, asOf: Date = Fixtures.later) throws -> CaseEvaluation {
        try Fixtures.judge(s, asOf: asOf, policy: policy())
    }

    static func mobile(_ s: Scenario, _ value: Bool, at time: String) -> Scenario {
        s.appending("incident.updated", at: time, key: "mobile-\(time)", data: obj(["impacts_mobile": .bool(value)]))
    }

    @Test("It reads back as text")
    func parses() throws {
        let p = try Self.policy()
        #expect(p.rule("E-DAY")?.due.map(\.timing.description) == ["every PT24H while unresolved"])
        #expect(p.rule("E-AFTER")?.due.map(\.timing.description) == ["every PT24H while unresolved after incident.priority_set"])
    }

    @Test("From the opening: one obligation per interval, labelled by its start; met, missed, then closed")
    func fromOpening() throws {
        let all = try Self.judge(Scenario.incident()).obligations(rule: "E-DAY")
        #expect(all.map(\.occurrence) == ["2026-04-07T09:20:00-04:00", "2026-04-08T09:20:00-04:00",
                                          "2026-04-09T09:20:00-04:00"])
        #expect(all.map(\.verdict) == [.met, .missed, .notApplicable])
        #expect(all[0].deadline == Fixtures.time("2026-04-08T09:20:00-04:00"))
        #expect(all[1].missing == ["notification.sent on slack"])
        #expect(all[2].reason == "not due: the case closed during the interval")
    }

    @Test("The current interval is pending; a message at an interval's end belongs to the next")
    func current() throws {
        let asOf = Fixtures.time("2026-04-08T01:00:00-04:00")
        let all = try Self.judge(Scenario.incident(), asOf: asOf).obligations(rule: "E-4H")
        #expect(all.map(\.occurrence) == ["2026-04-07T09:20:00-04:00", "2026-04-07T13:20:00-04:00",
                                          "2026-04-07T17:20:00-04:00", "2026-04-07T21:20:00-04:00"])
        #expect(all.map(\.verdict) == [.met, .met, .met, .pending])
        let edge = try Scenario.incident().envelope("INC-2026-0142/p1-slack", "occurred_at", "2026-04-07T17:20:00-04:00")
            .removing("INC-2026-0142/update-0407")
        let e = try Self.judge(edge, asOf: asOf).obligations(rule: "E-4H")
        #expect(e.map(\.verdict) == [.met, .missed, .met, .pending])
    }

    @Test("After another event: the intervals start at it; no such event in a closed case: not applicable")
    func afterAnchor() throws {
        let all = try Self.judge(Scenario.incident()).obligations(rule: "E-AFTER")
        #expect(all.map(\.occurrence) == ["2026-04-07T09:50:00-04:00", "2026-04-08T09:50:00-04:00",
                                          "2026-04-09T09:50:00-04:00"])
        #expect(all.map(\.verdict) == [.met, .missed, .notApplicable])
        let none = try Scenario.incident().removing("INC-2026-0142/p3", "INC-2026-0142/p1")
        let o = try Self.judge(none).only("E-AFTER")
        #expect(o.verdict == .notApplicable)
        #expect(o.reason == "no incident.priority_set in this case")
        let open = try Self.judge(none, asOf: Fixtures.time("2026-04-08T00:00:00-04:00")).only("E-AFTER")
        #expect(open.verdict == .pending)
        #expect(open.reason == "not yet due: waiting for incident.priority_set")
    }

    @Test("While-condition holds throughout: intervals from the opening")
    func conditionThroughout() throws {
        let s = try Scenario.incident().setting(Self.opened, "impacts_mobile", .bool(true))
        let all = try Self.judge(s).obligations(rule: "E-MOBILE")
        #expect(all.count == 5)
        #expect(all.map(\.verdict) == [.met, .missed, .missed, .missed, .notApplicable])
    }

    @Test("While-condition starts late: the intervals start at the entry; earlier ones are not listed")
    func conditionStartsLate() throws {
        let s = Self.mobile(try Scenario.incident(), true, at: "2026-04-08T10:00:00-04:00")
        let all = try Self.judge(s).obligations(rule: "E-MOBILE")
        #expect(all.map(\.occurrence) == ["2026-04-08T10:00:00-04:00", "2026-04-08T22:00:00-04:00",
                                          "2026-04-09T10:00:00-04:00"])
        #expect(all.map(\.verdict) == [.missed, .missed, .notApplicable])
    }

    @Test("While-condition ends early: an interval ending outside it is not applicable")
    func conditionEndsEarly() throws {
        let s = Self.mobile(try Scenario.incident().setting(Self.opened, "impacts_mobile", .bool(true)), false,
                            at: "2026-04-08T03:00:00-04:00")
        let all = try Self.judge(s).obligations(rule: "E-MOBILE")
        #expect(all.map(\.verdict) == [.met, .notApplicable, .notApplicable, .notApplicable, .notApplicable])
        #expect(all[1].reason == "not due: impacts_mobile false at the end of the interval")
    }

    @Test("While-condition never holds: not applicable")
    func conditionNever() throws {
        let o = try Self.judge(Scenario.incident()).only("E-MOBILE")
        #expect(o.verdict == .notApplicable)
        #expect(o.reason == "the case has not met the condition (impacts_mobile is true)")
    }

    @Test("Policy check: bad interval, unknown while, while without every, unknown anchor")
    func problems() throws {
        func problems(_ due: String) throws -> [String] {
            let yaml = Self.policyYAML.replacingOccurrences(of: "due: {every: PT4H}", with: "due: \(due)")
            return try Policy.parse(yaml: yaml).problems(directory: nil)
        }
        #expect(try problems("{every: PT5M}") == ["rule E-4H: due.every: PT5M is shorter than the shortest interval (PT15M)"])
        #expect(try problems("{every: often}") == ["rule E-4H: due.every: bad duration 'often' (not ISO 8601 and not a parameter)"])
        #expect(try problems("{every: PT4H, while: open}") == ["rule E-4H: due.while: unknown value \"open\" (expected unresolved)"])
        #expect(try problems("{within: PT4H, after: incident.opened, while: unresolved}")
                == ["rule E-4H: due.while: only an every timing takes while ({\"after\":\"incident.opened\",\"while\":\"unresolved\",\"within\":\"PT4H\"})"])
        #expect(try problems("{every: PT4H, after: incident.fixed}") == ["rule E-4H: due.after: unknown event kind 'incident.fixed'"])
    }
}
