import Crypto
import Events
import Foundation
import Ingest
import Ledger
import Mail
import Operations
import Postgres
import Receiving
import Serve
import Logging
import Testing
import TestSupport

/// The mail relay's route, POST /email/messages, end to end (docs/serve.md,
/// "Email"): one raw RFC 5322 message a request, a bearer token (a relay
/// does not sign), the receipt durable before the 2xx, the message mapped
/// by `EmailImporter` with the DKIM keys of the config, what cannot be
/// mapped in the inbox; and `dtledger import email` putting its unmapped
/// messages in the same inbox when its login may write receipts.
@Suite("dtledger serve: email route and the inbox for email (PostgreSQL, HTTP on loopback)")
struct EmailReceiverTests {
    static let token = "email-relay-token-for-tests"
    static let inc = "INC-2026-0142"
    static let audience = "mhv-api-platform@example.org, ana.ortiz@example.org, sean.good@example.org"

    /// A message of the template, LF line endings turned into CRLF.
    static func message(id: String, subject: String, body: String, date: String = "Tue, 07 Apr 2026 18:30:00 -0400") -> Data {
        let text = """
            From: Lou Grant <lou.grant@example.org>
            To: MHV incidents <mhv-incidents@example.org>
            Cc: \(audience)
            Subject: \(subject)
            Date: \(date)
            Message-ID: <\(id)>
            Content-Type: text/plain; charset=utf-8

            \(body)

            """
        return Data(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)
    }

    static let update = message(id: "update-1@example.org", subject: "Update on INC-2026-0142", body: """
        Purpose: update
        Summary: Medications list fails to load on VA.gov
        Status: investigating
        """)

    static let caseless = message(id: "caseless-1@example.org", subject: "Medications", body: """
        Purpose: update
        Summary: Medications list still fails to load
        """)

    /// A key file with one Ed25519 key, and the key.
    static func keyFile() throws -> (path: String, key: Curve25519.Signing.PrivateKey) {
        let key = Curve25519.Signing.PrivateKey()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("email-keys-\(UUID().uuidString).txt").path
        try "mail2026._domainkey.example.org v=DKIM1; k=ed25519; p=\(key.publicKey.rawRepresentation.base64EncodedString())\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        return (path, key)
    }

    /// A config receiving only email, with the key file and no DNS.
    static func config(keys: String, maxBody: Int = 65_536) -> String {
        """
        listen: 127.0.0.1:0
        actor: dtledger-serve
        limits: {max_body_bytes: \(maxBody)}
        sources:
          email: {bearer_token_env: TEST_EMAIL_TOKEN, dkim_keys: "\(keys)", dns: false}

        """
    }

    static func start(keys: String) async throws -> ServeHarness {
        try await ServeHarness.start(configYAML: config(keys: keys), environment: ["TEST_EMAIL_TOKEN": token],
                                     database: try ServiceNowReceiverTests.database())
    }

    static func post(_ h: ServeHarness, _ body: Data, token: String? = EmailReceiverTests.token,
                     contentType: String = "message/rfc822") async throws -> ServeHarness.Answer {
        var headers = ["Content-Type": contentType]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        return try await h.post("/email/messages", body: body, headers: headers)
    }

    static func emailEvents(_ h: ServeHarness) throws -> [StoredEvent] { try h.caseEvents().filter { $0.source == "email" } }
    static func receipts(_ h: ServeHarness) throws -> Int { try h.count("SELECT count(*) FROM dtledger.receipts") }

    @Test("a message naming its case: 200 once durable, a notification.sent on email with the raw message kept, by the service's login; the same message again is a duplicate and appends nothing; /readyz counts email")
    func received() async throws {
        let (keys, _) = try Self.keyFile()
        let h = try await Self.start(keys: keys)
        try await InboxTests.with(h) {
            let a = try await Self.post(h, Self.update)
            #expect(a.status == 200, "\(a.body)")
            #expect(a.json?["ok"] == .bool(true))
            #expect(a.json?["duplicate"] == .bool(false))
            let receipt = try #require(a.json?["receipt"]?.intValue)
            try await h.settled()
            let events = try Self.emailEvents(h)
            #expect(events.count == 1)
            let event = try #require(events.first)
            #expect(event.type == "notification.sent")
            #expect(event.caseID == Self.inc)
            #expect(event.actor == "lou-em")
            let data = try JSONValue.parse(event.dataText)
            #expect(data["channel"] == .string("email"))
            #expect(data["purpose"] == .string("update"))
            #expect(data["message_ref"] == .string("update-1@example.org"))
            #expect(data["audience"]?.arrayValue?.contains(.string("sean-good")) == true)
            let meta = try JSONValue.parse(event.metadataText)
            #expect(meta["db_role"]?.stringValue == h.login)
            #expect(meta["import"]?["receipt_id"]?.intValue == receipt)
            #expect(meta["import"]?["raw_message"]?.stringValue == String(decoding: Self.update, as: UTF8.self), "the raw message, under the event's hash")
            #expect(meta["import"]?["payload"] == nil, "not kept twice")
            #expect(meta["import"]?["signature_verified"] == .bool(false), "not signed")
            #expect(try h.outcome(receipt)?.outcome == "appended")

            let stored = try h.db.connect().query("SELECT source, headers::text, body_sha256 = sha256(body) FROM dtledger.receipts WHERE id = $1::bigint", [String(receipt)]).rows[0]
            #expect(stored[0] == "email")
            #expect(stored[1]?.contains("authorization") == false, "the token is never kept")

            let again = try await Self.post(h, Self.update)
            #expect(again.status == 200, "\(again.body)")
            #expect(again.json?["duplicate"] == .bool(true))
            #expect(again.json?["receipt"]?.intValue == receipt)
            try await h.settled()
            #expect(try Self.emailEvents(h).count == 1)
            #expect(try Self.receipts(h) == 1)

            // The same message with a relay's Received line added is a receipt of its own, and a duplicate event.
            let relayed = Data("Received: from relay.example.org by mx.example.org; Tue, 07 Apr 2026 18:30:05 -0400\r\n".utf8) + Self.update
            // A request cannot pass itself off as an import or a poller: those headers are never kept from a request.
            let third = try await h.post("/email/messages", body: relayed, headers: [
                "Authorization": "Bearer \(Self.token)", "Content-Type": "application/octet-stream",
                "X-Dtledger-Import": "email", "X-Dtledger-Import-Purpose": "initial", "X-Dtledger-Poller": "servicenow"])
            #expect(third.status == 200, "\(third.body)")
            #expect(third.json?["duplicate"] == .bool(false))
            try await h.settled()
            let thirdReceipt = try #require(third.json?["receipt"]?.intValue)
            #expect(try h.outcome(thirdReceipt)?.outcome == "duplicate")
            let kept = try h.db.connect().query("SELECT headers::text FROM dtledger.receipts WHERE id = $1::bigint", [String(thirdReceipt)]).scalar ?? ""
            #expect(!kept.contains("x-dtledger"), "\(kept)")
            #expect(kept.contains("application/octet-stream"), "\(kept)")
            #expect(try Self.emailEvents(h).count == 1)

            let ready = try await h.get("/readyz")
            #expect(ready.status == 200, "\(ready.body)")
            #expect(ready.json?["registered"] == .string("importer login for email"))
        }
    }

    @Test("refused, nothing stored: no token, a wrong token, basic instead of bearer (401), a JSON content type (415), an empty body (400), over max_body_bytes (413)")
    func refused() async throws {
        let (keys, _) = try Self.keyFile()
        let h = try await ServeHarness.start(configYAML: Self.config(keys: keys, maxBody: 4096), environment: ["TEST_EMAIL_TOKEN": Self.token],
                                             database: try ServiceNowReceiverTests.database())
        try await InboxTests.with(h) {
            let none = try await Self.post(h, Self.update, token: nil)
            ReceiverTests.expectRefusal(none, 401, naming: "no Authorization header")
            #expect(none.headers.contains { $0.0.lowercased() == "www-authenticate" })
            ReceiverTests.expectRefusal(try await Self.post(h, Self.update, token: "not-the-token"), 401, naming: "does not match")
            ReceiverTests.expectRefusal(try await Self.post(h, Self.update, token: Self.token + "x"), 401, naming: "does not match")
            let basic = try await h.post("/email/messages", body: Self.update, headers: [
                "Authorization": "Basic \(Data("relay:\(Self.token)".utf8).base64EncodedString())", "Content-Type": "message/rfc822"])
            ReceiverTests.expectRefusal(basic, 401, naming: "does not match")
            ReceiverTests.expectRefusal(try await Self.post(h, Self.update, contentType: "application/json"), 415, naming: "not a raw message")
            ReceiverTests.expectRefusal(try await Self.post(h, Data()), 400, naming: "empty")
            let big = Self.message(id: "big@example.org", subject: "INC-2026-0142", body: "Purpose: update\nSummary: " + String(repeating: "x", count: 5000))
            ReceiverTests.expectRefusal(try await Self.post(h, big), 413, naming: "limit")
            // The other vendors' routes do not exist here.
            #expect(try await h.post("/servicenow/events", body: Data("{}".utf8)).status == 404)
            #expect(try Self.receipts(h) == 0)
            #expect(try Self.emailEvents(h).isEmpty)
        }
    }

    @Test("a body that is not a message: kept, 400 with kept: true, in the inbox (unreadable); one that looks like a message but does not parse: 200, in the inbox (unreadable)")
    func unreadable() async throws {
        let (keys, _) = try Self.keyFile()
        let h = try await Self.start(keys: keys)
        try await InboxTests.with(h) {
            let junk = try await Self.post(h, Data("this is not a message\r\nat all\r\n".utf8), contentType: "text/plain")
            #expect(junk.status == 400, "\(junk.body)")
            #expect(junk.json?["kept"] == .bool(true))
            #expect(junk.json?["error"]?.stringValue?.contains("header line 1 is not a field") == true, "\(junk.body)")
            let junkReceipt = try #require(junk.json?["receipt"]?.intValue)
            let broken = Data("From: a@example.org\r\nContent-Type: multipart/mixed\r\n\r\nno boundary\r\n".utf8)
            let looks = try await Self.post(h, broken)
            #expect(looks.status == 200, "\(looks.body)")
            let brokenReceipt = try #require(looks.json?["receipt"]?.intValue)
            try await h.settled()
            for id in [junkReceipt, brokenReceipt] {
                let o = try #require(try h.outcome(id))
                #expect(o.outcome == "inbox")
                #expect(o.code == "unreadable", "\(o)")
                #expect(o.reason?.contains("not a readable message") == true, "\(o)")
            }
            #expect(try Self.emailEvents(h).isEmpty)
        }
    }

    @Test("no case: in the inbox with the reason and the hint; a message of no template (no labelled lines) waits too; inbox assign places it, appended by the service's login with the resolution")
    func inboxAssign() async throws {
        let (keys, _) = try Self.keyFile()
        let h = try await Self.start(keys: keys)
        try await InboxTests.with(h) {
            let a = try await Self.post(h, Self.caseless)
            #expect(a.status == 200, "\(a.body)")
            let receipt = try #require(a.json?["receipt"]?.intValue)
            let chatter = try await Self.post(h, Self.message(id: "chatter@example.org", subject: "lunch?", body: "Anyone for lunch"))
            let chatterReceipt = try #require(chatter.json?["receipt"]?.intValue)
            try await h.settled()
            let o = try #require(try h.outcome(receipt))
            #expect(o.outcome == "inbox")
            #expect(o.code == "no_case")
            #expect(o.reason?.contains("dtledger inbox assign \(receipt) --case CASE") == true, "\(o)")
            let c = try #require(try h.outcome(chatterReceipt))
            #expect(c.outcome == "inbox", "an email the relay posted is never ignored")
            #expect(c.reason?.contains("no labelled content lines") == true, "\(c)")

            let (login, connection) = try InboxTests.person(h.db)
            let inbox = Inbox(connection: connection, defaultActor: "sean-good")
            #expect(try inbox.list().map(\.source) == ["email", "email"])
            let recorded = try inbox.resolve(InboxResolutionRequest(receiptID: receipt, action: .assign, caseID: Self.inc,
                                                                    reason: "sent without the case id", actor: "sean-good"))
            guard case .applied(let outcome) = try await InboxTests.applied(inbox, recorded.id) else {
                Issue.record("the service did not apply the resolution")
                return
            }
            #expect(outcome.outcome.kind == .appended)
            #expect(outcome.login == h.login)
            let event = try #require(try Self.emailEvents(h).first)
            #expect(event.caseID == Self.inc)
            #expect(outcome.outcome.eventIDs == [event.id])
            let meta = try JSONValue.parse(event.metadataText)
            #expect(meta["db_role"]?.stringValue == h.login)
            #expect(meta["import"]?["resolution"]?["login"]?.stringValue == login)
            #expect(meta["import"]?["resolution"]?["case"] == .string(Self.inc))
            #expect(try inbox.list().map(\.receiptID) == [chatterReceipt])
        }
    }

    @Test("threads: a reply posted to the route with no case of its own takes the case of the message it answers, whether that one came through the route or by `import email`")
    func threads() async throws {
        let (keys, _) = try Self.keyFile()
        let h = try await Self.start(keys: keys)
        try await InboxTests.with(h) {
            // The thread's first message comes in by import (no receipt: the ledger answers).
            let (r, _) = try Self.importMailbox(h.db, login: h.login, [Self.update])
            #expect(r.summary["appended"] == .int(1))
            let reply = Self.message(id: "reply-1@example.org", subject: "Re: medications", body: """
                Purpose: update
                Summary: Medications list loads again for most users
                """)
            let withParent = Data(String(decoding: reply, as: UTF8.self)
                .replacingOccurrences(of: "Message-ID: <reply-1@example.org>", with: "Message-ID: <reply-1@example.org>\r\nIn-Reply-To: <update-1@example.org>").utf8)
            let a = try await Self.post(h, withParent)
            #expect(a.status == 200, "\(a.body)")
            // A reply to the reply: its parent came through the route.
            let second = Data(String(decoding: Self.message(id: "reply-2@example.org", subject: "Re: medications", body: """
                Purpose: update
                Summary: All users can load the medications list
                """), as: UTF8.self)
                .replacingOccurrences(of: "Message-ID: <reply-2@example.org>", with: "Message-ID: <reply-2@example.org>\r\nIn-Reply-To: <reply-1@example.org>\r\nReferences: <update-1@example.org> <reply-1@example.org>").utf8)
            let b = try await Self.post(h, second)
            #expect(b.status == 200, "\(b.body)")
            // A reply to a message the ledger has never seen waits in the inbox.
            let orphan = Data(String(decoding: Self.message(id: "reply-3@example.org", subject: "Re: something else", body: """
                Purpose: update
                Summary: unrelated
                """), as: UTF8.self)
                .replacingOccurrences(of: "Message-ID: <reply-3@example.org>", with: "Message-ID: <reply-3@example.org>\r\nIn-Reply-To: <never-seen@example.org>").utf8)
            let c = try await Self.post(h, orphan)
            let orphanReceipt = try #require(c.json?["receipt"]?.intValue)
            try await h.settled()
            let events = try Self.emailEvents(h)
            #expect(Set(events.map(\.caseID)) == [Self.inc])
            #expect(events.count == 3, "\(events.map(\.dataText))")
            let replies = events.filter { $0.dataText.contains("reply-") }
            #expect(replies.count == 2)
            for e in replies {
                let meta = try JSONValue.parse(e.metadataText)
                #expect(meta["import"]?["thread_case_from"] != nil, "\(e.metadataText)")
            }
            #expect(try h.outcome(orphanReceipt)?.code == "no_case")
        }
    }

    @Test("DKIM: a message signed with Ed25519 (key from the config's key file, no DNS) is verified with its domain and selector; altered after signing, it is recorded unverified")
    func dkim() async throws {
        let (keys, key) = try Self.keyFile()
        let h = try await Self.start(keys: keys)
        try await InboxTests.with(h) {
            let signer = DKIMSigner(domain: "example.org", selector: "mail2026", key: .ed25519(key))
            let signed = Data(try signer.sign([UInt8](Self.update)))
            let a = try await Self.post(h, signed)
            #expect(a.status == 200, "\(a.body)")
            var altered = String(decoding: try signer.sign([UInt8](Self.message(id: "update-2@example.org", subject: "Update on INC-2026-0142", body: """
                Purpose: update
                Summary: Medications list fails to load on VA.gov
                Status: investigating
                """))), as: UTF8.self)
            altered = altered.replacingOccurrences(of: "Status: investigating", with: "Status: resolved")
            let b = try await Self.post(h, Data(altered.utf8))
            #expect(b.status == 200, "\(b.body)")
            try await h.settled()
            let events = try Self.emailEvents(h)
            #expect(events.count == 2)
            let good = try JSONValue.parse(try #require(events.first { $0.dataText.contains("update-1@example.org") }).metadataText)
            #expect(good["import"]?["signature_verified"] == .bool(true), "\(good)")
            #expect(good["import"]?["dkim_domain"] == .string("example.org"))
            #expect(good["import"]?["dkim_selector"] == .string("mail2026"))
            let bad = try JSONValue.parse(try #require(events.first { $0.dataText.contains("update-2@example.org") }).metadataText)
            #expect(bad["import"]?["signature_verified"] == .bool(false))
            #expect(bad["import"]?["dkim"]?.arrayValue?.first?.stringValue?.contains("body hash mismatch") == true, "\(bad)")
            // The service's login is registered for email: the report believes the verified one, not the other.
            let review = try JSONValue.parse(try h.db.session().open().review(caseID: Self.inc, asOf: nil, format: .json))
            let evidence = review["evidence"]?.arrayValue ?? []
            let goodID = try #require(events.first { $0.dataText.contains("update-1@example.org") }).id
            let badID = try #require(events.first { $0.dataText.contains("update-2@example.org") }).id
            #expect(evidence.first { $0["id"]?.stringValue == goodID }?["signature_verified"] == .bool(true), "\(evidence)")
            #expect(evidence.first { $0["id"]?.stringValue == badID }?["signature_verified"] == .bool(false), "\(evidence)")
        }
    }

    @Test("/readyz is 503 while the directory does not register the service's login for email")
    func notRegisteredForEmail() async throws {
        let (keys, _) = try Self.keyFile()
        let db = try ServiceNowReceiverTests.database()
        let login = "dtl_serve_\(UInt32.random(in: 0...UInt32.max))"
        try db.connect().execute("CREATE ROLE \(login) LOGIN IN ROLE dtledger_receiver")
        var yaml = try String(contentsOf: CLI.scenarios.appendingPathComponent("directory.yaml"), encoding: .utf8)
        yaml += "\nservice_logins:\n  - {login: \(login), sources: [slack, pagerduty, servicenow], name: dtledger serve}\n"
        _ = try db.session().open().publishDirectory(yaml: yaml, effectiveFrom: nil, actor: nil, retroactiveReason: "test directory without email")
        let h = try await ServeHarness.start(configYAML: Self.config(keys: keys), environment: ["TEST_EMAIL_TOKEN": Self.token],
                                             database: db, login: login)
        try await InboxTests.with(h) {
            let ready = try await h.get("/readyz")
            #expect(ready.status == 503, "\(ready.body)")
            #expect(ready.json?["registered"]?.stringValue?.contains("importer login for email") == true, "\(ready.body)")
        }
    }

    @Test("the key file named by the config must load: the service refuses to start otherwise")
    func badKeyFile() async throws {
        let config = try ServeConfig.parse(Self.config(keys: "/nonexistent/keys.txt"))
        #expect(throws: ServeError.self) {
            _ = try ReceivingService(config: config, settings: DatabaseSettings.resolve(explicit: nil, environment: [:]),
                                     environment: ["TEST_EMAIL_TOKEN": Self.token], logger: .init(label: "test"))
        }
    }

    /// `dtledger import email` (Operations) of one mailbox as `login`.
    static func importMailbox(_ db: TestDatabase, login: String, _ messages: [Data]) throws -> (ImportResult, [ImportNotice]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("email-import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("cur"), withIntermediateDirectories: true)
        for (i, m) in messages.enumerated() { try m.write(to: dir.appendingPathComponent("cur/\(i + 1).eml")) }
        defer { try? FileManager.default.removeItem(at: dir) }
        let session = Session(settings: DatabaseSettings.resolve(explicit: nil, environment: ["DTLEDGER_DATABASE_URL": ServeHarness.url(db, login)]),
                              environment: [:], defaultActor: "test-runner")
        var notices: [ImportNotice] = []
        let r = try session.importPayloads(ImportRequest(source: .email(defaultPurpose: nil, dkim: .none), file: dir.path)) { notices.append($0) }
        return (r, notices)
    }

    @Test("import email as the receiver login: the unmapped message goes to the inbox (not mapped again by the service), inbox assign places it; again: nothing new")
    func importAsReceiver() async throws {
        let (keys, _) = try Self.keyFile()
        let h = try await Self.start(keys: keys)
        try await InboxTests.with(h) {
            let (r, notices) = try Self.importMailbox(h.db, login: h.login, [Self.update, Self.caseless])
            #expect(r.summary["appended"] == .int(1))
            #expect(r.summary["skipped"] == .int(1))
            #expect(r.summary["inbox"] == .int(1))
            let receipt = try #require(r.summary["inbox_receipts"]?.arrayValue?.first?.intValue)
            #expect(notices.contains { if case .inbox(let m) = $0 { m.contains("kept in the inbox as receipt \(receipt)") } else { false } })
            let row = try h.db.connect().query("SELECT source, login, headers->>'x-dtledger-import' FROM dtledger.receipts WHERE id = $1::bigint",
                                               [String(receipt)]).rows[0]
            #expect(row[0] == "email")
            #expect(row[1] == h.login)
            #expect(row[2] == "email")
            try await h.settled()
            #expect(try h.count("SELECT count(*) FROM dtledger.receipt_outcomes WHERE receipt_id = \(receipt)") == 1, "the service does not map it on its own")
            let o = try #require(try h.outcome(receipt))
            #expect(o.outcome == "inbox")
            #expect(o.code == "no_case")
            #expect(o.reason?.contains("dtledger import email") == true, "\(o)")

            // Importing the same mailbox again: no new receipt, no new outcome, no new event.
            let (again, _) = try Self.importMailbox(h.db, login: h.login, [Self.update, Self.caseless])
            #expect(again.summary["appended"] == .int(0))
            #expect(again.summary["inbox_receipts"]?.arrayValue?.first?.intValue == receipt)
            #expect(try Self.receipts(h) == 1)
            #expect(try h.count("SELECT count(*) FROM dtledger.receipt_outcomes") == 1)

            let (_, connection) = try InboxTests.person(h.db)
            let inbox = Inbox(connection: connection, defaultActor: "sean-good")
            let recorded = try inbox.resolve(InboxResolutionRequest(receiptID: receipt, action: .assign, caseID: Self.inc, reason: "from the journal"))
            guard case .applied(let outcome) = try await InboxTests.applied(inbox, recorded.id) else {
                Issue.record("the service did not apply the resolution")
                return
            }
            #expect(outcome.outcome.kind == .appended)
            #expect(try Self.emailEvents(h).count == 2)
        }
    }

    @Test("attacks: a writer login cannot call dtledger.receive or record_outcomes for email; its import email keeps nothing in the inbox and says why")
    func writerCannotKeep() throws {
        let db = try ServiceNowReceiverTests.database()
        let (login, writer) = try InboxTests.person(db)
        defer { _ = try? db.connect().execute("DROP OWNED BY \(login); DROP ROLE IF EXISTS \(login)") }
        let item = #"[{"source":"email","delivery_key":"sha256:forged","received_at":"2026-04-07T22:30:00Z","headers":{"x-dtledger-import":"email"},"body":""}]"#
        #expect {
            _ = try writer.query("SELECT * FROM dtledger.receive($1::jsonb)", [item])
        } throws: { ($0 as? PostgresError)?.sqlState == SQLState.insufficientPrivilege }
        #expect {
            _ = try writer.query(#"SELECT dtledger.record_outcomes('[{"receipt_id":1,"outcome":"inbox"}]')"#)
        } throws: { ($0 as? PostgresError)?.sqlState == SQLState.insufficientPrivilege }

        let (r, notices) = try Self.importMailbox(db, login: login, [Self.update, Self.caseless])
        #expect(r.summary["appended"] == .int(1))
        #expect(r.summary["skipped"] == .int(1))
        #expect(r.summary["inbox"] == .int(0))
        #expect(r.summary["inbox_not_kept"]?.stringValue?.contains("login \(login) cannot write receipts") == true, "\(r.summary)")
        #expect(notices.contains { if case .inbox(let m) = $0 { m.contains("not kept in the inbox") } else { false } })
        #expect(notices.contains { if case .skipped(let m) = $0 { m.contains("no case") } else { false } })
        #expect(Int(try db.connect().query("SELECT count(*) FROM dtledger.receipts").scalar ?? "") == 0)

        // The command says it on stderr, and exits 0 (the mapped message was imported).
        let eml = FileManager.default.temporaryDirectory.appendingPathComponent("caseless-\(UUID().uuidString).eml")
        try Self.caseless.write(to: eml)
        defer { try? FileManager.default.removeItem(at: eml) }
        let cli = try CLI.run(["import", "email", eml.path, "--no-dns"], database: ServeHarness.url(db, login))
        #expect(cli.status == 0, "\(cli.stderr)")
        #expect(cli.stderr.contains("dtledger: skipped: \(eml.path): item 1"), "\(cli.stderr)")
        #expect(cli.stderr.contains("dtledger: inbox: \(eml.path): 1 message(s) not kept in the inbox: login \(login) cannot write receipts"), "\(cli.stderr)")
        #expect(cli.stdout.contains("\"inbox_not_kept\""), "\(cli.stdout)")
        #expect(Int(try db.connect().query("SELECT count(*) FROM dtledger.receipts").scalar ?? "") == 0)
    }
}
