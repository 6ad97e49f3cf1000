import Events
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TestSupport

/// A local fake of the two vendor APIs the pollers call, on 127.0.0.1 at a
/// port the system picks: PagerDuty's REST API `GET /maintenance_windows`
/// (classic pagination, `Authorization: Token token=...`, the v2 Accept
/// header, `service_ids[]`) and ServiceNow's Table API
/// `GET /api/now/table/<table>` (basic auth, `sysparm_query` with
/// `sys_updated_on>=`, `sysparm_limit`/`sysparm_offset`, `X-Total-Count`).
/// Tests script its data, cap its page sizes (as the vendors cap theirs),
/// queue faults (a status, a Retry-After, a delay past the poller's time
/// limit) and read its request log.
final class FakeVendorAPI: Sendable {
    enum Fault: Sendable {
        case status(Int, retryAfter: Int? = nil)
        /// Answers (normally) only after this many seconds.
        case delay(Double)
    }

    struct Logged: Sendable {
        let vendor: String
        let path: String
        let query: [String: [String]]
        let authorized: Bool
        let status: Int
        let at: Date
    }

    struct State {
        var windows: [JSONValue] = []
        var records: [String: [JSONValue]] = [:]
        var faults: [String: [Fault]] = [:]
        var log: [Logged] = []
        var pagerDutyPageSize = 100
        var serviceNowPageSize = 100
    }

    let state = Locked(State())
    let pagerDutyToken: String
    let serviceNowUser: String
    let serviceNowPassword: String
    private let portBox = Locked<Int?>(nil)
    private let task = Locked<Task<Void, any Error>?>(nil)

    var port: Int { portBox.current ?? 0 }
    var baseURL: String { "http://127.0.0.1:\(port)" }

    init(pagerDutyToken: String = "pd-api-token-for-tests", serviceNowUser: String = "dtledger.poller",
         serviceNowPassword: String = "sn-password-for-tests") {
        self.pagerDutyToken = pagerDutyToken
        self.serviceNowUser = serviceNowUser
        self.serviceNowPassword = serviceNowPassword
    }

    static func start(pagerDutyPageSize: Int = 100, serviceNowPageSize: Int = 100) async throws -> FakeVendorAPI {
        let fake = FakeVendorAPI()
        fake.state.withLock {
            $0.pagerDutyPageSize = pagerDutyPageSize
            $0.serviceNowPageSize = serviceNowPageSize
        }
        let router = Router()
        router.get("/maintenance_windows") { request, _ in await fake.pagerDuty(request) }
        router.get("/api/now/table/:table") { request, context in
            await fake.serviceNow(request, table: context.parameters.get("table") ?? "")
        }
        var logger = Logger(label: "test.fake-vendor-api")
        logger.logLevel = .critical
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in fake.portBox.withLock { $0 = channel.localAddress?.port } },
                              logger: logger)
        fake.task.withLock { $0 = Task { try await app.runService() } }
        let deadline = Date().addingTimeInterval(20)
        while fake.portBox.current == nil {
            guard Date() < deadline else { throw HarnessError("the fake vendor API did not start within 20 s") }
            try await Task.sleep(for: .milliseconds(10))
        }
        return fake
    }

    func stop() async {
        let t = task.withLock { $0 }
        t?.cancel()
        _ = try? await t?.value
    }

    // MARK: Scripting

    func setWindows(_ windows: [JSONValue]) { state.withLock { $0.windows = windows } }

    /// Replaces the window with the same id (a change), or adds it.
    func upsertWindow(_ window: JSONValue) {
        state.withLock { s in
            if let i = s.windows.firstIndex(where: { $0["id"] == window["id"] }) { s.windows[i] = window } else { s.windows.append(window) }
        }
    }

    func addRecord(_ table: String, _ record: JSONValue) { state.withLock { $0.records[table, default: []].append(record) } }

    /// The next requests to `vendor` ("pagerduty", "servicenow") get these faults, in order.
    func inject(_ vendor: String, _ faults: [Fault]) { state.withLock { $0.faults[vendor, default: []] += faults } }

    func requests(_ vendor: String) -> [Logged] { state.withLock { $0.log.filter { $0.vendor == vendor } } }

    // MARK: The routes

    static func query(_ request: Request) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for pair in (request.uri.query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            out[decode(parts[0]), default: []].append(parts.count > 1 ? decode(parts[1]) : "")
        }
        return out
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue, headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = "application/json"
        return Response(status: status, headers: h, body: ResponseBody(byteBuffer: ByteBuffer(string: value.jsonText())))
    }

    /// The next fault for `vendor`, if any: its response (after its delay, for a delay).
    func fault(_ vendor: String) async -> Response? {
        let next = state.withLock { s -> Fault? in
            guard var list = s.faults[vendor], !list.isEmpty else { return nil }
            let f = list.removeFirst()
            s.faults[vendor] = list
            return f
        }
        switch next {
        case nil: return nil
        case .status(let code, let retryAfter)?:
            var headers = HTTPFields()
            if let retryAfter { headers[.retryAfter] = String(retryAfter) }
            return Self.json(.init(code: code), .object(["error": .object(["message": .string("injected fault \(code)")])]), headers: headers)
        case .delay(let seconds)?:
            try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
            return nil
        }
    }

    func log(_ vendor: String, _ request: Request, authorized: Bool, status: Int) {
        let entry = Logged(vendor: vendor, path: request.uri.path, query: Self.query(request), authorized: authorized, status: status, at: Date())
        state.withLock { $0.log.append(entry) }
    }

    func pagerDuty(_ request: Request) async -> Response {
        let authorized = request.headers[.authorization] == "Token token=\(pagerDutyToken)"
            && request.headers[.accept] == "application/vnd.pagerduty+json;version=2"
        guard authorized else {
            log("pagerduty", request, authorized: false, status: 401)
            return Self.json(.unauthorized, .object(["error": .object(["message": .string("Unauthorized"), "code": .int(2006)])]))
        }
        if let response = await fault("pagerduty") {
            log("pagerduty", request, authorized: true, status: Int(response.status.code))
            return response
        }
        let q = Self.query(request)
        let (windows, cap) = state.withLock { ($0.windows, $0.pagerDutyPageSize) }
        let services = q["service_ids[]"] ?? []
        let matching = services.isEmpty ? windows : windows.filter { w in
            (w["services"]?.arrayValue ?? []).contains { services.contains($0["id"]?.stringValue ?? "") }
        }
        let limit = min(Int(q["limit"]?.first ?? "") ?? 25, cap)
        let offset = Int(q["offset"]?.first ?? "") ?? 0
        let page = Array(matching.dropFirst(offset).prefix(limit))
        log("pagerduty", request, authorized: true, status: 200)
        return Self.json(.ok, .object([
            "maintenance_windows": .array(page), "limit": .int(Int64(limit)), "offset": .int(Int64(offset)),
            "more": .bool(offset + page.count < matching.count), "total": .null,
        ]))
    }

    static func value(_ record: JSONValue, _ field: String) -> String {
        record[field]?.stringValue ?? record[field]?["value"]?.stringValue ?? ""
    }

    func serviceNow(_ request: Request, table: String) async -> Response {
        let expected = "Basic \(Data("\(serviceNowUser):\(serviceNowPassword)".utf8).base64EncodedString())"
        guard request.headers[.authorization] == expected else {
            log("servicenow", request, authorized: false, status: 401)
            return Self.json(.unauthorized, .object([
                "error": .object(["message": .string("User Not Authenticated"), "detail": .string("Required to provide Auth information")]),
                "status": .string("failure"),
            ]))
        }
        if let response = await fault("servicenow") {
            log("servicenow", request, authorized: true, status: Int(response.status.code))
            return response
        }
        let q = Self.query(request)
        var since = ""
        if let text = q["sysparm_query"]?.first, let r = text.range(of: "sys_updated_on>=") {
            since = String(text[r.upperBound...].prefix { $0 != "^" })
        }
        let (all, cap) = state.withLock { ($0.records[table] ?? [], $0.serviceNowPageSize) }
        let matching = all.filter { Self.value($0, "sys_updated_on") >= since }.sorted {
            (Self.value($0, "sys_updated_on"), Self.value($0, "sys_id")) < (Self.value($1, "sys_updated_on"), Self.value($1, "sys_id"))
        }
        let limit = min(Int(q["sysparm_limit"]?.first ?? "") ?? 10_000, cap)
        let offset = Int(q["sysparm_offset"]?.first ?? "") ?? 0
        let page = Array(matching.dropFirst(offset).prefix(limit))
        log("servicenow", request, authorized: true, status: 200)
        var headers = HTTPFields()
        headers[HTTPField.Name("X-Total-Count")!] = String(matching.count)
        return Self.json(.ok, .object(["result": .array(page)]), headers: headers)
    }
}

/// PagerDuty and ServiceNow objects as their APIs return them.
enum VendorJSON {
    static func window(id: String, description: String = "PD-2026-0007 MHV API database upgrade",
                       start: String = "2026-03-14T21:45:00-04:00", end: String = "2026-03-15T02:30:00-04:00",
                       service: String = "PMHVAPI") -> JSONValue {
        .object([
            "id": .string(id), "type": .string("maintenance_window"), "summary": .string(description),
            "self": .string("https://api.pagerduty.com/maintenance_windows/\(id)"),
            "html_url": .string("https://example.pagerduty.com/maintenance_windows#\(id)"),
            "sequence_number": .int(41), "start_time": .string(start), "end_time": .string(end), "description": .string(description),
            "created_by": .object(["id": .string("PNIASHA"), "type": .string("user_reference"), "summary": .string("Nia Shaw")]),
            "services": .array([.object(["id": .string(service), "type": .string("service_reference"), "summary": .string("MHV API")])]),
            "teams": .array([]),
        ])
    }

    /// `{value, display_value}`, as with `sysparm_display_value=all`.
    static func field(_ value: String, _ display: String? = nil) -> JSONValue {
        .object(["value": .string(value), "display_value": .string(display ?? value)])
    }

    static func change(sysID: String, number: String, updated: String, description: String = "MHV API database upgrade (PD-2026-0007)") -> JSONValue {
        .object([
            "sys_id": field(sysID), "number": field(number), "sys_class_name": field("change_request", "Change Request"),
            "short_description": field(description), "type": field("normal", "Normal"), "state": field("-2", "Scheduled"),
            "approval": field("requested", "Requested"), "opened_at": field("2026-03-03 14:30:00", "2026-03-03 09:30:00"),
            "opened_by": field("6816f79cc0a8016401c5a33be04be441", "Tara Cole"),
            "requested_by": field("6816f79cc0a8016401c5a33be04be441", "Tara Cole"),
            "sys_updated_on": field(updated),
        ])
    }

    /// A sysapproval_approver record (the table has no sys_class_name).
    static func approval(sysID: String, ticket: String, approver: String = "Sean Good", state: String = "approved",
                         updated: String) -> JSONValue {
        .object([
            "sys_id": field(sysID), "state": field(state, state.capitalized),
            "approver": field("62826bf03710200044e0bfc8bcbe5df1", approver),
            "sysapproval": field("a9e30c7dc61122760116894de7bcc7bd", ticket),
            "source_table": field("change_request", "Change Request"), "sys_updated_on": field(updated),
            "comments": field(""),
        ])
    }
}
