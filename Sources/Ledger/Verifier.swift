import Events
import Foundation
import Postgres

/// The outcome of `verify`.
public struct VerificationReport: Sendable {
    /// Events whose hash was recomputed and matched.
    public var eventsChecked: Int64 = 0
    /// The last position that verified.
    public var lastPosition: Int64 = 0
    public var lastHash: String = ChainHash.hex(ChainHash.genesis)
    /// The first position that does not match, when the chain is broken.
    public var firstBadPosition: Int64?
    /// What is wrong, in one line, when anything is.
    public var problem: String?
    /// Whether the digest given was found in the chain (nil: none given).
    public var digestMatched: Bool?

    public var ok: Bool { problem == nil }
}

extension EventStore {
    /// Recomputes the hash chain in Swift from the stored columns, from the
    /// first event to the last, and checks the head row and (when given) that
    /// the ledger still extends `digest`. Stops at the first problem.
    /// `progress` is called every `progressEvery` events.
    public func verify(digest: Digest? = nil, progressEvery: Int64 = 100_000,
                       progress: (Int64) -> Void = { _ in }) throws -> VerificationReport {
        var report = VerificationReport()
        var previous = ChainHash.genesis
        var expectedPosition: Int64 = 1
        var digestSeen = false
        struct Stop: Error {}
        do {
            try forEachEvent { event in
                func fail(_ message: String) throws -> Never {
                    report.firstBadPosition = expectedPosition
                    report.problem = message
                    throw Stop()
                }
                if event.position != expectedPosition {
                    try fail("position \(expectedPosition) is missing (the next stored event is at \(event.position)): events were deleted")
                }
                if event.previousHash != ChainHash.hex(previous) {
                    try fail("position \(event.position): its previous_hash does not match the hash of position \(event.position - 1): the chain was cut or reordered here")
                }
                let computed = ChainHash.hash(previous: previous, fields: event.hashFields)
                let computedHex = ChainHash.hex(computed)
                if computedHex != event.hash {
                    try fail("position \(event.position) (event \(event.id), case \(event.caseID)): its contents do not match its hash: the event was changed after it was written")
                }
                if let digest, event.position == digest.position {
                    digestSeen = true
                    if computedHex != digest.hash {
                        try fail("position \(event.position): its hash differs from the digest's: the ledger was rewritten from this point or earlier")
                    }
                }
                previous = computed
                report.eventsChecked += 1
                report.lastPosition = event.position
                report.lastHash = computedHex
                expectedPosition += 1
                if report.eventsChecked % progressEvery == 0 { progress(report.eventsChecked) }
            }
        } catch is Stop {
            if digest != nil { report.digestMatched = false }
            return report
        }
        // The head row is the database's own record of the tip.
        let head = try self.digest()
        if head.position != report.lastPosition || head.hash != report.lastHash {
            report.firstBadPosition = report.lastPosition + 1
            report.problem = "the ledger's head records position \(head.position) but the last stored event is at \(report.lastPosition): events were deleted from the end or the head was edited"
        }
        if let digest {
            if digest.position == 0 {
                digestSeen = digest.hash == ChainHash.hex(ChainHash.genesis)
            }
            if !digestSeen {
                report.digestMatched = false
                if report.problem == nil {
                    report.firstBadPosition = report.lastPosition + 1
                    report.problem = digest.position > report.lastPosition
                        ? "the digest was taken at position \(digest.position) but the ledger now ends at \(report.lastPosition): events were deleted from the end"
                        : "the digest's position \(digest.position) is not in the ledger"
                }
            } else {
                report.digestMatched = report.problem == nil
            }
        }
        return report
    }
}
