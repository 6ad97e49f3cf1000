import Events
import Foundation
import Ledger
import Postgres

/// A request (or a polled record) as it arrived, before it is durable.
public struct IncomingReceipt: Sendable, Equatable {
    /// `slack`, `pagerduty`, `servicenow`.
    public var source: String
    /// The delivery's own id (Slack event_id, PagerDuty event.id, ...), else
    /// the body's SHA-256: a retry of the same delivery is the same receipt.
    public var deliveryKey: String
    public var receivedAt: Date
    /// Header names lowercased; secrets (Authorization) never kept.
    public var headers: [String: String]
    public var body: Data
    /// Source ids the body carries (Ingest `Refs.of`).
    public var refs: [String]

    public init(source: String, deliveryKey: String, receivedAt: Date, headers: [String: String], body: Data, refs: [String] = []) {
        self.source = source
        self.deliveryKey = deliveryKey
        self.receivedAt = receivedAt
        self.headers = headers
        self.body = body
        self.refs = refs
    }
}

/// A durable receipt.
public struct Receipt: Sendable, Equatable {
    public var id: Int64
    public var source: String
    public var deliveryKey: String
    public var receivedAt: Date
    public var recordedAt: Date
    public var headers: [String: String]
    public var body: Data
    public var refs: [String]
    public var login: String
}

/// What happened to a receipt (dtledger.receipt_outcomes).
public struct ReceiptOutcome: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// Its events were appended (`eventIDs`).
        case appended
        /// Its events were in the ledger already.
        case duplicate
        /// It cannot be placed yet (no case, an unknown channel, a case not opened): waiting for a person.
        case inbox
        /// It is not evidence (a chat message that tags nobody, an event type not mapped).
        case ignored
        /// A person discarded it (`dtledger inbox discard`).
        case discarded
    }

    public var receiptID: Int64
    public var kind: Kind
    public var code: String?
    public var reason: String?
    public var caseID: String?
    public var eventIDs: [String]
    public var resolutionID: Int64?

    public init(receiptID: Int64, kind: Kind, code: String? = nil, reason: String? = nil, caseID: String? = nil,
                eventIDs: [String] = [], resolutionID: Int64? = nil) {
        self.receiptID = receiptID
        self.kind = kind
        self.code = code
        self.reason = reason
        self.caseID = caseID
        self.eventIDs = eventIDs
        self.resolutionID = resolutionID
    }

    var json: JSONValue {
        var o: [String: JSONValue] = ["receipt_id": .int(receiptID), "outcome": .string(kind.rawValue)]
        if let code { o["code"] = .string(code) }
        if let reason { o["reason"] = .string(reason) }
        if let caseID { o["case_id"] = .string(caseID) }
        if !eventIDs.isEmpty { o["event_ids"] = .array(eventIDs.map(JSONValue.string)) }
        if let resolutionID { o["resolution_id"] = .int(resolutionID) }
        return .object(o)
    }
}

/// A person's resolution of an inbox item (dtledger.receipt_resolutions).
public struct Resolution: Sendable, Equatable {
    public enum Action: String, Sendable, CaseIterable { case assign, map, discard }
    public var id: Int64
    public var receiptID: Int64
    public var action: Action
    public var caseID: String?
    public var reason: String
    public var actor: String
    public var login: String
    public var recordedAt: Date
}

/// The receipts' SQL (Migrations/0011_receipts.sql and functions/0011_*.sql).
/// Not Sendable: it uses one libpq connection, on the thread that owns it.
public final class ReceiptStore {
    public let connection: Connection

    public init(connection: Connection) {
        self.connection = connection
    }

    /// The NOTIFY channel the receiver and the inbox commands signal on.
    public static let channel = "dtledger_receipts"

    /// Makes the receipts durable in one transaction (one statement): their
    /// ids, and whether each was a delivery already received.
    public func receive(_ items: [IncomingReceipt]) throws -> [(id: Int64, duplicate: Bool)] {
        guard !items.isEmpty else { return [] }
        let array = JSONValue.array(items.map { r in
            .object([
                "source": .string(r.source), "delivery_key": .string(r.deliveryKey),
                "received_at": .string(RFC3339.format(r.receivedAt)),
                "headers": .object(r.headers.mapValues(JSONValue.string)),
                "body": .string(r.body.base64EncodedString()),
                "refs": .array(r.refs.map(JSONValue.string)),
            ])
        })
        // One statement, so one round trip and one commit: dtledger.receive
        // also NOTIFYs the mapper.
        let rows = try mapped {
            try connection.query("SELECT item, receipt_id, duplicate FROM dtledger.receive($1::jsonb)", [array.jsonText()]).rows
        }
        return rows.map { ($0.int64(1) ?? 0, $0.bool(2) ?? false) }
    }

    /// Receipts with no outcome yet, oldest first.
    public func unmapped(limit: Int = 500) throws -> [Receipt] {
        try receipts(where: "NOT EXISTS (SELECT 1 FROM dtledger.receipt_outcomes o WHERE o.receipt_id = r.id)",
                     order: "r.id", limit: limit)
    }

    /// Receipts whose latest outcome is `inbox` with one of `codes`, received
    /// since `since`, with no resolution pending: what the mapper tries
    /// again after a pass placed new cases or refs.
    public func waiting(codes: [String], since: Date, limit: Int) throws -> [Receipt] {
        // Driven from the inbox outcomes (a partial index), not from every
        // receipt of the window: the mapper asks this after every pass that
        // appended something, so under a burst it must not scan the receipts.
        let list = codes.map { "'\($0.replacingOccurrences(of: "'", with: "''"))'" }.joined(separator: ", ")
        return try receipts(where: """
            r.id IN (SELECT o.receipt_id FROM dtledger.receipt_outcomes o
                      WHERE o.outcome = 'inbox' AND o.code IN (\(list))
                        AND NOT EXISTS (SELECT 1 FROM dtledger.receipt_outcomes x WHERE x.receipt_id = o.receipt_id AND x.id > o.id))
            AND r.received_at >= to_timestamp(\(since.timeIntervalSince1970))
            AND NOT EXISTS (SELECT 1 FROM dtledger.receipt_resolutions s WHERE s.receipt_id = r.id
                              AND NOT EXISTS (SELECT 1 FROM dtledger.receipt_outcomes x WHERE x.resolution_id = s.id))
            """, order: "r.id", limit: limit)
    }

    /// One receipt.
    public func receipt(id: Int64) throws -> Receipt? {
        try receipts(where: "r.id = \(id)", order: "r.id", limit: 1).first
    }

    func receipts(where condition: String, order: String, limit: Int, parameters: [String?] = []) throws -> [Receipt] {
        let rows = try mapped {
            try connection.query("""
                SELECT r.id, r.source, r.delivery_key, (extract(epoch FROM r.received_at) * 1000000)::bigint,
                       (extract(epoch FROM r.recorded_at) * 1000000)::bigint, r.headers::text,
                       encode(r.body, 'base64'), array_to_json(r.refs)::text, r.login
                  FROM dtledger.receipts r WHERE \(condition) ORDER BY \(order) LIMIT \(limit)
                """, parameters).rows
        }
        return try rows.map { row in
            let headers = try JSONValue.parse(row[5] ?? "{}").objectValue?.compactMapValues(\.stringValue) ?? [:]
            let refs = try JSONValue.parse(row[7] ?? "[]").arrayValue?.compactMap(\.stringValue) ?? []
            let body = Data(base64Encoded: (row[6] ?? "").filter { !$0.isWhitespace }) ?? Data()
            return Receipt(id: row.int64(0) ?? 0, source: row[1] ?? "", deliveryKey: row[2] ?? "",
                           receivedAt: RFC3339.date(microseconds: row.int64(3) ?? 0),
                           recordedAt: RFC3339.date(microseconds: row.int64(4) ?? 0),
                           headers: headers, body: body, refs: refs, login: row[8] ?? "")
        }
    }

    /// Records outcomes. Call it in the transaction that appends their events.
    public func record(_ outcomes: [ReceiptOutcome]) throws {
        guard !outcomes.isEmpty else { return }
        _ = try mapped {
            try connection.query("SELECT dtledger.record_outcomes($1::jsonb)", [JSONValue.array(outcomes.map(\.json)).jsonText()])
        }
    }

    /// Every (ref, case) an outcome placed, oldest first: the case-inference
    /// lookups start from this and are kept current as receipts are mapped.
    public func refCases() throws -> [(ref: String, caseID: String)] {
        let rows = try mapped {
            try connection.query("""
                SELECT ref, o.case_id FROM dtledger.receipt_outcomes o
                  JOIN dtledger.receipts r ON r.id = o.receipt_id, unnest(r.refs) AS ref
                 WHERE o.case_id IS NOT NULL AND o.outcome IN ('appended', 'duplicate') ORDER BY o.id
                """).rows
        }
        return rows.map { ($0[0] ?? "", $0[1] ?? "") }
    }

    /// Resolutions that no outcome has applied yet, oldest first.
    public func pendingResolutions(limit: Int = 100) throws -> [Resolution] {
        try resolutions(where: "NOT EXISTS (SELECT 1 FROM dtledger.receipt_outcomes o WHERE o.resolution_id = s.id)", limit: limit)
    }

    /// The resolutions of one receipt, oldest first.
    public func resolutions(receiptID: Int64) throws -> [Resolution] {
        try resolutions(where: "s.receipt_id = \(receiptID)", limit: 10_000)
    }

    func resolutions(where condition: String, limit: Int) throws -> [Resolution] {
        let rows = try mapped {
            try connection.query("""
                SELECT s.id, s.receipt_id, s.action, s.case_id, s.reason, s.actor, s.login,
                       (extract(epoch FROM s.recorded_at) * 1000000)::bigint
                  FROM dtledger.receipt_resolutions s WHERE \(condition) ORDER BY s.id LIMIT \(limit)
                """).rows
        }
        return rows.map { r in
            Resolution(id: r.int64(0) ?? 0, receiptID: r.int64(1) ?? 0, action: Resolution.Action(rawValue: r[2] ?? "") ?? .map,
                       caseID: r[3], reason: r[4] ?? "", actor: r[5] ?? "", login: r[6] ?? "",
                       recordedAt: RFC3339.date(microseconds: r.int64(7) ?? 0))
        }
    }

    /// Records a person's resolution (`dtledger inbox assign|map|discard`).
    public func resolve(receiptID: Int64, action: Resolution.Action, caseID: String?, reason: String, actor: String) throws -> Int64 {
        let row = try mapped {
            try connection.query("SELECT dtledger.resolve_receipt($1::bigint, $2, $3, $4, $5)",
                                 [String(receiptID), action.rawValue, caseID, reason, actor])
        }
        return Int64(row.scalar ?? "") ?? 0
    }

    /// The outcomes of one receipt, oldest first.
    public func outcomes(receiptID: Int64) throws -> [(outcome: ReceiptOutcome, login: String, recordedAt: Date)] {
        let rows = try mapped {
            try connection.query("""
                SELECT outcome, code, reason, case_id, array_to_json(event_ids)::text, resolution_id, login,
                       (extract(epoch FROM recorded_at) * 1000000)::bigint
                  FROM dtledger.receipt_outcomes WHERE receipt_id = $1::bigint ORDER BY id
                """, [String(receiptID)]).rows
        }
        return try rows.map { r in
            let ids = try JSONValue.parse(r[4] ?? "[]").arrayValue?.compactMap(\.stringValue) ?? []
            return (ReceiptOutcome(receiptID: receiptID, kind: ReceiptOutcome.Kind(rawValue: r[0] ?? "") ?? .inbox,
                                   code: r[1], reason: r[2], caseID: r[3], eventIDs: ids, resolutionID: r.int64(5)),
                    r[6] ?? "", RFC3339.date(microseconds: r.int64(7) ?? 0))
        }
    }

    /// One line of `dtledger inbox list`.
    public struct InboxItem: Sendable, Equatable {
        public var receiptID: Int64
        public var source: String
        public var receivedAt: Date
        public var state: ReceiptOutcome.Kind
        public var code: String?
        public var reason: String?
        /// A resolution recorded and not applied yet by the service.
        public var pending: Resolution.Action?
    }

    /// Receipts whose latest outcome is `inbox` (and `ignored` with `ignored`).
    public func inbox(includeIgnored: Bool = false, limit: Int = 1000) throws -> [InboxItem] {
        let states = includeIgnored ? "('inbox', 'ignored')" : "('inbox')"
        let rows = try mapped {
            try connection.query("""
                SELECT r.id, r.source, (extract(epoch FROM r.received_at) * 1000000)::bigint, o.outcome, o.code, o.reason,
                       (SELECT s.action FROM dtledger.receipt_resolutions s
                         WHERE s.receipt_id = r.id AND NOT EXISTS (SELECT 1 FROM dtledger.receipt_outcomes x WHERE x.resolution_id = s.id)
                         ORDER BY s.id DESC LIMIT 1)
                  FROM dtledger.receipts r
                  JOIN LATERAL (SELECT * FROM dtledger.receipt_outcomes o WHERE o.receipt_id = r.id ORDER BY o.id DESC LIMIT 1) o ON true
                 WHERE o.outcome IN \(states) ORDER BY r.id LIMIT \(limit)
                """).rows
        }
        return rows.map { r in
            InboxItem(receiptID: r.int64(0) ?? 0, source: r[1] ?? "", receivedAt: RFC3339.date(microseconds: r.int64(2) ?? 0),
                      state: ReceiptOutcome.Kind(rawValue: r[3] ?? "") ?? .inbox, code: r[4], reason: r[5],
                      pending: r[6].flatMap(Resolution.Action.init(rawValue:)))
        }
    }

    /// Counts for the metrics: receipts in the inbox, receipts not mapped yet.
    public func counts() throws -> (inbox: Int64, unmapped: Int64) {
        let row = try mapped {
            try connection.query("""
                SELECT (SELECT count(*) FROM dtledger.receipts r
                          JOIN LATERAL (SELECT outcome FROM dtledger.receipt_outcomes o WHERE o.receipt_id = r.id ORDER BY o.id DESC LIMIT 1) o ON true
                         WHERE o.outcome = 'inbox'),
                       (SELECT count(*) FROM dtledger.receipts r
                         WHERE NOT EXISTS (SELECT 1 FROM dtledger.receipt_outcomes o WHERE o.receipt_id = r.id))
                """).rows[0]
        }
        return (row.int64(0) ?? 0, row.int64(1) ?? 0)
    }

    // MARK: Pollers

    /// A poller's saved state (nil: never ran).
    public func pollerState(_ name: String) throws -> JSONValue? {
        let row = try mapped { try connection.query("SELECT state::text FROM dtledger.poller_state WHERE name = $1", [name]).rows.first }
        return try row.flatMap { try $0[0].map { try JSONValue.parse($0) } }
    }

    public func savePollerState(_ name: String, _ state: JSONValue) throws {
        _ = try mapped {
            try connection.query("""
                INSERT INTO dtledger.poller_state (name, state) VALUES ($1, $2::jsonb)
                ON CONFLICT (name) DO UPDATE SET state = EXCLUDED.state, updated_at = clock_timestamp()
                """, [name, state.jsonText()])
        }
    }

    func mapped<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as PostgresError { throw LedgerError.from(e) }
    }
}

// MARK: The inbox commands (`dtledger inbox`, Inbox.swift)

extension ReceiptStore {
    /// The outcome that applied resolution `resolutionID`, with the login
    /// that recorded it; nil while the service has not applied it.
    public func outcome(resolutionID: Int64) throws -> (outcome: ReceiptOutcome, login: String, recordedAt: Date)? {
        let rows = try mapped {
            try connection.query("""
                SELECT receipt_id FROM dtledger.receipt_outcomes WHERE resolution_id = $1::bigint ORDER BY id LIMIT 1
                """, [String(resolutionID)]).rows
        }
        guard let receiptID = rows.first?.int64(0) else { return nil }
        return try outcomes(receiptID: receiptID).first { $0.outcome.resolutionID == resolutionID }
    }

    /// Whether this login may read the receipts and their outcomes (a
    /// dtledger_reader): `inbox list|show` and `--wait` need it.
    public func canReadReceipts() throws -> Bool {
        let row = try mapped {
            try connection.query("""
                SELECT has_table_privilege('dtledger.receipts', 'SELECT')
                   AND has_table_privilege('dtledger.receipt_outcomes', 'SELECT')
                   AND has_table_privilege('dtledger.receipt_resolutions', 'SELECT')
                """)
        }
        return row.scalar == "t"
    }
}
