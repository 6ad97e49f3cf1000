import Foundation
import Ledger
import Logging
import Postgres
import Receiving
import ServiceLifecycle
import Synchronization

/// The mapper on a thread of its own (libpq blocks): LISTENs for new
/// receipts and resolutions, maps every pass's receipts in one transaction
/// (ReceiptMapper), and also looks every `idle` seconds, so a missed
/// notification only delays. After an error it waits (doubling up to 30 s)
/// and connects again; the receipts stay durable meanwhile.
final class MapperLoop: Sendable {
    let settings: DatabaseSettings
    let config: ServeConfig
    let environment: [String: String]
    let metrics: ServeMetrics
    let logger: Logger
    let idle: Double
    private let stopping = Atomic<Bool>(false)
    private let finished = Mutex<(done: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    init(settings: DatabaseSettings, config: ServeConfig, environment: [String: String], metrics: ServeMetrics,
         logger: Logger, idle: Double = 0.5) {
        self.settings = settings
        self.config = config
        self.environment = environment
        self.metrics = metrics
        self.logger = logger
        self.idle = idle
    }

    func start() {
        let thread = Thread { [self] in
            loop()
            let waiter = finished.withLock { s -> CheckedContinuation<Void, Never>? in
                s.done = true
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume()
        }
        thread.name = "dtledger-mapper"
        thread.start()
    }

    /// Ends the loop after its current pass; returns when it has.
    func stop() async {
        stopping.store(true, ordering: .relaxed)
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = finished.withLock { s -> Bool in
                if s.done { return true }
                s.waiter = c
                return false
            }
            if done { c.resume() }
        }
    }

    private func loop() {
        var mapper: ReceiptMapper?
        var backoff = 1.0
        var lastCounted = ContinuousClock.now - .seconds(60)
        var stale = false
        func count(_ m: ReceiptMapper) throws {
            let counts = try m.receipts.counts()
            metrics.inbox.set(Double(counts.inbox))
            metrics.unmapped.set(Double(counts.unmapped))
        }
        let environment = self.environment
        // Once stopped, passes go on until one finds nothing, so every
        // receipt committed before the shutdown is mapped before the
        // process exits (a failure then ends the loop: the receipts stay
        // durable and the next start maps them).
        var draining = false
        while true {
            if !draining && stopping.load(ordering: .relaxed) { draining = true }
            do {
                if mapper == nil {
                    let connection = try Connect.connection(settings)
                    _ = try connection.execute("LISTEN \(ReceiptStore.channel)")
                    mapper = ReceiptMapper(connection: connection, config: config, secret: { environment[$0] })
                }
                let started = ContinuousClock.now
                let pass = try mapper!.pass()
                if !pass.isEmpty {
                    metrics.mapperPass.record(ContinuousClock.now - started)
                    metrics.appended.increment(by: Int64(pass.appended))
                    logger.info("mapped", metadata: [
                        "receipts": "\(pass.receipts)", "resolutions": "\(pass.resolutions)", "appended": "\(pass.appended)",
                        "duplicates": "\(pass.duplicates)", "inbox": "\(pass.inbox)", "ignored": "\(pass.ignored)",
                        "discarded": "\(pass.discarded)",
                    ])
                    // The gauges scan every receipt: at most every 5 s, not per pass.
                    if ContinuousClock.now - lastCounted > .seconds(5) {
                        try count(mapper!)
                        lastCounted = ContinuousClock.now
                        stale = false
                    } else {
                        stale = true
                    }
                    backoff = 1
                    continue  // more may be waiting
                }
                if stale {  // caught up: the gauges as they now stand
                    try count(mapper!)
                    lastCounted = ContinuousClock.now
                    stale = false
                }
                backoff = 1
                if draining { return }
                _ = try mapper!.store.connection.waitForNotification(timeout: idle)
            } catch {
                if draining {
                    logger.error("mapper pass failed while stopping; the next start maps the rest", metadata: ["error": "\(error)"])
                    return
                }
                logger.error("mapper pass failed; retrying", metadata: ["error": "\(error)", "retry_in_seconds": "\(backoff)"])
                if let m = mapper, !m.store.connection.isOK { mapper = nil }
                var waited = 0.0
                while waited < backoff && !stopping.load(ordering: .relaxed) {
                    Thread.sleep(forTimeInterval: 0.1)
                    waited += 0.1
                }
                backoff = min(backoff * 2, 30)
            }
        }
    }
}

/// The mapper as a service: stops after the HTTP server and the group commit have.
struct MapperService: Service {
    let loop: MapperLoop

    func run() async throws {
        loop.start()
        try? await gracefulShutdown()
        await loop.stop()
    }
}
