import Events
import Foundation
import Postgres

/// One check `verify` made, with what it found.
public struct VerificationCheck: Sendable, Equatable {
    /// `chain`, `positions`, `recorded_at`, `head`, `digest`, `streams`,
    /// `schema`.
    public let name: String
    /// Whether it found nothing wrong.
    public var ok: Bool { problems.isEmpty }
    /// What it found, one line each (the first few).
    public var problems: [String] = []
    /// How many problems it found (more than `problems` may list).
    public var problemCount = 0

    public init(name: String) { self.name = name }

    /// Most problems a check lists; the rest are counted.
    static let listed = 20

    mutating func add(_ problem: String) {
        problemCount += 1
        if problems.count < Self.listed { problems.append(problem) }
    }
}

/// The outcome of `verify`.
public struct VerificationReport: Sendable {
    /// Events whose hash was recomputed and matched.
    public var eventsChecked: Int64 = 0
    /// The last position that verified.
    public var lastPosition: Int64 = 0
    public var lastHash: String = ChainHash.hex(ChainHash.genesis)
    /// The first position that does not match, when the chain is broken.
    public var firstBadPosition: Int64?
    /// What is wrong, in one line, when anything is: the first problem of
    /// the first check that found one, in the order of `checks`.
    public var problem: String?
    /// Whether the digest given was found in the chain (nil: none given).
    public var digestMatched: Bool?
    /// Every check made, in order: the chain, positions, the head row,
    /// the digest (when given), recording times, the streams table, the
    /// schema (functions, triggers, grants).
    public var checks: [VerificationCheck] = []

    public var ok: Bool { problem == nil }

    /// The check named `name`, if made.
    public func check(_ name: String) -> VerificationCheck? { checks.first { $0.name == name } }
}

extension EventStore {
    /// Everything `verify` reads about one case from the chain.
    struct ChainCase {
        var count: Int64
        var openedType: String
        var openedMicros: Int64
        var lastPosition: Int64
    }

    /// Recomputes the hash chain in Swift from the stored columns, from the
    /// first event to the last, and checks everything the reports trust:
    /// positions start at 1 and follow each other; each case's versions do;
    /// `recorded_at` never goes backwards; the head row is the chain's tip;
    /// the ledger still extends `digest` (when given) and no event after it
    /// was recorded before it; the streams table matches the events; the
    /// database functions, triggers and grants are those this binary ships
    /// (`SchemaCheck`). The chain walk stops at the first broken hash; the
    /// other checks run in full. Reads in one repeatable-read snapshot, so
    /// appends made meanwhile are neither half seen nor reported.
    /// `progress` is called every `progressEvery` events.
    public func verify(digest: Digest? = nil, progressEvery: Int64 = 100_000,
                       progress: (Int64) -> Void = { _ in }) throws -> VerificationReport {
        try mapped {
            try connection.transaction("REPEATABLE READ, READ ONLY") { c in
                // Names in catalog output (trigger definitions, function
                // signatures) come out schema-qualified.
                try c.execute("SET LOCAL search_path = pg_catalog, pg_temp")
                return try verifyInSnapshot(digest: digest, progressEvery: progressEvery, progress: progress)
            }
        }
    }

    private func verifyInSnapshot(digest: Digest?, progressEvery: Int64,
                                  progress: (Int64) -> Void) throws -> VerificationReport {
        var report = VerificationReport()
        var chain = VerificationCheck(name: "chain")
        var positions = VerificationCheck(name: "positions")
        var recorded = VerificationCheck(name: "recorded_at")
        var head = VerificationCheck(name: "head")
        var digestCheck = VerificationCheck(name: "digest")
        var streams = VerificationCheck(name: "streams")
        var firstBad: [String: Int64] = [:]
        func note(_ check: inout VerificationCheck, _ problem: String, at position: Int64) {
            if check.ok { firstBad[check.name] = position }
            check.add(problem)
        }

        var previous = ChainHash.genesis
        var expectedPosition: Int64 = 1
        var lastRecorded = Int64.min
        var digestSeen = false
        let digestMicros = digest.flatMap { $0.recordedAt.isEmpty ? nil : try? RFC3339.parse($0.recordedAt) }
            .map { Int64(($0.timeIntervalSince1970 * 1_000_000).rounded()) }
        var cases: [String: ChainCase] = [:]
        struct Stop: Error {}
        do {
            // Every stored event, whatever its position (a row below 1 was
            // put there outside the chain).
            try connection.forEachRow("SELECT \(EventStore.columns) FROM dtledger.events ORDER BY position",
                                      binary: true) { row in
                let event = StoredEvent(row: row)
                func fail(_ message: String) throws -> Never {
                    note(&chain, message, at: expectedPosition)
                    throw Stop()
                }
                if event.position < 1 {
                    note(&positions, "an event (\(event.id), case \(event.caseID)) is stored at position \(event.position): positions start at 1, so it was inserted outside the chain", at: event.position)
                    return
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
                        note(&digestCheck, "position \(event.position): its hash differs from the digest's: the ledger was rewritten from this point or earlier", at: event.position)
                        try fail("position \(event.position): its hash differs from the digest's: the ledger was rewritten from this point or earlier")
                    }
                }
                // Recording times: the digest's bounds first (the sharper
                // finding), then the order along the chain.
                if let digest, let digestMicros {
                    if event.position <= digest.position, event.recordedMicros > digestMicros {
                        note(&digestCheck, "position \(event.position) was recorded at \(RFC3339.format(RFC3339.date(microseconds: event.recordedMicros))), after the digest taken at position \(digest.position) (\(digest.recordedAt))", at: event.position)
                    } else if event.position > digest.position, event.recordedMicros < digestMicros {
                        note(&digestCheck, "position \(event.position) (event \(event.id), case \(event.caseID)) is recorded at \(RFC3339.format(RFC3339.date(microseconds: event.recordedMicros))), before the digest taken at position \(digest.position) (\(digest.recordedAt)): an event was forged after the digest with an older recording time", at: event.position)
                    }
                }
                if event.recordedMicros < lastRecorded {
                    note(&recorded, "position \(event.position) (event \(event.id), case \(event.caseID)) is recorded at \(RFC3339.format(RFC3339.date(microseconds: event.recordedMicros))), before position \(event.position - 1) (\(RFC3339.format(RFC3339.date(microseconds: lastRecorded)))): recording times go backwards", at: event.position)
                }
                lastRecorded = max(lastRecorded, event.recordedMicros)
                // The case's versions follow each other from 1.
                let expectedVersion = (cases[event.caseID]?.count ?? 0) + 1
                if event.version != expectedVersion {
                    note(&streams, "case \(event.caseID): position \(event.position) has version \(event.version) where the chain expects \(expectedVersion)", at: event.position)
                }
                if cases[event.caseID] == nil {
                    cases[event.caseID] = ChainCase(count: 1, openedType: event.type, openedMicros: event.occurredMicros,
                                                    lastPosition: event.position)
                } else {
                    cases[event.caseID]!.count += 1
                    cases[event.caseID]!.lastPosition = event.position
                }
                previous = computed
                report.eventsChecked += 1
                report.lastPosition = event.position
                report.lastHash = computedHex
                expectedPosition += 1
                if report.eventsChecked % progressEvery == 0 { progress(report.eventsChecked) }
            }
        } catch is Stop {
            // The rest of the rows were drained; the snapshot stays usable.
        }
        let chainComplete = chain.ok

        // The head row is the database's own record of the tip.
        if chainComplete {
            let tip = try self.digest()
            if tip.position != report.lastPosition || tip.hash != report.lastHash {
                note(&head, "the ledger's head records position \(tip.position) but the last stored event is at \(report.lastPosition): events were deleted from the end or the head was edited", at: report.lastPosition + 1)
            }
        }
        if let digest {
            if digest.position == 0 { digestSeen = digest.hash == ChainHash.hex(ChainHash.genesis) }
            if !digestSeen, chainComplete {
                note(&digestCheck, digest.position > report.lastPosition
                    ? "the digest was taken at position \(digest.position) but the ledger now ends at \(report.lastPosition): events were deleted from the end"
                    : "the digest's position \(digest.position) is not in the ledger", at: report.lastPosition + 1)
            }
        }
        // The streams table against the chain (only when the chain was read
        // whole: a broken chain is already the finding).
        if chainComplete { try checkStreams(cases, &streams) }

        report.checks = [chain, positions, head]
        if digest != nil { report.checks.append(digestCheck) }
        report.checks += [recorded, streams]
        report.checks.append(contentsOf: try SchemaCheck.run(connection))
        // The first problem: a broken chain first (it names a position),
        // then the checks in order.
        if let first = report.checks.first(where: { !$0.ok }) {
            report.problem = first.problems.first
            report.firstBadPosition = firstBad[first.name]
        }
        if digest != nil { report.digestMatched = digestSeen && report.ok }
        return report
    }

    /// Each case's row in `dtledger.streams` (version, opening type and
    /// time, last position) against the events: a row the chain does not
    /// back, a case of the chain without a row, or any value that differs is
    /// tampering with the table the appenders and the case lists read.
    private func checkStreams(_ cases: [String: ChainCase], _ check: inout VerificationCheck) throws {
        var seen = Set<String>(minimumCapacity: cases.count)
        try connection.forEachRow("""
            SELECT case_id, version, opened_type, (extract(epoch FROM opened_at) * 1000000)::bigint, last_position
              FROM dtledger.streams ORDER BY case_id
            """) { row in
            let caseID = row[0] ?? ""
            seen.insert(caseID)
            guard let chain = cases[caseID] else {
                check.add("case \(caseID): the streams table lists it, but the chain holds no event of it")
                return
            }
            var differences: [String] = []
            if row.int64(1) != chain.count {
                differences.append("version \(row[1] ?? "NULL") (the chain holds \(chain.count) events)")
            }
            if row[2] != chain.openedType { differences.append("opened_type '\(row[2] ?? "NULL")' (the chain: '\(chain.openedType)')") }
            if row.int64(3) != chain.openedMicros {
                differences.append("opened_at \(row.int64(3).map { RFC3339.format(RFC3339.date(microseconds: $0)) } ?? "NULL") (the chain: \(RFC3339.format(RFC3339.date(microseconds: chain.openedMicros))))")
            }
            if row.int64(4) != chain.lastPosition {
                differences.append("last_position \(row[4] ?? "NULL") (the chain: \(chain.lastPosition))")
            }
            if !differences.isEmpty {
                check.add("case \(caseID): the streams table records \(differences.joined(separator: ", ")): the table was edited")
            }
        }
        for caseID in cases.keys.sorted() where !seen.contains(caseID) {
            check.add("case \(caseID): the chain holds \(cases[caseID]!.count) events of it, but the streams table has no row for it: the row was deleted")
        }
    }
}
