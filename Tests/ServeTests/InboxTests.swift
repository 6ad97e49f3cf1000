import Events
import Foundation
import Ingest
import Ledger
import Operations
import Postgres
import Receiving
import Testing
import TestSupport

/// The inbox (docs/serve.md, "The inbox"): what the service could not
/// place waits with its reason; a person's resolution is recorded with
/// their login and applied by the running service with its own, so the
/// events it appends keep their trusted signature claims. And the attacks:
/// nobody edits receipts, outcomes or resolutions, a person cannot record
/// receipts or outcomes, and `verify` names a receipts trigger switched off.
@Suite("dtledger serve: the inbox and its resolution (PostgreSQL, HTTP on loopback)")
struct InboxTests {
    static let services = ServeHarness.sampleImportYAML

    /// A person's own login (writer and reader, as an on-call engineer has),
    /// or with only the `roles` given.
    static func person(_ db: TestDatabase, roles: String = "dtledger_writer, dtledger_reader") throws -> (login: String, connection: Connection) {
        let login = "dtl_person_\(UInt32.random(in: 0...UInt32.max))"
        try db.connect().execute("CREATE ROLE \(login) LOGIN IN ROLE \(roles)")
        return (login, try Connection(conninfo: ServeHarness.url(db, login)))
    }

    /// A PagerDuty incident.triggered: the service opens a case for it.
    static func trigger(id: String, incident: String, at now: Date) -> Data {
        Data(JSONValue.object(["event": .object([
            "id": .string(id), "event_type": .string("incident.triggered"), "resource_type": .string("incident"),
            "occurred_at": .string(RFC3339.format(now.addingTimeInterval(-120))),
            "agent": .object(["id": .string("PUSER1"), "summary": .string("Max Bell"), "type": .string("user_reference")]),
            "data": .object([
                "id": .string(incident), "type": .string("incident"), "number": .int(4242), "title": .string("Medications page errors"),
                "created_at": .string(RFC3339.format(now.addingTimeInterval(-120))), "status": .string("triggered"),
                "service": .object(["id": .string("PSVC1"), "summary": .string("VA.gov Medications")]),
                "html_url": .string("https://example.pagerduty.com/incidents/\(incident)"),
            ]),
        ])]).jsonText().utf8)
    }

    /// A Slack notification of the template that names no case (no Case:
    /// line, no thread, a channel the config maps to no case).
    static func caseless(eventID: String, at now: Date, channel: String = "C0COORD") -> Data {
        let text = "Purpose: initial\nSummary: Medications page errors for some users\n<!subteam^S0UFONCALL>"
        return SlackBody.message(eventID: eventID, channel: channel, text: text, ts: String(format: "%.6f", now.timeIntervalSince1970 - 30))
    }

    /// Opens a case through PagerDuty; its id.
    static func openCase(_ h: ServeHarness, at now: Date, event: String = "01PDEVT1", incident: String = "Q1INC") async throws -> String {
        let answer = try await h.pagerDuty(trigger(id: event, incident: incident, at: now))
        #expect(answer.status == 200, "\(answer.body)")
        try await h.settled()
        return try #require(try h.caseEvents().last?.caseID)
    }

    /// Sends the caseless Slack message; its receipt id, once the service put it in the inbox.
    static func toInbox(_ h: ServeHarness, eventID: String, at now: Date, channel: String = "C0COORD") async throws -> Int64 {
        let answer = try await h.slack(caseless(eventID: eventID, at: now, channel: channel))
        #expect(answer.status == 200, "\(answer.body)")
        let receipt = try #require(answer.json?["receipt"]?.intValue)
        try await h.settled()
        let outcome = try #require(try h.outcome(receipt))
        #expect(outcome.outcome == "inbox")
        #expect(outcome.code == "no_case")
        return receipt
    }

    static func counts(_ h: ServeHarness) throws -> [Int] {
        [try h.count("SELECT count(*) FROM dtledger.receipts"), try h.count("SELECT count(*) FROM dtledger.receipt_outcomes"),
         try h.count("SELECT count(*) FROM dtledger.receipt_resolutions")]
    }

    /// Waits up to 20 s for the service to apply resolution `id`, polling
    /// without blocking a thread of the cooperative pool (the service's
    /// tasks run there).
    static func applied(_ inbox: Inbox, _ id: Int64) async throws -> AppliedResolution {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let result = try inbox.wait(resolutionID: id, seconds: 0)
            if result != .notYet { return result }
            try await Task.sleep(for: .milliseconds(50))
        }
        return .notYet
    }

    /// Runs `body` and stops the service whatever happens.
    static func with(_ h: ServeHarness, _ body: () async throws -> Void) async throws {
        do { try await body() } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }

    @Test("a Slack message with no case waits in the inbox; assign: the service appends it with its login, trusted, naming the resolution")
    func assign() async throws {
        let h = try await ServeHarness.start(configYAML: ServeHarness.config(importYAML: Self.services))
        try await Self.with(h) {
            let now = Date()
            let caseID = try await Self.openCase(h, at: now)
            let receipt = try await Self.toInbox(h, eventID: "EvInbox1", at: now)
            let (login, connection) = try Self.person(h.db)
            let inbox = Inbox(connection: connection, defaultActor: "sean-good")

            let listed = try inbox.list()
            let item = try #require(listed.first { $0.receiptID == receipt })
            #expect(listed.count == 1)
            #expect(item.source == "slack")
            #expect(item.state == .inbox)
            #expect(item.code == "no_case")
            #expect(item.reason?.isEmpty == false)
            #expect(item.pending == nil)

            let recorded = try inbox.resolve(InboxResolutionRequest(receiptID: receipt, action: .assign, caseID: caseID,
                                                                    reason: "posted without a Case: line", actor: "sean-good"),
                                             forWaiting: true)
            #expect(recorded.note == nil)
            guard case .applied(let outcome) = try await Self.applied(inbox, recorded.id) else {
                Issue.record("the service did not apply the resolution")
                return
            }
            #expect(outcome.outcome.kind == .appended)
            #expect(outcome.outcome.resolutionID == recorded.id)
            #expect(outcome.outcome.caseID == caseID)
            #expect(outcome.login == h.login)
            #expect(try inbox.wait(resolutionID: recorded.id, seconds: 0).exitStatus == 0)

            // The event: in the case, appended by the service's login, its signature claim believed.
            let event = try #require(try h.caseEvents().last)
            #expect(event.caseID == caseID)
            #expect(event.type == "notification.sent")
            #expect(outcome.outcome.eventIDs == [event.id])
            let metadata = try JSONValue.parse(event.metadataText)
            #expect(metadata["db_role"]?.stringValue == h.login)
            #expect(metadata["import"]?["signature_verified"] == .bool(true))
            #expect(metadata["import"]?["receipt_id"]?.intValue == receipt)
            // Who placed it in the case, kept with the event (covered by its hash).
            #expect(metadata["import"]?["resolution"]?["id"]?.intValue == recorded.id)
            #expect(metadata["import"]?["resolution"]?["action"] == .string("assign"))
            #expect(metadata["import"]?["resolution"]?["case"] == .string(caseID))
            #expect(metadata["import"]?["resolution"]?["login"]?.stringValue?.isEmpty == false)
            let review = try JSONValue.parse(try h.db.session().open().review(caseID: caseID, asOf: nil, format: .json))
            let evidence = try #require(review["evidence"]?.arrayValue?.first { $0["id"]?.stringValue == event.id })
            #expect(evidence["signature_verified"] == .bool(true), "\(evidence)")

            // Out of the inbox; its history names both logins.
            #expect(try inbox.list().isEmpty)
            let entry = try inbox.show(receipt)
            #expect(entry.state == .appended)
            #expect(entry.pending == nil)
            #expect(entry.outcomes.map(\.outcome.kind) == [.inbox, .appended])
            #expect(entry.outcomes.allSatisfy { $0.login == h.login })
            #expect(entry.resolutions.count == 1)
            #expect(entry.resolutions[0].login == login)
            #expect(entry.resolutions[0].actor == "sean-good")
            #expect(entry.resolutions[0].caseID == caseID)
            guard entry.history.count == 3, case .resolution = entry.history[1] else {
                Issue.record("history out of order: \(entry.history)")
                return
            }
            #expect(entry.receipt.headers["x-slack-signature"] != nil)
            #expect(String(decoding: entry.receipt.body, as: UTF8.self).contains("EvInbox1"))

            // Assigning it again, now that it is appended, is refused; nothing recorded.
            let before = try Self.counts(h)
            #expect {
                _ = try inbox.resolve(InboxResolutionRequest(receiptID: receipt, action: .assign, caseID: caseID, reason: "again"))
            } throws: { e in
                (e as? LedgerError)?.code == .invalid && "\(e)".contains("receipt \(receipt) is not in the inbox (appended)")
            }
            #expect(try Self.counts(h) == before)
        }
    }

    @Test("map after the config is fixed: a second service mapping the channel appends it")
    func mapAfterFix() async throws {
        let first = try await ServeHarness.start(configYAML: ServeHarness.config(importYAML: Self.services))
        let now = Date()
        var caseID = ""
        var receipt: Int64 = 0
        do {
            caseID = try await Self.openCase(first, at: now)
            receipt = try await Self.toInbox(first, eventID: "EvMap1", at: now, channel: "C0NEWCHAN")
        } catch {
            await first.stop()
            throw error
        }
        // Stop the first service, keeping its login, and start one whose
        // config maps the channel to the case, on the same database.
        await first.service.shutdown()
        _ = try? await first.task.value
        try? await first.client.shutdown()
        let fixed = Self.services + "\ncases: {C0NEWCHAN: \(caseID)}\n"
        let second = try await ServeHarness.start(configYAML: ServeHarness.config(importYAML: fixed), database: first.db, login: first.login)
        try await Self.with(second) {
            // Mapping does not happen on its own: the receipt has an outcome.
            try await second.settled()
            #expect(try second.outcome(receipt)?.outcome == "inbox")
            let (_, connection) = try Self.person(second.db)
            let inbox = Inbox(connection: connection, defaultActor: "sean-good")
            let recorded = try inbox.resolve(InboxResolutionRequest(receiptID: receipt, action: .map, reason: "C0NEWCHAN mapped to the case"))
            #expect(recorded.actor == "sean-good")
            let applied = try await Self.applied(inbox, recorded.id)
            guard case .applied(let outcome) = applied else {
                Issue.record("the service did not apply the resolution")
                return
            }
            #expect(outcome.outcome.kind == .appended, "\(outcome)")
            #expect(outcome.outcome.caseID == caseID)
            #expect(outcome.outcome.resolutionID == recorded.id)
            let event = try #require(try second.caseEvents().last)
            #expect(event.caseID == caseID)
            #expect(try JSONValue.parse(event.metadataText)["db_role"]?.stringValue == second.login)
            #expect(try inbox.list().isEmpty)
        }
    }

    @Test("discard: out of the inbox, recorded with the person's login and reason; a second discard is refused")
    func discard() async throws {
        let h = try await ServeHarness.start(configYAML: ServeHarness.config(importYAML: Self.services))
        try await Self.with(h) {
            let receipt = try await Self.toInbox(h, eventID: "EvDiscard1", at: Date())
            let (login, connection) = try Self.person(h.db)
            let inbox = Inbox(connection: connection, defaultActor: "sean-good")
            let eventsBefore = try h.caseEvents().count
            let recorded = try inbox.resolve(InboxResolutionRequest(receiptID: receipt, action: .discard, reason: "a test message, not evidence",
                                                                    actor: "max-bell"))
            guard case .applied(let outcome) = try await Self.applied(inbox, recorded.id) else {
                Issue.record("the service did not apply the discard")
                return
            }
            #expect(outcome.outcome.kind == .discarded)
            #expect(outcome.outcome.reason?.contains("max-bell") == true)
            #expect(outcome.outcome.reason?.contains(login) == true)
            #expect(outcome.outcome.reason?.contains("a test message, not evidence") == true)
            #expect(try h.caseEvents().count == eventsBefore)
            #expect(try inbox.list().isEmpty)
            #expect(try inbox.list(includeIgnored: true).isEmpty)
            let entry = try inbox.show(receipt)
            #expect(entry.state == .discarded)
            #expect(entry.resolutions.map(\.login) == [login])
            #expect(entry.resolutions.map(\.reason) == ["a test message, not evidence"])

            let before = try Self.counts(h)
            #expect {
                _ = try inbox.resolve(InboxResolutionRequest(receiptID: receipt, action: .discard, reason: "twice"))
            } throws: { e in
                (e as? LedgerError)?.code == .invalid && "\(e)".contains("not in the inbox (discarded)")
            }
            #expect(try Self.counts(h) == before)
        }
    }

    @Test("refused, with nothing recorded: an unknown receipt, an empty reason, a bad case id, a pending resolution; a reader cannot resolve")
    func refusals() async throws {
        // No service runs here: a resolution stays pending.
        let db = try ServeHarness.setUpDatabase()
        let service = try ServeHarness.makeServiceLogin(db)
        let receiver = ReceiptStore(connection: try Connection(conninfo: ServeHarness.url(db, service)))
        let ids = try receiver.receive([IncomingReceipt(source: "webhook", deliveryKey: "d1", receivedAt: Date(),
                                                        headers: ["content-type": "application/json"], body: Data("{}".utf8))])
        let receipt = ids[0].id
        try receiver.record([ReceiptOutcome(receiptID: receipt, kind: .inbox, code: "unknown_source", reason: "not mapped")])
        let (_, connection) = try Self.person(db)
        let inbox = Inbox(connection: connection, defaultActor: "sean-good")
        func resolutions() throws -> Int { Int(try db.connect().query("SELECT count(*) FROM dtledger.receipt_resolutions").scalar ?? "") ?? -1 }

        #expect { _ = try inbox.resolve(InboxResolutionRequest(receiptID: 987_654, action: .map, reason: "x")) } throws: { e in
            (e as? LedgerError)?.code == .invalid && "\(e)" == "no receipt 987654"
        }
        #expect { _ = try inbox.show(987_654) } throws: { e in "\(e)" == "no receipt 987654" }
        #expect { _ = try inbox.resolve(InboxResolutionRequest(receiptID: receipt, action: .map, reason: "  \n ")) } throws: { e in
            (e as? OperationError)?.code == .usage && "\(e)".contains("--reason")
        }
        #expect {
            _ = try inbox.resolve(InboxResolutionRequest(receiptID: receipt, action: .assign, caseID: "x'; DROP TABLE dtledger.receipts; --", reason: "x"))
        } throws: { e in
            (e as? Events.ValidationError)?.field == "--case" && "\(e)".contains("not a valid case id")
        }
        #expect(try resolutions() == 0)

        // A reader cannot resolve (the database refuses: no EXECUTE).
        let (_, readerConnection) = try Self.person(db, roles: "dtledger_reader")
        #expect { _ = try Inbox(connection: readerConnection, defaultActor: "isso").resolve(
            InboxResolutionRequest(receiptID: receipt, action: .discard, reason: "x")) } throws: { e in
            (e as? LedgerError)?.code == .permissionDenied
        }
        // A writer without the reader role cannot list, nor wait (refused before anything is recorded).
        let (_, writerConnection) = try Self.person(db, roles: "dtledger_writer")
        let writerInbox = Inbox(connection: writerConnection, defaultActor: "sean-good")
        #expect { _ = try writerInbox.list() } throws: { e in
            (e as? LedgerError)?.code == .permissionDenied && "\(e)".contains("dtledger_reader")
        }
        #expect { _ = try writerInbox.resolve(InboxResolutionRequest(receiptID: receipt, action: .discard, reason: "x"), forWaiting: true) } throws: { e in
            (e as? LedgerError)?.code == .permissionDenied && "\(e)".contains("--wait")
        }
        #expect(try resolutions() == 0)

        // One resolution at a time: a second while the first is not applied is refused.
        let first = try inbox.resolve(InboxResolutionRequest(receiptID: receipt, action: .discard, reason: "noise"))
        #expect(try inbox.list().first?.pending == .discard)
        #expect(try inbox.show(receipt).pending?.id == first.id)
        #expect { _ = try inbox.resolve(InboxResolutionRequest(receiptID: receipt, action: .map, reason: "again")) } throws: { e in
            (e as? LedgerError)?.code == .invalid && "\(e)".contains("already has a resolution the service has not applied yet")
        }
        #expect(try resolutions() == 1)
        // Waiting with no service: not applied in time (exit 75).
        let waited = try inbox.wait(resolutionID: first.id, seconds: 0.3)
        #expect(waited == .notYet)
        #expect(waited.exitStatus == 75)
        _ = try? db.connect().execute("DROP OWNED BY \(service); DROP ROLE IF EXISTS \(service)")
    }

    @Test("attacks: a writer cannot edit receipts, outcomes or resolutions nor record them; the owner's edits hit the triggers (DTL02)")
    func attacks() async throws {
        let db = try ServeHarness.setUpDatabase()
        let service = try ServeHarness.makeServiceLogin(db)
        let receiver = ReceiptStore(connection: try Connection(conninfo: ServeHarness.url(db, service)))
        let receipt = try receiver.receive([IncomingReceipt(source: "webhook", deliveryKey: "d1", receivedAt: Date(),
                                                            headers: [:], body: Data("{}".utf8))])[0].id
        try receiver.record([ReceiptOutcome(receiptID: receipt, kind: .inbox, code: "unknown_source", reason: "not mapped")])
        let (_, writer) = try Self.person(db)
        _ = try Inbox(connection: writer, defaultActor: "sean-good").resolve(InboxResolutionRequest(receiptID: receipt, action: .discard, reason: "noise"))

        func refused(_ c: Connection, _ sql: String, _ state: String) {
            do {
                _ = try c.execute(sql)
                Issue.record("not refused: \(sql)")
            } catch {
                #expect(error.sqlState == state, "\(sql): \(error)")
            }
        }
        let tables = ["dtledger.receipts", "dtledger.receipt_outcomes", "dtledger.receipt_resolutions"]
        for table in tables {
            refused(writer, "UPDATE \(table) SET login = login", SQLState.insufficientPrivilege)
            refused(writer, "DELETE FROM \(table)", SQLState.insufficientPrivilege)
            refused(writer, "TRUNCATE \(table) CASCADE", SQLState.insufficientPrivilege)
        }
        refused(writer, "INSERT INTO dtledger.receipts (source, delivery_key, received_at, headers, body, body_sha256, login) VALUES ('slack', 'x', now(), '{}', '', sha256(''), 'svc')", SQLState.insufficientPrivilege)
        refused(writer, "SELECT * FROM dtledger.receive('[{\"source\":\"slack\",\"delivery_key\":\"forged\",\"received_at\":\"2026-01-01T00:00:00Z\",\"headers\":{},\"body\":\"\"}]')", SQLState.insufficientPrivilege)
        refused(writer, "SELECT dtledger.record_outcomes('[{\"receipt_id\":\(receipt),\"outcome\":\"discarded\"}]')", SQLState.insufficientPrivilege)
        // The receiver itself cannot edit them either.
        refused(receiver.connection, "UPDATE dtledger.receipt_outcomes SET outcome = 'appended'", SQLState.insufficientPrivilege)

        // The schema owner holds the privileges; the triggers refuse.
        let owner = try db.connect()
        for table in tables {
            refused(owner, "UPDATE \(table) SET login = login", "DTL02")
            refused(owner, "DELETE FROM \(table)", "DTL02")
            refused(owner, "TRUNCATE \(table) CASCADE", "DTL02")
        }
        #expect(Int(try owner.query("SELECT count(*) FROM dtledger.receipt_resolutions").scalar ?? "") == 1)
        _ = try? owner.execute("DROP OWNED BY \(service); DROP ROLE IF EXISTS \(service)")
    }

    @Test("verify passes on a ledger with receipts and names a receipts trigger disabled or dropped")
    func verifyReceiptsTriggers() async throws {
        let h = try await ServeHarness.start(configYAML: ServeHarness.config(importYAML: Self.services))
        try await Self.with(h) {
            let now = Date()
            _ = try await Self.openCase(h, at: now)
            _ = try await Self.toInbox(h, eventID: "EvVerify1", at: now)
            let metrics = try await h.get("/metrics").body
            #expect(metrics.contains("dtledger_inbox_size"), "\(metrics)")
            #expect(metrics.contains("dtledger_receipts_total"))
            let owner = try h.db.connect()
            let clean = try EventStore(connection: owner).verify()
            #expect(clean.ok, "\(clean.problem ?? "")")
            #expect(clean.check("triggers")?.ok == true)

            try owner.execute("ALTER TABLE dtledger.receipts DISABLE TRIGGER receipts_no_update")
            try owner.execute("DROP TRIGGER receipt_resolutions_no_truncate ON dtledger.receipt_resolutions")
            let report = try EventStore(connection: owner).verify()
            #expect(!report.ok)
            let problems = report.check("triggers")?.problems ?? []
            #expect(problems.contains { $0.contains("receipts_no_update") && $0.contains("disabled") }, "\(problems)")
            #expect(problems.contains { $0.contains("receipt_resolutions_no_truncate") && $0.contains("missing") }, "\(problems)")
        }
    }
}
