import Events
import Foundation
import Ledger

/// The verification of the chain a report was computed from (`verify`,
/// run through the judged position): every compliance, review and audit
/// report carries one, in every format.
public struct ChainCheck: Sendable {
    public var verified: Bool
    public var eventsChecked: Int64
    /// The tip that verified.
    public var lastPosition: Int64
    public var lastHash: String
    /// The first problem, one line (nil when verified).
    public var problem: String?
    /// Whether an external digest was checked too.
    public var digestChecked: Bool

    public init(verified: Bool, eventsChecked: Int64, lastPosition: Int64, lastHash: String, problem: String?,
                digestChecked: Bool) {
        self.verified = verified
        self.eventsChecked = eventsChecked
        self.lastPosition = lastPosition
        self.lastHash = lastHash
        self.problem = problem
        self.digestChecked = digestChecked
    }

    /// The check of `report`, for a report judged at `judged`: a chain
    /// verified only to an earlier position does not cover what was judged.
    public init(_ report: VerificationReport, judged: Int64? = nil) {
        var problem = report.problem
        if problem == nil, let judged, report.lastPosition < judged {
            problem = "the chain verified to position \(report.lastPosition), before the judged position \(judged)"
        }
        self.init(verified: problem == nil, eventsChecked: report.eventsChecked, lastPosition: report.lastPosition,
                  lastHash: report.lastHash, problem: problem.map(Self.oneLine), digestChecked: report.digestMatched != nil)
    }

    /// A verification that could not run (the connection failed).
    public static func failed(_ error: any Error) -> ChainCheck {
        ChainCheck(verified: false, eventsChecked: 0, lastPosition: 0, lastHash: "", problem: oneLine("the chain could not be verified: \(error)"),
                   digestChecked: false)
    }

    static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }

    /// One line for a text report: "Chain verified: ..." or "CHAIN NOT VERIFIED: ...".
    public var line: String {
        verified
            ? "Chain verified: \(eventsChecked) events, tip at position \(lastPosition), hash \(lastHash)\(digestChecked ? ", extends the external digest" : "")."
            : "CHAIN NOT VERIFIED: \(problem ?? "unknown problem") (\(eventsChecked) events checked)"
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "verified": .bool(verified), "events_checked": .int(eventsChecked), "last_position": .int(lastPosition),
            "last_hash": .string(lastHash), "digest_checked": .bool(digestChecked),
        ]
        o["problem"] = problem.map(JSONValue.string) ?? .null
        return .object(o)
    }
}

/// `verify` run on a thread and a connection of its own, while the caller
/// judges on its own: `result()` waits for it. The connection is made on
/// that thread (an `EventStore` belongs to one thread).
public final class ChainVerification: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var outcome: ChainCheck?  // written once by the thread, read after `done`

    /// Starts verifying: `connect` opens the connection to verify over;
    /// `judged` is the position the report judges (the chain must verify
    /// at least that far). Start it after `judged` was read, so its snapshot
    /// holds every judged event.
    public init(judged: Int64, digest: Digest? = nil, connect: @escaping @Sendable () throws -> EventStore) {
        let thread = Thread { [self] in
            let check: ChainCheck
            do {
                let store = try connect()
                check = ChainCheck(try store.verify(digest: digest), judged: judged)
            } catch {
                check = .failed(error)
            }
            outcome = check
            done.signal()
        }
        thread.stackSize = 1 << 22
        thread.start()
    }

    /// Runs `body`; when it throws, waits for the verification (so its
    /// connection is closed before the caller goes on) and rethrows.
    public func waitingOnFailure<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch {
            _ = result()
            throw error
        }
    }

    /// Waits for the verification and returns it.
    public func result() -> ChainCheck {
        done.wait()
        done.signal()  // later calls return at once
        return outcome!
    }
}
