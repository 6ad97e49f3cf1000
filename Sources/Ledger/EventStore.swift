import Events
import Foundation
import Postgres

/// What the appender expects the case's version to be.
public enum ExpectedVersion: Sendable, Equatable, CustomStringConvertible {
    /// Append whatever the version is.
    case any
    /// The case must not exist yet.
    case none
    /// The case must be at exactly this version.
    case exact(Int64)

    /// Parses `any`, `none` or a number.
    public init?(_ text: String) {
        switch text {
        case "any": self = .any
        case "none": self = .none
        default:
            guard let n = Int64(text), n >= 0 else { return nil }
            self = n == 0 ? .none : .exact(n)
        }
    }

    var parameter: String? {
        switch self {
        case .any: nil
        case .none: "0"
        case .exact(let n): String(n)
        }
    }

    public var description: String {
        switch self {
        case .any: "any"
        case .none: "none"
        case .exact(let n): String(n)
        }
    }
}

/// The stored result of appending one event.
public struct AppendResult: Sendable, Equatable {
    public let id: String
    public let position: Int64
    public let version: Int64
    public let hash: String
    public let recordedAt: Date
    /// True when the key was already in the ledger: nothing was appended and
    /// this is the original event.
    public let duplicate: Bool
}

/// Which batch of `appendMany` failed, and why (a `LedgerError` for the
/// database's refusals), and which event of the batch (1-based) when the
/// database named it.
public struct BatchFailure: Error {
    public let index: Int
    public let error: any Error
    public let item: Int?
}

/// What one batch of `appendMany` did.
public struct BatchSummary: Sendable, Equatable {
    /// Events appended.
    public let appended: Int64
    /// Events whose key was already stored (or came earlier in the batch):
    /// nothing appended for them.
    public let duplicates: Int64
    /// Positions of the appended events (nil when none was).
    public let firstPosition: Int64?
    public let lastPosition: Int64?
}

/// The tip of the chain, to be kept outside the database.
public struct Digest: Sendable, Equatable, Codable {
    public let position: Int64
    public let hash: String
    public let recordedAt: String

    enum CodingKeys: String, CodingKey {
        case position, hash
        case recordedAt = "recorded_at"
    }

    public init(position: Int64, hash: String, recordedAt: String) {
        self.position = position
        self.hash = hash
        self.recordedAt = recordedAt
    }

    public var json: JSONValue {
        .object(["position": .int(position), "hash": .string(hash), "recorded_at": .string(recordedAt)])
    }

    /// Reads a digest written by `dtledger digest`.
    public static func parse(_ text: String) throws(ValidationError) -> Digest {
        let value: JSONValue
        do { value = try JSONValue.parse(text) } catch {
            throw ValidationError(field: "digest", error.description)
        }
        guard let position = value["position"]?.intValue, position >= 0 else {
            throw ValidationError(field: "digest.position", "required: a whole number")
        }
        guard let hash = value["hash"]?.stringValue, hash.utf8.count == 64, ChainHash.bytes(hex: hash) != nil else {
            throw ValidationError(field: "digest.hash", "required: 64 hexadecimal digits")
        }
        return Digest(position: position, hash: hash.lowercased(), recordedAt: value["recorded_at"]?.stringValue ?? "")
    }
}

/// The event store over one connection: append, read, digest, verify.
/// Not Sendable (it owns a libpq connection): one per task or thread.
public final class EventStore {
    public let connection: Connection
    public let toolVersion: String
    /// Whether `dtledger_append` and `dtledger_append_many` are prepared on
    /// this connection, and how many single appends it made.
    var appendPrepared = false
    var appendManyPrepared = false
    var appends = 0

    public init(connection: Connection, toolVersion: String = DTLedgerVersion.current) {
        self.connection = connection
        self.toolVersion = toolVersion
    }

    /// Connects to the database of `settings`.
    public convenience init(settings: DatabaseSettings, toolVersion: String = DTLedgerVersion.current) throws {
        let connection: Connection
        do {
            connection = try Connection(conninfo: settings.conninfo, applicationName: "dtledger")
        } catch {
            throw LedgerError.unavailable("\(error.message) (from \(settings.origin): \(settings.redacted))")
        }
        self.init(connection: connection, toolVersion: toolVersion)
    }

    // MARK: Append

    /// Appends `events` to one case atomically (all or none).
    /// - Parameters:
    ///   - expected: the case version the caller expects.
    ///   - openingTypes: when the case does not exist yet, its first new
    ///     event must be one of these (nil: no check).
    ///   - metadata: extra metadata per event (same count as `events`), e.g.
    ///     an importer's payload hash; the ledger adds its own keys.
    public func append(caseID: String, events: [Envelope], expected: ExpectedVersion = .any,
                       openingTypes: [String]? = nil, metadata: [JSONValue]? = nil) throws -> [AppendResult] {
        precondition(metadata == nil || metadata!.count == events.count)
        let parameters = EventStore.parameters(caseID: caseID, events: events, expected: expected,
                                               openingTypes: openingTypes, metadata: metadata,
                                               toolVersion: toolVersion)
        let sql = """
            SELECT event_id, event_position, event_version, event_hash,
                   (extract(epoch FROM event_recorded_at) * 1000000)::bigint, duplicate
              FROM dtledger.append($1, $2::bigint, $3::jsonb, $4::text[], $5)
            """
        return try mapped {
            // A store that appends more than once prepares the statement (no
            // parse and plan per append); a one-shot append skips the extra
            // round trip of preparing.
            defer { appends += 1 }
            if appends == 0 { return EventStore.results(try connection.query(sql, parameters)) }
            if !appendPrepared {
                try connection.prepare("dtledger_append", sql)
                appendPrepared = true
            }
            return EventStore.results(try connection.queryPrepared("dtledger_append", parameters))
        }
    }

    /// Appends a stream of batches, each of events of any cases in any
    /// order, with `dtledger.append_many` (`Migrations/functions/0009_append_many.sql`): set-based on the
    /// server, pipelined from here (the next batch is built while the server
    /// appends the previous ones). Same chain, order, key and "case never
    /// opened" rules as `append`; no expected version. A key repeated in one
    /// batch for the same case and type is a replay of its first occurrence.
    /// `next` returns the next batch, or nil at the end. Call it inside
    /// `atomically` for all or nothing: the first failure stops the rest and
    /// is thrown as `BatchFailure` naming the batch and, for the database's
    /// refusals, the event in it; an error thrown by `next` is rethrown as is.
    public func appendMany(openingTypes: [String]? = nil, window: Int = 3,
                           next: () throws -> [Envelope]?,
                           onBatch: (Int, BatchSummary) throws -> Void) throws {
        if !appendManyPrepared {
            try mapped {
                try connection.prepare("dtledger_append_many", """
                    SELECT appended, duplicates, first_position, last_position
                      FROM dtledger.append_many($1::jsonb, $2::text[], $3)
                    """)
            }
            appendManyPrepared = true
        }
        let opening = openingTypes.map(PGText.array)
        do {
            try connection.pipelinePrepared("dtledger_append_many", window: window, next: {
                guard let batch = try next() else { return nil }
                precondition(!batch.isEmpty, "a batch holds at least one event")
                return [EventStore.manyParameter(batch), opening, toolVersion]
            }, result: { index, result in
                let row = result.row(0)
                try onBatch(index, BatchSummary(appended: row.int64(0)!, duplicates: row.int64(1)!,
                                                firstPosition: row.int64(2), lastPosition: row.int64(3)))
            })
        } catch let failure as PipelineFailure {
            guard let database = failure.error as? PostgresError else { throw failure.error }
            throw BatchFailure(index: failure.index, error: LedgerError.from(database),
                               item: EventStore.item(detail: database.detail))
        }
    }

    /// The 1-based item a refusal of `append_many` names in its DETAIL.
    static func item(detail: String?) -> Int? {
        guard let detail, detail.hasPrefix("item ") else { return nil }
        return Int(detail.dropFirst(5))
    }

    /// `append_many`'s JSON array: each envelope with its case.
    static func manyParameter(_ events: [Envelope]) -> String {
        JSONValue.array(events.map { appendObject($0, withCase: true) }).jsonText()
    }

    /// One event as the append functions read it: type, occurred_at, actor,
    /// source, key (when given), data, metadata (when given), and the case
    /// for `append_many`.
    static func appendObject(_ event: Envelope, withCase: Bool, metadata: JSONValue? = nil) -> JSONValue {
        var o: [String: JSONValue] = [
            "type": .string(event.type),
            "occurred_at": .string(RFC3339.format(event.occurredAt)),
            "actor": .string(event.actor),
            "source": .string(event.source.rawValue),
            "data": event.data,
        ]
        if withCase { o["case"] = .string(event.caseID) }
        if let key = event.key { o["key"] = .string(key) }
        if let metadata { o["metadata"] = metadata }
        return .object(o)
    }

    static func results(_ result: QueryResult) -> [AppendResult] {
        result.rows.map { row in
            AppendResult(id: row[0]!, position: row.int64(1)!, version: row.int64(2)!, hash: row[3]!,
                         recordedAt: RFC3339.date(microseconds: row.int64(4)!), duplicate: row.bool(5)!)
        }
    }

    static func parameters<C: Collection<Envelope>>(caseID: String, events: C, expected: ExpectedVersion,
                                                    openingTypes: [String]?, metadata: [JSONValue]?,
                                                    toolVersion: String) -> [String?] {
        var batch: [JSONValue] = []
        batch.reserveCapacity(events.count)
        for (index, event) in events.enumerated() {
            precondition(event.caseID == caseID, "a batch holds events of one case")
            batch.append(appendObject(event, withCase: false, metadata: metadata?[index]))
        }
        return [
            caseID, expected.parameter, JSONValue.array(batch).jsonText(),
            openingTypes.map(PGText.array), toolVersion,
        ]
    }

    /// Runs `body` in one transaction: every append in it lands, or none does.
    public func atomically<T>(_ body: () throws -> T) throws -> T {
        try mapped { try connection.transaction { _ in try body() } }
    }

    // MARK: Read

    /// The columns `StoredEvent(row:)` reads, in binary format
    /// (`forEachRow(..., binary: true)`): position, id, version and the two
    /// times travel as their binary values, which the server sends as they
    /// are stored (formatting them as text was about a third of the server's
    /// time for a read); the JSON and the hashes as text.
    static let columns = """
        position, id, case_id, version, type, occurred_at, recorded_at,
        actor, source, idempotency_key, data::text, metadata::text,
        encode(previous_hash, 'hex'), encode(hash, 'hex')
        """

    /// `columns` in the same order, without what judging never reads. The
    /// rule engine reads the source, the login that appended each event
    /// (`metadata.db_role`) and any import signature claim (for email, the
    /// DKIM results and signer that `Provenance` reports): the metadata is
    /// cut down to those (the common case written as text, not built as
    /// jsonb: about 0.6 µs a row on the server, against 0.85 µs).
    static let judgingColumns = """
        position, id, case_id, version, type, occurred_at, recorded_at,
        actor, source, NULL::text, data::text,
        (CASE WHEN metadata ? 'import' AND source = 'email'
              THEN jsonb_build_object('db_role', metadata->'db_role', 'import',
                   jsonb_strip_nulls(jsonb_build_object('signature_verified', metadata->'import'->'signature_verified',
                                     'dkim', metadata->'import'->'dkim', 'dkim_domain', metadata->'import'->'dkim_domain',
                                     'dkim_selector', metadata->'import'->'dkim_selector')))::text
              WHEN metadata ? 'import'
              THEN jsonb_build_object('db_role', metadata->'db_role', 'import',
                   jsonb_build_object('signature_verified', metadata->'import'->'signature_verified'))::text
              ELSE '{"db_role":' || coalesce((metadata->'db_role')::text, 'null') || '}' END),
        ''::text, ''::text
        """

    /// Streams stored events in position order (single-row reads, flat
    /// memory): every event after `after`, of one case or of all.
    public func forEachEvent(caseID: String? = nil, after: Int64 = 0, through: Int64? = nil, limit: Int? = nil,
                             _ body: (StoredEvent) throws -> Void) throws {
        var sql = "SELECT \(EventStore.columns) FROM dtledger.events WHERE position > $1"
        var parameters: [String?] = [String(after)]
        if let caseID {
            parameters.append(caseID)
            sql += " AND case_id = $\(parameters.count)"
        }
        if let through {
            parameters.append(String(through))
            sql += " AND position <= $\(parameters.count)"
        }
        sql += " ORDER BY position"
        if let limit { sql += " LIMIT \(limit)" }
        try mapped {
            try connection.forEachRow(sql, parameters, binary: true) { row in try body(StoredEvent(row: row)) }
        }
    }

    /// All events of one case, decoded, in version order (up to `through`).
    public func events(caseID: String, through: Int64? = nil) throws -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        try forEachEvent(caseID: caseID, through: through) { events.append(try $0.decoded()) }
        return events
    }

    /// Streams the events of several cases, case by case (each in version
    /// order), up to `through`: one query, one pass. With `forJudging`, each
    /// event's idempotency key and hashes are left empty (nil, `""`) and its
    /// metadata holds only `db_role` and `import.signature_verified`: for
    /// callers that judge cases (the rule engine binds actors to logins;
    /// compliance reports and the read models read nothing else of them;
    /// review reports and `read` do).
    public func forEachCase(_ caseIDs: [String], through: Int64, forJudging: Bool = false,
                            _ body: (String, [RecordedEvent]) throws -> Void) throws {
        try forEachCaseUndecoded(caseIDs, through: through, forJudging: forJudging) { caseID, stored in
            try body(caseID, try stored.map { try $0.decoded() })
        }
    }

    /// `forEachCase` with each event as read, its JSON not yet parsed, so a
    /// caller can parse it on another thread (`StoredEvent.decoded()`).
    public func forEachCaseUndecoded(_ caseIDs: [String], through: Int64, forJudging: Bool = false,
                                     _ body: (String, [StoredEvent]) throws -> Void) throws {
        guard !caseIDs.isEmpty else { return }
        var current: String?
        var events: [StoredEvent] = []
        let columns = forJudging ? EventStore.judgingColumns : EventStore.columns
        try mapped {
            try connection.forEachRow("""
                SELECT \(columns) FROM dtledger.events
                 WHERE case_id = ANY ($1::text[]) AND position <= $2
                 ORDER BY case_id, version
                """, [PGText.array(caseIDs), String(through)], binary: true) { row in
                let event = StoredEvent(row: row)
                if event.caseID != current {
                    if let current { try body(current, events) }
                    current = event.caseID
                    events = []
                    events.reserveCapacity(16)
                }
                events.append(event)
            }
        }
        if let current { try body(current, events) }
    }

    /// A case to read with `forEachCaseInOnePass`: its id, its version and
    /// the position of its last event (from `cases()`, read after the
    /// `through` position was taken, so no event up to it comes later).
    public struct CaseExtent: Sendable {
        public let caseID: String
        public let version: Int64
        public let lastPosition: Int64
        public init(caseID: String, version: Int64, lastPosition: Int64) {
            self.caseID = caseID
            self.version = version
            self.lastPosition = lastPosition
        }
    }

    /// Most events `forEachCaseInOnePass` holds for cases begun but not
    /// finished before it hands the rest to the case-by-case read.
    public static let onePassHoldLimit = 20_000

    /// The events of `cases` up to `through`, each case whole and in version
    /// order, like `forEachCaseUndecoded`, but in the order the cases end
    /// rather than by id: one read in position order over the positions the
    /// cases span, so the server sorts nothing and rows flow at once (the
    /// case-ordered read waits for the server to sort every event first). A
    /// case is handed over when its last event (`lastPosition`) is read;
    /// one with events after `through`, at the end. Memory holds the events
    /// of the cases in progress at one point of the log (cases overlap in
    /// time: a few dozen in practice); past `holdLimit` events, or when the
    /// positions the cases span hold four times more events than they do
    /// (a short period of a long ledger, read faster case by case through
    /// the index), the unfinished cases are read by `forEachCaseUndecoded`.
    public func forEachCaseInOnePass(_ cases: [CaseExtent], through: Int64, forJudging: Bool = false,
                                     holdLimit: Int = EventStore.onePassHoldLimit,
                                     _ body: (String, [StoredEvent]) throws -> Void) throws {
        guard !cases.isEmpty else { return }
        let ids = PGText.array(cases.map(\.caseID))
        // The first position of any of the cases (their opening events).
        let first = try mapped {
            try connection.query("SELECT min(position) FROM dtledger.events WHERE case_id = ANY ($1::text[]) AND version = 1",
                                 [ids]).row(0).int64(0)
        }
        guard let first else { return }
        let last = min(through, cases.map(\.lastPosition).max() ?? through)
        let wanted = cases.reduce(Int64(0)) { $0 + $1.version }
        guard last - first + 1 <= 4 * max(wanted, 1) else {
            return try forEachCaseUndecoded(cases.map(\.caseID), through: through, forJudging: forJudging, body)
        }
        // Each row's case found with one hash lookup (its index in
        // `cases`); its events gathered in place.
        struct Open { var events: [StoredEvent] = []; var last: Int64 }
        var slot: [String: Int] = [:]
        slot.reserveCapacity(cases.count)
        var open: [Open] = []
        open.reserveCapacity(cases.count)
        for c in cases {
            slot[c.caseID] = open.count
            open.append(Open(last: c.lastPosition <= through ? c.lastPosition : .max))
        }
        struct HoldingTooMuch: Error {}
        var held = 0
        let columns = forJudging ? EventStore.judgingColumns : EventStore.columns
        do {
            try mapped {
                try connection.forEachRow("""
                    SELECT \(columns) FROM dtledger.events
                     WHERE position BETWEEN $2 AND $3 AND case_id = ANY ($1::text[])
                     ORDER BY position
                    """, [ids, String(first), String(last)], binary: true) { row in
                    let event = StoredEvent(row: row)
                    guard let i = slot[event.caseID] else { return }
                    precondition(open[i].last >= 0, "case \(event.caseID) has an event after the last position it was given (extents read before `through`?)")
                    if event.position == open[i].last {
                        var events = open[i].events
                        open[i] = Open(last: -1)  // handed over
                        held -= events.count
                        events.append(event)
                        try body(event.caseID, events)
                    } else {
                        if open[i].events.isEmpty { open[i].events.reserveCapacity(16) }
                        open[i].events.append(event)
                        held += 1
                        if held > holdLimit {
                            connection.cancelRunningQuery()
                            throw HoldingTooMuch()
                        }
                    }
                }
            }
        } catch is HoldingTooMuch {
            // Read what is left case by case, from the start of each.
            let rest = cases.indices.filter { open[$0].last >= 0 }.map { cases[$0].caseID }
            return try forEachCaseUndecoded(rest, through: through, forJudging: forJudging, body)
        }
        // Cases with events after `through` (appended during the read).
        for (i, c) in cases.enumerated() where !open[i].events.isEmpty {
            try body(c.caseID, open[i].events)
        }
    }

    /// The current version of a case (0 when it does not exist).
    public func version(caseID: String) throws -> Int64 {
        try mapped {
            try connection.query("SELECT version FROM dtledger.streams WHERE case_id = $1", [caseID])
                .scalar.flatMap { Int64($0) } ?? 0
        }
    }

    /// Every case with the type that opened it and when, its version and
    /// the position of its last event, in opening order.
    public func cases() throws -> [(caseID: String, openedType: String, openedAt: Date, version: Int64, lastPosition: Int64)] {
        try mapped {
            try connection.query("""
                SELECT case_id, opened_type, (extract(epoch FROM opened_at) * 1000000)::bigint, version, last_position
                  FROM dtledger.streams ORDER BY opened_at, case_id
                """).rows.map { ($0[0]!, $0[1]!, RFC3339.date(microseconds: $0.int64(2)!), $0.int64(3)!, $0.int64(4)!) }
        }
    }

    // MARK: Digest

    /// The tip of the chain as stored: position, hash and when it was recorded.
    public func digest() throws -> Digest {
        try mapped {
            let row = try connection.query("""
                SELECT h.position, encode(h.hash, 'hex'),
                       (SELECT (extract(epoch FROM e.recorded_at) * 1000000)::bigint
                          FROM dtledger.events e WHERE e.position = h.position)
                  FROM dtledger.head h
                """).row(0)
            let recorded = row.int64(2).map { RFC3339.format(RFC3339.date(microseconds: $0)) } ?? ""
            return Digest(position: row.int64(0)!, hash: row[1]!, recordedAt: recorded)
        }
    }
}

/// The tool's version, kept in each event's metadata.
public enum DTLedgerVersion {
    public static let current = "0.1.0"
}
