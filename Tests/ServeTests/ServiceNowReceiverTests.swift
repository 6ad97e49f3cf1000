import Events
import Foundation
import Ingest
import Ledger
import Operations
import Testing
import TestSupport

/// The business-rule route, POST /servicenow/events, end to end: a
/// ServiceNow business rule posts the record (`current`) as JSON with the
/// configured bearer token or basic auth (ServiceNow does not sign).
@Suite("dtledger serve: ServiceNow business-rule route (bearer and basic auth, PostgreSQL, HTTP on loopback)")
struct ServiceNowReceiverTests {
    static let importYAML = """
        cases: {CHG0031337: PD-2026-0007, INC0045678: INC-2026-0142}
        actors: {5137153cc611227c000bbd1bd8cd2005: max-eng}
        servicenow: {instance_url: "https://example.service-now.com"}
        """

    /// A database with the planned downtime PD-2026-0007 and the incident INC-2026-0142 opened.
    static func database() throws -> TestDatabase {
        let db = try ServeHarness.setUpDatabase()
        let lines = try ["planned-downtime-api-platform.jsonl", "incident-user-facing-escalated.jsonl"].map { name in
            try String(contentsOf: CLI.scenarios.appendingPathComponent(name), encoding: .utf8).split(separator: "\n")[0]
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sn-open-\(UUID().uuidString).jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        _ = try db.session().appendFile(file.path, actor: nil, source: .cli)
        return db
    }

    /// `{value, display_value}`, as the documented business rule sends each field.
    static func f(_ value: String, _ display: String? = nil) -> JSONValue {
        .object(["value": .string(value), "display_value": .string(display ?? value)])
    }

    /// The bodies the documented business rule posts: sys_id, sys_class_name,
    /// sys_updated_on and number as plain values, every other field as
    /// `{value, display_value}`.
    static func change() -> Data {
        Data(JSONValue.object([
            "sys_id": .string("a9e30c7dc61122760116894de7bcc7bd"), "sys_class_name": .string("change_request"),
            "sys_updated_on": .string("2026-03-03 14:31:00"), "number": .string("CHG0031337"),
            "short_description": f("MHV API database upgrade (PD-2026-0007)"), "state": f("-2", "Scheduled"),
            "approval": f("requested", "Requested"), "opened_at": f("2026-03-03 14:30:00", "2026-03-03 09:30:00"),
            "opened_by": f("6816f79cc0a8016401c5a33be04be441", "Tara Cole"),
        ]).jsonText().utf8)
    }

    static func incident() -> Data {
        Data(JSONValue.object([
            "sys_id": .string("9d385017c611228701d22104cc95c371"), "sys_class_name": .string("incident"),
            "sys_updated_on": .string("2026-04-07 13:41:00"), "number": .string("INC0045678"),
            "short_description": f("Medications list fails to load"), "category": f("software", "Software"),
            "state": f("2", "In Progress"), "opened_at": f("2026-04-07 13:40:00", "2026-04-07 09:40:00"),
            "opened_by": f("5137153cc611227c000bbd1bd8cd2005", "Max Bell"),
        ]).jsonText().utf8)
    }

    static func approval(updated: String = "2026-03-04 21:10:00") -> Data {
        Data(JSONValue.object([
            "sys_id": .string("b0f3c4e2db8f2010a5c1f6b8ca961932"), "sys_class_name": .string("sysapproval_approver"),
            "sys_updated_on": .string(updated), "state": f("approved", "Approved"),
            "approver": f("62826bf03710200044e0bfc8bcbe5df1", "Sean Good"),
            "sysapproval": f("a9e30c7dc61122760116894de7bcc7bd", "CHG0031337"),
            "source_table": f("change_request", "Change Request"), "comments": f(""),
        ]).jsonText().utf8)
    }

    /// Every finding object ({kind, event, ...}) anywhere in a compliance report.
    static func findings(_ v: JSONValue) -> [JSONValue] {
        switch v {
        case .object(let o):
            let here: [JSONValue] = o["kind"]?.stringValue != nil && o["event"] != nil && o["detail"] != nil ? [v] : []
            return here + o.values.flatMap(findings)
        case .array(let a): return a.flatMap(findings)
        default: return []
        }
    }

    func receipts(_ h: ServeHarness) throws -> Int { try h.count("SELECT count(*) FROM dtledger.receipts WHERE source = 'servicenow'") }

    @Test("bearer token: change_request, incident and the System Owner's approval are mapped; the approval is evidence recorded by the service login, not an impersonation; a retry is a duplicate")
    func bearer() async throws {
        let h = try await ServeHarness.start(configYAML: ServeHarness.config(importYAML: Self.importYAML), database: try Self.database())
        do {
            for body in [Self.change(), Self.incident(), Self.approval()] {
                let a = try await h.serviceNow(body)
                #expect(a.status == 200, "\(a.body)")
                #expect(a.json?["duplicate"] == .bool(false))
            }
            let retry = try await h.serviceNow(Self.approval())
            #expect(retry.status == 200)
            #expect(retry.json?["duplicate"] == .bool(true))
            try await h.settled()
            let events = try h.caseEvents().filter { $0.source == "servicenow" }
            #expect(events.map(\.type) == ["ticket.submitted", "ticket.submitted", "approval.recorded"])
            let change = try JSONValue.parse(events[0].dataText)
            #expect(events[0].caseID == "PD-2026-0007")
            #expect(change["number"] == .string("CHG0031337"))
            #expect(change["purpose"] == .string("downtime_approval"))
            #expect(events[0].actor == "tara-lead")
            #expect(events[1].caseID == "INC-2026-0142")
            #expect(try JSONValue.parse(events[1].dataText)["number"] == .string("INC0045678"))
            #expect(events[1].actor == "max-eng")

            let approval = events[2]
            let data = try JSONValue.parse(approval.dataText)
            #expect(approval.caseID == "PD-2026-0007")
            #expect(approval.actor == "sean-good")
            #expect(data["approver"] == .string("sean-good"))
            #expect(data["decision"] == .string("approved"))
            #expect(data["ticket"] == .string("CHG0031337"))
            #expect(RFC3339.date(microseconds: approval.occurredMicros) == (try RFC3339.parse("2026-03-04T21:10:00Z")))
            let meta = try JSONValue.parse(approval.metadataText)
            #expect(meta["db_role"] == .string(h.login), "recorded by the service's own login")
            #expect(meta["import"]?["signature_verified"] == .bool(false), "ServiceNow does not sign: not claimed")
            #expect(meta["import"]?["payload"]?.stringValue == String(decoding: Self.approval(), as: UTF8.self), "the raw body is kept, under the event's hash")
            // The directory registers the service login for servicenow: sean-good's approval binds to it (no identity finding).
            var report = ""
            _ = try h.db.session().open().compliance(caseID: "PD-2026-0007", asOf: nil, format: .json) { report += $0 }
            let identityKinds: Set<String> = ["login_mismatch", "unbound_login", "shared_login", "unknown_login", "unverified_provenance"]
            let identity = Self.findings(try JSONValue.parse(Data(report.utf8))).filter {
                $0["event"] == .string(approval.id) && identityKinds.contains($0["kind"]?.stringValue ?? "")
            }
            #expect(!Self.findings(try JSONValue.parse(Data(report.utf8))).isEmpty, "the report's findings are read (the walk finds them)")
            #expect(identity.isEmpty, "\(identity)")
            #expect(try receipts(h) == 3)
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }

    @Test("missing or wrong token: 401 with WWW-Authenticate, nothing stored; malformed JSON with a good token: 400, kept in receipts, in the inbox, nothing appended")
    func refusedAndMalformed() async throws {
        let h = try await ServeHarness.start(configYAML: ServeHarness.config(importYAML: Self.importYAML), database: try Self.database())
        do {
            let missing = try await h.post("/servicenow/events", body: Self.approval())
            #expect(missing.status == 401)
            #expect(missing.body.contains("no Authorization header"))
            #expect(missing.headers.contains { $0.0.lowercased() == "www-authenticate" })
            let wrong = try await h.serviceNow(Self.approval(), token: "not-the-token")
            #expect(wrong.status == 401)
            #expect(wrong.body.contains("does not match"))
            let prefix = try await h.serviceNow(Self.approval(), token: ServeHarness.serviceNowToken + "x")
            #expect(prefix.status == 401)
            let basic = try await h.post("/servicenow/events", body: Self.approval(),
                                         headers: ["Authorization": "Basic \(Data("u:\(ServeHarness.serviceNowToken)".utf8).base64EncodedString())"])
            #expect(basic.status == 401, "basic auth is not accepted where a bearer token is configured")
            #expect(try receipts(h) == 0)

            let malformed = try await h.serviceNow(Data(#"{"sys_id": "b0f3c4e2", "state": "approved""#.utf8))
            #expect(malformed.status == 400, "\(malformed.body)")
            let json = try #require(malformed.json)
            #expect(json["kept"] == .bool(true))
            #expect(json["error"]?.stringValue?.contains("not JSON") == true)
            guard case .int(let id)? = json["receipt"] else { Issue.record("no receipt id in \(malformed.body)"); throw HarnessError("no receipt") }
            try await h.settled()
            let outcome = try #require(try h.outcome(id))
            #expect(outcome.outcome == "inbox")
            #expect(outcome.code == "unreadable")
            #expect(try receipts(h) == 1)
            #expect(try h.caseEvents().filter { $0.source == "servicenow" }.isEmpty)
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }

    @Test("basic auth (a second service): the right user and password are accepted, a wrong password or a bearer token refused")
    func basicAuth() async throws {
        let config = """
            listen: 127.0.0.1:0
            actor: dtledger-serve
            sources:
              servicenow: {basic_user_env: TEST_SN_BASIC_USER, basic_password_env: TEST_SN_BASIC_PASSWORD}
            import:
            \(Self.importYAML.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            """
        let env = ["TEST_SN_BASIC_USER": "svc.dtledger", "TEST_SN_BASIC_PASSWORD": "basic-password-for-tests"]
        let h = try await ServeHarness.start(configYAML: config, environment: env, database: try Self.database())
        func basic(_ user: String, _ password: String) -> [String: String] {
            ["Authorization": "Basic \(Data("\(user):\(password)".utf8).base64EncodedString())"]
        }
        do {
            let wrong = try await h.post("/servicenow/events", body: Self.approval(), headers: basic("svc.dtledger", "wrong"))
            #expect(wrong.status == 401)
            let bearer = try await h.serviceNow(Self.approval(), token: "basic-password-for-tests")
            #expect(bearer.status == 401)
            #expect(try receipts(h) == 0)
            let good = try await h.post("/servicenow/events", body: Self.approval(), headers: basic("svc.dtledger", "basic-password-for-tests"))
            #expect(good.status == 200, "\(good.body)")
            try await h.settled()
            let events = try h.caseEvents().filter { $0.source == "servicenow" }
            #expect(events.map(\.type) == ["approval.recorded"])
            #expect(events.first?.actor == "sean-good")
            // The other sources are not configured: their routes do not exist.
            let slack = try await h.post("/slack/events", body: Data("{}".utf8))
            #expect(slack.status == 404)
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }
}
