import AsyncHTTPClient
import Crypto
import Events
import Foundation
import Ingest
import Ledger
import Logging
import NIOCore
import NIOHTTP1
import Receiving
import ServiceLifecycle
import Synchronization

/// The pollers configured in `pollers:` (docs/serve.md, "Pollers"), for
/// what has no webhook: PagerDuty maintenance windows (REST API) and,
/// optionally, ServiceNow tables (Table API). They run as one service with
/// one HTTP client and a database thread of their own for their state.
enum Pollers {
    static func services(config: ServeConfig, environment: [String: String], commit: GroupCommit, database: DatabaseSettings,
                         metrics: ServeMetrics, logger: Logger) -> [any Service] {
        var jobs: [any PollJob] = []
        if let p = config.pollers.pagerDutyWindows, let token = environment[p.tokenEnv], !token.isEmpty {
            jobs.append(PagerDutyWindowsJob(config: p, token: token))
        }
        if let s = config.pollers.serviceNow, let user = environment[s.userEnv], let password = environment[s.passwordEnv] {
            jobs.append(ServiceNowTableJob(config: s, user: user, password: password))
        }
        guard !jobs.isEmpty else { return [] }
        return [PollerService(jobs: jobs, commit: commit, settings: database, metrics: metrics, logger: logger)]
    }
}

/// One poller's persistent state (dtledger.poller_state, by poller name):
/// when it last ran and last succeeded, its consecutive failures and last
/// error, when it runs next, and (ServiceNow) the high-water mark per table.
struct PollerState: Sendable, Equatable {
    var lastRun: Date?
    var lastSuccess: Date?
    var failures = 0
    var lastError: String?
    var nextRun: Date?
    /// ServiceNow: table -> the greatest `sys_updated_on` seen (the Table
    /// API's `yyyy-MM-dd HH:mm:ss`, UTC).
    var highWater: [String: String] = [:]
    /// Receipts the poller made durable that were new (not duplicates), in all.
    var recorded: Int64 = 0

    init() {}

    init(json: JSONValue) {
        func date(_ key: String) -> Date? { json[key]?.stringValue.flatMap { try? RFC3339.parse($0) } }
        lastRun = date("last_run")
        lastSuccess = date("last_success")
        nextRun = date("next_run")
        if case .int(let n)? = json["failures"] { failures = Int(n) }
        if case .int(let n)? = json["recorded"] { recorded = n }
        lastError = json["last_error"]?.stringValue
        highWater = json["high_water"]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
    }

    var json: JSONValue {
        var o: [String: JSONValue] = ["failures": .int(Int64(failures)), "recorded": .int(recorded)]
        if let lastRun { o["last_run"] = .string(RFC3339.format(lastRun)) }
        if let lastSuccess { o["last_success"] = .string(RFC3339.format(lastSuccess)) }
        if let nextRun { o["next_run"] = .string(RFC3339.format(nextRun)) }
        if let lastError { o["last_error"] = .string(lastError) }
        if !highWater.isEmpty { o["high_water"] = .object(highWater.mapValues(JSONValue.string)) }
        return .object(o)
    }
}

/// A poller run failed (logged, counted, backed off).
struct PollError: Error, CustomStringConvertible {
    let description: String
    /// The vendor asked to wait this long (429 Retry-After).
    var retryAfter: Double?
    init(_ description: String, retryAfter: Double? = nil) {
        self.description = description
        self.retryAfter = retryAfter
    }
}

/// The service is stopping: the run ends between two requests (not a failure).
struct PollStopped: Error {}

/// What a job needs from the service while it runs.
struct PollContext: Sendable {
    let client: HTTPClient
    let commit: GroupCommit
    let metrics: ServeMetrics
    let logger: Logger
    let stop: StopFlag

    /// Throws PollStopped once shutdown began: called before each request.
    func checkStopping() throws {
        if stop.isSet || Task.isCancelled { throw PollStopped() }
    }

    /// GET `url` with `headers`; the body, or a PollError naming the status
    /// and the start of the vendor's answer (never the credentials).
    func get(_ url: String, headers: [(String, String)], timeout: Double, what: String) async throws -> (body: Data, headers: HTTPHeaders) {
        try checkStopping()
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        let started = ContinuousClock.now
        do {
            response = try await client.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            bytes = try await response.body.collect(upTo: 32 << 20)
        } catch {
            try checkStopping()
            let timedOut = (error as? HTTPClientError).map { $0 == .deadlineExceeded || $0 == .readTimeout || $0 == .connectTimeout } ?? false
            if timedOut || ContinuousClock.now - started >= .milliseconds(Int64(timeout * 900)) {
                throw PollError("\(what): no answer within \(timeout.formatted()) s (\(error))")
            }
            throw PollError("\(what): \(error)")
        }
        let body = Data(buffer: bytes)
        guard response.status == .ok else {
            let snippet = String(decoding: body.prefix(300), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
            let retry = response.headers.first(name: "Retry-After").flatMap(Double.init)
            throw PollError("\(what): HTTP \(response.status.code) \(response.status.reasonPhrase): \(snippet)", retryAfter: retry)
        }
        return (body, response.headers)
    }

    /// Makes the receipts durable (one group commit) and returns how many
    /// were new; any not durable fails the run (the next run fetches them
    /// again, and their delivery keys keep them from being stored twice).
    func record(_ receipts: [IncomingReceipt], poller: String) async throws -> Int {
        guard !receipts.isEmpty else { return 0 }
        let tickets = receipts.map { commit.submit($0) }
        var fresh = 0
        for (receipt, ticket) in zip(receipts, tickets) {
            switch await ticket.wait(timeout: .seconds(30)) {
            case .durable(let id, let duplicate):
                metrics.received(source: receipt.source, duplicate: duplicate)
                if !duplicate {
                    fresh += 1
                    logger.info("polled", metadata: ["poller": .string(poller), "receipt": "\(id)", "delivery": .string(receipt.deliveryKey)])
                }
            case .failed(let why):
                throw PollError("receipt \(receipt.deliveryKey) not durable: \(why)")
            case .timedOut:
                throw PollError("receipt \(receipt.deliveryKey) not durable within 30 s")
            }
        }
        return fresh
    }
}

/// Set once when the service begins its graceful shutdown.
final class StopFlag: Sendable {
    private let flag = Mutex(false)
    var isSet: Bool { flag.withLock { $0 } }
    func set() { flag.withLock { $0 = true } }
}

/// One poller: its name (the poller_state key and the metrics label), its
/// interval, and one run that fetches and records what is new.
protocol PollJob: Sendable {
    var name: String { get }
    var interval: TimeInterval { get }
    /// One run; it may update `state`'s cursor as it goes (kept on failure).
    func run(_ state: inout PollerState, context: PollContext) async throws -> Int
}

/// The pollers as one service: each job loops (wait for its next run, run,
/// save its state) until the graceful shutdown, which stops them between
/// requests; then the HTTP client and the database thread are shut down.
final class PollerService: Service, Sendable {
    let jobs: [any PollJob]
    let commit: GroupCommit
    let metrics: ServeMetrics
    let logger: Logger
    let database: DatabaseThread<ReceiptStore>
    let stop = StopFlag()
    /// Errors back off exponentially up to this (or the interval, if longer).
    static let maxBackoff: TimeInterval = 3600

    init(jobs: [any PollJob], commit: GroupCommit, settings: DatabaseSettings, metrics: ServeMetrics, logger: Logger) {
        self.jobs = jobs
        self.commit = commit
        self.metrics = metrics
        self.logger = logger
        self.database = DatabaseThread<ReceiptStore>(name: "dtledger-pollers", open: {
            ReceiptStore(connection: try Connect.connection(settings))
        }, isBroken: { !$0.connection.isOK })
    }

    func run() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let context = PollContext(client: client, commit: commit, metrics: metrics, logger: logger, stop: stop)
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for job in jobs {
                    group.addTask { await self.loop(job, context: context) }
                }
            }
        } onGracefulShutdown: {
            self.stop.set()
        }
        try? await client.shutdown()
        database.stop()
    }

    /// The delay after `failures` consecutive failures: interval * 2^failures, capped.
    static func backoff(interval: TimeInterval, failures: Int) -> TimeInterval {
        let cap = max(maxBackoff, interval)
        return min(interval * pow(2, Double(min(failures, 40))), cap)
    }

    func loop(_ job: any PollJob, context: PollContext) async {
        var log = logger
        log[metadataKey: "poller"] = .string(job.name)
        // The saved state: the next run is not earlier than the saved one.
        var state = PollerState()
        while !stop.isSet {
            do {
                state = try await database.run { try $0.pollerState(job.name) }.map(PollerState.init(json:)) ?? PollerState()
                break
            } catch {
                log.error("poller state unreadable; retrying", metadata: ["error": "\(error)"])
                metrics.pollerError(job.name)
                if await !pause(5, job: job, state: state) { return }
            }
        }
        while !stop.isSet {
            if let next = state.nextRun, next > Date() {
                if await !pause(next.timeIntervalSinceNow, job: job, state: state) { return }
            }
            let started = Date()
            do {
                let fresh = try await job.run(&state, context: context)
                state.failures = 0
                state.lastError = nil
                state.lastSuccess = Date()
                state.recorded += Int64(fresh)
                state.nextRun = started.addingTimeInterval(job.interval)
                if fresh > 0 { log.info("poller run", metadata: ["new_receipts": "\(fresh)"]) }
            } catch is PollStopped {
                // Shutdown began between two requests: what was recorded stays, the cursor as far as it got.
                await save(job, state, log: log)
                return
            } catch {
                state.failures += 1
                state.lastError = "\(error)"
                var delay = Self.backoff(interval: job.interval, failures: state.failures)
                if let retry = (error as? PollError)?.retryAfter { delay = max(delay, min(retry, Self.maxBackoff)) }
                state.nextRun = Date().addingTimeInterval(delay)
                metrics.pollerError(job.name)
                log.error("poller run failed", metadata: ["error": .string("\(error)"), "failures": "\(state.failures)",
                                                          "retry_in_seconds": .string(delay.formatted())])
            }
            state.lastRun = started
            await save(job, state, log: log)
            updateLag(job, state)
        }
    }

    func save(_ job: any PollJob, _ state: PollerState, log: Logger) async {
        let json = state.json
        do {
            try await database.run { try $0.savePollerState(job.name, json) }
        } catch {
            // The receipts are durable; only the cursor is not: the next run repeats (deduplicated by delivery key).
            log.error("poller state not saved", metadata: ["error": "\(error)"])
        }
    }

    func updateLag(_ job: any PollJob, _ state: PollerState) {
        let since = state.lastSuccess ?? state.lastRun
        metrics.pollerLag(job.name, seconds: since.map { max(0, -$0.timeIntervalSinceNow) } ?? 0)
    }

    /// Sleeps `seconds` in short steps, keeping the lag metric current;
    /// false as soon as shutdown began.
    func pause(_ seconds: TimeInterval, job: any PollJob, state: PollerState) async -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while !stop.isSet {
            let left = end.timeIntervalSinceNow
            if left <= 0 { return true }
            updateLag(job, state)
            do { try await Task.sleep(for: .milliseconds(Int64(min(left, 0.05) * 1000) + 1)) } catch { return false }
        }
        return false
    }
}

/// PagerDuty's REST API, `GET /maintenance_windows` (classic pagination:
/// `limit`, `offset`, `more`). Each window is one receipt whose delivery
/// key includes the SHA-256 of the window's canonical JSON: a window is
/// recorded when first seen and again whenever it changes, and an unchanged
/// one adds nothing. The importer dates the window's `maintenance_window.set`
/// from the receipt's time (PagerDuty's window has no created_at), so the
/// time is when the poller first saw that version.
struct PagerDutyWindowsJob: PollJob {
    let config: ServeConfig.PagerDutyWindowsPoller
    let token: String
    var name: String { "pagerduty_maintenance_windows" }
    var interval: TimeInterval { config.interval }
    static let pageSize = 100

    func run(_ state: inout PollerState, context: PollContext) async throws -> Int {
        var offset = 0
        var fresh = 0
        var pages = 0
        while true {
            var query = [("limit", String(Self.pageSize)), ("offset", String(offset)), ("total", "false")]
            for id in config.serviceIDs { query.append(("service_ids[]", id)) }
            let url = "\(config.baseURL)/maintenance_windows?\(formEncode(query))"
            let (body, _) = try await context.get(url, headers: [
                ("Authorization", "Token token=\(token)"), ("Accept", "application/vnd.pagerduty+json;version=2"),
            ], timeout: config.requestTimeout, what: "GET /maintenance_windows (offset \(offset))")
            let page: JSONValue
            do { page = try JSONValue.parse(body) } catch {
                throw PollError("GET /maintenance_windows (offset \(offset)): the answer is not JSON: \(error)")
            }
            guard let windows = page["maintenance_windows"]?.arrayValue else {
                throw PollError("GET /maintenance_windows (offset \(offset)): no maintenance_windows list in the answer")
            }
            let fetchedAt = Date()
            var receipts: [IncomingReceipt] = []
            for w in windows {
                guard let id = w["id"]?.stringValue, !id.isEmpty else {
                    context.logger.warning("maintenance window without an id skipped", metadata: ["poller": .string(name)])
                    continue
                }
                let canonical = Data(w.jsonText().utf8)
                let body = Data(JSONValue.object(["maintenance_window": w]).jsonText().utf8)
                receipts.append(IncomingReceipt(
                    source: EventSource.pagerduty.rawValue,
                    deliveryKey: boundedKey("poll:window:\(id):\(Hex.encode(SHA256.hash(data: canonical)))"),
                    receivedAt: fetchedAt,
                    headers: [ReceiptKind.pollerHeader: name, "x-dtledger-fetched-at": RFC3339.format(fetchedAt),
                              "content-type": "application/json"],
                    body: body, refs: Refs.of(source: .pagerduty, body: body)))
            }
            fresh += try await context.record(receipts, poller: name)
            pages += 1
            guard page["more"] == .bool(true) else { break }
            guard !windows.isEmpty else { throw PollError("GET /maintenance_windows: more is true but the page is empty") }
            guard pages < 10_000 else { throw PollError("GET /maintenance_windows: over 10000 pages; stopped") }
            offset += windows.count
        }
        return fresh
    }
}

/// ServiceNow's Table API, `GET /api/now/table/<table>`, for teams that
/// cannot add a business rule: records updated since the table's
/// high-water mark (the boundary second again: records updated within it
/// after the last run are not missed; their delivery keys keep the ones
/// already seen from being stored twice), oldest first, with display values
/// (`sysparm_display_value=all`, so approvers and tickets come with names
/// and numbers). Each record is one receipt, keyed by table, sys_id and
/// sys_updated_on: each update of a record is recorded once.
struct ServiceNowTableJob: PollJob {
    let config: ServeConfig.ServiceNowPoller
    let user: String
    let password: String
    var name: String { "servicenow" }
    var interval: TimeInterval { config.interval }
    static let pageSize = 100

    static func utc(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.string(from: date)
    }

    /// A field's internal value (plain, or `{value, display_value}`).
    static func value(_ record: JSONValue, _ field: String) -> String? {
        let v = record[field]
        let s = v?.stringValue ?? v?["value"]?.stringValue
        return s?.isEmpty == false ? s : nil
    }

    func run(_ state: inout PollerState, context: PollContext) async throws -> Int {
        let auth = "Basic \(Data("\(user):\(password)".utf8).base64EncodedString())"
        var fresh = 0
        for table in config.tables {
            let since = state.highWater[table] ?? Self.utc(Date().addingTimeInterval(-config.initialLookbackDays * 86_400))
            var highest = since
            var offset = 0
            while true {
                let query = [
                    ("sysparm_query", "sys_updated_on>=\(since)^ORDERBYsys_updated_on^ORDERBYsys_id"),
                    ("sysparm_limit", String(Self.pageSize)), ("sysparm_offset", String(offset)),
                    ("sysparm_display_value", "all"), ("sysparm_exclude_reference_link", "true"),
                ]
                let what = "GET /api/now/table/\(table) (offset \(offset))"
                let (body, headers) = try await context.get("\(config.baseURL)/api/now/table/\(table)?\(formEncode(query))",
                                                            headers: [("Authorization", auth), ("Accept", "application/json")],
                                                            timeout: config.requestTimeout, what: what)
                let page: JSONValue
                do { page = try JSONValue.parse(body) } catch { throw PollError("\(what): the answer is not JSON: \(error)") }
                guard let records = page["result"]?.arrayValue else { throw PollError("\(what): no result list in the answer") }
                let fetchedAt = Date()
                var receipts: [IncomingReceipt] = []
                for record in records {
                    guard let sysID = Self.value(record, "sys_id"), let updated = Self.value(record, "sys_updated_on") else {
                        context.logger.warning("record without sys_id or sys_updated_on skipped", metadata: ["poller": .string(name), "table": .string(table)])
                        continue
                    }
                    // The record as the API returned it (the importer tells an
                    // approval, which has no sys_class_name, by its approver
                    // and sysapproval fields); the table is in a header.
                    let body = Data(record.jsonText().utf8)
                    receipts.append(IncomingReceipt(
                        source: EventSource.servicenow.rawValue, deliveryKey: boundedKey("poll:\(table):\(sysID):\(updated)"),
                        receivedAt: fetchedAt,
                        headers: [ReceiptKind.pollerHeader: name, "x-dtledger-fetched-at": RFC3339.format(fetchedAt),
                                  "x-dtledger-table": table, "content-type": "application/json"],
                        body: body, refs: Refs.of(source: .servicenow, body: body)))
                    if updated > highest { highest = updated }
                }
                fresh += try await context.record(receipts, poller: name)
                let total = headers.first(name: "X-Total-Count").flatMap(Int.init)
                let more = !records.isEmpty && (total.map { offset + records.count < $0 } ?? (records.count >= Self.pageSize))
                guard more else { break }
                offset += records.count
                guard offset < 1_000_000 else { throw PollError("\(what): over a million records; stopped") }
            }
            // Durable up to here: the next run starts at this second.
            state.highWater[table] = highest
        }
        return fresh
    }
}

/// A delivery key within the receipts' 512-character limit: a key over it
/// (an absurd id from the vendor) becomes its SHA-256, so one odd record
/// cannot fail the group commit it shares with other receipts.
func boundedKey(_ key: String) -> String {
    key.utf8.count <= 512 ? key : "poll:sha256:\(Hex.encode(SHA256.hash(data: Data(key.utf8))))"
}

/// `application/x-www-form-urlencoded`-style query text, every byte but
/// unreserved ones percent-encoded (so `>=`, `^`, `[]` and spaces survive).
func formEncode(_ pairs: [(String, String)]) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    func enc(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if byte < 0x80, c.isASCII, allowed.contains(Unicode.Scalar(byte)) { out.append(c) } else { out += String(format: "%%%02X", byte) }
        }
        return out
    }
    return pairs.map { "\(enc($0.0))=\(enc($0.1))" }.joined(separator: "&")
}
