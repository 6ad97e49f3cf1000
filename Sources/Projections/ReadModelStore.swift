import Events
import Foundation
import Ledger
import Postgres

/// The read models' side of the database: every statement the projector
/// runs against schema `dtledger_read` (the tables come from migration
/// 0003's `dtledger.create_read_models`): the projector lock, the
/// checkpoint, rows in and out, and a rebuild's schema swap. It decides
/// nothing: what to write comes from `RowBuilder`, when from `Projector`.
final class ReadModelStore {
    static let schema = "dtledger_read"
    /// Where a rebuild builds the read models before swapping them in.
    static let nextSchema = "dtledger_read_next"
    /// The session advisory lock one projector at a time holds.
    static let lockKey = "7305447236402"

    let connection: Connection

    init(connection: Connection) { self.connection = connection }

    // MARK: Lock

    /// Takes the projector lock, or throws `busy` (wait: block until free).
    func lock(wait: Bool) throws {
        if wait {
            try connection.query("SELECT pg_advisory_lock($1::bigint)", [Self.lockKey])
        } else {
            guard try connection.query("SELECT pg_try_advisory_lock($1::bigint)", [Self.lockKey]).scalar == "t" else {
                throw ProjectionError.busy
            }
        }
    }

    func unlock() {
        _ = try? connection.query("SELECT pg_advisory_unlock($1::bigint)", [Self.lockKey])
    }

    /// Runs `body` in one transaction on this store's connection.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try connection.transaction { _ in try body() }
    }

    // MARK: Checkpoint and status

    func checkpoint() throws -> Int64 {
        Int64(try connection.query("SELECT position FROM \(Self.schema).checkpoint WHERE name = 'projector'").scalar ?? "0") ?? 0
    }

    /// The checkpoint and when it was last moved (microseconds since 1970).
    func checkpointAndUpdate() throws -> (position: Int64, updatedAt: Int64?) {
        let row = try connection.query("SELECT position, (extract(epoch FROM updated_at) * 1000000)::bigint FROM \(Self.schema).checkpoint WHERE name = 'projector'").row(0)
        return (row.int64(0) ?? 0, row.int64(1))
    }

    /// Inside a batch's transaction: locks the checkpoint row, and throws
    /// `checkpointMoved` unless it is still at `expected`.
    func lockCheckpoint(expected: Int64) throws {
        let found = Int64(try connection.query("SELECT position FROM \(Self.schema).checkpoint WHERE name = 'projector' FOR UPDATE").scalar ?? "-1") ?? -1
        guard found == expected else { throw ProjectionError.checkpointMoved(expected: expected, found: found) }
    }

    func setCheckpoint(_ position: Int64, hash: String, schema: String = ReadModelStore.schema) throws {
        try connection.query("UPDATE \(schema).checkpoint SET position = $1, ledger_hash = $2, updated_at = clock_timestamp() WHERE name = 'projector'",
                             [String(position), hash])
    }

    func caseCount() throws -> Int {
        Int(try connection.query("SELECT count(*) FROM \(Self.schema).cases").scalar ?? "0") ?? 0
    }

    func caseIDs() throws -> [String] {
        try connection.query("SELECT case_id FROM \(Self.schema).cases").rows.compactMap { $0[0] }
    }

    /// Cases with a pending deadline at or before `now`.
    func casesDue(at now: Date) throws -> [String] {
        try connection.query("SELECT case_id FROM \(Self.schema).cases WHERE next_deadline <= $1",
                             [RFC3339.format(now)]).rows.compactMap { $0[0] }
    }

    /// The earliest pending deadline of any case.
    func nextDeadline() throws -> Date? {
        try connection.query("SELECT (extract(epoch FROM min(next_deadline)) * 1000000)::bigint FROM \(Self.schema).cases")
            .row(0).int64(0).map { RFC3339.date(microseconds: $0) }
    }

    // MARK: Rows (projections run)

    /// Deletes every timeline row of `cases` (before they are written anew).
    func deleteTimeline(of cases: [String]) throws {
        try connection.query("DELETE FROM \(Self.schema).timeline WHERE case_id = ANY ($1::text[])", [PGText.array(cases)])
    }

    /// Adds timeline rows (text fields, in `CaseRows.timelineColumns` order) with COPY.
    func appendTimeline(_ rows: [[String?]]) throws {
        guard !rows.isEmpty else { return }
        let copy = try connection.beginCopyIn("COPY \(Self.schema).timeline (\(CaseRows.timelineColumns)) FROM STDIN")
        do {
            for row in rows { try copy.append(row) }
            try copy.finish()
        } catch {
            copy.abort()
            throw error
        }
    }

    /// Marks the timeline rows of `eventIDs`, events of `cases`, retracted.
    func markRetracted(_ eventIDs: [String], inCases cases: [String]) throws {
        guard !eventIDs.isEmpty else { return }
        // By case first: the timeline's key is (case_id, position).
        try connection.query("UPDATE \(Self.schema).timeline SET retracted = true WHERE case_id = ANY ($1::text[]) AND event_id = ANY ($2::uuid[]) AND NOT retracted",
                             [PGText.array(cases), PGText.array(eventIDs)])
    }

    /// Replaces a case's case row and obligation rows.
    func replaceCase(_ rows: CaseRows) throws {
        let caseID = rows.values.caseID
        // A read model built before migration 0013 and not migrated yet
        // gets the columns it has (the first 18 and 13).
        let full = try hasLevelColumns()
        func placeholders(_ count: Int, arrays: Set<Int>) -> String {
            (1...count).map { "$\($0)" + (arrays.contains($0) ? "::text[]" : "") }.joined(separator: ", ")
        }
        try connection.query("DELETE FROM \(Self.schema).obligations WHERE case_id = $1", [caseID])
        try connection.query("DELETE FROM \(Self.schema).cases WHERE case_id = $1", [caseID])
        let caseRow = full ? rows.caseRow : Array(rows.caseRow.prefix(18))
        try connection.query("INSERT INTO \(Self.schema).cases (\(full ? CaseRows.caseColumns : CaseRows.caseColumnsBefore0013)) VALUES (\(placeholders(caseRow.count, arrays: [23])))",
                             caseRow)
        for row in rows.obligationRows {
            let row = full ? row : Array(row.prefix(13))
            try connection.query("INSERT INTO \(Self.schema).obligations (\(full ? CaseRows.obligationColumns : CaseRows.obligationColumnsBefore0013)) VALUES (\(placeholders(row.count, arrays: [8, 9])))", row)
        }
    }

    /// Whether the live read models have migration 0013's columns (levels,
    /// several policies); once they have, they keep them (a rebuild creates
    /// them with every column).
    private var levelColumns = false

    private func hasLevelColumns() throws -> Bool {
        if levelColumns { return true }
        levelColumns = try connection.query("SELECT count(*) FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'cases' AND column_name = 'policies'",
                                            [Self.schema]).scalar == "1"
        return levelColumns
    }

    // MARK: Follow

    func listen() throws {
        try connection.execute("LISTEN dtledger_events")
    }

    /// Waits up to `timeout` seconds for an appended event's notification;
    /// true when one came (and drains the others).
    func waitForEvents(timeout: Double) throws -> Bool {
        guard try connection.waitForNotification(timeout: timeout) != nil else { return false }
        while try connection.waitForNotification(timeout: 0) != nil {}
        return true
    }

    // MARK: Rebuild

    /// A new, empty `nextSchema` (any left by an interrupted rebuild dropped).
    func createNextSchema() throws {
        try connection.execute("DROP SCHEMA IF EXISTS \(Self.nextSchema) CASCADE")
        try connection.query("SELECT dtledger.create_read_models($1)", [Self.nextSchema])
    }

    /// Binary COPY streams into `nextSchema`'s three tables, each on a
    /// connection of its own from `connect` and sent in the background (the
    /// server parses no timestamps, arrays or escapes, and the caller goes
    /// on reading events while the server takes each stream in).
    static func beginRebuildCopies(connect: () throws -> Connection) throws
        -> (timeline: CopyIn, cases: CopyIn, obligations: CopyIn) {
        let timelineConnection = try connect()
        let caseConnection = try connect()
        let obligationConnection = try connect()
        let timeline = try timelineConnection.beginBinaryCopyIn("COPY \(nextSchema).timeline (\(CaseRows.timelineColumns)) FROM STDIN",
                                                                 background: true)
        let cases = try caseConnection.beginBinaryCopyIn("COPY \(nextSchema).cases (\(CaseRows.caseColumns)) FROM STDIN",
                                                         background: true)
        let obligations = try obligationConnection.beginBinaryCopyIn("COPY \(nextSchema).obligations (\(CaseRows.obligationColumns)) FROM STDIN",
                                                                     background: true)
        return (timeline, cases, obligations)
    }

    /// Sets `nextSchema`'s checkpoint to `head` and swaps it in for the
    /// read models, in one transaction: readers see the old ones until then.
    func swapInNext(head: Digest) throws {
        try transaction {
            try setCheckpoint(head.position, hash: head.hash, schema: Self.nextSchema)
            try connection.execute("DROP SCHEMA IF EXISTS \(Self.schema) CASCADE")
            try connection.execute("ALTER SCHEMA \(Self.nextSchema) RENAME TO \(Self.schema)")
        }
    }
}
