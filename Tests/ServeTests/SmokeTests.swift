import Events
import Foundation
import Ingest
import Testing
import TestSupport

@Suite("dtledger serve: first light (PostgreSQL, HTTP on loopback)")
struct SmokeTests {
    @Test("url_verification, a PagerDuty incident opens a case, a Slack message naming it is appended, health and metrics answer")
    func firstLight() async throws {
        let h = try await ServeHarness.start(configYAML: ServeHarness.config(importYAML: """
            pagerduty:
              services:
                PSVC1: {team: user-facing, product: medications, name: VA.gov Medications}
            slack:
              channels: {C0COORD: "#mhv-coordination"}
            """))
        do {
            let challenge = try await h.slack(Data(#"{"type":"url_verification","challenge":"abc123","token":"x"}"#.utf8))
            #expect(challenge.status == 200)
            #expect(challenge.json?["challenge"]?.stringValue == "abc123")

            let now = Date()
            let trigger = JSONValue.object(["event": .object([
                "id": .string("01PDEVT1"), "event_type": .string("incident.triggered"), "resource_type": .string("incident"),
                "occurred_at": .string(RFC3339.format(now.addingTimeInterval(-60))),
                "agent": .object(["id": .string("PUSER1"), "summary": .string("Max Bell"), "type": .string("user_reference")]),
                "data": .object([
                    "id": .string("Q1INC"), "type": .string("incident"), "number": .int(4242), "title": .string("Medications page errors"),
                    "created_at": .string(RFC3339.format(now.addingTimeInterval(-60))), "status": .string("triggered"),
                    "service": .object(["id": .string("PSVC1"), "summary": .string("VA.gov Medications")]),
                    "html_url": .string("https://example.pagerduty.com/incidents/Q1INC"),
                ]),
            ])])
            let pd = try await h.pagerDuty(Data(trigger.jsonText().utf8))
            #expect(pd.status == 200, "\(pd.body)")
            try await h.settled()
            let events = try h.caseEvents()
            #expect(events.count == 1)
            let caseID = try #require(events.first?.caseID)
            #expect(caseID.hasPrefix("INC-"))
            #expect(try JSONValue.parse(events[0].metadataText)["import"]?["signature_verified"] == .bool(true))

            let text = "Case: \(caseID)\nPurpose: initial\nSummary: Medications page errors\n<!subteam^S0UFONCALL>"
            let ts = String(format: "%.6f", now.timeIntervalSince1970 - 30)
            let message = SlackBody.message(eventID: "Ev01", text: text, ts: ts)
            let first = try await h.slack(message)
            #expect(first.status == 200, "\(first.body)")
            let retry = try await h.slack(message, extraHeaders: ["X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"])
            #expect(retry.status == 200)
            #expect(retry.json?["duplicate"] == .bool(true))
            try await h.settled()
            let after = try h.caseEvents()
            #expect(after.count == 2)
            #expect(after.last?.type == "notification.sent")

            #expect(try await h.get("/healthz").status == 200)
            let ready = try await h.get("/readyz")
            #expect(ready.status == 200, "\(ready.body)")
            let metrics = try await h.get("/metrics")
            #expect(metrics.body.contains("dtledger_requests_total"))
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }
}
