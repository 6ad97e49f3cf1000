import Events
import Foundation
@testable import Domain
import Testing

@Suite("Time: calendar days, DST, as-of")
struct TimeTests {
    /// The sample downtime moved to `start`..`end`, its day-before messages
    /// replaced by one Slack message at `message`.
    func movedDowntime(start: String, end: String, message: String) throws -> Scenario {
        try Scenario.planned()
            .setting(pd + "planned", "window", obj(["start": .string(start), "end": .string(end)]))
            .removing(pd + "daybefore-slack", pd + "daybefore-email", pd + "started", pd + "concluded",
                      pd + "concluded-slack", pd + "concluded-email")
            .appending("notification.sent", at: message, actor: "tara-lead", key: "db", data: obj([
                "channel": "slack", "destination": "#mhv-health-portal-coordination", "audience": strs("ana-po"),
                "purpose": "day_before", "content": obj(["reason": "r", "anticipated_impact": "i", "timeframe": "t",
                                                         "rollback_plan": "p"])]))
    }

    @Test("Day before across spring-forward: 8 March 2026 lasts 23 hours", arguments: [
        ("2026-03-08T23:30:00-04:00", Verdict.met),
        ("2026-03-08T00:10:00-05:00", Verdict.met),
        ("2026-03-07T23:30:00-05:00", Verdict.missed),  // counted by naive 24-hour arithmetic
    ])
    func springForward(_ message: String, _ expected: Verdict) throws {
        let s = try movedDowntime(start: "2026-03-09T10:00:00-04:00", end: "2026-03-09T12:00:00-04:00", message: message)
        let o = try Fixtures.judge(s).only("PD-NOTIFY-DAY-BEFORE")
        #expect(o.verdict == expected)
        #expect(o.occurrence == "2026-03-08")
        #expect(o.deadline == Fixtures.time("2026-03-09T00:00:00-04:00"))
    }

    @Test("Day before across fall-back: 1 November 2026 lasts 25 hours", arguments: [
        ("2026-11-01T00:30:00-04:00", Verdict.met),     // missed by naive 24-hour arithmetic
        ("2026-11-01T23:30:00-05:00", Verdict.met),
        ("2026-10-31T23:30:00-04:00", Verdict.missed),
    ])
    func fallBack(_ message: String, _ expected: Verdict) throws {
        let s = try movedDowntime(start: "2026-11-02T10:00:00-05:00", end: "2026-11-02T12:00:00-05:00", message: message)
        let o = try Fixtures.judge(s, asOf: Fixtures.time("2026-12-01T00:00:00Z")).only("PD-NOTIFY-DAY-BEFORE")
        #expect(o.verdict == expected)
        #expect(o.deadline == Fixtures.time("2026-11-02T00:00:00-05:00"))
    }

    @Test("A message on the downtime's own day, before it starts, is late")
    func dayBeforeLate() throws {
        let s = try movedDowntime(start: "2026-03-20T22:00:00-04:00", end: "2026-03-21T01:00:00-04:00",
                                  message: "2026-03-20T08:00:00-04:00")
        let o = try Fixtures.judge(s).only("PD-NOTIFY-DAY-BEFORE")
        #expect(o.verdict == .late)
        #expect(o.lateBy == TimeInterval(8 * 3600))
    }

    @Test("Daily updates of a P1 incident spanning three days, resolved on the fourth")
    func threeDays() throws {
        var s = try Scenario.incident()
            .removing(inc + "p3", inc + "p3-edit", inc + "update-0407", inc + "solution", inc + "update-solution")
            .envelope(inc + "p1", "occurred_at", "2026-04-07T09:30:00-04:00")
            .envelope(inc + "resolved", "occurred_at", "2026-04-10T09:00:00-04:00")
            .envelope(inc + "update-resolved", "occurred_at", "2026-04-10T10:00:00-04:00")
        for (day, time) in [("0408", "2026-04-08T17:00:00-04:00"), ("0409", "2026-04-09T23:59:00-04:00")] {
            s = s.appending("notification.sent", at: time, key: "daily-\(day)", data: obj([
                "channel": "email", "destination": "mhv-incidents@example.org",
                "audience": strs("mhv-api-platform@example.org", "ana.ortiz@example.org", "octo-health-engineers@example.org",
                                 "greg.kirk@example.org", "sean.good@example.org", "mhv-horizon@example.org", "chante@example.org"),
                "purpose": "update", "content": Builders.incidentContent]))
        }
        let e = try Fixtures.judge(s)
        let daily = e.obligations(rule: "IR-UF-P12-UPDATE-DAILY")
        #expect(daily.map(\.occurrence) == ["2026-04-07", "2026-04-08", "2026-04-09", "2026-04-10"])
        #expect(daily.map(\.verdict) == [.met, .met, .met, .notApplicable])
        #expect(daily[2].evidence == [s.id(ofKey: "daily-0409")!])
        // A day's message sent just after midnight belongs to the next day.
        let shifted = s.envelope("daily-0409", "occurred_at", "2026-04-10T00:01:00-04:00")
        #expect(try Fixtures.judge(shifted).occurrence("IR-UF-P12-UPDATE-DAILY", "2026-04-09").verdict == .missed)
    }

    @Test("As of the middle of the incident: obligations not yet due are pending")
    func pendingMidCase() throws {
        let s = try Scenario.incident()
        let e = try Fixtures.judge(s, asOf: Fixtures.time("2026-04-07T13:20:00-04:00"))
        #expect(e.currentPriority == .p1)
        #expect(e.resolvedAt == nil)
        #expect(try e.only("IR-UF-STEP-ONE").verdict == .met)
        let slack = try e.only("IR-UF-P12-SLACK")
        #expect(slack.verdict == .pending)
        #expect(slack.deadline == Fixtures.time("2026-04-07T14:10:00-04:00"))
        #expect(e.verdicts("IR-UF-P12-UPDATE-DAILY") == [.pending])
        let resolved = try e.only("IR-UF-P12-UPDATE-RESOLVED")
        #expect(resolved.verdict == .pending)
        #expect(resolved.deadline == nil)
        #expect(resolved.reason?.contains("incident.resolved") == true)

        // Next day at noon: the first day is met, the second pending.
        let next = try Fixtures.judge(s, asOf: Fixtures.time("2026-04-08T12:00:00-04:00"))
        #expect(next.verdicts("IR-UF-P12-UPDATE-DAILY") == [.met, .pending])
        // After that day ended with no message: missed.
        let after = try Fixtures.judge(s, asOf: Fixtures.time("2026-04-09T08:00:00-04:00"))
        #expect(after.verdicts("IR-UF-P12-UPDATE-DAILY") == [.met, .missed, .pending])
    }

    @Test("Planned downtime before the day before: day-before pending, window rules pending")
    func plannedPending() throws {
        let e = try Fixtures.judge(Scenario.planned(), asOf: Fixtures.time("2026-03-10T12:00:00-04:00"))
        #expect(try e.only("PD-NOTIFY-PLANNING").verdict == .met)
        #expect(try e.only("PD-NOTIFY-DAY-BEFORE").verdict == .pending)
        #expect(try e.only("PD-NOTIFY-CONCLUDED").verdict == .pending)
        #expect(try e.only("PD-API-SNOW-APPROVAL").verdict == .met)
    }

    @Test("A rescheduled window moves the obligations tied to it")
    func rescheduled() throws {
        let s = try Scenario.planned().appending("downtime.updated", at: "2026-03-12T09:00:00-04:00", actor: "tara-lead",
                                                 key: "move", data: obj(["window": obj([
                                                     "start": "2026-03-21T22:00:00-04:00", "end": "2026-03-22T02:00:00-04:00"])]))
            .removing(pd + "started", pd + "concluded", pd + "concluded-slack", pd + "concluded-email")
        let e = try Fixtures.judge(s)
        #expect(e.window?.start == Fixtures.time("2026-03-21T22:00:00-04:00"))
        let dayBefore = try e.only("PD-NOTIFY-DAY-BEFORE")
        #expect(dayBefore.occurrence == "2026-03-20")
        #expect(dayBefore.verdict == .missed)  // the 13 March messages are no longer the day before
        #expect(try e.only("PD-API-PD-WINDOW").verdict == .partial)  // PW12345 covers the old window only
        #expect(try e.only("PD-API-SNOW-APPROVAL").deadline == Fixtures.time("2026-03-21T22:00:00-04:00"))
    }

    @Test("Retracted events are not evidence")
    func retracted() throws {
        let s = try Scenario.incident()
        let id = try #require(s.id(ofKey: inc + "p1-email"))
        let r = s.appending("event.retracted", at: "2026-04-07T15:00:00-04:00", key: "retract",
                            data: obj(["event_id": .string(id), "reason": "sent to the wrong list"]))
        #expect(try Fixtures.judge(r).only("IR-UF-P12-EMAIL").verdict == .missed)
        #expect(try Fixtures.judge(s).only("IR-UF-P12-EMAIL").verdict == .met)
    }

    @Test("Evidence recorded more than a day after it happened is flagged attested_late")
    func attestedLate() throws {
        let s = try Scenario.incident()
        let events = try s.events(recordedLate: [inc + "step-one": 3 * 86_400])
        let e = evaluate(caseID: s.caseID, events: events, policy: Fixtures.policy, policyVersion: "1",
                         directories: try Fixtures.directories(), asOf: Fixtures.later)
        #expect(try e.only("IR-UF-STEP-ONE").attestedLate)
        #expect(try !e.only("IR-UF-P12-SLACK").attestedLate)
        #expect(try Fixtures.judge(s).only("IR-UF-STEP-ONE").attestedLate == false)
    }

    @Test("A cancelled downtime owes no day-before, window or conclusion obligations")
    func cancelled() throws {
        let s = try Scenario.planned()
            .removing(pd + "daybefore-slack", pd + "daybefore-email", pd + "pd-window", pd + "pd-verify",
                      pd + "started", pd + "concluded", pd + "concluded-slack", pd + "concluded-email")
            .appending("downtime.cancelled", at: "2026-03-10T09:00:00-04:00", actor: "tara-lead", key: "cancel",
                       data: obj(["reason": "upgrade postponed indefinitely"]))
        let e = try Fixtures.judge(s)
        #expect(e.cancelledAt == Fixtures.time("2026-03-10T09:00:00-04:00"))
        for rule in ["PD-NOTIFY-DAY-BEFORE", "PD-NOTIFY-CONCLUDED", "PD-API-PD-WINDOW", "PD-API-PD-VERIFY"] {
            let o = try e.only(rule)
            #expect(o.verdict == .notApplicable, "\(rule)")
            #expect(o.reason?.contains("cancelled") == true)
        }
        #expect(try e.only("PD-NOTIFY-PLANNING").verdict == .met)
    }

    @Test("An incomplete attempt before the deadline is pending and names what is missing")
    func pendingAttempt() throws {
        let s = try Scenario.incident().setting(inc + "p1-slack", "audience", strs("@mhv-api-platform", "ana-po"))
        let o = try Fixtures.judge(s, asOf: Fixtures.time("2026-04-07T13:45:00-04:00")).only("IR-UF-P12-SLACK")
        #expect(o.verdict == .pending)
        #expect(o.missing.contains("role:contact-center"))
        #expect(!o.missing.contains("role:api-platform"))
    }

    @Test("A retracted priority change no longer moves the case into P1")
    func retractedPriority() throws {
        let s = try Scenario.incident()
        let p1 = try #require(s.id(ofKey: inc + "p1"))
        let e = try Fixtures.judge(s.appending("event.retracted", at: "2026-04-07T13:15:00-04:00", key: "undo",
                                               data: obj(["event_id": .string(p1), "reason": "wrong incident"])))
        #expect(e.currentPriority == .p3)
        #expect(try e.only("IR-UF-P12-SLACK").verdict == .notApplicable)
        #expect(try e.only("IR-UF-P34-UPDATE-RESOLVED").verdict != .notApplicable)
    }
}
