import Events
import Foundation
import Testing
import TestSupport
import VendorReplay

/// Issue 16's acceptance: a realistic user-facing P2 incident sent as
/// PagerDuty, Slack and ServiceNow requests gets the same per-rule verdicts
/// as the same incident typed with runbook commands.
@Suite("dtledger serve: vendors' requests judged as the same incident typed (PostgreSQL, HTTP on loopback)")
struct EquivalenceTests {
    /// (rule, occurrence) -> verdict from `dtledger compliance CASE --format csv`.
    static func verdicts(_ caseID: String, _ db: TestDatabase, asOf: Date) throws -> [String: String] {
        let r = try CLI.run(["compliance", caseID, "--format", "csv", "--as-of", RFC3339.format(asOf)], database: db.url)
        #expect(r.status == 0 || r.status == 1, "\(r.stderr)")
        var rows = r.lines
        let header = rows.removeFirst().split(separator: ",").map(String.init)
        let rule = try #require(header.firstIndex(of: "rule")), occurrence = try #require(header.firstIndex(of: "occurrence")),
            verdict = try #require(header.firstIndex(of: "verdict")), kind = header.firstIndex(of: "row_kind") ?? header.firstIndex(of: "kind")
        var out: [String: String] = [:]
        var ordinal: [String: Int] = [:]
        for line in rows {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard cells.count > verdict, !cells[rule].isEmpty else { continue }
            _ = kind
            // An occurrence named by its event's id (each milestone, each resolution) differs
            // between the two cases: name it by its order within the rule instead.
            var name = cells[occurrence]
            if UUID(uuidString: name) != nil {
                ordinal[cells[rule], default: 0] += 1
                name = "#\(ordinal[cells[rule]]!)"
            }
            out["\(cells[rule]) \(name)"] = cells[verdict]
        }
        return out
    }

    @Test("a P2 incident from PagerDuty, Slack and ServiceNow = the same incident typed with runbook commands, rule by rule")
    func sameVerdicts() async throws {
        let incident = RealisticIncident(start: Date().addingTimeInterval(-3 * 3600))
        let h = try await ServeHarness.start(configYAML: ServeHarness.config(importYAML: RealisticIncident.importConfigYAML))
        do {
            let sender = Sender(baseURL: "http://127.0.0.1:\(h.port)", slackSecret: ServeHarness.slackSecret,
                                pagerDutySecret: ServeHarness.pagerDutySecret, serviceNowToken: ServeHarness.serviceNowToken)
            for request in incident.requests {
                let answer = try await sender.send(request, client: h.client)
                #expect(answer.status == 200, "\(request.label): \(answer.body)")
            }
            try await h.settled()
            let inbox = try h.count("""
                SELECT count(*) FROM dtledger.receipts r WHERE (SELECT outcome FROM dtledger.receipt_outcomes o
                 WHERE o.receipt_id = r.id ORDER BY o.id DESC LIMIT 1) <> 'appended'
                """)
            #expect(inbox == 0, "every request placed in the case")
            for row in try h.db.connect().query("SELECT receipt_id, outcome, code, reason FROM dtledger.receipt_outcomes WHERE outcome <> 'appended'").rows {
                Issue.record("receipt \(row[0] ?? "") \(row[1] ?? ""): \(row[2] ?? "") \(row[3] ?? "")")
            }
            let received = try h.caseEvents()
            let caseID = try #require(received.first?.caseID)
            #expect(Set(received.map(\.caseID)) == [caseID], "all in one case")
            #expect(received.count == incident.requests.count)

            let typedCase = "INC-2099-\(incident.pdNumber)"
            for command in incident.runbook(caseID: typedCase) {
                let r = try CLI.run(command, database: h.db.url)
                #expect(r.status == 0, "\(command.prefix(2).joined(separator: " ")): \(r.stderr)")
            }
            let asOf = Date()
            let served = try Self.verdicts(caseID, h.db, asOf: asOf)
            let typed = try Self.verdicts(typedCase, h.db, asOf: asOf)
            #expect(!served.isEmpty)
            #expect(served == typed)
            // The point of the P2 path: the Slack and timing rules are met from the vendors' own messages.
            #expect(served.first { $0.key.hasPrefix("IR-UF-STEP-ONE") }?.value == "met")
            #expect(served.first { $0.key.hasPrefix("IR-UF-P12-SLACK") }?.value == "met")
            // Nothing was emailed.
            #expect(served.first { $0.key.hasPrefix("IR-UF-P12-EMAIL") }?.value == "missed")
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }
}
