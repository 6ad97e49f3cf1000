import Compliance
import Events
import Foundation
import Ledger
import Postgres
import Domain

/// The errors of the projector.
public struct ProjectionError: LayerError {
    public typealias Code = ErrorCode<ProjectionError>
    public let code: Code
    public let message: String

    public static var busy: ProjectionError {
        ProjectionError(code: .busy, message: "another projector is running on this database (it holds the projector lock); try again when it stops")
    }

    public static func checkpointMoved(expected: Int64, found: Int64) -> ProjectionError {
        ProjectionError(code: .checkpointMoved, message: "the checkpoint moved under this projector (expected \(expected), found \(found)); run again")
    }
}

extension ErrorCode where Layer == ProjectionError {
    /// Another projector holds the projector lock.
    public static var busy: Self { Self(rawValue: "busy") }
    /// The checkpoint is not where this projector left it.
    public static var checkpointMoved: Self { Self(rawValue: "checkpoint_moved") }
}

/// Keeps the read models (schema `dtledger_read`) current with the ledger:
/// a catch-up subscription over the global position. Each batch of events
/// is applied in one transaction together with the checkpoint, so a crash
/// never applies an event twice or skips one. One projector at a time (a
/// session advisory lock). This is the run loop (`catchUp`, `follow`,
/// `rebuild`): the rows come from `RowBuilder` (pure) and are written by
/// `ReadModelStore` (all the read models' SQL).
public final class Projector {
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

    public static var schema: String { ReadModelStore.schema }

    let store: EventStore
    let readModels: ReadModelStore
    let connect: () throws -> Connection
    /// Events per transaction; nil adapts to the lag (500 to 10,000).
    let batchSize: Int?

    /// - Parameters:
    ///   - connect: opens further connections (rebuild writes with COPY on its own).
    public init(store: EventStore, batchSize: Int? = nil, connect: @escaping () throws -> Connection) {
        self.store = store
        self.readModels = ReadModelStore(connection: store.connection)
        self.connect = connect
        self.batchSize = batchSize.map { max(1, $0) }
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

    // MARK: Lock

    /// Takes the projector lock, or throws `busy` (wait: block until free).
    public func lock(wait: Bool) throws {
        try readModels.lock(wait: wait)
    }

    public func unlock() {
        readModels.unlock()
    }

    // MARK: Status

    public func status() throws -> Status {
        let head = try store.digest().position
        let checkpoint = try readModels.checkpointAndUpdate()
        return Status(checkpoint: checkpoint.position, head: head,
                      updatedAt: checkpoint.updatedAt.map { RFC3339.date(microseconds: $0) }, cases: try readModels.caseCount())
    }

    // MARK: Run

    /// Events per batch: the fixed size, else a quarter of the lag within
    /// 500...10,000 — each batch re-reads the cases it touches, so a large
    /// backlog is cheaper in fewer, larger batches.
    func batchSize(lag: Int64) -> Int {
        batchSize ?? Int(min(10_000, max(500, lag / 4)))
    }

    /// Applies every event after the checkpoint, batch by batch, then
    /// re-judges cases whose pending deadlines have passed. Call with the lock held.
    public func catchUp(now: () -> Date = Date.init, shouldStop: () -> Bool = { false },
                        progress: (Progress) -> Void = { _ in }) throws -> RunResult {
        var result = RunResult()
        var checkpoint = try readModels.checkpoint()
        var reference = try ReferenceData.load(store, through: checkpoint)
        let head = try store.digest().position
        while !shouldStop() {
            var batch: [StoredEvent] = []
            let size = batchSize(lag: max(0, try store.digest().position - checkpoint))
            try store.forEachEvent(after: checkpoint, limit: size) { batch.append($0) }
            guard let last = batch.last else { break }
            let expected = checkpoint
            try readModels.transaction {
                try readModels.lockCheckpoint(expected: expected)
                var touched = Set<String>()
                var referenceChanged = false
                for stored in batch {
                    if Catalog.referenceStreams.values.contains(stored.caseID) {
                        referenceChanged = true
                    } else {
                        touched.insert(stored.caseID)
                    }
                }
                if referenceChanged {
                    reference = try ReferenceData.load(store, through: last.position)
                    // New rules or people can change every verdict.
                    touched.formUnion(try readModels.caseIDs())
                }
                try applyTimeline(touched, after: expected, through: last.position, reference: reference,
                                  rewrite: referenceChanged)
                result.casesEvaluated += try evaluate(touched, through: last.position, reference: reference, asOf: now())
                try readModels.setCheckpoint(last.position, hash: last.hash)
            }
            result.applied += batch.count
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
        let due = try readModels.casesDue(at: now)
        guard !due.isEmpty else { return 0 }
        return try readModels.transaction {
            try evaluate(Set(due), through: through, reference: reference, asOf: now)
        }
    }

    /// The earliest pending deadline of any case (when `--follow` should wake).
    public func nextDeadline() throws -> Date? {
        try readModels.nextDeadline()
    }

    /// Writes the timeline rows of the events in (after, through] of `cases`
    /// (inside the batch's transaction) and marks the rows of events those
    /// new events retract; with `rewrite` (new reference data: roles may
    /// change), every row of the cases anew.
    func applyTimeline(_ cases: Set<String>, after: Int64, through: Int64, reference: ReferenceData,
                       rewrite: Bool = false) throws {
        var rows: [[String?]] = []
        var retracted: [String] = []
        var retractedIn: [String] = []
        for caseID in cases.sorted() {
            let built = RowBuilder.timeline(caseID: caseID, events: try store.events(caseID: caseID, through: through),
                                            reference: reference, after: after, rewrite: rewrite)
            rows += built.rows
            if !built.retracted.isEmpty {
                retracted += built.retracted
                retractedIn.append(caseID)
            }
        }
        if rewrite, !cases.isEmpty { try readModels.deleteTimeline(of: cases.sorted()) }
        try readModels.appendTimeline(rows)
        try readModels.markRetracted(retracted, inCases: retractedIn)
    }

    /// Re-judges `cases` and replaces their case and obligation rows.
    func evaluate(_ cases: Set<String>, through: Int64, reference: ReferenceData, asOf: Date) throws -> Int {
        for caseID in cases.sorted() {
            let events = try store.events(caseID: caseID, through: through)
            try readModels.replaceCase(RowBuilder.caseRows(caseID: caseID, events: events, reference: reference,
                                                           through: through, asOf: asOf))
        }
        return cases.count
    }

    // MARK: Follow

    /// Catches up, then waits for new events (LISTEN/NOTIFY, no polling) or
    /// the next pending deadline, until `shouldStop` says so.
    public func follow(now: @escaping () -> Date = Date.init, shouldStop: () -> Bool,
                       onBatch: (RunResult) -> Void) throws {
        try readModels.listen()
        while !shouldStop() {
            let result = try catchUp(now: now, shouldStop: shouldStop)
            if result.applied > 0 || result.casesEvaluated > 0 { onBatch(result) }
            var timeout = 60.0
            if let next = try nextDeadline() { timeout = min(timeout, max(0.5, next.timeIntervalSince(now()) + 0.5)) }
            // Wake on a notification, a deadline, or every second to check shouldStop.
            var waited = 0.0
            while waited < timeout && !shouldStop() {
                if try readModels.waitForEvents(timeout: min(1, timeout - waited)) { break }
                waited += 1
            }
        }
    }

    // MARK: Rebuild

    /// Rebuilds every read model from position 0 into a new schema, with
    /// COPY, and swaps it in atomically; readers keep the old read models
    /// until then. Call with the lock held.
    public func rebuild(now: Date = Date(), progress: (Int, Int) -> Void = { _, _ in }) throws -> RunResult {
        try readModels.createNextSchema()
        let head = try store.digest()
        let reference = try ReferenceData.load(store, through: head.position)
        let caseIDs = try store.cases().map(\.caseID).filter { !Catalog.referenceStreams.values.contains($0) }
        let (timeline, cases, obligations) = try ReadModelStore.beginRebuildCopies(connect: connect)
        var result = RunResult()
        do {
            var done = 0
            // Each case's rows are built, already encoded, on worker threads
            // while this one reads the next cases; they are written here, in
            // the order read.
            let building = OrderedWork<(String, [StoredEvent]), Result<RowBuilder.Built, any Error>>(threads: Compliance.workerThreads(reserve: 0)) { caseID, stored in
                // An event whose stored JSON cannot be parsed is passed over
                // (compliance reports list it), so one bad write cannot stop a rebuild.
                Result { RowBuilder.build(caseID: caseID, events: stored.compactMap { try? $0.decoded() },
                                          reference: reference, head: head, now: now) }
            }
            func write(_ outcome: Result<RowBuilder.Built, any Error>) throws {
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
            // order, which PostgreSQL appends at their right edge
            // (docs/benchmarks.md).
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
        try readModels.swapInNext(head: head)
        result.checkpoint = head.position
        return result
    }
}
