import Foundation

/// When an append may be retried after losing the database, and how often.
///
/// The rule (README, "Retries"): an append is retried only when every event
/// in it carries an idempotency key. Then a retry is safe whatever happened
/// to the first attempt: if it committed before the connection was lost, the
/// retry finds the keys and appends nothing (`duplicate: true`); if it did
/// not, the retry appends the events once. Without keys a lost connection is
/// ambiguous (the commit may or may not have happened), so nothing is
/// retried and the error says to check before appending again.
///
/// Only a lost or refused connection (`LedgerError.unavailable`) is retried:
/// invalid input, conflicts and permission errors are final.
public struct AppendRetry: Sendable, Equatable {
    /// Attempts in all, the first included (1: never retry).
    public var attempts: Int
    /// The wait before the first retry; it doubles up to `maxDelay`.
    public var initialDelay: Double
    public var maxDelay: Double

    public init(attempts: Int, initialDelay: Double = 0.25, maxDelay: Double = 2) {
        self.attempts = max(1, attempts)
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
    }

    /// 6 attempts over about 6 seconds: long enough for a server restart or
    /// a failover, short enough for a runbook.
    public static let standard = AppendRetry(attempts: 6)
    public static let never = AppendRetry(attempts: 1)

    /// `DTLEDGER_APPEND_RETRIES` (how many retries after the first attempt;
    /// 0 turns retrying off), else `standard`.
    public static func from(environment: [String: String]) -> AppendRetry {
        guard let text = environment["DTLEDGER_APPEND_RETRIES"], let retries = Int(text), retries >= 0 else {
            return .standard
        }
        return AppendRetry(attempts: min(retries, 100) + 1)
    }

    /// The wait before attempt `attempt` (2, 3, ...).
    public func delay(before attempt: Int) -> Double {
        min(maxDelay, initialDelay * pow(2, Double(max(0, attempt - 2))))
    }

    /// Connects to `settings` and runs `body` with a fresh store. When the
    /// database is unavailable (refused or lost connection) and `idempotent`
    /// (every event has a key), reconnects and runs `body` again, up to
    /// `attempts` times with backoff, calling `notice` before each retry.
    /// `body` must be safe to run again from the start (reset its counters).
    /// `idempotent` is evaluated when the connection is lost, so a caller
    /// can tell a loss before its COMMIT (nothing recorded: always safe)
    /// from one during it.
    public func run<T>(settings: DatabaseSettings, idempotent: @autoclosure () -> Bool,
                       notice: (String) -> Void = { _ in },
                       sleep: (Double) -> Void = { Thread.sleep(forTimeInterval: $0) },
                       _ body: (EventStore) throws -> T) throws -> T {
        var attempt = 1
        while true {
            var connected = false
            do {
                let store = try EventStore(settings: settings)
                connected = true
                return try body(store)
            } catch let error as LedgerError where error.code == .unavailable {
                let message = error.message
                guard idempotent() else {
                    if connected {
                        throw LedgerError.unavailable("\(message); the connection was lost during the append, so it may or may not have been recorded: not retried because not every event has an idempotency key; check with `dtledger read` before appending again")
                    }
                    throw LedgerError.unavailable(message)
                }
                guard attempt < attempts else {
                    throw LedgerError.unavailable(attempts > 1 ? "\(message) (gave up after \(attempts) attempts)" : message)
                }
                attempt += 1
                let wait = delay(before: attempt)
                notice("database unavailable (\(message)); a retry is safe (every event has an idempotency key, or the connection was lost before the commit), so retrying in \(String(format: "%.2g", wait))s (attempt \(attempt) of \(attempts))")
                sleep(wait)
            }
        }
    }
}
