import Foundation
import Ledger
import Postgres

/// A thread of its own that owns one libpq connection (libpq blocks): async
/// callers hand it jobs and await their results, so no blocking call ever
/// runs on an event loop or on the cooperative thread pool. A job that
/// finds the connection broken drops it; the next job connects again.
final class DatabaseThread<Resource>: @unchecked Sendable {
    // @unchecked: `jobs`, `resource` and `stopped` are guarded by `condition`;
    // `resource` is only used on the thread itself.
    private let condition = NSCondition()
    private var jobs: [(Resource?) -> Void] = []
    private var stopped = false
    private var resource: Resource?
    private let open: () throws -> Resource
    private let isBroken: (Resource) -> Bool
    private var thread: Thread?

    init(name: String, open: @escaping () throws -> Resource, isBroken: @escaping (Resource) -> Bool) {
        self.open = open
        self.isBroken = isBroken
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = name
        self.thread = thread
        thread.start()
    }

    /// Runs `body` on the thread with the connection (connecting first if needed).
    func run<T: Sendable>(_ body: @escaping @Sendable (Resource) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            condition.lock()
            if stopped {
                condition.unlock()
                continuation.resume(throwing: LedgerError.unavailable("the service is stopping"))
                return
            }
            jobs.append { [self] _ in
                do {
                    if resource == nil { resource = try open() }
                    let value = try body(resource!)
                    continuation.resume(returning: value)
                } catch {
                    if let r = resource, isBroken(r) { resource = nil }
                    continuation.resume(throwing: error)
                }
            }
            condition.signal()
            condition.unlock()
        }
    }

    /// Finishes the queued jobs, then ends the thread.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty && stopped {
                condition.unlock()
                resource = nil
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job(resource)
        }
    }
}

/// Connects with the service's settings.
enum Connect {
    static func connection(_ settings: DatabaseSettings) throws -> Connection {
        do {
            return try Connection(conninfo: settings.conninfo, applicationName: "dtledger serve")
        } catch {
            throw LedgerError.unavailable("\(error.message) (from \(settings.origin): \(settings.redacted))")
        }
    }
}
