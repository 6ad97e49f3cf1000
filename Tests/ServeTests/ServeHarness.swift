import AsyncHTTPClient
import Events
import Foundation
import Ingest
import Ledger
import Logging
import NIOCore
import NIOHTTP1
import Operations
import Postgres
import Receiving
import Serve
import Testing
import TestSupport

/// One running `dtledger serve` for a test: a fresh migrated database with
/// the default policy and the sample directory (plus the service's own
/// login registered as an importer login for slack, pagerduty and
/// servicenow), the service in-process on a loopback port chosen by the
/// system, and an HTTP client. `stop()` shuts it down gracefully and drops
/// the login.
final class ServeHarness: Sendable {
    static let slackSecret = "slack-signing-secret-for-tests"
    static let pagerDutySecret = "pagerduty-webhook-secret-for-tests"
    static let serviceNowToken = "servicenow-token-for-tests"

    let db: TestDatabase
    let login: String
    let service: ReceivingService
    let port: Int
    let task: Task<Void, any Error>
    let client: HTTPClient

    /// The service's config: sources with the test secrets, the given
    /// import mappings (YAML under `import:`), and `extra` top-level YAML.
    static func config(importYAML: String = "", extra: String = "") -> String {
        var yaml = """
            listen: 127.0.0.1:0
            actor: dtledger-serve
            sources:
              slack: {signing_secret_env: TEST_SLACK_SECRET}
              pagerduty: {webhook_secret_env: TEST_PD_SECRET}
              servicenow: {bearer_token_env: TEST_SN_TOKEN}

            """
        if !importYAML.isEmpty {
            yaml += "import:\n" + importYAML.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n") + "\n"
        }
        yaml += extra
        return yaml
    }

    /// Import mappings most tests use: PagerDuty's service PSVC1 and Slack's channel C0COORD.
    static let sampleImportYAML = """
        pagerduty:
          services:
            PSVC1: {team: user-facing, product: medications, name: VA.gov Medications}
        slack:
          channels: {C0COORD: "#mhv-coordination"}
        """

    static let environment = ["TEST_SLACK_SECRET": slackSecret, "TEST_PD_SECRET": pagerDutySecret, "TEST_SN_TOKEN": serviceNowToken]

    /// Starts a service on a new database (or `database`, already set up).
    static func start(configYAML: String = config(), environment extra: [String: String] = [:],
                      database: TestDatabase? = nil, login given: String? = nil) async throws -> ServeHarness {
        let db = try database ?? setUpDatabase()
        let login = try given ?? makeServiceLogin(db)
        let config = try ServeConfig.parse(configYAML)
        let settings = DatabaseSettings.resolve(explicit: nil, environment: ["DTLEDGER_DATABASE_URL": url(db, login)])
        var logger = Logger(label: "test.serve")
        logger.logLevel = ProcessInfo.processInfo.environment["DTLEDGER_TEST_SERVE_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        let service = try ReceivingService(config: config, settings: settings,
                                           environment: environment.merging(extra) { _, b in b }, logger: logger)
        let ready = Once<Int>()
        let failed = Once<String>()
        let task = Task {
            do { try await service.run(signals: []) { port in ready.set(port) } } catch {
                failed.set("\(error)")
                throw error
            }
        }
        let deadline = Date().addingTimeInterval(30)
        var port: Int?
        while port == nil, Date() < deadline {
            if let why = failed.current { throw HarnessError("the service did not start: \(why)") }
            port = await ready.wait(seconds: 0.05)
        }
        guard let port else {
            task.cancel()
            throw HarnessError("the service did not start listening within 30 s")
        }
        return ServeHarness(db: db, login: login, service: service, port: port, task: task, client: HTTPClient(eventLoopGroupProvider: .singleton))
    }

    init(db: TestDatabase, login: String, service: ReceivingService, port: Int, task: Task<Void, any Error>, client: HTTPClient) {
        self.db = db
        self.login = login
        self.service = service
        self.port = port
        self.task = task
        self.client = client
    }

    /// A migrated database with the default policy and the sample directory
    /// (its service_logins naming `serviceLogin` when given).
    static func setUpDatabase(serviceLogin: String? = nil) throws -> TestDatabase {
        let db = try TestDatabase.make()
        let ledger = try db.session().open()
        _ = try ledger.publishDefaultPolicyIfNone()
        return db
    }

    /// Creates the service's own login (dtledger_receiver) and publishes the
    /// sample directory registering it as the importer login of slack,
    /// pagerduty, servicenow and email.
    static func makeServiceLogin(_ db: TestDatabase) throws -> String {
        let login = "dtl_serve_\(UInt32.random(in: 0...UInt32.max))"
        try db.connect().execute("CREATE ROLE \(login) LOGIN IN ROLE dtledger_receiver")
        var yaml = try String(contentsOf: CLI.scenarios.appendingPathComponent("directory.yaml"), encoding: .utf8)
        yaml += "\nservice_logins:\n  - {login: \(login), sources: [slack, pagerduty, servicenow, email], name: dtledger serve}\n"
        _ = try db.session().open().publishDirectory(yaml: yaml, effectiveFrom: nil, actor: nil,
                                                     retroactiveReason: "test directory, effective before the test ran")
        return login
    }

    static func url(_ db: TestDatabase, _ login: String) -> String {
        db.url.replacingOccurrences(of: "user=dtledger", with: "user=\(login)")
    }

    /// Graceful shutdown, then the client and the login.
    func stop() async {
        await service.shutdown()
        _ = try? await task.value
        try? await client.shutdown()
        if let c = try? db.connect() { _ = try? c.execute("DROP OWNED BY \(login); DROP ROLE IF EXISTS \(login)") }
    }

    // MARK: Requests

    struct Answer: Sendable {
        let status: Int
        let body: String
        let headers: [(String, String)]
        var json: JSONValue? { try? JSONValue.parse(Data(body.utf8)) }
    }

    func post(_ path: String, body: Data, headers: [String: String] = [:]) async throws -> Answer {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        for (k, v) in headers { request.headers.replaceOrAdd(name: k, value: v) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return Answer(status: Int(response.status.code), body: String(buffer: bytes), headers: response.headers.map { ($0.name, $0.value) })
    }

    func get(_ path: String) async throws -> Answer {
        let request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return Answer(status: Int(response.status.code), body: String(buffer: bytes), headers: response.headers.map { ($0.name, $0.value) })
    }

    /// A Slack Events API request signed with the test secret (or `secret`), timestamped `at`.
    func slack(_ body: Data, at: Date = Date(), secret: String = ServeHarness.slackSecret, extraHeaders: [String: String] = [:]) async throws -> Answer {
        let ts = Int64(at.timeIntervalSince1970)
        var headers = ["X-Slack-Request-Timestamp": String(ts),
                       "X-Slack-Signature": Signatures.slackSignature(body: body, timestamp: ts, secret: secret)]
        headers.merge(extraHeaders) { _, b in b }
        return try await post("/slack/events", body: body, headers: headers)
    }

    /// A PagerDuty webhook v3 request signed with the test secret (and `alsoSignedWith`, as in a rotation).
    func pagerDuty(_ body: Data, secret: String = ServeHarness.pagerDutySecret, alsoSignedWith: [String] = []) async throws -> Answer {
        let signatures = ([secret] + alsoSignedWith).map { Signatures.pagerDutySignature(body: body, secret: $0) }
        return try await post("/pagerduty/webhook", body: body, headers: ["X-PagerDuty-Signature": signatures.joined(separator: ",")])
    }

    /// A ServiceNow business-rule request with the bearer token.
    func serviceNow(_ body: Data, token: String = ServeHarness.serviceNowToken) async throws -> Answer {
        try await post("/servicenow/events", body: body, headers: ["Authorization": "Bearer \(token)"])
    }

    // MARK: Waiting for the mapper

    /// Waits until every receipt has an outcome (the mapper caught up), up to `seconds`.
    func settled(seconds: Double = 20) async throws {
        try await Self.settled(db, seconds: seconds)
    }

    /// Waits until every receipt of `db` has an outcome and every resolution
    /// has been applied, up to `seconds` (also for a service run as a child process).
    static func settled(_ db: TestDatabase, seconds: Double = 20) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        let c = try db.connect()
        while Date() < deadline {
            let pending = try c.query("""
                SELECT count(*) FROM dtledger.receipts r
                 WHERE NOT EXISTS (SELECT 1 FROM dtledger.receipt_outcomes o WHERE o.receipt_id = r.id)
                    OR EXISTS (SELECT 1 FROM dtledger.receipt_resolutions s WHERE s.receipt_id = r.id
                                 AND NOT EXISTS (SELECT 1 FROM dtledger.receipt_outcomes o WHERE o.resolution_id = s.id))
                """).scalar
            if pending == "0" { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("the mapper did not map every receipt within \(seconds) s")
    }

    /// The latest outcome of a receipt.
    func outcome(_ receipt: Int64) throws -> (outcome: String, code: String?, reason: String?, caseID: String?)? {
        let rows = try db.connect().query("""
            SELECT outcome, code, reason, case_id FROM dtledger.receipt_outcomes WHERE receipt_id = $1::bigint ORDER BY id DESC LIMIT 1
            """, [String(receipt)]).rows
        return rows.first.map { ($0[0] ?? "", $0[1], $0[2], $0[3]) }
    }

    /// Every event in the ledger's cases (not reference streams), in order.
    func caseEvents() throws -> [StoredEvent] {
        var out: [StoredEvent] = []
        try db.store().forEachEvent { e in if e.caseID != "policy" && e.caseID != "directory" { out.append(e) } }
        return out
    }

    func count(_ sql: String) throws -> Int {
        Int(try db.connect().query(sql).scalar ?? "0") ?? 0
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A value set once and awaited with a time limit.
final class Once<Value: Sendable>: Sendable {
    private let state = Locked<Value?>(nil)

    func set(_ value: Value) { state.withLock { if $0 == nil { $0 = value } } }

    var current: Value? { state.current }

    func wait(seconds: Double) async -> Value? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let v = state.current { return v }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return state.current
    }
}

/// Slack Events API bodies as Slack sends them.
enum SlackBody {
    static func message(eventID: String, channel: String = "C0COORD", user: String = "U1000009", text: String,
                        ts: String, threadTS: String? = nil) -> Data {
        var event: [String: JSONValue] = [
            "type": .string("message"), "channel": .string(channel), "user": .string(user), "text": .string(text),
            "ts": .string(ts), "event_ts": .string(ts), "channel_type": .string("channel"),
        ]
        if let threadTS { event["thread_ts"] = .string(threadTS) }
        return wrap(eventID: eventID, event: .object(event), time: ts)
    }

    static func wrap(eventID: String, event: JSONValue, time: String) -> Data {
        Data(JSONValue.object([
            "token": .string("verification-token-unused"), "team_id": .string("T0TEAM"), "api_app_id": .string("A0APP"),
            "event": event, "type": .string("event_callback"), "event_id": .string(eventID),
            "event_time": .int(Int64(Double(time) ?? 0)),
        ]).jsonText().utf8)
    }
}
