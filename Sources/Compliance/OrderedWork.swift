import Dispatch
import Synchronization

/// Runs `work` on other threads for items the caller submits one by one
/// (while it goes on reading the next ones), and hands the results back to
/// the caller, on the caller's thread, in submission order. Items are
/// handed to the workers in chunks of `chunk` (one dispatch, one wake-up
/// and one signal per chunk rather than per item); at most `limit` chunks
/// are in flight, so memory stays bounded. With `threads` 0 the work runs
/// inline, in order (the serial path the tests compare with).
///
/// Used by period compliance and projection rebuilds: the calling thread
/// reads events while cases are parsed and judged on the other cores.
public final class OrderedWork<Input: Sendable, Output: Sendable> {
    private let work: @Sendable (Input) -> Output
    private let parallel: Bool
    private let limit: Int
    private let chunk: Int
    private let results = Results()
    private let completed = DispatchSemaphore(value: 0)
    /// One serial queue per worker; chunk n goes to queue n % count.
    private let queues: [DispatchQueue]
    /// Items submitted but not yet dispatched (fewer than `chunk`).
    private var pending: [Input] = []
    private var submitted = 0
    private var next = 0

    private final class Results: Sendable {
        let done = Mutex<[Int: [Output]]>([:])
    }

    /// - Parameters:
    ///   - threads: worker threads (0: run inline).
    ///   - limit: chunks in flight at most.
    ///   - chunk: items per chunk handed to a worker.
    public init(threads: Int, limit: Int = 8, chunk: Int = 16, work: @escaping @Sendable (Input) -> Output) {
        self.work = work
        parallel = threads > 0
        self.limit = max(1, limit)
        self.chunk = max(1, chunk)
        queues = (0..<max(1, threads)).map { DispatchQueue(label: "dtledger.ordered-work.\($0)") }
        pending.reserveCapacity(self.chunk)
    }

    /// Submits one item; hands every result that is ready, in order, to
    /// `consume` (on this thread).
    public func submit(_ input: Input, _ consume: (Output) throws -> Void) throws {
        guard parallel else {
            try consume(work(input))
            return
        }
        pending.append(input)
        if pending.count >= chunk { try dispatchPending(consume) }
    }

    /// Waits for the remaining items and hands over their results.
    public func finish(_ consume: (Output) throws -> Void) throws {
        guard parallel else { return }
        if !pending.isEmpty { try dispatchPending(consume) }
        while next < submitted { try consumeNext(consume) }
    }

    private func dispatchPending(_ consume: (Output) throws -> Void) throws {
        while submitted - next >= limit { try consumeNext(consume) }
        let index = submitted
        submitted += 1
        let items = pending
        pending = []
        pending.reserveCapacity(chunk)
        let (work, results, completed) = (work, results, completed)
        queues[index % queues.count].async {
            let outputs = items.map(work)
            results.done.withLock { $0[index] = outputs }
            completed.signal()
        }
        try consumeReady(consume)
    }

    private func take(_ index: Int) -> [Output]? {
        results.done.withLock { $0.removeValue(forKey: index) }
    }

    private func consumeReady(_ consume: (Output) throws -> Void) throws {
        while next < submitted, let outputs = take(next) {
            next += 1
            for output in outputs { try consume(output) }
        }
    }

    /// Blocks until the next chunk in order is there, and hands over its results.
    private func consumeNext(_ consume: (Output) throws -> Void) throws {
        while true {
            if let outputs = take(next) {
                next += 1
                for output in outputs { try consume(output) }
                return
            }
            completed.wait()
        }
    }
}
