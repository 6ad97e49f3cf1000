import Events
import Foundation
@testable import Domain
import Testing

/// One rule's verdict in one scenario.
struct RuleCase: Sendable, CustomTestStringConvertible {
    let rule: String
    let name: String
    let occurrence: String?
    let expected: Verdict
    let build: @Sendable () throws -> Scenario

    init(_ rule: String, _ name: String, _ expected: Verdict, occurrence: String? = nil,
         _ build: @escaping @Sendable () throws -> Scenario) {
        self.rule = rule
        self.name = name
        self.occurrence = occurrence
        self.expected = expected
        self.build = build
    }

    var testDescription: String { "\(rule) \(expected.rawValue): \(name)" }
}

let pd = "PD-2026-0007/"
let inc = "INC-2026-0142/"

let ruleCases: [RuleCase] = [
    // Planned downtime, any team
    RuleCase("PD-CONTENT", "sample", .met) { try .planned() },
    RuleCase("PD-CONTENT", "email without rollback plan", .partial) {
        try Scenario.planned().setting(pd + "planning-email", "content.rollback_plan", nil)
    },
    RuleCase("PD-NOTIFY-PLANNING", "sample", .met) { try .planned() },
    RuleCase("PD-NOTIFY-PLANNING", "first message two days after planning", .late) {
        try Scenario.planned().envelope(pd + "planning-slack", "occurred_at", "2026-03-04T11:00:00-05:00")
            .envelope(pd + "planning-email", "occurred_at", "2026-03-04T11:05:00-05:00")
    },
    RuleCase("PD-NOTIFY-DAY-BEFORE", "sample", .met) { try .planned() },
    RuleCase("PD-NOTIFY-DAY-BEFORE", "no message on 13 March", .missed) {
        try Scenario.planned().removing(pd + "daybefore-slack", pd + "daybefore-email")
    },
    RuleCase("PD-NOTIFY-DAY-BEFORE", "planned on the day before", .notApplicable) {
        try Scenario.planned().envelope(pd + "planned", "occurred_at", "2026-03-13T09:00:00-04:00")
            .removing(pd + "planning-slack", pd + "planning-email", pd + "snow", pd + "approval", pd + "pd-window", pd + "pd-verify")
    },
    RuleCase("PD-NOTIFY-CONCLUDED", "sample", .met) { try .planned() },
    RuleCase("PD-NOTIFY-CONCLUDED", "no message after conclusion", .missed) {
        try Scenario.planned().removing(pd + "concluded-slack", pd + "concluded-email")
    },
    // Planned downtime, API/Platform
    RuleCase("PD-API-SLACK", "sample", .met, occurrence: "planning") { try .planned() },
    RuleCase("PD-API-SLACK", "ISSO not tagged", .partial, occurrence: "planning") {
        try Scenario.planned().setting(pd + "planning-slack", "audience",
                                       strs("ana-po", "ben-po", "@octo-health-engineers", "greg-kirk", "sean-good",
                                            "@mhv-uf-oncall", "kim-pm", "@mhv-horizon"))
    },
    RuleCase("PD-API-SLACK", "posted in another channel", .partial, occurrence: "concluded") {
        try Scenario.planned().setting(pd + "concluded-slack", "destination", "#random")
    },
    RuleCase("PD-API-EMAIL", "sample", .met, occurrence: "day_before") { try .planned() },
    RuleCase("PD-API-EMAIL", "no planning email", .missed, occurrence: "planning") {
        try Scenario.planned().removing(pd + "planning-email", pd + "daybefore-email", pd + "concluded-email")
    },
    RuleCase("PD-API-SNOW-APPROVAL", "sample", .met) { try .planned() },
    RuleCase("PD-API-SNOW-APPROVAL", "approved by a PM, not the System Owner", .partial) {
        try Scenario.planned().setting(pd + "approval", "approver", "kim-pm")
    },
    RuleCase("PD-API-SNOW-APPROVAL", "approved after the window started", .late) {
        try Scenario.planned().envelope(pd + "approval", "occurred_at", "2026-03-14T23:00:00-04:00")
    },
    RuleCase("PD-API-PD-WINDOW", "sample", .met) { try .planned() },
    RuleCase("PD-API-PD-WINDOW", "window ends before the downtime does", .partial) {
        try Scenario.planned().setting(pd + "pd-window", "end", "2026-03-15T01:00:00-04:00")
    },
    RuleCase("PD-API-PD-WINDOW", "no window", .missed) {
        try Scenario.planned().removing(pd + "pd-window", pd + "pd-verify")
    },
    RuleCase("PD-API-PD-VERIFY", "sample", .met) { try .planned() },
    RuleCase("PD-API-PD-VERIFY", "verified by the engineer who set it, not the on-call", .partial) {
        try Scenario.planned().envelope(pd + "pd-verify", "actor", "nia-eng")
    },
    RuleCase("PD-API-PD-VERIFY", "never verified", .missed) { try Scenario.planned().removing(pd + "pd-verify") },
    // Planned downtime, user-facing
    RuleCase("PD-UF-SLACK", "communication owner posts", .met, occurrence: "planning") { try Builders.userFacingDowntime() },
    RuleCase("PD-UF-SLACK", "posted by someone who is not PM/EM/owner", .partial, occurrence: "planning") {
        try Builders.userFacingDowntime().envelope(pd + "planning-slack", "actor", "tara-lead")
    },
    RuleCase("PD-UF-EMAIL", "communication owner emails", .met, occurrence: "concluded") { try Builders.userFacingDowntime() },
    RuleCase("PD-UF-EMAIL", "no day-before email", .missed, occurrence: "day_before") {
        try Builders.userFacingDowntime().removing(pd + "daybefore-email")
    },
    RuleCase("PD-UF-PD-WINDOW", "an engineer sets it", .met) { try Builders.userFacingDowntime() },
    RuleCase("PD-UF-PD-WINDOW", "set by a team lead", .partial) {
        try Builders.userFacingDowntime().envelope(pd + "pd-window", "actor", "tara-lead")
    },
    // Incident, any team
    RuleCase("IR-CONTENT", "sample", .met) { try .incident() },
    RuleCase("IR-CONTENT", "STEP ONE message without start time", .partial) {
        try Scenario.incident().setting(inc + "step-one", "content.start_time", nil)
    },
    // Incident, API/Platform
    RuleCase("IR-API-NOTIFY", "core team tagged in time", .met) { Builders.apiIncident() },
    RuleCase("IR-API-NOTIFY", "V/CHIO not tagged", .partial) {
        Builders.apiIncident().setting("api/notify", "audience",
                                       strs("@mhv-uf-oncall", "@mhv-horizon", "sean-good", "ivy-isso", "pat-privacy",
                                            "sam-security", "tara-lead", "ana-po"))
    },
    RuleCase("IR-API-NOTIFY", "two hours after detection", .late) {
        Builders.apiIncident().envelope("api/notify", "occurred_at", "2026-05-04T11:00:00-04:00")
    },
    RuleCase("IR-API-GROUP-CHAT", "convened", .met) { Builders.apiIncident() },
    RuleCase("IR-API-GROUP-CHAT", "never convened", .missed) { Builders.apiIncident().removing("api/chat") },
    RuleCase("IR-API-PSETS", "ISSO submits", .met) { Builders.apiIncident() },
    RuleCase("IR-API-PSETS", "submitted by the team lead", .partial) {
        Builders.apiIncident().envelope("api/psets", "actor", "tara-lead")
    },
    RuleCase("IR-API-DBRS", "escalated", .met) { Builders.apiIncident() },
    RuleCase("IR-API-DBRS", "not escalated", .missed) { Builders.apiIncident().removing("api/dbrs") },
    RuleCase("IR-API-DBRS", "no compromise suspected", .notApplicable) { Builders.apiIncident(suspected: false).removing("api/dbrs") },
    RuleCase("IR-API-DBRS", "suspicion raised later, escalated within the hour", .met) {
        Builders.apiIncident(suspected: false)
            .appending("incident.updated", at: "2026-05-04T12:00:00-04:00", key: "api/suspect",
                       data: obj(["data_compromise_suspected": .bool(true)]))
            .envelope("api/dbrs", "occurred_at", "2026-05-04T12:30:00-04:00")
    },
    RuleCase("IR-API-STAKEHOLDERS", "OCC, help desk, VAEC emailed", .met) { Builders.apiIncident() },
    RuleCase("IR-API-STAKEHOLDERS", "VAEC left out", .partial) {
        Builders.apiIncident().setting("api/stakeholders", "audience", strs("occ@example.org", "help-desk@example.org"))
    },
    // Incident, user-facing
    RuleCase("IR-UF-STEP-ONE", "sample", .met) { try .incident() },
    RuleCase("IR-UF-STEP-ONE", "API/Platform not tagged", .partial) {
        try Scenario.incident().setting(inc + "step-one", "audience", strs("@mhv-horizon"))
    },
    RuleCase("IR-UF-STEP-ONE", "sent by the EM, not the on-call engineer", .partial) {
        try Scenario.incident().envelope(inc + "step-one", "actor", "lou-em")
    },
    RuleCase("IR-UF-P12-SLACK", "sample", .met) { try .incident() },
    RuleCase("IR-UF-P12-SLACK", "80 minutes after the P1 rating", .late) {
        try Scenario.incident().envelope(inc + "p1-slack", "occurred_at", "2026-04-07T14:30:00-04:00")
    },
    RuleCase("IR-UF-P12-EMAIL", "sample", .met) { try .incident() },
    RuleCase("IR-UF-P12-EMAIL", "no email", .missed) { try Scenario.incident().removing(inc + "p1-email") },
    RuleCase("IR-UF-P12-UPDATE-SOLUTION", "sample", .met) { try .incident() },
    RuleCase("IR-UF-P12-UPDATE-SOLUTION", "only the resolution message follows", .late) {
        try Scenario.incident().removing(inc + "update-solution")
    },
    RuleCase("IR-UF-P12-UPDATE-DAILY", "sample, first day", .met, occurrence: "2026-04-07") { try .incident() },
    RuleCase("IR-UF-P12-UPDATE-DAILY", "sample, silent day", .missed, occurrence: "2026-04-08") { try .incident() },
    RuleCase("IR-UF-P12-UPDATE-DAILY", "sample, day of resolution", .notApplicable, occurrence: "2026-04-09") { try .incident() },
    RuleCase("IR-UF-P12-UPDATE-RESOLVED", "sample (21:00, due 19:00)", .late) { try .incident() },
    RuleCase("IR-UF-P12-UPDATE-RESOLVED", "sent at 18:00", .met) {
        try Scenario.incident().envelope(inc + "update-resolved", "occurred_at", "2026-04-09T18:00:00-04:00")
    },
    RuleCase("IR-UF-P12-UPDATE-RESOLVED", "never sent", .missed) { try Scenario.incident().removing(inc + "update-resolved") },
    RuleCase("IR-UF-P34-PRIORITY", "sample", .met) { try .incident() },
    RuleCase("IR-UF-P34-PRIORITY", "edit without the priority level", .partial) {
        try Scenario.incident().setting(inc + "p3-edit", "content.priority", nil)
    },
    RuleCase("IR-UF-P34-PRIORITY", "product PM not tagged", .partial) {
        try Scenario.incident().setting(inc + "p3-edit", "audience", strs("ana-po", "ben-po", "@mhv-horizon"))
    },
    RuleCase("IR-UF-P34-UPDATE-RESOLVED", "sample: P1 when resolved", .notApplicable) { try .incident() },
    RuleCase("IR-UF-P34-UPDATE-RESOLVED", "stayed P3, update at 16:00", .met) {
        try Scenario.incident().removing(inc + "p1")
            .envelope(inc + "update-resolved", "occurred_at", "2026-04-09T16:00:00-04:00")
            .setting(inc + "update-resolved", "audience", strs("ana-po", "kim-pm", "@mhv-horizon"))
    },
    RuleCase("IR-UF-P34-UPDATE-RESOLVED", "stayed P3, no update", .missed) {
        try Scenario.incident().removing(inc + "p1", inc + "update-resolved")
    },
]

@Suite("Every default rule: met and not met")
struct RuleCoverageTests {
    @Test(arguments: ruleCases)
    func verdict(_ c: RuleCase) throws {
        let e = try Fixtures.judge(c.build())
        let obligations = e.obligations(rule: c.rule).filter { c.occurrence == nil || $0.occurrence == c.occurrence }
        let o = try #require(obligations.first, "no obligation \(c.rule) \(c.occurrence ?? "")")
        #expect(o.verdict == c.expected, "\(c.rule): \(o.verdict) missing \(o.missing) reason \(o.reason ?? "-")")
        switch o.verdict {
        case .met, .late: #expect(!o.evidence.isEmpty)
        case .partial: #expect(!o.missing.isEmpty)
        case .late where o.lateBy == nil: Issue.record("late without lateBy")
        case .notApplicable: #expect(o.reason != nil)
        default: break
        }
        if o.verdict == .late { #expect((o.lateBy ?? 0) > 0) }
    }

    @Test("Every rule id of DOMAIN.md §4 has a met case and a not-met case")
    func coverage() {
        let ids = Fixtures.policy.rules.map(\.id)
        #expect(ids.count == 26)
        for id in ids {
            let verdicts = Set(ruleCases.filter { $0.rule == id }.map(\.expected))
            #expect(verdicts.contains(.met), "\(id) has no met case")
            #expect(!verdicts.isDisjoint(with: [.missed, .late, .partial]), "\(id) has no failing case")
        }
    }

    @Test("Partial verdicts name what is missing")
    func missingNamed() throws {
        let isso = try Fixtures.judge(Scenario.planned().setting(pd + "planning-slack", "audience",
                                                                  strs("ana-po", "ben-po", "@octo-health-engineers", "greg-kirk",
                                                                       "sean-good", "@mhv-uf-oncall", "kim-pm", "@mhv-horizon")))
        #expect(try isso.occurrence("PD-API-SLACK", "planning").missing == ["role:isso"])

        let content = try Fixtures.judge(Scenario.planned().setting(pd + "planning-email", "content.rollback_plan", nil))
        #expect(try content.only("PD-CONTENT").missing == ["e3: rollback_plan"])

        let snow = try Fixtures.judge(Scenario.planned().setting(pd + "approval", "approver", "kim-pm"))
        #expect(try snow.only("PD-API-SNOW-APPROVAL").missing == ["approval of CHG0031337 by role:system-owner"])

        let verify = try Fixtures.judge(Scenario.planned().envelope(pd + "pd-verify", "actor", "nia-eng"))
        #expect(try verify.only("PD-API-PD-VERIFY").missing == ["actor nia-eng is not role uf-oncall"])

        let window = try Fixtures.judge(Scenario.planned().setting(pd + "pd-window", "end", "2026-03-15T01:00:00-04:00"))
        #expect(try window.only("PD-API-PD-WINDOW").missing.first?.contains("does not cover the downtime window") == true)

        let pm = try Fixtures.judge(Scenario.incident().setting(inc + "p3-edit", "audience", strs("ana-po", "ben-po", "@mhv-horizon")))
        #expect(try pm.only("IR-UF-P34-PRIORITY").missing == ["product:pm (person:kim-pm)"])
    }

    @Test("Late verdicts say by how long")
    func lateBy() throws {
        let e = try Fixtures.judge(Scenario.incident().envelope(inc + "p1-slack", "occurred_at", "2026-04-07T14:30:00-04:00"))
        #expect(try e.only("IR-UF-P12-SLACK").lateBy == TimeInterval(20 * 60))
    }
}
