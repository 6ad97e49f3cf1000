import Events
import Foundation
@testable import Domain
import Testing

/// Issue 17, "a wrong verdict": each occasion of a rule with a
/// while-condition is judged by whether the condition held at that
/// occasion, for every timing form (docs/policy.md §2, "while-conditions
/// and occasions"). For each form: a condition that holds throughout
/// (the verdict the form gives without a condition), one that starts late
/// and one that ends early.
@Suite("While-conditions judged at each occasion")
struct ConditionTimingTests {
    static let policyYAML = """
    name: mobile-conditions
    version: "1"
    timezone: America/New_York
    rules:
      - id: M-DAY-BEFORE
        title: Mobile notice the day before
        quote: q
        applies_when: {kind: planned_downtime, impacts_mobile: true}
        requires: {notification: {channels: [slack]}}
        due: {day_before: window.start}
      - id: M-BEFORE
        title: Mobile approval ticket before the window
        quote: q
        applies_when: {kind: planned_downtime, impacts_mobile: true}
        requires: {ticket: {system: snow, purpose: downtime_approval}}
        due: {before: window.start}
      - id: M-OPEN
        title: Mobile notice within the hour
        quote: q
        applies_when: {kind: incident, impacts_mobile: true}
        requires: {notification: {channels: [slack]}}
        due: {within: PT1H, after: incident.opened}
      - id: M-RESOLVED
        title: Mobile notice after resolution
        quote: q
        applies_when: {kind: incident, impacts_mobile: true}
        requires: {notification: {channels: [slack]}}
        due: {within: PT4H, after: incident.resolved}
      - id: M-EACH
        title: Mobile notice per solution
        quote: q
        applies_when: {kind: incident, impacts_mobile: true}
        requires: {notification: {channels: [slack]}}
        due: {each: incident.milestone, milestone: solution_determined, within: PT4H}
      - id: M-DAILY
        title: Mobile daily update
        quote: q
        applies_when: {kind: incident, impacts_mobile: true}
        requires: {notification: {channels: [slack]}}
        due: {daily_while_unresolved: true}
    """

    static func policy() throws -> Policy {
        let p = try Policy.parse(yaml: policyYAML)
        #expect(p.problems(directory: nil).isEmpty, "\(p.problems(directory: nil))")
        return p
    }

    static let planned = "PD-2026-0007/planned"
    static let opened = "INC-2026-0142/opened"

    /// The sample downtime (window 2026-03-14 22:00 New York, so the day
    /// before is 2026-03-13), mobile from planning unless changed.
    static func downtime(mobile: Bool = true) throws -> Scenario {
        try Scenario.planned().setting(planned, "impacts_mobile", .bool(mobile))
    }

    static func mobileChange(_ s: Scenario, _ value: Bool, at time: String, kind: String = "downtime.updated") -> Scenario {
        s.appending(kind, at: time, key: "mobile-\(value)-\(time)", data: obj(["impacts_mobile": .bool(value)]))
    }

    /// The sample incident (opened 2026-04-07 09:20, solution 04-09 10:00,
    /// resolved 04-09 15:00, update 21:00), mobile from opening unless changed.
    static func incident(mobile: Bool = true) throws -> Scenario {
        try Scenario.incident().setting(opened, "impacts_mobile", .bool(mobile))
    }

    static func judge(_ s: Scenario) throws -> CaseEvaluation { try Fixtures.judge(s, policy: policy()) }

    // MARK: day_before

    @Test("day_before: holds throughout: met by the day-before message")
    func dayBeforeThroughout() throws {
        let o = try Self.judge(Self.downtime()).only("M-DAY-BEFORE")
        #expect(o.verdict == .met)
        #expect(o.occurrence == "2026-03-13")
    }

    @Test("day_before: became true on the window's day: not applicable, saying when")
    func dayBeforeStartsLate() throws {
        let s = Self.mobileChange(try Self.downtime(mobile: false), true, at: "2026-03-14T09:00:00-04:00")
        let o = try Self.judge(s).only("M-DAY-BEFORE")
        #expect(o.verdict == .notApplicable)
        #expect(o.reason == "impacts_mobile became true on 2026-03-14, after the day before the window (2026-03-13)")
        // Set at the very midnight that starts the window's day: that day, not the day before.
        let midnight = Self.mobileChange(try Self.downtime(mobile: false), true, at: "2026-03-14T00:00:00-04:00")
        #expect(try Self.judge(midnight).only("M-DAY-BEFORE").verdict == .notApplicable)
    }

    @Test("day_before: became true during the day before: owed, the whole day's messages count")
    func dayBeforeStartsDuringTheDay() throws {
        let s = Self.mobileChange(try Self.downtime(mobile: false), true, at: "2026-03-13T15:00:00-04:00")
        // The day-before message was sent at 14:00, before the flag: the day counts as a whole.
        #expect(try Self.judge(s).only("M-DAY-BEFORE").verdict == .met)
        // Without it, missed, and it says what was missing.
        let none = s.removing("PD-2026-0007/daybefore-slack")
        let o = try Self.judge(none).only("M-DAY-BEFORE")
        #expect(o.verdict == .missed)
        #expect(o.missing == ["notification.sent on slack"])
    }

    @Test("day_before: stopped holding before the day before: not applicable, saying when")
    func dayBeforeEndsEarly() throws {
        let s = Self.mobileChange(try Self.downtime(), false, at: "2026-03-10T12:00:00-04:00")
        let o = try Self.judge(s).only("M-DAY-BEFORE")
        #expect(o.verdict == .notApplicable)
        #expect(o.reason == "impacts_mobile became false on 2026-03-10, before the end of the day before the window (2026-03-13)")
        // Stopped during the day before: it does not hold at its end either.
        let during = Self.mobileChange(try Self.downtime(), false, at: "2026-03-13T18:00:00-04:00")
        #expect(try Self.judge(during).only("M-DAY-BEFORE").verdict == .notApplicable)
        // Stopped and came back before the day before: owed again.
        let back = Self.mobileChange(s, true, at: "2026-03-12T12:00:00-04:00")
        #expect(try Self.judge(back).only("M-DAY-BEFORE").verdict == .met)
    }

    @Test("day_before: never held: not applicable")
    func dayBeforeNever() throws {
        let o = try Self.judge(Self.downtime(mobile: false)).only("M-DAY-BEFORE")
        #expect(o.verdict == .notApplicable)
        #expect(o.reason == "the case has not met the condition (impacts_mobile is true)")
    }

    // MARK: before

    @Test("before: holds throughout: met by the ticket")
    func beforeThroughout() throws {
        #expect(try Self.judge(Self.downtime()).only("M-BEFORE").verdict == .met)
    }

    @Test("before: became true only after the window started: not applicable, saying when")
    func beforeStartsLate() throws {
        let s = Self.mobileChange(try Self.downtime(mobile: false), true, at: "2026-03-14T23:00:00-04:00")
        let o = try Self.judge(s).only("M-BEFORE")
        #expect(o.verdict == .notApplicable)
        #expect(o.reason?.hasPrefix("impacts_mobile became true at 2026-03-14T23:00:00-04:00") == true
                || o.reason?.hasPrefix("impacts_mobile became true at 2026-03-15T03:00:00Z") == true, "\(o.reason ?? "")")
        #expect(o.reason?.contains("after window.start (") == true, "\(o.reason ?? "")")
    }

    @Test("before: became true before the window: owed from then (an earlier ticket does not count)")
    func beforeStartsLateButInTime() throws {
        let s = Self.mobileChange(try Self.downtime(mobile: false), true, at: "2026-03-10T12:00:00-04:00")
        let o = try Self.judge(s).only("M-BEFORE")
        #expect(o.verdict == .missed)
        #expect(o.missing == ["ticket.submitted (snow, downtime_approval)"])
        // A ticket after the case became mobile-impacting counts.
        let ticket = s.appending("ticket.submitted", at: "2026-03-11T09:00:00-04:00", key: "snow-2",
                                 data: obj(["system": "snow", "number": "CHG2", "purpose": "downtime_approval"]))
        #expect(try Self.judge(ticket).only("M-BEFORE").verdict == .met)
    }

    @Test("before: stopped holding before the window: not applicable, saying when")
    func beforeEndsEarly() throws {
        let s = Self.mobileChange(try Self.downtime(), false, at: "2026-03-10T12:00:00-04:00")
        let o = try Self.judge(s).only("M-BEFORE")
        #expect(o.verdict == .notApplicable)
        #expect(o.reason?.hasPrefix("impacts_mobile became false at ") == true, "\(o.reason ?? "")")
        #expect(o.reason?.contains("before window.start (") == true, "\(o.reason ?? "")")
    }

    // MARK: within after the opening event

    @Test("within after the opening: holds throughout: met, due an hour after opening")
    func openThroughout() throws {
        let o = try Self.judge(Self.incident()).only("M-OPEN")
        #expect(o.verdict == .met)
        #expect(o.deadline == Fixtures.time("2026-04-07T10:20:00-04:00"))
    }

    @Test("within after the opening: starts late: the clock starts when the case enters the condition")
    func openStartsLate() throws {
        let s = Self.mobileChange(try Self.incident(mobile: false), true, at: "2026-04-07T13:00:00-04:00",
                                  kind: "incident.updated")
        let o = try Self.judge(s).only("M-OPEN")
        #expect(o.deadline == Fixtures.time("2026-04-07T14:00:00-04:00"))
        #expect(o.verdict == .met)
        // The step-one message (09:35) was before the condition: the P1 Slack message (13:30) is the evidence.
        #expect(o.evidence == [s.id(ofKey: "INC-2026-0142/p1-slack")!])
    }

    @Test("within after the opening: ends early: owed once the condition held (it arose at opening)")
    func openEndsEarly() throws {
        let s = Self.mobileChange(try Self.incident(), false, at: "2026-04-07T09:30:00-04:00", kind: "incident.updated")
        let o = try Self.judge(s).only("M-OPEN")
        #expect(o.verdict == .met)
        #expect(o.deadline == Fixtures.time("2026-04-07T10:20:00-04:00"))
    }

    // MARK: within after another event

    @Test("within after another event: holds throughout: late, as without a condition")
    func anchorThroughout() throws {
        let o = try Self.judge(Self.incident()).only("M-RESOLVED")
        #expect(o.verdict == .late)
        #expect(o.lateBy == TimeInterval(2 * 3600))
    }

    @Test("within after another event: starts after the anchor: not applicable")
    func anchorStartsLate() throws {
        let s = Self.mobileChange(try Self.incident(mobile: false), true, at: "2026-04-09T16:00:00-04:00",
                                  kind: "incident.updated")
        let o = try Self.judge(s).only("M-RESOLVED")
        #expect(o.verdict == .notApplicable)
        #expect(o.reason == "the condition (impacts_mobile is true) did not hold at incident.resolved: impacts_mobile false")
    }

    @Test("within after another event: ends before the anchor: not applicable")
    func anchorEndsEarly() throws {
        let s = Self.mobileChange(try Self.incident(), false, at: "2026-04-08T09:00:00-04:00", kind: "incident.updated")
        #expect(try Self.judge(s).only("M-RESOLVED").verdict == .notApplicable)
    }

    // MARK: each occurrence

    @Test("each: holds throughout: met")
    func eachThroughout() throws {
        #expect(try Self.judge(Self.incident()).only("M-EACH").verdict == .met)
    }

    @Test("each: starts after the event: that occurrence is not applicable")
    func eachStartsLate() throws {
        let s = Self.mobileChange(try Self.incident(mobile: false), true, at: "2026-04-09T12:00:00-04:00",
                                  kind: "incident.updated")
        let o = try Self.judge(s).only("M-EACH")
        #expect(o.verdict == .notApplicable)
        #expect(o.reason?.contains("did not hold at incident.milestone solution_determined") == true, "\(o.reason ?? "")")
    }

    @Test("each: ends before the event: that occurrence is not applicable")
    func eachEndsEarly() throws {
        let s = Self.mobileChange(try Self.incident(), false, at: "2026-04-08T09:00:00-04:00", kind: "incident.updated")
        #expect(try Self.judge(s).only("M-EACH").verdict == .notApplicable)
    }

    // MARK: daily while unresolved

    @Test("daily: holds throughout: one obligation a day until resolution")
    func dailyThroughout() throws {
        let days = try Self.judge(Self.incident()).obligations(rule: "M-DAILY")
        #expect(days.map(\.occurrence) == ["2026-04-07", "2026-04-08", "2026-04-09"])
        #expect(days.map(\.verdict) == [.met, .missed, .notApplicable])
        #expect(days[1].missing == ["notification.sent on slack"])
    }

    @Test("daily: starts late: days before the condition are not listed")
    func dailyStartsLate() throws {
        let s = Self.mobileChange(try Self.incident(mobile: false), true, at: "2026-04-08T10:00:00-04:00",
                                  kind: "incident.updated")
        let days = try Self.judge(s).obligations(rule: "M-DAILY")
        #expect(days.map(\.occurrence) == ["2026-04-08", "2026-04-09"])
        #expect(days.map(\.verdict) == [.missed, .notApplicable])
    }

    @Test("daily: ends early: a day ending outside the condition is not applicable")
    func dailyEndsEarly() throws {
        let s = Self.mobileChange(try Self.incident(), false, at: "2026-04-08T10:00:00-04:00", kind: "incident.updated")
        let days = try Self.judge(s).obligations(rule: "M-DAILY")
        #expect(days.map(\.verdict) == [.met, .notApplicable, .notApplicable])
        #expect(days[1].reason == "not due: impacts_mobile false at the end of the day")
    }

    // MARK: priorities as the condition

    @Test("A priority condition is judged at the occasion too: a P1/P2 rule after resolution, the case P3 again by then")
    func priorityAtAnchor() throws {
        // Priorities are set on incidents only (the window forms are for
        // planned downtime); the same per-occasion check judges them.
        let yaml = Self.policyYAML.replacingOccurrences(of: "applies_when: {kind: incident, impacts_mobile: true}\n    requires: {notification: {channels: [slack]}}\n    due: {within: PT4H, after: incident.resolved}",
                                                        with: "applies_when: {kind: incident, priority: [P1, P2]}\n    requires: {notification: {channels: [slack]}}\n    due: {within: PT4H, after: incident.resolved}")
        #expect(yaml != Self.policyYAML, "the rule was rewritten")
        let p = try Policy.parse(yaml: yaml)
        let s = try Scenario.incident().appending("incident.priority_set", at: "2026-04-09T12:00:00-04:00", key: "p3-again",
                                                  data: obj(["priority": "P3", "reason": "contained"]))
        let o = try Fixtures.judge(s, policy: p).only("M-RESOLVED")
        #expect(o.verdict == .notApplicable)
        #expect(o.reason == "the condition (priority in P1/P2) did not hold at incident.resolved: priority P3")
        #expect(try Fixtures.judge(Scenario.incident(), policy: p).only("M-RESOLVED").verdict == .late)
    }
}

/// Every verdict of both sample scenarios under the default policy, pinned
/// (issue 17: the default policy and the samples judge the same before and
/// after the per-occasion conditions).
@Suite("Sample verdicts pinned under the default policy")
struct SampleVerdictPinTests {
    static func lines(_ e: CaseEvaluation) -> [String] {
        e.obligations.map { o in
            "\(o.ruleID) \(o.occurrence.map { $0.hasPrefix("e") ? "event" : $0 } ?? "-") \(o.verdict.rawValue)"
        }
    }

    @Test("The planned downtime sample: every obligation met")
    func planned() throws {
        let e = try Fixtures.judge(.planned())
        #expect(Self.lines(e) == [
            "PD-CONTENT - met",
            "PD-NOTIFY-PLANNING - met",
            "PD-NOTIFY-DAY-BEFORE 2026-03-13 met",
            "PD-NOTIFY-CONCLUDED - met",
            "PD-API-SLACK planning met",
            "PD-API-SLACK day_before met",
            "PD-API-SLACK concluded met",
            "PD-API-EMAIL planning met",
            "PD-API-EMAIL day_before met",
            "PD-API-EMAIL concluded met",
            "PD-API-SNOW-APPROVAL - met",
            "PD-API-PD-WINDOW - met",
            "PD-API-PD-VERIFY - met",
        ])
    }

    @Test("The escalated incident sample: the README table")
    func incident() throws {
        let e = try Fixtures.judge(.incident())
        #expect(Self.lines(e) == [
            "IR-CONTENT - met",
            "IR-UF-STEP-ONE - met",
            "IR-UF-P12-SLACK - met",
            "IR-UF-P12-EMAIL - met",
            "IR-UF-P12-UPDATE-SOLUTION event met",
            "IR-UF-P12-UPDATE-DAILY 2026-04-07 met",
            "IR-UF-P12-UPDATE-DAILY 2026-04-08 missed",
            "IR-UF-P12-UPDATE-DAILY 2026-04-09 not_applicable",
            "IR-UF-P12-UPDATE-RESOLVED event late",
            "IR-UF-P34-PRIORITY - met",
            "IR-UF-P34-UPDATE-RESOLVED event not_applicable",
        ])
    }
}
