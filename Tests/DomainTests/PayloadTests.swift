import Events
import Foundation
@testable import Domain
import Testing

/// Every catalog payload: payload -> json -> Catalog.decode gives the same
/// payload, and json is exactly the data the CLI writes for the same inputs
/// (the expected JSON below is what Sources/dtledger/*Commands.swift build by
/// key: times normalised to UTC by RFC3339.format, optional fields left out,
/// the booleans of downtime.planned and incident.opened always written).
@Suite("Catalog payloads: JSON form and round trip")
struct PayloadTests {
    static func t(_ s: String) -> Date { Fixtures.time(s) }

    /// payload.json is `expected`; decoding it gives the payload back; the
    /// Codable path agrees with both.
    func check<P: CatalogPayload & Equatable>(_ payload: P, _ expected: String,
                                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let want = try JSONValue.parse(Data(expected.utf8))
        #expect(payload.json == want, "\(P.eventType): \(payload.json.jsonText())", sourceLocation: sourceLocation)
        let event = try Catalog.decode(type: P.eventType, data: payload.json)
        #expect(event.type == P.eventType, sourceLocation: sourceLocation)
        #expect(event.payload as? P == payload, sourceLocation: sourceLocation)
        #expect(try P(data: payload.json) == payload, sourceLocation: sourceLocation)
        // Codable: encodes as json, decodes through init(data:).
        let encoded = try JSONEncoder().encode(payload)
        #expect(try JSONValue.parse(encoded) == want, sourceLocation: sourceLocation)
        #expect(try JSONDecoder().decode(P.self, from: encoded) == payload, sourceLocation: sourceLocation)
    }

    @Test("downtime.planned (dtledger downtime plan)")
    func downtimePlanned() throws {
        let window = TimeWindow(start: Self.t("2026-03-14T22:00:00-04:00"), end: Self.t("2026-03-15T02:00:00-04:00"))
        try check(DowntimePlanned(team: .apiPlatform, title: "DB upgrade", reason: "Postgres 15", anticipatedImpact: Impact(users: 1200, services: ["rx", "appointments"]),
                                  window: window, rollbackPlan: "restore snapshot", product: "mhv", impactsMobile: true, communicationOwner: "ana-po"), """
            {"team":"api-platform","title":"DB upgrade","reason":"Postgres 15",
             "anticipated_impact":{"services":["rx","appointments"],"users":1200},
             "window":{"start":"2026-03-15T02:00:00Z","end":"2026-03-15T06:00:00Z"},
             "rollback_plan":"restore snapshot","impacts_mobile":true,"product":"mhv","communication_owner":"ana-po"}
            """)
        // Without the optional options: impacts_mobile is still written, users left out.
        try check(DowntimePlanned(team: .userFacing, title: "T", reason: "R", anticipatedImpact: Impact(services: ["rx"]),
                                  window: window, rollbackPlan: "P"), """
            {"team":"user-facing","title":"T","reason":"R","anticipated_impact":{"services":["rx"]},
             "window":{"start":"2026-03-15T02:00:00Z","end":"2026-03-15T06:00:00Z"},"rollback_plan":"P","impacts_mobile":false}
            """)
    }

    @Test("downtime.updated (dtledger downtime update)")
    func downtimeUpdated() throws {
        try check(DowntimeUpdated(reason: "R2", anticipatedImpact: Impact(users: 5, services: ["rx"]),
                                  window: TimeWindow(start: Self.t("2026-03-21T22:00:00-04:00"), end: Self.t("2026-03-22T01:30:00-04:00")),
                                  rollbackPlan: "P2", title: "T2", product: "mhv", impactsMobile: false, communicationOwner: "ana-po"), """
            {"reason":"R2","anticipated_impact":{"services":["rx"],"users":5},
             "window":{"start":"2026-03-22T02:00:00Z","end":"2026-03-22T05:30:00Z"},
             "rollback_plan":"P2","title":"T2","product":"mhv","impacts_mobile":false,"communication_owner":"ana-po"}
            """)
        try check(DowntimeUpdated(title: "T2"), #"{"title":"T2"}"#)
        try check(DowntimeUpdated(impactsMobile: true), #"{"impacts_mobile":true}"#)
        #expect(DowntimeUpdated().isEmpty && !DowntimeUpdated(title: "T").isEmpty)
        #expect(IncidentUpdated().isEmpty && !IncidentUpdated(impactsMobile: false).isEmpty)
    }

    @Test("downtime.started, concluded, cancelled")
    func downtimeLifecycle() throws {
        try check(DowntimeStarted(), "{}")
        try check(DowntimeConcluded(outcome: .rolledBack, note: "reverted"), #"{"outcome":"rolled_back","note":"reverted"}"#)
        try check(DowntimeConcluded(outcome: .completed), #"{"outcome":"completed"}"#)
        try check(DowntimeCancelled(reason: "vendor slipped"), #"{"reason":"vendor slipped"}"#)
    }

    @Test("incident.opened (dtledger incident open; PagerDuty leaves the flags out)")
    func incidentOpened() throws {
        try check(IncidentOpened(team: .userFacing, summary: "Rx list fails", estimatedUserImpact: Impact(users: 300, services: ["rx"]),
                                 startedAt: Self.t("2026-04-07T08:55:00-04:00"), product: "mhv",
                                 dataCompromiseSuspected: false, impactsMobile: true), """
            {"team":"user-facing","summary":"Rx list fails","estimated_user_impact":{"services":["rx"],"users":300},
             "started_at":"2026-04-07T12:55:00Z","data_compromise_suspected":false,"impacts_mobile":true,"product":"mhv"}
            """)
        let fromPagerDuty = IncidentOpened(team: .apiPlatform, summary: "S", estimatedUserImpact: Impact(services: ["API"]),
                                           startedAt: Self.t("2026-04-07T08:55:00-04:00"))
        try check(fromPagerDuty, """
            {"team":"api-platform","summary":"S","estimated_user_impact":{"services":["API"]},"started_at":"2026-04-07T12:55:00Z"}
            """)
        #expect(fromPagerDuty.dataCompromiseSuspected == false && fromPagerDuty.impactsMobile == false)
    }

    @Test("incident.priority_set, updated, milestone, resolved, reopened")
    func incidentEvents() throws {
        try check(PrioritySet(priority: .p1, reason: "all users"), #"{"priority":"P1","reason":"all users"}"#)
        try check(PrioritySet(priority: .p3), #"{"priority":"P3"}"#)
        try check(IncidentUpdated(summary: "S2", estimatedUserImpact: Impact(services: ["rx", "sm"]), dataCompromiseSuspected: true,
                                  impactsMobile: false, product: "mhv"), """
            {"summary":"S2","estimated_user_impact":{"services":["rx","sm"]},"data_compromise_suspected":true,
             "impacts_mobile":false,"product":"mhv"}
            """)
        try check(IncidentUpdated(dataCompromiseSuspected: false), #"{"data_compromise_suspected":false}"#)
        try check(IncidentMilestone(kind: .solutionDetermined, note: "rollback"), #"{"kind":"solution_determined","note":"rollback"}"#)
        try check(IncidentMilestone(kind: .mimTriggered), #"{"kind":"mim_triggered"}"#)
        try check(IncidentResolved(resolution: "rolled back"), #"{"resolution":"rolled back"}"#)
        try check(IncidentReopened(reason: "back again"), #"{"reason":"back again"}"#)
    }

    @Test("notification.sent (dtledger notify slack/email)")
    func notificationSent() throws {
        try check(NotificationSent(channel: .slack, destination: "#mhv-health-portal-coordination", audience: ["@mhv-api-platform", "ana-po"],
                                   purpose: .initial, content: ["summary": "Medications list fails to load", "start_time": "08:55 ET"],
                                   messageRef: "https://x.slack.com/archives/C1/p1", edits: "https://x.slack.com/archives/C1/p0"), """
            {"channel":"slack","destination":"#mhv-health-portal-coordination","audience":["@mhv-api-platform","ana-po"],
             "purpose":"initial","content":{"summary":"Medications list fails to load","start_time":"08:55 ET"},
             "message_ref":"https://x.slack.com/archives/C1/p1","edits":"https://x.slack.com/archives/C1/p0"}
            """)
        try check(NotificationSent(channel: .email, destination: "list@example.gov", audience: ["role:oncall"], purpose: .dayBefore,
                                   content: ["timeframe": "Sat 22:00-02:00"]), """
            {"channel":"email","destination":"list@example.gov","audience":["role:oncall"],"purpose":"day_before",
             "content":{"timeframe":"Sat 22:00-02:00"}}
            """)
    }

    @Test("ticket.submitted, approval.recorded")
    func tickets() throws {
        try check(TicketSubmitted(system: "snow", number: "CHG0031337", purpose: .downtimeApproval, url: "https://snow/CHG0031337"),
                  #"{"system":"snow","number":"CHG0031337","purpose":"downtime_approval","url":"https://snow/CHG0031337"}"#)
        try check(TicketSubmitted(system: "psets", number: "P-1", purpose: .securityIncident),
                  #"{"system":"psets","number":"P-1","purpose":"security_incident"}"#)
        try check(ApprovalRecorded(ticket: "CHG0031337", approver: "max-eng", decision: .approved),
                  #"{"ticket":"CHG0031337","approver":"max-eng","decision":"approved"}"#)
        try check(ApprovalRecorded(ticket: "CHG1", approver: "ana-po", decision: .rejected),
                  #"{"ticket":"CHG1","approver":"ana-po","decision":"rejected"}"#)
    }

    @Test("maintenance_window.set, verified (dtledger window set/verify)")
    func windows() throws {
        try check(MaintenanceWindowSet(system: "pagerduty", windowID: "PW12345",
                                       window: TimeWindow(start: Self.t("2026-03-14T21:45:00-04:00"), end: Self.t("2026-03-15T02:15:00-04:00")),
                                       services: ["API", "Rx"]), """
            {"system":"pagerduty","window_id":"PW12345","start":"2026-03-15T01:45:00Z","end":"2026-03-15T06:15:00Z","services":["API","Rx"]}
            """)
        try check(MaintenanceWindowVerified(windowID: "PW12345"), #"{"window_id":"PW12345"}"#)
    }

    @Test("escalation.requested, note.added, event.retracted")
    func actions() throws {
        try check(EscalationRequested(to: "csoc-dbrs", reference: "DBRS-7"), #"{"to":"csoc-dbrs","reference":"DBRS-7"}"#)
        try check(EscalationRequested(to: "mim"), #"{"to":"mim"}"#)
        try check(NoteAdded(text: "vendor on the bridge"), #"{"text":"vendor on the bridge"}"#)
        try check(EventRetracted(eventID: "0196a1b2-0000-7000-8000-000000000001", reason: "wrong case"),
                  #"{"event_id":"0196a1b2-0000-7000-8000-000000000001","reason":"wrong case"}"#)
    }

    @Test("directory.published: the directory's own JSON")
    func directory() throws {
        let dir = try Fixtures.directory()
        try check(dir, dir.json.jsonText())
        let small = try Directory(effectiveFrom: Self.t("2026-01-01T00:00:00-05:00"), roles: ["po", "oncall"],
                                  people: [Person(handle: "ana-po", name: "Ana", slackID: "U1", email: "ana@example.gov", roles: ["po"]),
                                           Person(handle: "max-eng", name: "Max")],
                                  groups: [Group(handle: "@mhv-api", slackID: "S1", email: "api@example.gov", role: "oncall"),
                                           Group(handle: "@bare")],
                                  products: [Product(id: "rx", name: "Medications", pm: "ana-po", oncall: "@mhv-api"),
                                             Product(id: "sm", name: "Messages")])
        try check(small, """
            {"effective_from":"2026-01-01T05:00:00Z","roles":["po","oncall"],
             "people":[{"handle":"ana-po","name":"Ana","slack_id":"U1","email":"ana@example.gov","roles":["po"]},
                       {"handle":"max-eng","name":"Max","roles":[]}],
             "groups":[{"handle":"@mhv-api","slack_id":"S1","email":"api@example.gov","role":"oncall"},{"handle":"@bare"}],
             "products":[{"id":"rx","name":"Medications","pm":"ana-po","oncall":"@mhv-api"},{"id":"sm","name":"Messages"}]}
            """)
        #expect(Directory.eventType == .directoryPublished)
    }

    @Test("policy.published (Publishing writes effective_from, policy, sha256)")
    func policy() throws {
        let published = PolicyPublished(effectiveFrom: Self.t("2026-01-01T00:00:00-05:00"), policy: Fixtures.policy, sha256: "ab12")
        var want: [String: JSONValue] = ["effective_from": .string("2026-01-01T05:00:00Z"), "policy": Fixtures.policy.document, "sha256": .string("ab12")]
        #expect(published.json == .object(want))
        guard case .policyPublished(let back) = try Catalog.decode(type: .policyPublished, data: published.json) else {
            Issue.record("wrong decode")
            return
        }
        #expect(back.json == published.json)
        #expect(back.effectiveFrom == published.effectiveFrom && back.sha256 == "ab12")
        want["sha256"] = nil
        #expect(PolicyPublished(effectiveFrom: published.effectiveFrom, policy: Fixtures.policy).json == .object(want))
        let decoded = try JSONDecoder().decode(PolicyPublished.self, from: JSONEncoder().encode(published))
        #expect(decoded.json == published.json)
    }

    @Test("Decodable validates like init(data:): the error names the field")
    func decodableErrors() throws {
        let bad = Data(#"{"team":"user-facing","summary":"S","estimated_user_impact":{"services":["rx"]},"started_at":"yesterday"}"#.utf8)
        #expect {
            _ = try JSONDecoder().decode(IncidentOpened.self, from: bad)
        } throws: { error in
            (error as? ValidationError)?.field == "data.started_at"
        }
        #expect {
            _ = try JSONDecoder().decode(DowntimeUpdated.self, from: Data("{}".utf8))
        } throws: { error in
            (error as? ValidationError)?.field == "data"
        }
    }

    @Test("Every catalog type has a payload type; EventType compares with the envelope's String")
    func everyType() throws {
        let payloads: [any CatalogPayload.Type] = [
            DowntimePlanned.self, DowntimeUpdated.self, DowntimeStarted.self, DowntimeConcluded.self, DowntimeCancelled.self,
            IncidentOpened.self, PrioritySet.self, IncidentUpdated.self, IncidentMilestone.self, IncidentResolved.self,
            IncidentReopened.self, NotificationSent.self, TicketSubmitted.self, ApprovalRecorded.self, MaintenanceWindowSet.self,
            MaintenanceWindowVerified.self, EscalationRequested.self, NoteAdded.self, EventRetracted.self,
            CaseRoleAssigned.self, Directory.self, PolicyPublished.self, CaseOpened.self, CaseClosed.self,
            DecisionRecorded.self,
        ]
        #expect(payloads.map { $0.eventType } == Catalog.eventTypes)
        #expect(Catalog.eventTypes.count == 25)
        #expect(Catalog.knownTypes == Catalog.eventTypes.map(\.rawValue))
        #expect("note.added" == EventType.noteAdded)
        #expect(EventType.noteAdded != "note.add")
        #expect(EventType("incident.opened") == .incidentOpened)
        #expect(Catalog.isKnown(EventType("incident.opened")) && !Catalog.isKnown(EventType("incident.exploded")))
        let env = Envelope(type: "incident.opened", caseID: "INC-1", occurredAt: Self.t("2026-04-07T09:20:00-04:00"), actor: "a", data: .object([:]))
        #expect(env.eventType == .incidentOpened)
        switch env.type {
        case EventType.incidentOpened: break
        default: Issue.record("~= does not match")
        }
        #expect(Catalog.referenceStream(of: .directoryPublished) == Catalog.directoryStream)
        #expect(Catalog.referenceStream(of: .policyPublished) == Catalog.policyStream)
        #expect(Catalog.referenceStream(of: .noteAdded) == nil)
        #expect(Catalog.streamOpeningTypes.map(\.rawValue) == ["downtime.planned", "incident.opened", "directory.published", "policy.published", "case.opened"])
        #expect(Catalog.streamOpeningTypes.allSatisfy { Catalog.opensCase($0) || Catalog.referenceStream(of: $0) != nil })
        #expect(Catalog.openingType(of: .incident) == .incidentOpened)
        #expect(Catalog.openingType(of: .plannedDowntime) == .downtimePlanned)
        #expect(Catalog.caseKind(ofType: EventType.downtimeStarted) == .plannedDowntime)
        #expect(Catalog.caseKind(ofType: EventType.incidentMilestone) == .incident)
        #expect(Catalog.caseKind(ofType: EventType.noteAdded) == nil)
        #expect(Catalog.caseKind(ofType: "downtime.anything") == .plannedDowntime)
        #expect(Catalog.caseKind(ofType: "incident.anything") == .incident)
        #expect(Catalog.caseKind(ofType: "downtimeX") == nil && Catalog.caseKind(ofType: "") == nil)
        #expect(RuleParser.caseEventTypes == ["downtime.planned", "downtime.updated", "downtime.started", "downtime.concluded",
                                              "downtime.cancelled", "incident.opened", "incident.priority_set", "incident.updated",
                                              "incident.milestone", "incident.resolved", "incident.reopened",
                                              "case.opened", "case.closed", "decision.recorded"])
        #expect(try JSONDecoder().decode(EventType.self, from: JSONEncoder().encode(EventType.ticketSubmitted)) == .ticketSubmitted)
        #expect(String(decoding: try JSONEncoder().encode([EventType.noteAdded]), as: UTF8.self) == #"["note.added"]"#)
    }
}
