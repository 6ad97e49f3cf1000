import Events
import Foundation
import Ingest
import Ledger
import Operations
import Testing
import TestSupport

/// `dtledger verify --signatures`: what an import keeps of a verified
/// payload lets an ISSO holding the secret check every signature again, and
/// events whose signature claim is made up, altered or re-signed with
/// another secret are named as FAILED.
@Suite("Ingest: re-verifying kept signatures")
struct SignatureReverifyTests {
    static let inc = "INC-2026-0142"
    static let secrets = ["PAGERDUTY_WEBHOOK_SECRET": SignatureTests.secret, "SLACK_SIGNING_SECRET": SignatureTests.secret]

    /// A database with the PagerDuty and Slack fixtures imported with verified signatures (12 events).
    static func importedDatabase() throws -> TestDatabase {
        let db = try TestDatabase.withSampleDirectory()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dtl-resig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (source, file, data) in [(ImportSource.pagerDuty(defaultTeam: nil), "pd.jsonl", try SignatureTests.pagerDutyFile()),
                                     (ImportSource.slack(defaultPurpose: nil), "slack.jsonl", try SignatureTests.slackFile())] {
            let url = dir.appendingPathComponent(file)
            try data.write(to: url)
            var request = ImportRequest(source: source, file: url.path)
            (request.config, request.verifySignature) = (Fixture.path("config.yaml"), true)
            let r = try db.session(environment: secrets).importPayloads(request)
            #expect(r.summary["signature_verified"] == .int(6))
        }
        return db
    }

    @Test("an import keeps the raw payload, the signature headers and the secret's name (never the secret) under the chain")
    func kept() throws {
        let db = try Self.importedDatabase()
        let events = try db.store().events(caseID: Self.inc)
        #expect(events.count == 12)
        for e in events {
            let sig = try #require(e.metadata["import"]?["signature"])
            #expect(sig["payload_kept"] == .bool(true))
            let payload = try #require(sig["payload"]?.stringValue)
            #expect(RawPayload(item: 1, body: Data(payload.utf8)).sha256 == e.metadata["import"]?["payload_sha256"]?.stringValue)
            #expect(sig["secret_env"]?.stringValue == (e.source == "slack" ? "SLACK_SIGNING_SECRET" : "PAGERDUTY_WEBHOOK_SECRET"))
            #expect(!e.metadataTextContainsSecret)
        }
        #expect(try db.store().verify().ok)
    }

    @Test("every signature re-verifies with the right secret; without it each is 'cannot check'")
    func reverified() throws {
        let db = try Self.importedDatabase()
        let report = try db.session(environment: Self.secrets).open().verifySignatures()
        #expect(report.entries.count == 12)
        #expect(report.reverified == 12, "\(report.lines)")
        #expect(report.ok)
        #expect(report.summaryLine == "signatures: 12 re-verified, 0 FAILED, 0 cannot check (of 12 events claiming a verified signature)")

        let missing = try db.session(environment: [:]).open().verifySignatures()
        #expect(missing.cannotCheck == 12)
        #expect(missing.ok)
        #expect(missing.lines.allSatisfy { $0.hasPrefix("cannot check: ") && $0.contains("is not in the environment") })

        // Re-verifying with another secret than the one that signed: every one fails.
        let other = try db.session(environment: ["PAGERDUTY_WEBHOOK_SECRET": "rotated", "SLACK_SIGNING_SECRET": "rotated"])
            .open().verifySignatures()
        #expect(other.failed == 12)
        #expect(!other.ok)
    }

    /// Appends one event to the case as a writer would (its own metadata), returns its id.
    static func forge(_ db: TestDatabase, key: String, metadata: JSONValue, source: EventSource = .pagerduty) throws -> String {
        let envelope = Envelope(type: "note.added", caseID: inc, occurredAt: try RFC3339.parse("2026-04-08T10:00:00Z"),
                                actor: "max-eng", source: source, key: key, data: .object(["text": .string("forged note")]))
        return try db.store().append(caseID: inc, events: [envelope], metadata: [metadata])[0].id
    }

    /// A PagerDuty webhook body for event `id`, and its `import.signature` as an import keeps it, signed with `secret`.
    static func signedPagerDuty(id: String, secret: String, text: String = "all good") -> (body: String, meta: JSONValue) {
        let body = #"{"event":{"id":"\#(id)","event_type":"incident.annotated","occurred_at":"2026-04-08T10:00:00Z","data":{"content":"\#(text)"}}}"#
        let payload = RawPayload(item: 1, body: Data(body.utf8),
                                 headers: ["X-PagerDuty-Signature": Signatures.pagerDutySignature(body: Data(body.utf8), secret: secret)])
        let sig = KeptSignature.record(payload, scheme: .pagerDutyV1, secretName: "PAGERDUTY_WEBHOOK_SECRET",
                                       receivedAt: Date(timeIntervalSince1970: 1_775_642_400))
        let meta: JSONValue = .object(["import": .object([
            "source": .string("pagerduty"), "source_event_id": .string(id), "payload_sha256": .string(payload.sha256),
            "signature_verified": .bool(true), "signature": sig,
        ])])
        return (body, meta)
    }

    @Test("a made-up, altered, re-signed or copied payload FAILS naming the event; an unallowed secret name is not read")
    func forged() throws {
        let db = try Self.importedDatabase()
        // 1. A writer claims a verified signature on a payload it made up, signed with a secret it knows.
        let madeUp = try Self.forge(db, key: "pagerduty/FORGED1",
                                    metadata: Self.signedPagerDuty(id: "FORGED1", secret: "attacker-secret").meta)
        // 2. A genuinely signed payload, altered after signing (its hash recomputed to match).
        var altered = try #require(try db.store().events(caseID: Self.inc).first { $0.source == "pagerduty" }).metadata
        let original = try #require(altered["import"]?["signature"]?["payload"]?.stringValue)
        let changed = original.replacingOccurrences(of: "Medications", with: "Prescriptions")
        #expect(changed != original)
        let sourceID = try #require(altered["import"]?["source_event_id"]?.stringValue)
        altered = Self.replacing(altered, payload: changed, sourceEventID: nil)
        let alteredID = try Self.forge(db, key: "pagerduty/\(sourceID)/altered", metadata: altered)
        // 3. A genuine payload copied onto an event it is not (another source id).
        let genuine = try #require(try db.store().events(caseID: Self.inc).first { $0.source == "pagerduty" }).metadata
        let copied = try Self.forge(db, key: "pagerduty/COPIED", metadata: Self.replacing(genuine, payload: nil, sourceEventID: "COPIED"))
        // 4. A secret name the verifier does not read (a writer could sign with HOME's value).
        var home = Self.signedPagerDuty(id: "HOME1", secret: "/root").meta
        if case .object(var o) = home, case .object(var i) = o["import"]!, case .object(var s) = i["signature"]! {
            s["secret_env"] = .string("HOME"); i["signature"] = .object(s); o["import"] = .object(i); home = .object(o)
        }
        let homeID = try Self.forge(db, key: "pagerduty/HOME1", metadata: home)
        // 5. Signed with the right secret: re-verifies (the check is not merely "anything appended later fails").
        let honest = try Self.forge(db, key: "pagerduty/HONEST1",
                                    metadata: Self.signedPagerDuty(id: "HONEST1", secret: SignatureTests.secret).meta)

        let report = try db.session(environment: Self.secrets.merging(["HOME": "/root"]) { a, _ in a }).open().verifySignatures()
        func result(_ id: String) -> KeptSignature.Check? { report.entries.first { $0.eventID == id }?.result }
        #expect(report.failed == 3, "\(report.lines)")
        #expect(!report.ok)
        for id in [madeUp, alteredID, copied] {
            guard case .failed = result(id) else { Issue.record("\(id): \(String(describing: result(id)))"); continue }
            #expect(report.lines.contains { $0.hasPrefix("FAILED: ") && $0.contains("event \(id)") })
        }
        guard case .cannotCheck(let why) = result(homeID) else { Issue.record("HOME: \(String(describing: result(homeID)))"); return }
        #expect(why.contains("HOME"))
        #expect(result(honest) == .verified)
        #expect(report.reverified == 13)

        // Through the binary: exit 1, one line per event, the summary, and --json.
        let cli = try CLI.run(["verify", "--signatures"], database: db.url, environment: Self.secrets)
        #expect(cli.status == 1, "\(cli.stderr)")
        #expect(cli.lines.first?.hasPrefix("ok: ") == true)
        #expect(cli.lines.contains { $0.hasPrefix("FAILED: ") && $0.contains("event \(madeUp)") })
        #expect(cli.lines.last == "signatures: 13 re-verified, 3 FAILED, 1 cannot check (of 17 events claiming a verified signature)")
        let json = try CLI.run(["verify", "--signatures", "--json"], database: db.url, environment: Self.secrets)
        #expect(json.status == 1)
        let o = try JSONValue.parse(json.stdout)
        #expect(o["ok"] == .bool(true))
        #expect(o["signatures"]?["failed"] == .int(3))
        #expect(o["signatures"]?["events"]?.arrayValue?.contains { $0["id"]?.stringValue == madeUp && $0["result"] == .string("failed") } == true)
        // Without --signatures, verify is what it was: the chain is intact.
        #expect(try CLI.run(["verify"], database: db.url).status == 0)
    }

    /// `meta` with its kept payload replaced (and payload_sha256 recomputed), or its source_event_id.
    static func replacing(_ meta: JSONValue, payload: String?, sourceEventID: String?) -> JSONValue {
        guard case .object(var o) = meta, case .object(var i) = o["import"]!, case .object(var s) = i["signature"]! else { return meta }
        if let payload {
            s["payload"] = .string(payload)
            i["payload_sha256"] = .string(RawPayload(item: 1, body: Data(payload.utf8)).sha256)
        }
        if let sourceEventID { i["source_event_id"] = .string(sourceEventID) }
        i["signature"] = .object(s); o["import"] = .object(i)
        return .object(o)
    }

    @Test("a payload too large to keep keeps its SHA-256 and cannot be re-verified")
    func tooLarge() throws {
        let big = String(repeating: "x", count: KeptSignature.maxKeptPayloadBytes + 1)
        let body = #"{"event":{"id":"BIG","note":"\#(big)"}}"#
        let payload = RawPayload(item: 1, body: Data(body.utf8),
                                 headers: ["X-PagerDuty-Signature": Signatures.pagerDutySignature(body: Data(body.utf8), secret: "s")])
        let sig = KeptSignature.record(payload, scheme: .pagerDutyV1, secretName: "PAGERDUTY_WEBHOOK_SECRET", receivedAt: Date())
        #expect(sig["payload_kept"] == .bool(false))
        #expect(sig["payload"] == nil)
        let meta: JSONValue = .object(["payload_sha256": .string(payload.sha256), "signature_verified": .bool(true),
                                       "source_event_id": .string("BIG"), "signature": sig])
        guard case .cannotCheck(let why) = KeptSignature.check(importMetadata: meta, source: "pagerduty", key: "pagerduty/BIG",
                                                               secret: { _ in .value("s") }) else {
            Issue.record("expected cannot check"); return
        }
        #expect(why.contains("too large"))
        // A body that is not UTF-8 text is kept as base64 and re-verifies.
        var bytes = Data(#"{"event":{"id":"B64"}}"#.utf8); bytes.append(0xFF)
        let odd = RawPayload(item: 1, body: bytes, headers: ["X-PagerDuty-Signature": Signatures.pagerDutySignature(body: bytes, secret: "s")])
        let oddSig = KeptSignature.record(odd, scheme: .pagerDutyV1, secretName: "PAGERDUTY_WEBHOOK_SECRET", receivedAt: Date())
        #expect(oddSig["payload_base64"] != nil)
        let oddMeta: JSONValue = .object(["payload_sha256": .string(odd.sha256), "signature": oddSig])
        // Not JSON, so it cannot be bound to the event: refused rather than believed.
        guard case .failed = KeptSignature.check(importMetadata: oddMeta, source: "pagerduty", key: nil, secret: { _ in .value("s") }) else {
            Issue.record("expected failed"); return
        }
    }
}

extension RecordedEvent {
    /// Whether the stored metadata contains the test secret's value.
    var metadataTextContainsSecret: Bool { metadata.jsonText().contains(SignatureTests.secret) }
}
