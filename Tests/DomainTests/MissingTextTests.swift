import Events
import Foundation
@testable import Domain
import Testing

/// Issue 17: a missed obligation always says what was missing, for every
/// requirement kind (a missed milestone used to have an empty list).
@Suite("Missed obligations name what was missing")
struct MissingTextTests {
    static let pd = "PD-2026-0007/"

    static func missed(_ e: CaseEvaluation, _ rule: String) throws -> [String] {
        let o = try e.only(rule)
        #expect(o.verdict == .missed, "\(rule): \(o.verdict)")
        return o.missing
    }

    @Test("milestone, ticket and escalation of an incident")
    func incidentKinds() throws {
        let e = try Fixtures.judge(Builders.apiIncident().removing("api/chat", "api/psets", "api/dbrs"))
        #expect(try Self.missed(e, "IR-API-GROUP-CHAT") == ["incident.milestone group_chat_convened"])
        #expect(try Self.missed(e, "IR-API-PSETS") == ["ticket.submitted (psets, security_incident)"])
        #expect(try Self.missed(e, "IR-API-DBRS") == ["escalation.requested to csoc-dbrs"])
    }

    @Test("approved ticket, maintenance window, its verification, a notification to anyone")
    func downtimeKinds() throws {
        let s = try Scenario.planned().removing(Self.pd + "snow", Self.pd + "approval", Self.pd + "pd-window",
                                                Self.pd + "pd-verify", Self.pd + "concluded-slack", Self.pd + "concluded-email")
        let e = try Fixtures.judge(s)
        #expect(try Self.missed(e, "PD-API-SNOW-APPROVAL") == ["ticket.submitted (snow, downtime_approval) approved by role:system-owner"])
        #expect(try Self.missed(e, "PD-API-PD-WINDOW") == ["maintenance_window.set in pagerduty covering the downtime window"])
        #expect(try Self.missed(e, "PD-API-PD-VERIFY") == ["maintenance_window.verified of a window set in pagerduty"])
        #expect(try Self.missed(e, "PD-NOTIFY-CONCLUDED") == ["notification.sent on slack or email"])
    }

    @Test("a notification with an audience still names the audience, not the requirement")
    func audienceNamed() throws {
        let s = try Scenario.planned().removing(Self.pd + "concluded-slack", Self.pd + "concluded-email")
        let o = try Fixtures.judge(s).occurrence("PD-API-SLACK", "concluded")
        #expect(o.verdict == .missed)
        #expect(o.missing.contains("role:isso"), "\(o.missing)")
        #expect(!o.missing.contains { $0.hasPrefix("notification.sent") })
    }

    @Test("every requirement kind has its text")
    func everyKind() {
        let texts: [Requirement] = [
            .notification(NotificationRequirement(channels: [.slack], destination: "#c", audience: ["role:isso"], content: [])),
            .ticket(TicketRequirement(system: "snow", purpose: .other, approvedBy: nil)),
            .maintenanceWindow(system: "pagerduty", coversDowntime: false), .maintenanceWindowVerified(system: "pagerduty"),
            .escalation(to: "x"), .milestone(.solutionDetermined), .everyMessageContent(.incident), .invalid,
        ]
        for r in texts { #expect(!r.missingText.isEmpty) }
        #expect(texts[0].missingText == "notification.sent on slack to #c reaching role:isso")
    }
}
