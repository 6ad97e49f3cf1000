import AsyncHTTPClient
import Events
import Foundation
import Ingest
import Ledger
import NIOCore
import Postgres
import Testing
import TestSupport

/// `dtledger serve` as the real binary (DTLEDGER_BIN), a child process on a
/// loopback port, its log (stderr) in a file.
final class ServeProcess: @unchecked Sendable {
    // @unchecked: the fields are set once in init; Process is only used from the test.
    let process: Process
    let logFile: URL
    let port: Int

    /// Starts the binary with `config` (written to a file), on `port` (0: the system picks).
    static func start(configYAML: String, databaseURL: String, port: Int = 0, environment: [String: String] = ServeHarness.environment,
                      logLevel: String = "info") async throws -> ServeProcess {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dtl-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let config = dir.appendingPathComponent("serve.yaml")
        try configYAML.write(to: config, atomically: true, encoding: .utf8)
        let log = dir.appendingPathComponent("serve.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["serve", "--config", config.path, "--database-url", databaseURL, "--listen", "127.0.0.1:\(port)",
                             "--log-level", logLevel]
        process.environment = CLI.environment(database: nil, extra: environment)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // The bound port, from the "listening" log line.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.contains("listening") && $0.contains("address=") }),
               let range = line.range(of: #"address=127\.0\.0\.1:[0-9]+"#, options: .regularExpression),
               let bound = Int(line[range].split(separator: ":").last ?? "") {
                return ServeProcess(process: process, logFile: log, port: bound)
            }
            guard process.isRunning else { throw HarnessError("dtledger serve exited (\(process.terminationStatus)) before listening:\n\(text)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(process.processIdentifier, SIGKILL)
        throw HarnessError("dtledger serve did not listen within 60 s:\n\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
    }

    init(process: Process, logFile: URL, port: Int) {
        self.process = process
        self.logFile = logFile
        self.port = port
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// The exit status once the process has exited, or nil after `seconds`.
    func exit(within seconds: Double) async -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { return nil }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Ends it for good (SIGKILL if SIGTERM does not within 10 s).
    func stop() async {
        guard process.isRunning else { return }
        signal(SIGTERM)
        if await exit(within: 10) == nil {
            signal(SIGKILL)
            _ = await exit(within: 5)
        }
    }
}

/// kill -9 during a burst, and SIGTERM with requests in flight, against the
/// real binary: every acknowledged delivery is a receipt exactly once and
/// its events are appended exactly once; the chain verifies.
@Suite("dtledger serve: kill -9 and graceful shutdown of the real binary", .serialized)
struct CrashTests {
    /// One delivery a sender must get acknowledged.
    struct Delivery: Sendable {
        let source: String   // slack | pagerduty
        let key: String      // event_id / event.id
        let body: Data
    }

    static func post(_ client: HTTPClient, port: Int, _ d: Delivery, attempt: Int) async throws -> (Int, JSONValue?) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/\(d.source == "slack" ? "slack/events" : "pagerduty/webhook")")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if d.source == "slack" {
            let ts = Int64(Date().timeIntervalSince1970)  // Slack signs each retry afresh
            request.headers.add(name: "X-Slack-Request-Timestamp", value: String(ts))
            request.headers.add(name: "X-Slack-Signature", value: Signatures.slackSignature(body: d.body, timestamp: ts, secret: ServeHarness.slackSecret))
            if attempt > 0 { request.headers.add(name: "X-Slack-Retry-Num", value: String(attempt)) }
        } else {
            request.headers.add(name: "X-PagerDuty-Signature", value: Signatures.pagerDutySignature(body: d.body, secret: ServeHarness.pagerDutySecret))
        }
        request.body = .bytes(ByteBuffer(bytes: d.body))
        let response = try await client.execute(request, timeout: .seconds(5))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), try? JSONValue.parse(Data(bytes.readableBytesView)))
    }

    /// Waits until every receipt has an outcome.
    static func settled(_ db: TestDatabase, seconds: Double = 60) async throws {
        try await ServeHarness.settled(db, seconds: seconds)
    }

    static func count(_ db: TestDatabase, _ sql: String) throws -> Int { Int(try db.connect().query(sql).scalar ?? "0") ?? 0 }

    /// A database, the service's login, and a case opened by a first PagerDuty incident (through `service`).
    static func prepare() throws -> (TestDatabase, String) {
        let db = try ServeHarness.setUpDatabase()
        let login = try ServeHarness.makeServiceLogin(db)
        return (db, login)
    }

    static func openCase(_ client: HTTPClient, port: Int, db: TestDatabase) async throws -> String {
        let d = Delivery(source: "pagerduty", key: "PDE-OPEN", body: ReceiverTests.trigger(eventID: "PDE-OPEN", incident: "QOPEN", number: 1))
        let (status, json) = try await post(client, port: port, d, attempt: 0)
        #expect(status == 200)
        try await settled(db)
        let id = try #require(json?["receipt"]?.intValue)
        return try #require(try db.connect().query("SELECT case_id FROM dtledger.receipt_outcomes WHERE receipt_id = $1::bigint",
                                                   [String(id)]).scalar)
    }

    @Test("kill -9 mid-burst of 8 senders x 40 deliveries with retries, restart on the same port: each acknowledged delivery once, each event once, the chain verifies")
    func killDuringBurst() async throws {
        let (db, login) = try Self.prepare()
        let url = ServeHarness.url(db, login)
        let config = ServeHarness.config(importYAML: ReceiverTests.importYAML)
        var first = try await ServeProcess.start(configYAML: config, databaseURL: url)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let port = first.port
        do {
            let caseID = try await Self.openCase(client, port: port, db: db)
            // 8 senders x 40: every fourth a PagerDuty trigger of a new incident (a new case), the rest Slack notifications.
            let senders = 8, each = 40
            let now = Date()
            let plan: [[Delivery]] = (0..<senders).map { s in
                (0..<each).map { i in
                    if i % 4 == 0 {
                        let key = "PDE-\(s)-\(i)"
                        return Delivery(source: "pagerduty", key: key, body: ReceiverTests.trigger(eventID: key, incident: "QB\(s)X\(i)", number: 1000 + s * 100 + i))
                    }
                    let key = "Ev\(s)x\(i)"
                    return Delivery(source: "slack", key: key, body: ReceiverTests.notification(
                        eventID: key, caseID: caseID, summary: "burst \(s)/\(i)", at: now.addingTimeInterval(Double(s * each + i) / 1000)))
                }
            }
            let acknowledged = Locked<[String: Int64]>([:])   // delivery key -> receipt id, from any 2xx
            let conflicts = Locked<[String]>([])
            let deadline = Date().addingTimeInterval(120)
            let burst = Task {
                await withTaskGroup(of: Void.self) { group in
                    for s in 0..<senders {
                        group.addTask {
                            for d in plan[s] {
                                var attempt = 0
                                while Date() < deadline {
                                    if let answer = try? await Self.post(client, port: port, d, attempt: attempt), (200..<300).contains(answer.0) {
                                        let id = answer.1?["receipt"]?.intValue ?? -1
                                        acknowledged.withLock { seen in
                                            if let before = seen[d.key], before != id { conflicts.withLock { $0.append("\(d.key): \(before) then \(id)") } }
                                            seen[d.key] = id
                                        }
                                        break
                                    }
                                    attempt += 1
                                    try? await Task.sleep(for: .milliseconds(100))
                                }
                            }
                        }
                    }
                }
            }
            // Kill -9 once about a third is acknowledged, start again at once on the same port.
            while acknowledged.current.count < 100 && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
            first.signal(SIGKILL)
            #expect(await first.exit(within: 10) != nil)
            let atKill = acknowledged.current.count
            do {
                first = try await ServeProcess.start(configYAML: config, databaseURL: url, port: port)
            } catch {
                burst.cancel()
                await burst.value
                throw error
            }
            await burst.value

            let all = plan.flatMap { $0 }
            let acked = acknowledged.current
            #expect(atKill < all.count, "the kill came after the burst")
            #expect(acked.count == all.count, "only \(acked.count) of \(all.count) acknowledged in time")
            #expect(conflicts.current.isEmpty, "\(conflicts.current)")
            try await Self.settled(db)

            let c = try db.connect()
            // Each acknowledged delivery is one receipt, the one it was acknowledged with.
            let rows = try c.query("SELECT delivery_key, id, count(*) OVER (PARTITION BY source, delivery_key) FROM dtledger.receipts").rows
            var byKey: [String: Int64] = [:]
            for r in rows {
                #expect(r[2] == "1", "\(r[0] ?? "") stored \(r[2] ?? "") times")
                byKey[r[0] ?? ""] = Int64(r[1] ?? "")
            }
            for (key, id) in acked { #expect(byKey[key] == id, "\(key) acknowledged as receipt \(id), stored as \(byKey[key].map(String.init) ?? "nothing")") }
            #expect(rows.count == all.count + 1)
            // Each receipt: exactly one outcome that names events (appended or duplicate), all appended here.
            let outcomes = try c.query("""
                SELECT r.delivery_key, count(o.id) FILTER (WHERE o.outcome = 'appended'), count(o.id), string_agg(o.outcome || ':' || coalesce(o.code, ''), ',')
                  FROM dtledger.receipts r LEFT JOIN dtledger.receipt_outcomes o ON o.receipt_id = r.id GROUP BY r.delivery_key
                """).rows
            for o in outcomes { #expect(o[1] == "1" && o[2] == "1", "\(o[0] ?? ""): \(o[3] ?? "")") }
            // No event twice: by idempotency key, and the count is one per delivery (plus the first case's).
            #expect(try Self.count(db, "SELECT count(*) FROM (SELECT idempotency_key FROM dtledger.events WHERE idempotency_key IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d") == 0)
            let caseEvents = try Self.count(db, "SELECT count(*) FROM dtledger.events WHERE case_id NOT IN ('policy', 'directory')")
            #expect(caseEvents == all.count + 1)
            #expect(try Self.count(db, "SELECT count(*) FROM dtledger.events WHERE type = 'notification.sent'") == all.filter { $0.source == "slack" }.count)
            let verify = try CLI.run(["verify"], database: db.url)
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
            first.signal(SIGTERM)
            #expect(await first.exit(within: 15) == 0, "\(first.log.suffix(2000))")
        } catch {
            await first.stop()
            try? await client.shutdown()
            throw error
        }
        await first.stop()
        try await client.shutdown()
    }

    @Test("SIGTERM with 8 slow requests in flight: each is answered 2xx, the process exits 0 within seconds, every receipt mapped")
    func gracefulShutdown() async throws {
        let (db, login) = try Self.prepare()
        let config = ServeHarness.config(importYAML: ReceiverTests.importYAML)
        let service = try await ServeProcess.start(configYAML: config, databaseURL: ServeHarness.url(db, login))
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let caseID = try await Self.openCase(client, port: service.port, db: db)
            let started = Locked(0)
            let senders = 8
            // Each body streamed in 6 chunks over about 1.5 s.
            let slow = Task {
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for s in 0..<senders {
                        group.addTask {
                            let body = ReceiverTests.notification(eventID: "EvSlow\(s)", caseID: caseID, summary: "slow \(s)")
                            let ts = Int64(Date().timeIntervalSince1970)
                            var request = HTTPClientRequest(url: "http://127.0.0.1:\(service.port)/slack/events")
                            request.method = .POST
                            request.headers.add(name: "X-Slack-Request-Timestamp", value: String(ts))
                            request.headers.add(name: "X-Slack-Signature", value: Signatures.slackSignature(body: body, timestamp: ts, secret: ServeHarness.slackSecret))
                            let size = (body.count + 5) / 6
                            let chunks = stride(from: 0, to: body.count, by: size).map { ByteBuffer(bytes: body[$0..<min($0 + size, body.count)]) }
                            let stream = AsyncStream<ByteBuffer> { c in
                                Task {
                                    for (n, chunk) in chunks.enumerated() {
                                        c.yield(chunk)
                                        if n == 0 { started.withLock { $0 += 1 } }
                                        try? await Task.sleep(for: .milliseconds(250))
                                    }
                                    c.finish()
                                }
                            }
                            request.body = .stream(stream, length: .known(Int64(body.count)))
                            let response = try await client.execute(request, timeout: .seconds(30))
                            _ = try await response.body.collect(upTo: 1 << 20)
                            return Int(response.status.code)
                        }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
            }
            while started.current < senders { try await Task.sleep(for: .milliseconds(10)) }
            try await Task.sleep(for: .milliseconds(100))
            let term = ContinuousClock.now
            service.signal(SIGTERM)
            let statuses = try await slow.value
            #expect(statuses.count == senders)
            #expect(statuses.allSatisfy { (200..<300).contains($0) }, "\(statuses)")
            // Within the unit file's TimeoutStopSec (30 s), after which systemd would SIGKILL it.
            let status = await service.exit(within: 30)
            #expect(status == 0, "exit \(status.map(String.init) ?? "none") after SIGTERM:\n\(service.log.suffix(3000))")
            #expect(ContinuousClock.now - term < .seconds(30))
            // The mapper drained before the exit: nothing waits for the next start.
            #expect(try Self.count(db, "SELECT count(*) FROM dtledger.receipts r WHERE NOT EXISTS (SELECT 1 FROM dtledger.receipt_outcomes o WHERE o.receipt_id = r.id)") == 0)
            #expect(try Self.count(db, "SELECT count(*) FROM dtledger.receipts WHERE delivery_key LIKE 'EvSlow%'") == senders)
            #expect(try Self.count(db, "SELECT count(*) FROM dtledger.events WHERE type = 'notification.sent'") == senders)
            // After the exit, nothing listens.
            let refused = try? await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(service.port)/healthz"), timeout: .seconds(2))
            #expect(refused == nil)
        } catch {
            await service.stop()
            try? await client.shutdown()
            throw error
        }
        await service.stop()
        try await client.shutdown()
    }

    @Test("A hostile delivery id and body (CR/LF, RLO, NUL) cannot forge or reorder a log line of the binary")
    func hostileLogLines() async throws {
        let (db, login) = try Self.prepare()
        let service = try await ServeProcess.start(configYAML: ServeHarness.config(importYAML: ReceiverTests.importYAML),
                                                   databaseURL: ServeHarness.url(db, login))
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let forged = "x\r\n2026-01-01T00:00:00+0000 critical dtledger.serve: FORGED\u{202E}\u{0}"
            let body = SlackBody.message(eventID: forged, text: "Summary: \(forged)", ts: String(format: "%.6f", Date().timeIntervalSince1970))
            let (status, _) = try await Self.post(client, port: service.port, Delivery(source: "slack", key: forged, body: body), attempt: 2)
            #expect(status == 200)
            // An id that is storable as it is (no control character) but would reorder a terminal line.
            let rlo = "Ev\u{202E}exe.gpj"
            let rloBody = SlackBody.message(eventID: rlo, text: "hello", ts: String(format: "%.6f", Date().timeIntervalSince1970))
            let (rloStatus, _) = try await Self.post(client, port: service.port, Delivery(source: "slack", key: rlo, body: rloBody), attempt: 0)
            #expect(rloStatus == 200)
            #expect(try Self.count(db, "SELECT count(*) FROM dtledger.receipts WHERE delivery_key = 'Ev' || chr(8238) || 'exe.gpj'") == 1)
            // Refused (a signature from another secret): logged, with the body's hash, not its text.
            var refused = HTTPClientRequest(url: "http://127.0.0.1:\(service.port)/pagerduty/webhook")
            refused.method = .POST
            refused.headers.add(name: "X-PagerDuty-Signature", value: Signatures.pagerDutySignature(body: body, secret: "another-secret"))
            refused.body = .bytes(ByteBuffer(bytes: body))
            let bad = try await client.execute(refused, timeout: .seconds(10))
            #expect(bad.status.code == 401)
            try await Self.settled(db)
            await service.stop()
            let log = service.log
            #expect(log.contains("received"), "\(log)")
            #expect(!log.contains("\u{202E}") && !log.contains("\u{0}") && !log.contains("\r"), "\(log.debugDescription)")
            for line in log.split(separator: "\n") {
                #expect(!line.hasPrefix("2026-01-01T00:00:00+0000"), "a forged log line: \(line)")
                #expect(line.contains(" dtledger.serve:"), "a line not from the logger: \(line)")
            }
        } catch {
            await service.stop()
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }
}
