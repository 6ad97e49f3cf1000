import Domain
import Events
import Foundation
import Ledger
import Postgres

/// What a writer login (dtledger_writer: no SELECT on the ledger) needs to
/// read back, through the SECURITY DEFINER functions that give exactly that
/// (Migrations/functions/0001_event_by_key.sql, 0001_own_event.sql,
/// 0001_reference_events.sql). Owners and readers get the same answers.
public enum WriterReads {
    /// The event stored under an idempotency key: enough to answer a retry.
    struct KeyedEvent {
        let caseID: String
        let type: String
        let position: Int64
        let version: Int64
        let id: String
        let hash: String
        let recordedAt: Date
    }

    static func event(key: String, _ store: EventStore) throws -> KeyedEvent? {
        let rows = try query(store, """
            SELECT case_id, event_type, event_position, event_version, event_id, event_hash,
                   (extract(epoch FROM event_recorded_at) * 1000000)::bigint
              FROM dtledger.event_by_key($1)
            """, [key])
        guard let r = rows.first else { return nil }
        return KeyedEvent(caseID: r[0] ?? "", type: r[1] ?? "", position: r.int64(2) ?? 0, version: r.int64(3) ?? 0,
                          id: r[4] ?? "", hash: r[5] ?? "", recordedAt: RFC3339.date(microseconds: r.int64(6) ?? 0))
    }

    /// The whole event at `position`, when this session's login recorded it.
    static func ownEvent(position: Int64, _ store: EventStore) throws -> RecordedEvent? {
        let rows = try query(store, "SELECT * FROM dtledger.own_event($1::bigint)", [String(position)])
        guard let r = rows.first else { return nil }
        return RecordedEvent(id: r[1] ?? "", position: r.int64(0) ?? 0, caseID: r[2] ?? "", version: r.int64(3) ?? 0,
                             type: r[4] ?? "", occurredAt: RFC3339.date(microseconds: r.int64(5) ?? 0),
                             recordedAt: RFC3339.date(microseconds: r.int64(6) ?? 0), actor: r[7] ?? "",
                             source: r[8] ?? "", key: r[9], data: try JSONValue.parse(r[10] ?? "{}"),
                             metadata: try JSONValue.parse(r[11] ?? "{}"), hash: r[13] ?? "", previousHash: r[12] ?? "")
    }

    /// The directories published (and not retracted) in the ledger, as the
    /// reference data gives them.
    public static func directories(_ store: EventStore) throws -> DirectoryHistory {
        let rows = try query(store, "SELECT event_id, case_id, event_type, data FROM dtledger.reference_events()", [])
        var retracted = Set<String>()
        for r in rows where r[2] == EventType.eventRetracted.rawValue {
            if let id = try JSONValue.parse(r[3] ?? "{}")["event_id"]?.stringValue { retracted.insert(id) }
        }
        var directories: [Directory] = []
        for r in rows where r[1] == Catalog.directoryStream && r[2] == EventType.directoryPublished.rawValue
            && !retracted.contains(r[0] ?? "") {
            directories.append(try Directory(json: try JSONValue.parse(r[3] ?? "{}")))
        }
        return DirectoryHistory(directories)
    }

    /// The policies published (and not retracted) in the ledger.
    public static func policies(_ store: EventStore) throws -> [Policy] {
        let rows = try query(store, "SELECT event_id, case_id, event_type, data FROM dtledger.reference_events()", [])
        var retracted = Set<String>()
        for r in rows where r[2] == EventType.eventRetracted.rawValue {
            if let id = try JSONValue.parse(r[3] ?? "{}")["event_id"]?.stringValue { retracted.insert(id) }
        }
        return try rows.filter { $0[1] == Catalog.policyStream && $0[2] == EventType.policyPublished.rawValue && !retracted.contains($0[0] ?? "") }
            .map { try PolicyPublished(data: try JSONValue.parse($0[3] ?? "{}")).policy }
    }

    /// Each case in the ledger with the type of its opening event.
    public static func openedCases(_ store: EventStore) throws -> [(caseID: String, openedType: String)] {
        try query(store, "SELECT case_id, opened_type FROM dtledger.opened_cases()", []).map { ($0[0] ?? "", $0[1] ?? "") }
    }

    private static func query(_ store: EventStore, _ sql: String, _ parameters: [String?]) throws -> [Row] {
        do { return try store.connection.query(sql, parameters).rows } catch { throw LedgerError.from(error) }
    }
}

