// The service rows of Scripts/bench (docs/benchmarks.md, "dtledger serve"):
// signed Slack requests over HTTP on loopback to an in-process
// ReceivingService, against raw INSERTs of the same bodies.
//
//   dtledger-bench serve-ingest --url SERVICE_URL --raw-url OWNER_URL --senders K --requests N [--run R]
//       prints "answered N S", "mapped N S", "p99ms X", "raw N S"
//   dtledger-bench serve-memory --url SERVICE_URL --senders K --seconds S
//       prints "rss_start KiB", "rss_peak KiB", "rss_end KiB", "requests N"
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

enum ServeBench {
    static let slackSecret = "bench-slack-signing-secret"
    static let pagerDutySecret = "bench-pagerduty-webhook-secret"
    static let environment = ["BENCH_SLACK_SECRET": slackSecret, "BENCH_PD_SECRET": pagerDutySecret]
    static let configYAML = """
        listen: 127.0.0.1:0
        actor: dtledger-serve
        sources:
          slack: {signing_secret_env: BENCH_SLACK_SECRET}
          pagerduty: {webhook_secret_env: BENCH_PD_SECRET}
        import:
          pagerduty:
            services:
              PSVC1: {team: user-facing, product: medications, name: VA.gov Medications}
          slack:
            channels: {C0COORD: "#mhv-coordination"}
        """

    /// A running in-process service and its HTTP client.
    struct Running: Sendable {
        let service: ReceivingService
        let task: Task<Void, any Error>
        let port: Int
        let client: HTTPClient

        func stop() async {
            await service.shutdown()
            _ = try? await task.value
            try? await client.shutdown()
        }
    }

    static func start(url: String) async throws -> Running {
        let config = try ServeConfig.parse(configYAML)
        let settings = DatabaseSettings.resolve(explicit: url, environment: [:])
        var logger = Logger(label: "dtledger-bench.serve")
        logger.logLevel = .error
        let service = try ReceivingService(config: config, settings: settings, environment: environment, logger: logger)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let task = Task { try await service.run(signals: []) { _ = continuation.yield($0) } }
        var port: Int?
        for await p in ports {
            port = p
            break
        }
        guard let port else { throw BenchError("the service did not start") }
        return Running(service: service, task: task, port: port, client: HTTPClient(eventLoopGroupProvider: .singleton))
    }

    /// A Slack Events API message of the notification template for `caseID`.
    static func slackBody(eventID: String, caseID: String, n: Int) -> Data {
        let ts = String(format: "%.6f", Date().timeIntervalSince1970 - 10 + Double(n % 1000) / 1000)
        let text = "Case: \(caseID)\nPurpose: update\nSummary: Medications page errors, update \(n)\n<!subteam^S0UFONCALL>"
        let event: JSONValue = .object([
            "type": .string("message"), "channel": .string("C0COORD"), "user": .string("U1000009"), "text": .string(text),
            "ts": .string(ts), "event_ts": .string(ts), "channel_type": .string("channel"),
        ])
        return Data(JSONValue.object([
            "token": .string("unused"), "team_id": .string("T0TEAM"), "api_app_id": .string("A0APP"), "event": event,
            "type": .string("event_callback"), "event_id": .string(eventID), "event_time": .int(Int64(Date().timeIntervalSince1970)),
        ]).jsonText().utf8)
    }

    /// One signed request; its status and answer time in seconds (status 0: no answer).
    static func post(_ r: Running, path: String, body: Data, headers: [(String, String)]) async -> (status: Int, seconds: Double, json: JSONValue?) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(r.port)\(path)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let t0 = now()
        do {
            let response = try await r.client.execute(request, timeout: .seconds(30))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), now() - t0, try? JSONValue.parse(Data(bytes.readableBytesView)))
        } catch {
            return (0, now() - t0, nil)
        }
    }

    static func slack(_ r: Running, body: Data) async -> (status: Int, seconds: Double, json: JSONValue?) {
        let ts = Int64(Date().timeIntervalSince1970)
        return await post(r, path: "/slack/events", body: body, headers: [
            ("X-Slack-Request-Timestamp", String(ts)),
            ("X-Slack-Signature", Signatures.slackSignature(body: body, timestamp: ts, secret: slackSecret)),
        ])
    }

    /// Sends `body` until it is answered 2xx; the time of the answered attempt.
    static func deliver(_ r: Running, body: Data) async throws -> Double {
        for _ in 0..<50 {
            let a = await slack(r, body: body)
            if (200..<300).contains(a.status) { return a.seconds }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchError("a request was not answered 2xx after 50 attempts")
    }

    /// Opens a case through the PagerDuty receiver (a new incident) and returns its id once mapped.
    static func openCase(_ r: Running, url: String, run: String) async throws -> String {
        let at = RFC3339.format(Date().addingTimeInterval(-60))
        let body = Data(JSONValue.object(["event": .object([
            "id": .string("PDE-BENCH-\(run)"), "event_type": .string("incident.triggered"), "resource_type": .string("incident"),
            "occurred_at": .string(at),
            "agent": .object(["id": .string("PUSER1"), "summary": .string("Max Bell"), "type": .string("user_reference")]),
            "data": .object([
                "id": .string("QBENCH\(run)"), "type": .string("incident"), "number": .int(9000), "title": .string("Medications page errors"),
                "created_at": .string(at), "status": .string("triggered"),
                "service": .object(["id": .string("PSVC1"), "summary": .string("VA.gov Medications")]),
            ]),
        ])]).jsonText().utf8)
        let a = await post(r, path: "/pagerduty/webhook", body: body,
                           headers: [("X-PagerDuty-Signature", Signatures.pagerDutySignature(body: body, secret: pagerDutySecret))])
        guard a.status == 200, let id = a.json?["receipt"]?.intValue else { throw BenchError("opening a case failed: \(a.status)") }
        return try await onThread {
            let c = try Connection(conninfo: url)
            for _ in 0..<600 {
                if let caseID = try c.query("SELECT case_id FROM dtledger.receipt_outcomes WHERE receipt_id = $1::bigint AND case_id IS NOT NULL",
                                            [String(id)]).scalar {
                    return caseID
                }
                usleep(50_000)
            }
            throw BenchError("the opening receipt was not mapped within 30 s")
        }
    }

    /// Runs blocking `body` on a thread of its own (libpq blocks; the cooperative pool must not).
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            let thread = Thread {
                do { c.resume(returning: try body()) } catch { c.resume(throwing: error) }
            }
            thread.start()
        }
    }

    /// Seconds until no receipt is without an outcome (polled every 5 ms).
    static func waitMapped(url: String, expected: Int, since t0: Double) async throws -> Double {
        try await onThread {
            let c = try Connection(conninfo: url)
            let deadline = now() + 600
            while now() < deadline {
                let row = try c.query("""
                    SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM dtledger.receipt_outcomes o WHERE o.receipt_id = r.id))
                      FROM dtledger.receipts r
                    """).rows.first
                if let row, Int(row[0] ?? "0") ?? 0 >= expected, row[1] == "0" { return now() - t0 }
                usleep(5_000)
            }
            throw BenchError("receipts still unmapped after 600 s")
        }
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
        return sorted[max(0, min(sorted.count - 1, rank))]
    }

    static func ingest(_ args: [String]) throws {
        let url = try require("url", args)
        let rawURL = try require("raw-url", args)
        let senders = max(1, Int(option("senders", args) ?? "1") ?? 1)
        let requests = max(senders, Int(option("requests", args) ?? "2000") ?? 2000)
        let run = option("run", args) ?? "0"
        let lines = try blocking {
            let r = try await start(url: url)
            do {
                let caseID = try await openCase(r, url: url, run: "\(run)s\(senders)")
                let already = try await onThread { Int(try Connection(conninfo: url).query("SELECT count(*) FROM dtledger.receipts").scalar ?? "0") ?? 0 }
                let bodies = (0..<requests).map { slackBody(eventID: "EvB\(run)s\(senders)n\($0)", caseID: caseID, n: $0) }
                let t0 = now()
                let times = try await withThrowingTaskGroup(of: [Double].self) { group in
                    for s in 0..<senders {
                        group.addTask {
                            var mine: [Double] = []
                            for i in stride(from: s, to: requests, by: senders) { mine.append(try await deliver(r, body: bodies[i])) }
                            return mine
                        }
                    }
                    return try await group.reduce(into: [Double]()) { $0 += $1 }
                }
                let answered = now() - t0
                let mapped = try await waitMapped(url: url, expected: already + requests, since: t0)
                await r.stop()
                let raw = try rawInserts(url: rawURL, bodies: bodies, connections: senders)
                return ["answered \(requests) \(answered)", "mapped \(requests) \(mapped)",
                        "p99ms \(percentile(times, 99) * 1000)", "raw \(requests) \(raw)"]
            } catch {
                await r.stop()
                throw error
            }
        }
        for line in lines { print(line) }
    }

    /// The baseline: each body INSERTed into a plain table (the receipt's
    /// columns, its unique key), one row per statement, autocommit, over
    /// `connections` libpq connections at once. Seconds for all.
    static func rawInserts(url: String, bodies: [Data], connections: Int) throws -> Double {
        let setup = try Connection(conninfo: url)
        _ = try setup.execute("""
            DROP TABLE IF EXISTS bench.raw_receipts;
            CREATE TABLE bench.raw_receipts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, source text NOT NULL,
                delivery_key text NOT NULL, received_at timestamptz NOT NULL, headers jsonb NOT NULL, body bytea NOT NULL,
                UNIQUE (source, delivery_key))
            """)
        let headers = #"{"content-type": "application/json", "x-slack-signature": "v0=0000000000000000000000000000000000000000000000000000000000000000", "x-slack-request-timestamp": "1775000000"}"#
        let rows: [[String?]] = bodies.enumerated().map { n, body in
            ["slack", "EvRaw\(n)", RFC3339.format(Date()), headers, "\\x" + Hex.encode(body)]
        }
        let tally = Tally()
        let done = DispatchGroup()
        let ready = DispatchSemaphore(value: 0)
        let go = DispatchSemaphore(value: 0)
        for w in 0..<connections {
            done.enter()
            Thread {
                defer { done.leave() }
                do {
                    let c = try Connection(conninfo: url, applicationName: "dtledger-bench")
                    try c.prepare("raw_receipt", "INSERT INTO bench.raw_receipts (source, delivery_key, received_at, headers, body) VALUES ($1, $2, $3, $4::jsonb, $5::bytea)")
                    ready.signal()
                    go.wait()
                    var n = 0
                    for i in stride(from: w, to: rows.count, by: connections) {
                        try c.queryPrepared("raw_receipt", rows[i])
                        n += 1
                    }
                    tally.add(n)
                } catch {
                    tally.fail("\(error)")
                    ready.signal()
                }
            }.start()
        }
        for _ in 0..<connections { ready.wait() }
        let t0 = now()
        for _ in 0..<connections { go.signal() }
        done.wait()
        let elapsed = now() - t0
        if let e = tally.errors.first { throw BenchError(e) }
        return elapsed
    }

    /// The process's resident set (VmRSS), KiB.
    static func rss() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// `senders` senders send signed Slack requests for `seconds`; the RSS
    /// is sampled every second (start: when the burst starts, peak, end:
    /// when the last request is answered and the mapper has caught up).
    static func memory(_ args: [String]) throws {
        let url = try require("url", args)
        let senders = max(1, Int(option("senders", args) ?? "8") ?? 8)
        let seconds = Double(option("seconds", args) ?? "20") ?? 20
        let lines = try blocking {
            let r = try await start(url: url)
            do {
                let caseID = try await openCase(r, url: url, run: "mem")
                let already = try await onThread { Int(try Connection(conninfo: url).query("SELECT count(*) FROM dtledger.receipts").scalar ?? "0") ?? 0 }
                let samples = Locked<[Int]>([])
                let stop = Locked(false)
                let sampler = Thread {
                    while !stop.current {
                        samples.withLock { $0.append(rss()) }
                        Thread.sleep(forTimeInterval: 1)
                    }
                }
                let start = rss()
                sampler.start()
                let t0 = now()
                let sent = try await withThrowingTaskGroup(of: Int.self) { group in
                    for s in 0..<senders {
                        group.addTask {
                            var n = 0
                            while now() - t0 < seconds {
                                _ = try await deliver(r, body: slackBody(eventID: "EvM\(s)n\(n)", caseID: caseID, n: n))
                                n += 1
                            }
                            return n
                        }
                    }
                    return try await group.reduce(0, +)
                }
                _ = try await waitMapped(url: url, expected: already + sent, since: t0)
                stop.withLock { $0 = true }
                let end = rss()
                let peak = max(samples.current.max() ?? 0, end)
                await r.stop()
                return ["rss_start \(start)", "rss_peak \(peak)", "rss_end \(end)", "requests \(sent)"]
            } catch {
                await r.stop()
                throw error
            }
        }
        for line in lines { print(line) }
    }
}

/// A value shared between threads, behind a lock.
final class Locked<Value: Sendable>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
    var current: Value { withLock { $0 } }
}

/// Runs async `body` from synchronous code and waits for it (the main
/// thread blocks; the work runs on the cooperative pool).
func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let result = Locked<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        do {
            let v = try await body()
            result.withLock { $0 = .success(v) }
        } catch {
            result.withLock { $0 = .failure(error) }
        }
        done.signal()
    }
    done.wait()
    return try result.current!.get()
}
