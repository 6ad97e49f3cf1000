import Foundation
import Ledger
import Logging
import Receiving
import ServiceLifecycle
import Synchronization

/// The answer a request waits for: its receipt durable, or why not.
enum Durability: Sendable, Equatable {
    case durable(id: Int64, duplicate: Bool)
    /// The database refused or could not be reached: answer 503, the vendor retries.
    case failed(String)
    /// Not durable within the limit (the database is slow): answer 503.
    case timedOut
}

/// One request's place in the group commit: completed once, by the commit or by its deadline.
final class Ticket: Sendable {
    private let result = Once<Durability>()

    func complete(_ value: Durability) { result.complete(value) }

    /// The result, or `.timedOut` after `timeout`, whichever comes first.
    func wait(timeout: Duration) async -> Durability {
        let timer = Task { [result] in
            try? await Task.sleep(for: timeout)
            result.complete(.timedOut)
        }
        let value = await result.value()
        timer.cancel()
        return value
    }
}

/// Group commit of receipts: every request that arrives while a batch is
/// being committed joins the next one, so under a burst one transaction
/// makes many receipts durable and the database's commit is not paid per
/// request. Requests wait only for their own batch.
final class GroupCommit: Sendable {
    private struct State {
        var pending: [(IncomingReceipt, Ticket)] = []
        var waiter: CheckedContinuation<Void, Never>?
        var closed = false
    }
    private let state = Mutex(State())
    let database: DatabaseThread<ReceiptStore>
    let window: Duration
    let maxBatch: Int
    /// Requests beyond this many waiting are answered 503 at once (the
    /// vendors retry), so a stalled database cannot make memory grow without bound.
    let maxPending: Int
    let metrics: ServeMetrics
    let logger: Logger

    init(database: DatabaseThread<ReceiptStore>, limits: ServeConfig.Limits, metrics: ServeMetrics, logger: Logger) {
        self.database = database
        self.window = .microseconds(Int64(limits.batchWindow * 1_000_000))
        self.maxBatch = limits.maxBatch
        self.maxPending = limits.maxPending
        self.metrics = metrics
        self.logger = logger
    }

    /// Queues a receipt; its ticket completes when the receipt's batch commits.
    func submit(_ receipt: IncomingReceipt) -> Ticket {
        let ticket = Ticket()
        let (waiter, refused) = state.withLock { s -> (CheckedContinuation<Void, Never>?, String?) in
            guard !s.closed else { return (nil, "the service is shutting down") }
            guard s.pending.count < maxPending else { return (nil, "\(maxPending) receipts already wait for the database") }
            s.pending.append((receipt, ticket))
            defer { s.waiter = nil }
            return (s.waiter, nil)
        }
        if let refused { ticket.complete(.failed(refused)) }
        waiter?.resume()
        return ticket
    }

    /// No more receipts are taken; `run` commits what is queued and returns.
    func close() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.closed = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    private func take() -> (batch: [(IncomingReceipt, Ticket)], closed: Bool) {
        state.withLock { s in
            let n = min(s.pending.count, maxBatch)
            let batch = Array(s.pending.prefix(n))
            s.pending.removeFirst(n)
            return (batch, s.closed)
        }
    }

    private func waitForWork() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                if !s.pending.isEmpty || s.closed { return true }
                s.waiter = c
                return false
            }
            if ready { c.resume() }
        }
    }

    /// Commits batches until closed and drained.
    func run() async {
        while true {
            await waitForWork()
            var (batch, closed) = take()
            if batch.isEmpty {
                if closed { return }
                continue
            }
            if window > .zero && batch.count < maxBatch && !closed {
                try? await Task.sleep(for: window)
                let more = take()
                batch += more.batch
            }
            let items = batch.map(\.0)
            let started = ContinuousClock.now
            do {
                let results = try await database.run { store in try store.receive(items) }
                metrics.commit.record(ContinuousClock.now - started)
                metrics.batchSize.record(Double(items.count))
                for ((_, ticket), r) in zip(batch, results) { ticket.complete(.durable(id: r.id, duplicate: r.duplicate)) }
            } catch {
                logger.error("receipts not durable", metadata: ["count": "\(items.count)", "error": "\(error)"])
                for (_, ticket) in batch { ticket.complete(.failed("\(error)")) }
            }
        }
    }
}

/// The group commit as a service: on graceful shutdown (after the HTTP
/// server has drained its requests) it commits what is queued and stops.
struct GroupCommitService: Service {
    let commit: GroupCommit

    func run() async throws {
        await withGracefulShutdownHandler {
            await commit.run()
        } onGracefulShutdown: {
            commit.close()
        }
        commit.database.stop()
    }
}
