import Events
import Foundation
import Hummingbird
import Ingest
import Ledger
import Logging
import Receiving
import Synchronization

extension ReceivingService {
    /// Every route (docs/serve.md, "Routes").
    func routes(_ router: Router<ServeRequestContext>) {
        if let secret = slackSecret {
            router.post("/slack/events") { request, context in
                await self.receive(request, context, route: "slack") { r, body, at in Receivers.slack(r, body: body, secret: secret, at: at) }
            }
        }
        if let secret = pagerDutySecret {
            router.post("/pagerduty/webhook") { request, context in
                await self.receive(request, context, route: "pagerduty") { r, body, at in Receivers.pagerDuty(r, body: body, secret: secret, at: at) }
            }
        }
        if let auth = serviceNowAuth {
            router.post("/servicenow/events") { request, context in
                await self.receive(request, context, route: "servicenow") { r, body, at in Receivers.serviceNow(r, body: body, auth: auth, at: at) }
            }
        }
        router.get("/healthz") { _, _ in
            Responses.json(.ok, .object(["status": .string("ok")]))
        }
        router.get("/readyz") { _, _ in
            await self.readiness()
        }
        router.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: self.metrics.text())))
        }
    }

    /// One webhook request: the body within the size and time limits, the
    /// source's check, then the receipt made durable (group commit) before
    /// the 2xx. Every refusal is logged with its reason; nothing is stored.
    func receive(_ incoming: Request, _ context: ServeRequestContext, route: String,
                 admit: @Sendable (Request, Data, Date) -> Admission) async -> Response {
        let started = ContinuousClock.now
        var request = incoming
        let response = await handle(&request, context, route: route, admit: admit)
        metrics.request(route: route, status: Int(response.status.code))
        metrics.answer.record(ContinuousClock.now - started)
        return response
    }

    private func handle(_ request: inout Request, _ context: ServeRequestContext, route: String,
                        admit: @Sendable (Request, Data, Date) -> Admission) async -> Response {
        var log = logger
        log[metadataKey: "route"] = .string(route)
        if let peer = context.remoteAddress?.ipAddress { log[metadataKey: "peer"] = .string(peer) }
        if let forwarded = Receivers.header(request, "X-Forwarded-For"), let peer = context.remoteAddress?.ipAddress,
           config.trustedProxies.contains(peer) {
            log[metadataKey: "client"] = .string(Receivers.loggable(forwarded))
        }
        if let length = Receivers.header(request, "Content-Length").flatMap(Int.init), length > config.limits.maxBodyBytes {
            log.warning("refused", metadata: ["status": "413", "reason": "body of \(length) bytes over the limit"])
            return Responses.error(.contentTooLarge, "the body is \(length) bytes; the limit is \(config.limits.maxBodyBytes)")
        }
        let body: Data
        do {
            body = try await withTimeout(config.limits.requestTimeout) { [request, config] in
                var r = request
                return Data(buffer: try await r.collectBody(upTo: config.limits.maxBodyBytes))
            }
        } catch is TimedOut {
            log.warning("refused", metadata: ["status": "408", "reason": "the body did not arrive within \(config.limits.requestTimeout)s"])
            return Responses.error(.requestTimeout, "the body did not arrive within \(config.limits.requestTimeout) seconds")
        } catch {
            log.warning("refused", metadata: ["status": "413", "reason": "body over the limit"])
            return Responses.error(.contentTooLarge, "the body is over the limit of \(config.limits.maxBodyBytes) bytes")
        }
        let now = Date()
        switch admit(request, body, now) {
        case .answer(let response):
            log.info("answered", metadata: ["status": "\(response.status.code)"])
            return response
        case .refuse(let status, let reason):
            log.warning("refused", metadata: ["status": "\(status.code)", "reason": .string(reason), "bytes": "\(body.count)",
                                              "body_sha256": .string(Receivers.sha256(body))])
            var headers = HTTPFields()
            if status == .unauthorized, route == "servicenow" { headers[.wwwAuthenticate] = "Bearer realm=\"dtledger\"" }
            return Responses.error(status, reason, headers: headers)
        case .store(let receipt, let malformed):
            let ticket = commit.submit(receipt)
            switch await ticket.wait(timeout: .milliseconds(Int64(config.limits.durableWithin * 1000))) {
            case .durable(let id, let duplicate):
                metrics.received(source: receipt.source, duplicate: duplicate)
                log.info("received", metadata: ["receipt": "\(id)", "duplicate": "\(duplicate)", "delivery": .string(Receivers.loggable(receipt.deliveryKey)),
                                                "retry": .string(Receivers.loggable(receipt.headers["x-slack-retry-num"] ?? ""))])
                if let malformed {
                    return Responses.json(.badRequest, .object([
                        "error": .string(malformed), "receipt": .int(id), "kept": .bool(true),
                    ]))
                }
                return Responses.json(.ok, .object(["ok": .bool(true), "receipt": .int(id), "duplicate": .bool(duplicate)]))
            case .failed(let why):
                log.error("not durable", metadata: ["status": "503", "reason": .string(why)])
                return Responses.error(.serviceUnavailable, "the receipt could not be made durable; retry", headers: [.retryAfter: "1"])
            case .timedOut:
                log.error("not durable in time", metadata: ["status": "503", "limit_seconds": "\(config.limits.durableWithin)"])
                return Responses.error(.serviceUnavailable, "the database did not make the receipt durable within \(config.limits.durableWithin)s; retry",
                                       headers: [.retryAfter: "1"])
            }
        }
    }

    /// /readyz: the database answers within 2 s and its migrations are this binary's.
    func readiness() async -> Response {
        do {
            let state = try await withTimeout(2) { [health] in
                try await health.run { connection -> Readiness in
                    let migrator = Migrator()
                    // pending() first: on a database never migrated check()
                    // fails on the missing table, which is not "unreachable".
                    let pending = try migrator.pending(connection).map(\.name)
                    if pending.count < Migration.all.count { try migrator.check(connection) }
                    return Readiness(current: pending.isEmpty,
                                     detail: pending.isEmpty ? "migrations current" : "migrations not applied: \(pending.joined(separator: ", "))")
                }
            }
            return Responses.json(state.current ? .ok : .serviceUnavailable, .object([
                "status": .string(state.current ? "ready" : "not ready"), "database": .string("reachable"),
                "migrations": .string(state.detail),
            ]))
        } catch {
            return Responses.json(.serviceUnavailable, .object([
                "status": .string("not ready"), "database": .string("unreachable: \(error)"),
            ]))
        }
    }
}

struct Readiness: Sendable {
    let current: Bool
    let detail: String
}

struct TimedOut: Error {}

/// `body`'s result, or TimedOut after `seconds`. On time-out `body` is
/// cancelled and not waited for (a blocked database call cannot hold the
/// answer back).
func withTimeout<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let once = Once<Result<T, any Error>>()
    let task = Task {
        do { once.complete(.success(try await body())) } catch { once.complete(.failure(error)) }
    }
    let timer = Task {
        try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
        once.complete(.failure(TimedOut()))
    }
    let result = await once.value()
    timer.cancel()
    if case .failure(let e) = result, e is TimedOut { task.cancel() }
    return try result.get()
}

/// A value set once, awaited by one waiter.
final class Once<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiter: CheckedContinuation<Value, Never>?
    }
    private let state = Mutex(State())

    func complete(_ value: Value) {
        let waiter = state.withLock { s -> CheckedContinuation<Value, Never>? in
            guard s.value == nil else { return nil }
            s.value = value
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: value)
    }

    func value() async -> Value {
        await withCheckedContinuation { (c: CheckedContinuation<Value, Never>) in
            let done = state.withLock { s -> Value? in
                if let v = s.value { return v }
                s.waiter = c
                return nil
            }
            if let done { c.resume(returning: done) }
        }
    }
}
