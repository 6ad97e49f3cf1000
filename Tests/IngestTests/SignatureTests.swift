import Events
import Foundation
import Ingest
import Testing

@Suite("Ingest: webhook signatures")
struct SignatureTests {
    static let secret = "whsec-test-0123456789"

    static func saved(_ body: String, headers: [String: String], receivedAt: String? = nil) -> Data {
        var o: [String: JSONValue] = ["headers": .object(headers.mapValues(JSONValue.string)), "body": .string(body)]
        if let receivedAt { o["received_at"] = .string(receivedAt) }
        return Data(JSONValue.object(o).jsonText().utf8)
    }

    static func pagerDutyFile(secret: String = secret, tamper: Bool = false) throws -> Data {
        let lines = String(decoding: try Fixture.data("pagerduty-incident.jsonl"), as: UTF8.self).split(separator: "\n")
        return Data(lines.map { line -> String in
            let body = String(line)
            let sig = Signatures.pagerDutySignature(body: Data(body.utf8), secret: secret)
            let sent = tamper ? body.replacingOccurrences(of: "P3", with: "P4") : body
            return String(decoding: saved(sent, headers: ["X-PagerDuty-Signature": "v1=deadbeef, \(sig)"]), as: UTF8.self)
        }.joined(separator: "\n").utf8)
    }

    @Test("PagerDuty: a good signature (among several) is verified and marked")
    func pagerDutyGood() throws {
        let out = PagerDutyImporter.map(PayloadFile.read(try Self.pagerDutyFile()).payloads,
                                        context: try Fixture.context(secret: Self.secret))
        #expect(out.signatureFailures.isEmpty)
        #expect(out.events.count == 6)
        #expect(out.events.allSatisfy { $0.metadata["import"]?["signature_verified"] == .bool(true) })
    }

    @Test("PagerDuty: a wrong secret and a changed body fail")
    func pagerDutyBad() throws {
        let wrong = PagerDutyImporter.map(PayloadFile.read(try Self.pagerDutyFile(secret: "other")).payloads,
                                          context: try Fixture.context(secret: Self.secret))
        #expect(wrong.signatureFailures.count == 6)
        let changed = PagerDutyImporter.map(PayloadFile.read(try Self.pagerDutyFile(tamper: true)).payloads,
                                            context: try Fixture.context(secret: Self.secret))
        #expect(changed.signatureFailures.count == 1)  // the one payload that mentions P3
        #expect(changed.signatureFailures[0].reason.contains("does not match"))
        #expect(changed.signatureFailures[0].code == .signature)
        #expect(Signatures.verifyPagerDuty(body: Data("{}".utf8), header: nil, secret: "s") != nil)
    }

    static func slackFile(secret: String = secret, ageSeconds: Int64 = 3, tamper: Bool = false) throws -> Data {
        let lines = String(decoding: try Fixture.data("slack-incident.jsonl"), as: UTF8.self).split(separator: "\n")
        let received = try RFC3339.parse("2026-04-07T14:00:00Z")
        let timestamp = Int64(received.timeIntervalSince1970) - ageSeconds
        return Data(lines.map { line -> String in
            let body = String(line)
            let sig = Signatures.slackSignature(body: Data(body.utf8), timestamp: timestamp, secret: secret)
            let sent = tamper ? body.replacingOccurrences(of: "Purpose: priority", with: "Purpose: other") : body
            return String(decoding: saved(sent, headers: ["X-Slack-Signature": sig, "X-Slack-Request-Timestamp": String(timestamp)],
                                          receivedAt: RFC3339.format(received)), as: UTF8.self)
        }.joined(separator: "\n").utf8)
    }

    @Test("Slack: good signature verified; wrong secret, changed body and an old timestamp fail")
    func slack() throws {
        let ctx = try Fixture.context(known: ["INC-2026-0142": .incident], secret: Self.secret)
        let good = SlackImporter.map(PayloadFile.read(try Self.slackFile()).payloads, context: ctx)
        #expect(good.signatureFailures.isEmpty)
        #expect(good.events.count == 6)
        #expect(good.events.allSatisfy { $0.metadata["import"]?["signature_verified"] == .bool(true) })

        let wrong = SlackImporter.map(PayloadFile.read(try Self.slackFile(secret: "nope")).payloads, context: ctx)
        #expect(wrong.signatureFailures.count == 6)
        let changed = SlackImporter.map(PayloadFile.read(try Self.slackFile(tamper: true)).payloads, context: ctx)
        #expect(changed.signatureFailures.count == 2)
        let old = SlackImporter.map(PayloadFile.read(try Self.slackFile(ageSeconds: 301)).payloads, context: ctx)
        #expect(old.signatureFailures.count == 6)
        #expect(old.signatureFailures[0].reason.contains("stale"))
        // Without received_at, the clock is "now": an old payload is stale.
        let body = Data("{}".utf8)
        let sig = Signatures.slackSignature(body: body, timestamp: 1_000, secret: "s")
        #expect(Signatures.verifySlack(body: body, timestamp: "1000", signature: sig, secret: "s",
                                       receivedAt: Date(timeIntervalSince1970: 1_200)) == nil)
        #expect(Signatures.verifySlack(body: body, timestamp: "1000", signature: sig, secret: "s",
                                       receivedAt: Date(timeIntervalSince1970: 1_400)) != nil)
    }
}
