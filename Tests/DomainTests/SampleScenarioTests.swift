import Events
import Foundation
@testable import Domain
import Testing

@Suite("Sample scenarios (shared/scenarios/README.md)")
struct SampleScenarioTests {
    @Test("Planned downtime done by the book: every obligation met")
    func plannedAllMet() throws {
        let e = try Fixtures.judge(.planned())
        #expect(e.kind == .plannedDowntime)
        #expect(e.team == .apiPlatform)
        #expect(e.policyVersion == "1")
        let expected: Set = ["PD-CONTENT", "PD-NOTIFY-PLANNING", "PD-NOTIFY-DAY-BEFORE", "PD-NOTIFY-CONCLUDED",
                             "PD-API-SLACK", "PD-API-EMAIL", "PD-API-SNOW-APPROVAL", "PD-API-PD-WINDOW", "PD-API-PD-VERIFY"]
        #expect(Set(e.obligations.map(\.ruleID)) == expected)
        for o in e.obligations {
            #expect(o.verdict == .met, "\(o.ruleID) \(o.occurrence ?? ""): \(o.verdict) missing \(o.missing) \(o.reason ?? "")")
            #expect(!o.evidence.isEmpty, "\(o.ruleID) names no evidence")
        }
        // Slack and email each judged at planning, the day before and conclusion.
        #expect(e.obligations(rule: "PD-API-SLACK").compactMap(\.occurrence) == ["planning", "day_before", "concluded"])
        #expect(e.obligations(rule: "PD-API-EMAIL").count == 3)
    }

    @Test("Planned downtime evidence names the right events")
    func plannedEvidence() throws {
        let s = try Scenario.planned()
        let e = try Fixtures.judge(s)
        #expect(try e.only("PD-API-SNOW-APPROVAL").evidence == [s.id(ofKey: "PD-2026-0007/snow"), s.id(ofKey: "PD-2026-0007/approval")].compactMap { $0 })
        #expect(try e.only("PD-API-PD-VERIFY").evidence.contains(s.id(ofKey: "PD-2026-0007/pd-verify")!))
        #expect(try e.only("PD-NOTIFY-DAY-BEFORE").evidence == [s.id(ofKey: "PD-2026-0007/daybefore-slack")!])
    }

    @Test("Incident escalated P3 -> P1, one silent day: the README table")
    func incidentTable() throws {
        let s = try Scenario.incident()
        let e = try Fixtures.judge(s)
        #expect(e.kind == .incident)
        #expect(e.currentPriority == .p1)
        #expect(e.priorityHistory.map(\.priority) == [.p3, .p1])
        #expect(e.resolvedAt == Fixtures.time("2026-04-09T15:00:00-04:00"))

        #expect(try e.only("IR-CONTENT").verdict == .met)
        let stepOne = try e.only("IR-UF-STEP-ONE")
        #expect(stepOne.verdict == .met)
        #expect(stepOne.evidence == [s.id(ofKey: "INC-2026-0142/step-one")!])
        #expect(stepOne.deadline == Fixtures.time("2026-04-07T10:20:00-04:00"))

        let p34 = try e.only("IR-UF-P34-PRIORITY")
        #expect(p34.verdict == .met)
        #expect(p34.evidence == [s.id(ofKey: "INC-2026-0142/p3-edit")!])
        #expect(p34.deadline == Fixtures.time("2026-04-07T10:50:00-04:00"))

        let slack = try e.only("IR-UF-P12-SLACK")
        #expect(slack.verdict == .met)
        #expect(slack.evidence == [s.id(ofKey: "INC-2026-0142/p1-slack")!])
        #expect(slack.deadline == Fixtures.time("2026-04-07T14:10:00-04:00"))

        let email = try e.only("IR-UF-P12-EMAIL")
        #expect(email.verdict == .met)
        #expect(email.evidence == [s.id(ofKey: "INC-2026-0142/p1-email")!])

        let daily = e.obligations(rule: "IR-UF-P12-UPDATE-DAILY")
        #expect(daily.map(\.occurrence) == ["2026-04-07", "2026-04-08", "2026-04-09"])
        #expect(daily.map(\.verdict) == [.met, .missed, .notApplicable])
        #expect(daily[1].deadline == Fixtures.time("2026-04-09T00:00:00-04:00"))
        #expect(daily[2].reason?.contains("resolved") == true)

        let solution = try e.only("IR-UF-P12-UPDATE-SOLUTION")
        #expect(solution.verdict == .met)
        #expect(solution.evidence == [s.id(ofKey: "INC-2026-0142/update-solution")!])
        #expect(solution.occurrence == s.id(ofKey: "INC-2026-0142/solution"))

        let resolved = try e.only("IR-UF-P12-UPDATE-RESOLVED")
        #expect(resolved.verdict == .late)
        #expect(resolved.lateBy == TimeInterval(2 * 3600))
        #expect(resolved.deadline == Fixtures.time("2026-04-09T19:00:00-04:00"))
        #expect(resolved.evidence == [s.id(ofKey: "INC-2026-0142/update-resolved")!])

        let p34Resolved = try e.only("IR-UF-P34-UPDATE-RESOLVED")
        #expect(p34Resolved.verdict == .notApplicable)
        #expect(p34Resolved.reason?.contains("P1") == true)

        // API/Platform incident rules do not concern a user-facing incident.
        #expect(e.obligations(rule: "IR-API-NOTIFY").isEmpty)
        #expect(e.obligations.count == 11)
    }

    @Test("Evaluation encodes to JSON with the raw verdict values")
    func json() throws {
        let e = try Fixtures.judge(.incident())
        let json = e.json
        let obligations = try #require(json["obligations"]?.arrayValue)
        #expect(obligations.count == e.obligations.count)
        let resolved = try #require(obligations.first { $0["rule"]?.stringValue == "IR-UF-P12-UPDATE-RESOLVED" })
        #expect(resolved["verdict"] == .string("late"))
        #expect(resolved["late_by"] == .int(7200))
        #expect(resolved["late_by_text"] == .string("PT2H"))
        #expect(obligations.contains { $0["verdict"] == .string("not_applicable") })
        #expect(json["policy"]?["version"] == .string("1"))
    }
}
