import Events
import Foundation
import Hummingbird
import Ingest
import Ledger
import Logging
import Operations
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
        if let auth = emailAuth {
            router.post("/email/messages") { request, context in
                await self.receive(request, context, route: "email") { r, body, at in Receivers.email(r, body: body, auth: auth, at: at) }
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
            if status == .unauthorized, route == "servicenow" || route == "email" { headers[.wwwAuthenticate] = "Bearer realm=\"dtledger\"" }
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

    /// /readyz: the database answers within 2 s, its migrations are this
    /// binary's, and the service's login is a dtledger_receiver listed in the
    /// directory in force as the importer login of every source it receives
    /// (else what it records would be judged unverified).
    func readiness() async -> Response {
        let state = await readinessState()
        var o: [String: JSONValue] = ["status": .string(state.ready ? "ready" : "not ready")]
        for (k, v) in state.details { o[k] = .string(v) }
        return Responses.json(state.ready ? .ok : .serviceUnavailable, .object(o))
    }

    func readinessState() async -> Readiness {
        let sources = [config.slack.map { _ in "slack" }, config.pagerDuty.map { _ in "pagerduty" },
                       config.serviceNow.map { _ in "servicenow" }, config.email.map { _ in "email" }].compactMap { $0 }
        do {
            return try await withTimeout(2) { [health] in
                try await health.run { connection -> Readiness in
                    var details: [String: String] = ["database": "reachable"]
                    let migrator = Migrator()
                    // pending() first: on a database never migrated check()
                    // fails on the missing table, which is not "unreachable".
                    let pending = try migrator.pending(connection).map(\.name)
                    if pending.count < Migration.all.count { try migrator.check(connection) }
                    details["migrations"] = pending.isEmpty ? "current" : "migrations not applied: \(pending.joined(separator: ", "))"
                    let row = try connection.query("SELECT session_user, pg_has_role(session_user, 'dtledger_receiver', 'MEMBER')").rows[0]
                    let login = row[0] ?? ""
                    details["login"] = login
                    var ready = pending.isEmpty
                    if row.bool(1) != true {
                        details["role"] = "login \(login) is not a member of dtledger_receiver"
                        ready = false
                    }
                    if pending.isEmpty {
                        let directory = try WriterReads.directories(EventStore(connection: connection)).at(Date())
                        let registered = directory?.serviceLogins.first { $0.login == login }
                        let missing = sources.filter { !(registered?.sources.contains($0) ?? false) }
                        if missing.isEmpty {
                            details["registered"] = "importer login for \(sources.joined(separator: ", "))"
                        } else {
                            details["registered"] = "login \(login) is not the directory's importer login for \(missing.joined(separator: ", ")) (service_logins): what it records would be judged unverified"
                            ready = false
                        }
                    }
                    return Readiness(ready: ready, details: details)
                }
            }
        } catch is TimedOut {
            return Readiness(ready: false, details: ["database": "no answer within 2 s"])
        } catch {
            return Readiness(ready: false, details: ["database": "unreachable or refused: \(error)"])
        }
    }
}

struct Readiness: Sendable {
    let ready: Bool
    let details: [String: String]
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
