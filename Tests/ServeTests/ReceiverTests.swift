import AsyncHTTPClient
import Events
import Foundation
import Ingest
import Ledger
import Logging
import NIOCore
import Postgres
import Receiving
import Serve
import Testing
import TestSupport

/// The receivers over real HTTP on loopback, as an attacker would try them:
/// every refusal is a 4xx with a one-line JSON error naming the problem,
/// and stores nothing (no receipt row, no event).
@Suite("dtledger serve: receivers (signatures, limits, retries, a slow database)")
struct ReceiverTests {
    /// The import mappings every test here uses: PagerDuty's PSVC1 and Slack's C0COORD.
    static let importYAML = ServeHarness.sampleImportYAML

    /// Small limits, so oversized bodies and slow commits are quick to show.
    static func config(maxBody: Int = 4096, durableWithin: Double = 2.5) -> String {
        ServeHarness.config(importYAML: importYAML, extra: """
            limits: {max_body_bytes: \(maxBody), durable_within_seconds: \(durableWithin), request_timeout_seconds: 5}

            """)
    }

    // MARK: Helpers

    static func receipts(_ h: ServeHarness) throws -> Int { try h.count("SELECT count(*) FROM dtledger.receipts") }
    static func events(_ h: ServeHarness) throws -> Int { try h.count("SELECT count(*) FROM dtledger.events") }

    /// A refusal as promised: `status`, a JSON body of one line with an
    /// `error` that mentions `naming` (case-insensitive).
    static func expectRefusal(_ a: ServeHarness.Answer, _ status: Int, naming: String,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.status == status, "\(a.status) \(a.body)", sourceLocation: sourceLocation)
        #expect(a.body.hasSuffix("\n") && a.body.dropLast().firstIndex(of: "\n") == nil, "not one line: \(a.body.debugDescription)",
                sourceLocation: sourceLocation)
        let message = a.json?["error"]?.stringValue ?? ""
        #expect(message.lowercased().contains(naming.lowercased()), "error \(message.debugDescription) does not name \(naming)",
                sourceLocation: sourceLocation)
    }

    /// A PagerDuty incident.triggered for incident `incident` (a new case once mapped).
    static func trigger(eventID: String, incident: String, number: Int, at: Date = Date()) -> Data {
        let body = JSONValue.object(["event": .object([
            "id": .string(eventID), "event_type": .string("incident.triggered"), "resource_type": .string("incident"),
            "occurred_at": .string(RFC3339.format(at.addingTimeInterval(-60))),
            "agent": .object(["id": .string("PUSER1"), "summary": .string("Max Bell"), "type": .string("user_reference")]),
            "data": .object([
                "id": .string(incident), "type": .string("incident"), "number": .int(Int64(number)),
                "title": .string("Medications page errors"), "created_at": .string(RFC3339.format(at.addingTimeInterval(-60))),
                "status": .string("triggered"),
                "service": .object(["id": .string("PSVC1"), "summary": .string("VA.gov Medications")]),
                "html_url": .string("https://example.pagerduty.com/incidents/\(incident)"),
            ]),
        ])])
        return Data(body.jsonText().utf8)
    }

    /// A Slack notification of the template for `caseID`.
    static func notification(eventID: String, caseID: String, summary: String = "Medications page errors", at: Date = Date()) -> Data {
        let text = "Case: \(caseID)\nPurpose: update\nSummary: \(summary)\n<!subteam^S0UFONCALL>"
        return SlackBody.message(eventID: eventID, text: text, ts: String(format: "%.6f", at.timeIntervalSince1970 - 5))
    }

    /// Opens a case through the PagerDuty receiver and returns its id.
    static func openCase(_ h: ServeHarness, incident: String = "Q1INC") async throws -> String {
        let a = try await h.pagerDuty(trigger(eventID: "PDE-\(incident)", incident: incident, number: 4242))
        #expect(a.status == 200, "\(a.body)")
        try await h.settled()
        let receipt = try #require(a.json?["receipt"]?.intValue)
        return try #require(try h.outcome(receipt)?.caseID)
    }

    static func run(_ h: ServeHarness, _ body: (ServeHarness) async throws -> Void) async throws {
        do { try await body(h) } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }

    // MARK: Signatures and tokens

    @Test("Slack: a good signature is stored; bad, missing, wrong-secret, changed-body and stale or future timestamps get 401 and store nothing")
    func slackSignatures() async throws {
        try await Self.run(try await ServeHarness.start(configYAML: Self.config())) { (h: ServeHarness) async throws in
            let body = SlackBody.message(eventID: "EvGood", text: "hello", ts: String(format: "%.6f", Date().timeIntervalSince1970))
            let ts = String(Int64(Date().timeIntervalSince1970))
            let good = Signatures.slackSignature(body: body, timestamp: Int64(ts)!, secret: ServeHarness.slackSecret)

            Self.expectRefusal(try await h.post("/slack/events", body: body, headers: [
                "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + String(repeating: "0", count: 64)]), 401, naming: "X-Slack-Signature")
            Self.expectRefusal(try await h.post("/slack/events", body: body, headers: ["X-Slack-Request-Timestamp": ts]),
                               401, naming: "X-Slack-Signature")
            Self.expectRefusal(try await h.post("/slack/events", body: body, headers: ["X-Slack-Signature": good]),
                               401, naming: "X-Slack-Request-Timestamp")
            Self.expectRefusal(try await h.slack(body, secret: "not-the-signing-secret"), 401, naming: "does not match")
            var changed = body
            changed.append(contentsOf: Array(" ".utf8))
            Self.expectRefusal(try await h.post("/slack/events", body: changed, headers: [
                "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": good]), 401, naming: "does not match")
            // Six minutes old and six minutes ahead: outside the five-minute window, even correctly signed.
            Self.expectRefusal(try await h.slack(body, at: Date().addingTimeInterval(-360)), 401, naming: "stale")
            Self.expectRefusal(try await h.slack(body, at: Date().addingTimeInterval(360)), 401, naming: "stale")
            #expect(try Self.receipts(h) == 0)

            let ok = try await h.post("/slack/events", body: body, headers: ["X-Slack-Request-Timestamp": ts, "X-Slack-Signature": good])
            #expect(ok.status == 200, "\(ok.body)")
            #expect(ok.json?["ok"] == .bool(true))
            #expect(ok.json?["duplicate"] == .bool(false))
            let id = try #require(ok.json?["receipt"]?.intValue)
            // Durable: the row is there, byte for byte, as soon as the answer is.
            let row = try h.db.connect().query("SELECT delivery_key, encode(body, 'base64') FROM dtledger.receipts WHERE id = $1::bigint",
                                               [String(id)]).rows
            #expect(row.first?[0] == "EvGood")
            #expect(row.first?[1].flatMap { Data(base64Encoded: $0, options: .ignoreUnknownCharacters) } == body)
            #expect(try Self.receipts(h) == 1)
        }
    }

    @Test("PagerDuty: good and rotated (second v1 matches) signatures are stored; bad, missing, wrong-secret and changed-body get 401")
    func pagerDutySignatures() async throws {
        try await Self.run(try await ServeHarness.start(configYAML: Self.config())) { (h: ServeHarness) async throws in
            let body = Self.trigger(eventID: "PDE-1", incident: "QSIG1", number: 1)
            let good = Signatures.pagerDutySignature(body: body, secret: ServeHarness.pagerDutySecret)
            Self.expectRefusal(try await h.post("/pagerduty/webhook", body: body, headers: ["X-PagerDuty-Signature": "v1=deadbeef"]),
                               401, naming: "X-PagerDuty-Signature")
            Self.expectRefusal(try await h.post("/pagerduty/webhook", body: body), 401, naming: "no X-PagerDuty-Signature")
            Self.expectRefusal(try await h.pagerDuty(body, secret: "old-secret-no-longer-valid"), 401, naming: "does not match")
            var changed = body
            changed.append(contentsOf: Array("\n".utf8))
            Self.expectRefusal(try await h.post("/pagerduty/webhook", body: changed, headers: ["X-PagerDuty-Signature": good]),
                               401, naming: "does not match")
            #expect(try Self.receipts(h) == 0)

            // Rotation: the first v1= is made with another secret, only the second matches.
            let rotated = try await h.pagerDuty(body, secret: "the-next-secret", alsoSignedWith: [ServeHarness.pagerDutySecret])
            #expect(rotated.status == 200, "\(rotated.body)")
            #expect(rotated.json?["duplicate"] == .bool(false))
            #expect(try Self.receipts(h) == 1)
            try await h.settled()
            #expect(try h.caseEvents().count == 1)
        }
    }

    @Test("ServiceNow: the bearer token is stored; a wrong, missing or other-scheme Authorization gets 401 with WWW-Authenticate")
    func serviceNowTokens() async throws {
        try await Self.run(try await ServeHarness.start(configYAML: Self.config())) { (h: ServeHarness) async throws in
            let body = Data(#"{"sys_id":"a1b2c3","sys_updated_on":"2026-04-07 13:20:00","sys_class_name":"change_request","number":"CHG0001"}"#.utf8)
            let wrong = try await h.serviceNow(body, token: "not-the-token")
            Self.expectRefusal(wrong, 401, naming: "does not match")
            #expect(wrong.headers.contains { $0.0.lowercased() == "www-authenticate" })
            Self.expectRefusal(try await h.post("/servicenow/events", body: body), 401, naming: "no Authorization header")
            let basic = "Basic " + Data("admin:\(ServeHarness.serviceNowToken)".utf8).base64EncodedString()
            Self.expectRefusal(try await h.post("/servicenow/events", body: body, headers: ["Authorization": basic]), 401, naming: "does not match")
            // The token with one byte more or less (a prefix must not pass a constant-time compare).
            Self.expectRefusal(try await h.serviceNow(body, token: String(ServeHarness.serviceNowToken.dropLast())), 401, naming: "does not match")
            Self.expectRefusal(try await h.serviceNow(body, token: ServeHarness.serviceNowToken + "x"), 401, naming: "does not match")
            #expect(try Self.receipts(h) == 0)

            let ok = try await h.serviceNow(body)
            #expect(ok.status == 200, "\(ok.body)")
            #expect(ok.json?["ok"] == .bool(true))
            #expect(try Self.receipts(h) == 1)
            // The token is never kept with the receipt.
            let headers = try h.db.connect().query("SELECT headers::text FROM dtledger.receipts").scalar ?? ""
            #expect(!headers.contains(ServeHarness.serviceNowToken))
            #expect(!headers.lowercased().contains("authorization"))
        }
    }

    // MARK: Bodies

    @Test("Malformed JSON with a valid signature: 400, kept in receipts, outcome inbox/unreadable, nothing appended (each source)")
    func malformedBodies() async throws {
        try await Self.run(try await ServeHarness.start(configYAML: Self.config())) { (h: ServeHarness) async throws in
            let before = try Self.events(h)
            let broken = Data(#"{"type":"event_callback","event_id":"EvBroken","event": {"#.utf8)
            var ids: [Int64] = []
            for answer in [try await h.slack(broken), try await h.pagerDuty(broken), try await h.serviceNow(broken)] {
                #expect(answer.status == 400, "\(answer.body)")
                #expect(answer.json?["kept"] == .bool(true))
                #expect(answer.json?["error"]?.stringValue?.contains("not JSON") == true, "\(answer.body)")
                #expect(answer.body.dropLast().firstIndex(of: "\n") == nil)
                ids.append(try #require(answer.json?["receipt"]?.intValue))
            }
            #expect(try Self.receipts(h) == 3)
            try await h.settled()
            for id in ids {
                let o = try #require(try h.outcome(id))
                #expect(o.outcome == "inbox", "\(o)")
                #expect(o.code == "unreadable", "\(o)")
            }
            #expect(try Self.events(h) == before)
            // The same broken delivery again is the same receipt (its body's hash is its key).
            let again = try await h.slack(broken)
            #expect(again.status == 400)
            #expect(again.json?["receipt"]?.intValue == ids[0])
            #expect(try Self.receipts(h) == 3)
        }
    }

    @Test("A body over limits.max_body_bytes is 413 and stored nowhere, with or without a Content-Length")
    func oversized() async throws {
        try await Self.run(try await ServeHarness.start(configYAML: Self.config(maxBody: 2048))) { h in
            let big = SlackBody.message(eventID: "EvBig", text: String(repeating: "x", count: 4000),
                                        ts: String(format: "%.6f", Date().timeIntervalSince1970))
            Self.expectRefusal(try await h.slack(big), 413, naming: "limit")
            Self.expectRefusal(try await h.pagerDuty(big), 413, naming: "limit")
            Self.expectRefusal(try await h.serviceNow(big), 413, naming: "limit")
            // Chunked (no Content-Length): the limit holds while the body is read.
            let ts = Int64(Date().timeIntervalSince1970)
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(h.port)/slack/events")
            request.method = .POST
            request.headers.add(name: "X-Slack-Request-Timestamp", value: String(ts))
            request.headers.add(name: "X-Slack-Signature", value: Signatures.slackSignature(body: big, timestamp: ts, secret: ServeHarness.slackSecret))
            let chunks = stride(from: 0, to: big.count, by: 500).map { ByteBuffer(bytes: big[$0..<min($0 + 500, big.count)]) }
            let stream = AsyncStream<ByteBuffer> { c in
                for chunk in chunks { c.yield(chunk) }
                c.finish()
            }
            request.body = .stream(stream, length: .unknown)
            let response = try await h.client.execute(request, timeout: .seconds(30))
            let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
            #expect(response.status.code == 413, "\(text)")
            #expect(try Self.receipts(h) == 0)
            // Exactly at the limit is accepted.
            var padded = JSONValue.object(["type": .string("event_callback"), "event_id": .string("EvFits"), "pad": .string("")])
            let pad = 2048 - padded.jsonText().utf8.count
            padded = .object(["type": .string("event_callback"), "event_id": .string("EvFits"), "pad": .string(String(repeating: "p", count: pad))])
            let exact = Data(padded.jsonText().utf8)
            #expect(exact.count == 2048)
            #expect(try await h.slack(exact).status == 200)
            #expect(try Self.receipts(h) == 1)
        }
    }

    // MARK: Slack specifics

    @Test("url_verification is answered with the challenge and not stored; with a bad signature it is 401")
    func urlVerification() async throws {
        try await Self.run(try await ServeHarness.start(configYAML: Self.config())) { (h: ServeHarness) async throws in
            let body = Data(#"{"type":"url_verification","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","token":"x"}"#.utf8)
            let ok = try await h.slack(body)
            #expect(ok.status == 200)
            #expect(ok.json?["challenge"]?.stringValue == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
            Self.expectRefusal(try await h.slack(body, secret: "someone-else"), 401, naming: "X-Slack-Signature")
            Self.expectRefusal(try await h.post("/slack/events", body: body), 401, naming: "X-Slack-Request-Timestamp")
            #expect(try Self.receipts(h) == 0)
        }
    }

    @Test("Slack retries (X-Slack-Retry-Num) and a repeated event_id are 200 duplicate:true and append one event")
    func retriesAndDuplicates() async throws {
        try await Self.run(try await ServeHarness.start(configYAML: Self.config())) { (h: ServeHarness) async throws in
            let caseID = try await Self.openCase(h)
            let message = Self.notification(eventID: "EvRetry1", caseID: caseID)
            let first = try await h.slack(message)
            #expect(first.status == 200, "\(first.body)")
            #expect(first.json?["duplicate"] == .bool(false))
            for n in 1...3 {
                let retry = try await h.slack(message, extraHeaders: ["X-Slack-Retry-Num": String(n), "X-Slack-Retry-Reason": "http_timeout"])
                #expect(retry.status == 200)
                #expect(retry.json?["duplicate"] == .bool(true))
                #expect(retry.json?["receipt"] == first.json?["receipt"])
            }
            // The same event_id with a different body (Slack re-rendered it) is still the same delivery.
            let rerendered = Self.notification(eventID: "EvRetry1", caseID: caseID, summary: "Medications page errors (re-sent)")
            let again = try await h.slack(rerendered)
            #expect(again.json?["duplicate"] == .bool(true))
            // Eight at once: one receipt.
            let concurrent = try await withThrowingTaskGroup(of: ServeHarness.Answer.self) { group in
                for _ in 0..<8 { group.addTask { try await h.slack(Self.notification(eventID: "EvBurst", caseID: caseID)) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(concurrent.allSatisfy { $0.status == 200 })
            #expect(Set(concurrent.compactMap { $0.json?["receipt"]?.intValue }).count == 1)
            #expect(concurrent.filter { $0.json?["duplicate"] == .bool(false) }.count == 1)
            try await h.settled()
            #expect(try h.count("SELECT count(*) FROM dtledger.receipts WHERE source = 'slack'") == 2)
            let sent = try h.caseEvents().filter { $0.type == "notification.sent" }
            #expect(sent.count == 2, "\(sent.map(\.key))")
            #expect(Set(sent.map(\.key)).count == 2)
        }
    }

    // MARK: Routes

    @Test("An unknown route is 404; GET on a POST route is 404 (Hummingbird matches path and method together)")
    func routes() async throws {
        try await Self.run(try await ServeHarness.start(configYAML: Self.config())) { (h: ServeHarness) async throws in
            #expect(try await h.get("/nope").status == 404)
            #expect(try await h.post("/slack/event", body: Data("{}".utf8)).status == 404)
            #expect(try await h.post("/slack/events/../../healthz", body: Data("{}".utf8)).status != 200)
            for path in ["/slack/events", "/pagerduty/webhook", "/servicenow/events"] {
                #expect(try await h.get(path).status == 404, "GET \(path)")
            }
            #expect(try await h.post("/healthz", body: Data()).status == 404)
            #expect(try Self.receipts(h) == 0)
        }
    }

    // MARK: Hostile input

    @Test("CR/LF, RLO and NUL in a signed body: stored byte for byte, the answer is one line, other requests unaffected, the mapper not stuck")
    func hostileStrings() async throws {
        try await Self.run(try await ServeHarness.start(configYAML: Self.config())) { (h: ServeHarness) async throws in
            let caseID = try await Self.openCase(h)
            let hostile = "Ev\r\nlevel=critical msg=forged\u{202E}gpj.exe\u{0}end"
            let text = "Case: \(caseID)\nPurpose: update\nSummary: pwned\r\nfake: line\u{202E}\u{0} tail\n<!subteam^S0UFONCALL>"
            let body = SlackBody.message(eventID: hostile, text: text, ts: String(format: "%.6f", Date().timeIntervalSince1970 - 5))
            #expect(try JSONValue.parse(body)["event_id"]?.stringValue?.contains("\r\n") == true)
            // Sent together with a well-formed one, so they likely share a batch.
            async let other = h.slack(Self.notification(eventID: "EvPlain", caseID: caseID))
            let a = try await h.slack(body)
            let b = try await other
            #expect(a.status == 200, "\(a.body)")
            #expect(b.status == 200, "\(b.body)")
            #expect(a.body.dropLast().firstIndex(of: "\n") == nil)
            let id = try #require(a.json?["receipt"]?.intValue)
            let stored = try h.db.connect().query("SELECT encode(body, 'base64'), delivery_key FROM dtledger.receipts WHERE id = $1::bigint",
                                                  [String(id)]).rows
            #expect(stored.first?[0].flatMap { Data(base64Encoded: $0, options: .ignoreUnknownCharacters) } == body)
            // The key never carries the control characters into SQL text (NUL cannot be stored in text).
            let key = stored.first?[1] ?? ""
            #expect(!key.contains("\r") && !key.contains("\n") && !key.contains("\u{0}"), "\(key.debugDescription)")
            // A retry of the hostile delivery is the same receipt.
            let retry = try await h.slack(body, extraHeaders: ["X-Slack-Retry-Num": "1"])
            #expect(retry.json?["receipt"]?.intValue == id)
            #expect(retry.json?["duplicate"] == .bool(true))
            // The mapper records an outcome for it and keeps going.
            try await h.settled()
            let o = try #require(try h.outcome(id))
            #expect(["appended", "inbox", "ignored"].contains(o.outcome), "\(o)")
            let after = try await h.slack(Self.notification(eventID: "EvAfterHostile", caseID: caseID))
            try await h.settled()
            #expect(try h.outcome(try #require(after.json?["receipt"]?.intValue))?.outcome == "appended")
            #expect(try h.outcome(try #require(b.json?["receipt"]?.intValue))?.outcome == "appended")
            let verify = try CLI.run(["verify"], database: h.db.url)
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        }
    }

    @Test("A delivery id that cannot be a key (600 bytes, empty) is keyed by the body's hash; requests in the same batch are unaffected")
    func unstorableDeliveryIDs() async throws {
        try await Self.run(try await ServeHarness.start(configYAML: Self.config())) { (h: ServeHarness) async throws in
            let ts = String(format: "%.6f", Date().timeIntervalSince1970)
            let long = SlackBody.message(eventID: String(repeating: "E", count: 600), text: "long id", ts: ts)
            let empty = SlackBody.message(eventID: "", text: "empty id", ts: ts)
            let answers = try await withThrowingTaskGroup(of: ServeHarness.Answer.self) { group in
                for body in [long, empty] + (0..<6).map({ SlackBody.message(eventID: "EvNeighbour\($0)", text: "n", ts: ts) }) {
                    group.addTask { try await h.slack(body) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.allSatisfy { $0.status == 200 }, "\(answers.map(\.body))")
            #expect(try Self.receipts(h) == 8)
            #expect(try h.count("SELECT count(*) FROM dtledger.receipts WHERE delivery_key LIKE 'sha256:%'") == 2)
            // A retry of the long one is the same receipt.
            #expect(try await h.slack(long).json?["duplicate"] == .bool(true))
            #expect(try Self.receipts(h) == 8)
        }
    }

    // MARK: A slow or missing database

    @Test("The chain head locked by another session: Slack is still answered 200 well under 3 s, and mapped once the lock goes")
    func headLocked() async throws {
        try await Self.run(try await ServeHarness.start(configYAML: Self.config())) { (h: ServeHarness) async throws in
            let caseID = try await Self.openCase(h)
            let holder = try h.db.connect()
            try holder.execute("BEGIN; SELECT position FROM dtledger.head WHERE singleton FOR UPDATE")
            let started = ContinuousClock.now
            let a = try await h.slack(Self.notification(eventID: "EvLocked", caseID: caseID))
            let took = ContinuousClock.now - started
            // Answered 200 while the head is still held: the receipt does not wait for the
            // ledger's lock (200 also means durable within durable_within_seconds, below Slack's 3 s).
            // No time bound is asserted: speed is measured in Scripts/bench, not in tests.
            #expect(a.status == 200, "\(a.body) after \(took)")
            let id = try #require(a.json?["receipt"]?.intValue)
            // Not mapped while the head is held (the mapper waits or backs off).
            try await Task.sleep(for: .seconds(1.5))
            #expect(try h.outcome(id) == nil)
            try holder.execute("COMMIT")
            try await h.settled(seconds: 30)
            #expect(try h.outcome(id)?.outcome == "appended")
            #expect(try h.caseEvents().filter { $0.type == "notification.sent" }.count == 1)
        }
    }

    @Test("Receipts locked (the database is slow): 503 with Retry-After within durable_within_seconds, the retry succeeds once")
    func receiptsLocked() async throws {
        try await Self.run(try await ServeHarness.start(configYAML: Self.config(durableWithin: 0.5))) { h in
            let caseID = try await Self.openCase(h)
            let holder = try h.db.connect()
            try holder.execute("BEGIN; LOCK TABLE dtledger.receipts IN EXCLUSIVE MODE")
            let message = Self.notification(eventID: "EvSlowDB", caseID: caseID)
            let started = ContinuousClock.now
            let a = try await h.slack(message)
            let took = ContinuousClock.now - started
            Self.expectRefusal(a, 503, naming: "retry")
            #expect(a.headers.contains { $0.0.lowercased() == "retry-after" })
            // Answered while the receipts are still locked (it did not wait for the lock), and
            // not before the limit had passed.
            #expect(took >= .seconds(0.45), "answered in \(took): before the limit")
            try holder.execute("COMMIT")
            // Slack retries (with the retry header): answered 200; one receipt, one event.
            var retry: ServeHarness.Answer?
            for n in 1...10 {
                let r = try await h.slack(message, extraHeaders: ["X-Slack-Retry-Num": String(n)])
                if r.status == 200 { retry = r; break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(retry?.status == 200)
            #expect(try h.count("SELECT count(*) FROM dtledger.receipts WHERE delivery_key = 'EvSlowDB'") == 1)
            try await h.settled()
            #expect(try h.caseEvents().filter { $0.type == "notification.sent" }.count == 1)
        }
    }

    @Test("/readyz is 503 when the migrations are missing, /healthz 200; the service still starts")
    func readyMissingMigrations() async throws {
        let empty = try TestDatabase.makeEmpty()
        let login = "dtl_serve_\(UInt32.random(in: 0...UInt32.max))"
        // A plain login: on a server where no test has migrated a database yet, dtledger_receiver does not exist.
        try empty.connect().execute("CREATE ROLE \(login) LOGIN")
        try await Self.run(try await ServeHarness.start(configYAML: Self.config(), database: empty, login: login)) { h in
            #expect(try await h.get("/healthz").status == 200)
            let ready = try await h.get("/readyz")
            #expect(ready.status == 503, "\(ready.body)")
            #expect(ready.json?["status"]?.stringValue == "not ready")
            #expect(ready.json?["database"]?.stringValue == "reachable", "\(ready.body)")
            #expect(ready.json?["migrations"]?.stringValue?.hasPrefix("migrations not applied") == true, "\(ready.body)")
        }
    }

    @Test("/readyz is 503 when the database is unreachable, /healthz 200, and a webhook gets 503 + Retry-After")
    func readyUnreachable() async throws {
        // A port nothing listens on: bind one, note it, close it.
        let port = try freePort()
        let settings = DatabaseSettings.resolve(explicit: "host=127.0.0.1 port=\(port) user=nobody dbname=nowhere connect_timeout=2",
                                                environment: [:])
        let config = try ServeConfig.parse(Self.config(durableWithin: 1))
        var logger = Logger(label: "test.serve")
        logger.logLevel = .critical
        let service = try ReceivingService(config: config, settings: settings, environment: ServeHarness.environment, logger: logger)
        let ready = Once<Int>()
        let task = Task { try await service.run(signals: []) { ready.set($0) } }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let bound = try #require(await ready.wait(seconds: 30))
            func get(_ path: String) async throws -> (Int, String) {
                let r = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(bound)\(path)"), timeout: .seconds(10))
                return (Int(r.status.code), String(buffer: try await r.body.collect(upTo: 1 << 20)))
            }
            #expect(try await get("/healthz").0 == 200)
            let (status, body) = try await get("/readyz")
            #expect(status == 503, "\(body)")
            #expect(body.contains("unreachable"), "\(body)")
            let message = SlackBody.message(eventID: "EvNoDB", text: "hi", ts: String(format: "%.6f", Date().timeIntervalSince1970))
            let ts = Int64(Date().timeIntervalSince1970)
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(bound)/slack/events")
            request.method = .POST
            request.headers.add(name: "X-Slack-Request-Timestamp", value: String(ts))
            request.headers.add(name: "X-Slack-Signature", value: Signatures.slackSignature(body: message, timestamp: ts, secret: ServeHarness.slackSecret))
            request.body = .bytes(ByteBuffer(bytes: message))
            let r = try await client.execute(request, timeout: .seconds(10))
            #expect(r.status.code == 503)
            #expect(r.headers["Retry-After"].first == "1")
        } catch {
            await service.shutdown()
            _ = try? await task.value
            try? await client.shutdown()
            throw error
        }
        await service.shutdown()
        _ = try? await task.value
        try? await client.shutdown()
    }
}

/// A TCP port on 127.0.0.1 nothing listens on right now (bound, then closed).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HarnessError("socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    guard bound == 0 else { throw HarnessError("bind() failed") }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}
