import Compliance
import Events
import Foundation
import Ledger
import Postgres
import Domain

public enum ProjectionError: Error, Sendable, CustomStringConvertible {
    case busy
    case checkpointMoved(expected: Int64, found: Int64)

    public var description: String {
        switch self {
        case .busy: "another projector is running on this database (it holds the projector lock); try again when it stops"
        case .checkpointMoved(let e, let f): "the checkpoint moved under this projector (expected \(e), found \(f)); run again"
        }
    }
}

/// Keeps the read models (schema `dtledger_read`) current with the ledger:
/// a catch-up subscription over the global position. Each batch of events
/// is applied in one transaction together with the checkpoint, so a crash
/// never applies an event twice or skips one. One projector at a time (a
/// session advisory lock).
public final class Projector {
    /// One case's rows for a rebuild, encoded for binary COPY.
    struct Built: Sendable {
        var timeline = BinaryCopyRows()
        var cases = BinaryCopyRows()
        var obligations = BinaryCopyRows()
        var events: Int
        init(events: Int) { self.events = events }
    }

    public struct Progress: Sendable {
        public let applied: Int
        public let checkpoint: Int64
        public let head: Int64
    }

    public struct RunResult: Sendable {
        public var applied = 0
        public var casesEvaluated = 0
        public var checkpoint: Int64 = 0
    }

    public struct Status: Sendable {
        public let checkpoint: Int64
        public let head: Int64
        public let updatedAt: Date?
        public let cases: Int
        public var lag: Int64 { head - checkpoint }
    }

    static let lockKey = "7305447236402"
    public static let schema = "dtledger_read"

    let store: EventStore
    let connect: () throws -> Connection
    /// Events per transaction; nil adapts to the lag (500 to 10,000).
    let batchSize: Int?
    /// Test hook: SIGKILL this process after applying this many events of a
    /// run, inside the transaction, before its commit (DTLEDGER_FAULT_PROJECTOR_KILL_AT).
    let killAt: Int?

    /// - Parameters:
    ///   - connect: opens further connections (rebuild writes with COPY on its own).
    public init(store: EventStore, batchSize: Int? = nil, connect: @escaping () throws -> Connection) {
        self.store = store
        self.connect = connect
        self.batchSize = batchSize.map { max(1, $0) }
        self.killAt = ProcessInfo.processInfo.environment["DTLEDGER_FAULT_PROJECTOR_KILL_AT"].flatMap(Int.init)
    }

    /// A projector on its own connection to the database of `settings`.
    public convenience init(settings: DatabaseSettings, batchSize: Int? = nil) throws {
        let store = try EventStore(settings: settings)
        self.init(store: store, batchSize: batchSize) {
            do {
                return try Connection(conninfo: settings.conninfo, applicationName: "dtledger-projector")
            } catch {
                throw LedgerError.unavailable("\((error as? PostgresError)?.message ?? "could not connect") (from \(settings.origin): \(settings.redacted))")
            }
        }
    }

    var connection: Connection { store.connection }

    // MARK: Lock

    /// Takes the projector lock, or throws `busy` (wait: block until free).
    public func lock(wait: Bool) throws {
        if wait {
            try connection.query("SELECT pg_advisory_lock($1::bigint)", [Projector.lockKey])
        } else {
            guard try connection.query("SELECT pg_try_advisory_lock($1::bigint)", [Projector.lockKey]).scalar == "t" else {
                throw ProjectionError.busy
            }
        }
    }

    public func unlock() {
        _ = try? connection.query("SELECT pg_advisory_unlock($1::bigint)", [Projector.lockKey])
    }

    // MARK: Status

    public func status() throws -> Status {
        let head = try store.digest().position
        let row = try connection.query("SELECT position, (extract(epoch FROM updated_at) * 1000000)::bigint FROM \(Projector.schema).checkpoint WHERE name = 'projector'").row(0)
        let cases = Int(try connection.query("SELECT count(*) FROM \(Projector.schema).cases").scalar ?? "0") ?? 0
        return Status(checkpoint: row.int64(0) ?? 0, head: head,
                      updatedAt: row.int64(1).map { RFC3339.date(microseconds: $0) }, cases: cases)
    }

    // MARK: Run

    /// Applies every event after the checkpoint, batch by batch, then
    /// re-judges cases whose pending deadlines have passed. Call with the lock held.
    /// Events per batch: the fixed size, else a quarter of the lag within
    /// 500...10,000 — each batch re-reads the cases it touches, so a large
    /// backlog is cheaper in fewer, larger batches.
    func batchSize(lag: Int64) -> Int {
        batchSize ?? Int(min(10_000, max(500, lag / 4)))
    }

    public func catchUp(now: () -> Date = Date.init, shouldStop: () -> Bool = { false },
                        progress: (Progress) -> Void = { _ in }) throws -> RunResult {
        var result = RunResult()
        var checkpoint = try currentCheckpoint()
        var reference = try ReferenceData.load(store, through: checkpoint)
        let head = try store.digest().position
        while !shouldStop() {
            var batch: [StoredEvent] = []
            let size = batchSize(lag: max(0, try store.digest().position - checkpoint))
            try store.forEachEvent(after: checkpoint, limit: size) { batch.append($0) }
            guard let last = batch.last else { break }
            let expected = checkpoint
            try connection.transaction { c in
                let found = Int64(try c.query("SELECT position FROM \(Projector.schema).checkpoint WHERE name = 'projector' FOR UPDATE").scalar ?? "-1") ?? -1
                guard found == expected else { throw ProjectionError.checkpointMoved(expected: expected, found: found) }
                var touched = Set<String>()
                var referenceChanged = false
                for stored in batch {
                    if Catalog.referenceStreams.values.contains(stored.caseID) {
                        referenceChanged = true
                    } else {
                        touched.insert(stored.caseID)
                    }
                    result.applied += 1
                    if let killAt, result.applied == killAt {
                        try applyTimeline(touched, after: expected, through: last.position, reference: reference)
                        kill(getpid(), SIGKILL)
                    }
                }
                if referenceChanged {
                    reference = try ReferenceData.load(store, through: last.position)
                    // New rules or people can change every verdict.
                    touched.formUnion(try c.query("SELECT case_id FROM \(Projector.schema).cases").rows.compactMap { $0[0] })
                }
                try applyTimeline(touched, after: expected, through: last.position, reference: reference,
                                  rewrite: referenceChanged)
                result.casesEvaluated += try evaluate(touched, through: last.position, reference: reference, asOf: now())
                try c.query("UPDATE \(Projector.schema).checkpoint SET position = $1, ledger_hash = $2, updated_at = clock_timestamp() WHERE name = 'projector'",
                            [String(last.position), last.hash])
            }
            checkpoint = last.position
            result.checkpoint = checkpoint
            progress(Progress(applied: result.applied, checkpoint: checkpoint, head: max(head, checkpoint)))
        }
        result.checkpoint = checkpoint
        result.casesEvaluated += try refreshDue(now: now(), through: checkpoint, reference: reference)
        return result
    }

    /// Re-judges cases with a pending deadline that has passed (time, not
    /// events, changes their verdicts). Returns how many were re-judged.
    func refreshDue(now: Date, through: Int64, reference: ReferenceData) throws -> Int {
        let due = try connection.query("SELECT case_id FROM \(Projector.schema).cases WHERE next_deadline <= $1",
                                       [RFC3339.format(now)]).rows.compactMap { $0[0] }
        guard !due.isEmpty else { return 0 }
        return try connection.transaction { _ in
            try evaluate(Set(due), through: through, reference: reference, asOf: now)
        }
    }

    /// The earliest pending deadline of any case (when `--follow` should wake).
    public func nextDeadline() throws -> Date? {
        try connection.query("SELECT (extract(epoch FROM min(next_deadline)) * 1000000)::bigint FROM \(Projector.schema).cases")
            .row(0).int64(0).map { RFC3339.date(microseconds: $0) }
    }

    func currentCheckpoint() throws -> Int64 {
        Int64(try connection.query("SELECT position FROM \(Projector.schema).checkpoint WHERE name = 'projector'").scalar ?? "0") ?? 0
    }

    /// Adds the timeline rows of the events in (after, through] of `cases`
    /// (with COPY, inside the batch's transaction), and marks the rows of
    /// events those new events retract. Entries are built from the whole
    /// case, so summaries that depend on earlier events ("Priority changed
    /// P3 → P1") come out the same as in a rebuild. With `rewrite` (new
    /// reference data: roles may change), every row of the cases is written anew.
    func applyTimeline(_ cases: Set<String>, after: Int64, through: Int64, reference: ReferenceData,
                       rewrite: Bool = false) throws {
        var rows: [[String?]] = []
        var retracted: [String] = []
        var retractedIn: [String] = []
        for caseID in cases.sorted() {
            let events = try store.events(caseID: caseID, through: through)
            let entries = TimelineBuilder.entries(events: events, directories: reference.directories)
            for entry in entries where rewrite || (entry.position ?? 0) > after {
                rows.append(CaseRows.timelineRow(entry, caseID: caseID))
            }
            if !rewrite {
                let earlier = entries.filter { $0.retracted && ($0.position ?? 0) <= after }.compactMap(\.eventID)
                if !earlier.isEmpty {
                    retracted += earlier
                    retractedIn.append(caseID)
                }
            }
        }
        if rewrite, !cases.isEmpty {
            try connection.query("DELETE FROM \(Projector.schema).timeline WHERE case_id = ANY ($1::text[])",
                                 [PGText.array(cases.sorted())])
        }
        if !rows.isEmpty {
            let copy = try connection.beginCopyIn("COPY \(Projector.schema).timeline (\(CaseRows.timelineColumns)) FROM STDIN")
            do {
                for row in rows { try copy.append(row) }
                try copy.finish()
            } catch {
                copy.abort()
                throw error
            }
        }
        if !retracted.isEmpty {
            // By case first: the timeline's key is (case_id, position).
            try connection.query("UPDATE \(Projector.schema).timeline SET retracted = true WHERE case_id = ANY ($1::text[]) AND event_id = ANY ($2::uuid[]) AND NOT retracted",
                                 [PGText.array(retractedIn), PGText.array(retracted)])
        }
    }

    /// Re-judges `cases` and replaces their case and obligation rows.
    func evaluate(_ cases: Set<String>, through: Int64, reference: ReferenceData, asOf: Date) throws -> Int {
        let digest = Digest(position: through, hash: "", recordedAt: "")
        for caseID in cases.sorted() {
            let events = try store.events(caseID: caseID, through: through)
            let rows = Compliance.judge(caseID: caseID, events: events, reference: reference, digest: digest, asOf: asOf)
                .map { CaseRows(report: $0, events: events) }
                ?? CaseRows(unjudged: caseID, events: events, asOf: asOf)
            try connection.query("DELETE FROM \(Projector.schema).obligations WHERE case_id = $1", [caseID])
            try connection.query("DELETE FROM \(Projector.schema).cases WHERE case_id = $1", [caseID])
            try connection.query("INSERT INTO \(Projector.schema).cases (\(CaseRows.caseColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
                                 rows.caseRow)
            for row in rows.obligationRows {
                try connection.query("INSERT INTO \(Projector.schema).obligations (\(CaseRows.obligationColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text[], $9::text[], $10, $11, $12, $13)", row)
            }
        }
        return cases.count
    }

    // MARK: Follow

    /// Catches up, then waits for new events (LISTEN/NOTIFY, no polling) or
    /// the next pending deadline, until `shouldStop` says so.
    public func follow(now: @escaping () -> Date = Date.init, shouldStop: () -> Bool,
                       onBatch: (RunResult) -> Void) throws {
        try connection.execute("LISTEN dtledger_events")
        while !shouldStop() {
            let result = try catchUp(now: now, shouldStop: shouldStop)
            if result.applied > 0 || result.casesEvaluated > 0 { onBatch(result) }
            var timeout = 60.0
            if let next = try nextDeadline() { timeout = min(timeout, max(0.5, next.timeIntervalSince(now()) + 0.5)) }
            // Wake on a notification, a deadline, or every second to check shouldStop.
            var waited = 0.0
            while waited < timeout && !shouldStop() {
                if try connection.waitForNotification(timeout: min(1, timeout - waited)) != nil {
                    while try connection.waitForNotification(timeout: 0) != nil {}  // drain
                    break
                }
                waited += 1
            }
        }
    }

    // MARK: Rebuild

    /// One case's read-model rows, encoded for binary COPY (on a worker thread).
    static func build(caseID: String, events: [RecordedEvent], reference: ReferenceData, head: Digest,
                      now: Date) -> Built {
        // Each event's catalog data decoded once, for the timeline, the engine and the title.
        let decoded = decodeAll(events)
        var built = Built(events: events.count)
        for entry in TimelineBuilder.entries(events: events, decoded: decoded, directories: reference.directories) {
            CaseRows.writeTimeline(entry, caseID: caseID, to: &built.timeline)
        }
        let rows = Compliance.judge(caseID: caseID, events: events, decoded: decoded, reference: reference,
                                    digest: head, asOf: now)
            .map { CaseRows(report: $0, events: events, firstDecoded: .some(decoded.first ?? nil)) }
            ?? CaseRows(unjudged: caseID, events: events, asOf: now)
        rows.writeCase(to: &built.cases)
        rows.writeObligations(to: &built.obligations)
        return built
    }

    /// Rebuilds every read model from position 0 into a new schema, with
    /// COPY, and swaps it in atomically; readers keep the old read models
    /// until then. Call with the lock held.
    public func rebuild(now: Date = Date(), progress: (Int, Int) -> Void = { _, _ in }) throws -> RunResult {
        let next = "dtledger_read_next"
        try connection.execute("DROP SCHEMA IF EXISTS \(next) CASCADE")
        try connection.query("SELECT dtledger.create_read_models($1)", [next])
        let head = try store.digest()
        let reference = try ReferenceData.load(store, through: head.position)
        let caseIDs = try store.cases().map(\.caseID).filter { !Catalog.referenceStreams.values.contains($0) }

        let timelineConnection = try connect()
        let caseConnection = try connect()
        let obligationConnection = try connect()
        // Binary COPY: the server parses no timestamps, arrays or escapes.
        // Sent in the background: this thread goes on reading events while
        // the server takes each stream in.
        let timeline = try timelineConnection.beginBinaryCopyIn("COPY \(next).timeline (\(CaseRows.timelineColumns)) FROM STDIN",
                                                                 background: true)
        let cases = try caseConnection.beginBinaryCopyIn("COPY \(next).cases (\(CaseRows.caseColumns)) FROM STDIN",
                                                         background: true)
        let obligations = try obligationConnection.beginBinaryCopyIn("COPY \(next).obligations (\(CaseRows.obligationColumns)) FROM STDIN",
                                                                     background: true)
        var result = RunResult()
        do {
            var done = 0
            // Each case's rows are built, already encoded, on worker threads
            // while this one reads the next cases; they are written here, in
            // the order read.
            let building = OrderedWork<(String, [StoredEvent]), Result<Built, any Error>>(threads: Compliance.workerThreads(reserve: 0)) { caseID, stored in
                Result { Self.build(caseID: caseID, events: try stored.map { try $0.decoded() },
                                        reference: reference, head: head, now: now) }
            }
            func write(_ outcome: Result<Built, any Error>) throws {
                let built = try outcome.get()
                try timeline.append(binary: built.timeline)
                try cases.append(binary: built.cases)
                try obligations.append(binary: built.obligations)
                result.applied += built.events
                done += 1
                if done % 100 == 0 || done == caseIDs.count { progress(done, caseIDs.count) }
            }
            // In case id order, not in one pass (`forEachCaseInOnePass`):
            // rows then reach the read models' case-keyed indexes in key
            // order, which PostgreSQL appends at the right edge (measured:
            // 3.30 s against 3.47 s at 200k events).
            try store.forEachCaseUndecoded(caseIDs, through: head.position, forJudging: true) { caseID, stored in
                try building.submit((caseID, stored), write)
            }
            try building.finish(write)
            try timeline.finish()
            try cases.finish()
            try obligations.finish()
        } catch {
            timeline.abort(); cases.abort(); obligations.abort()
            throw error
        }
        result.casesEvaluated = caseIDs.count
        // Reference events are applied too: the checkpoint is the head.
        try connection.transaction { c in
            try c.query("UPDATE \(next).checkpoint SET position = $1, ledger_hash = $2, updated_at = clock_timestamp() WHERE name = 'projector'",
                        [String(head.position), head.hash])
            try c.execute("DROP SCHEMA IF EXISTS \(Projector.schema) CASCADE")
            try c.execute("ALTER SCHEMA \(next) RENAME TO \(Projector.schema)")
        }
        result.checkpoint = head.position
        return result
    }
}
