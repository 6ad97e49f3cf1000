import Events
import Foundation
import Testing
import TestSupport
import VendorReplay

/// What the mapper does with receipts that arrive out of order or cannot be placed yet.
@Suite("dtledger serve: the mapper (PostgreSQL, HTTP on loopback)")
struct MapperTests {
    @Test("PagerDuty's acknowledgement before its trigger waits in the inbox, then is placed by the trigger's case; once")
    func outOfOrder() async throws {
        let incident = RealisticIncident(start: Date().addingTimeInterval(-3600))
        let h = try await ServeHarness.start(configYAML: ServeHarness.config(importYAML: RealisticIncident.importConfigYAML))
        do {
            let sender = Sender(baseURL: "http://127.0.0.1:\(h.port)", slackSecret: ServeHarness.slackSecret,
                                pagerDutySecret: ServeHarness.pagerDutySecret, serviceNowToken: ServeHarness.serviceNowToken)
            let requests = incident.requests
            let ack = try #require(requests.first { $0.label.contains("acknowledged") })
            let trigger = try #require(requests.first { $0.label.contains("triggered") })
            let first = try await sender.send(ack, client: h.client)
            #expect(first.status == 200)
            try await h.settled()
            let ackReceipt = try #require(first.body.contains("\"receipt\":1") ? Int64(1) : nil)
            #expect(try h.outcome(ackReceipt)?.outcome == "inbox")
            #expect(try h.outcome(ackReceipt)?.code == "no_case")
            #expect(try h.caseEvents().isEmpty)

            #expect(try await sender.send(trigger, client: h.client).status == 200)
            try await h.settled()
            let placed = try #require(try h.outcome(ackReceipt))
            #expect(placed.outcome == "appended")
            #expect(placed.code == "retried")
            let events = try h.caseEvents()
            #expect(events.map(\.type) == ["incident.opened", "note.added"])
            #expect(Set(events.map(\.caseID)).count == 1)
            // The trigger again (a PagerDuty retry): nothing new.
            let again = try await sender.send(trigger, client: h.client)
            #expect(again.body.contains("\"duplicate\":true"))
            try await h.settled()
            #expect(try h.caseEvents().count == 2)
            #expect(try h.count("SELECT count(*) FROM dtledger.receipt_outcomes WHERE receipt_id = 1") == 2)
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }
}
