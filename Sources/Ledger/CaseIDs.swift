import Events
import Foundation

extension EventStore {
    /// The next unused case id `PREFIX-YEAR-NNNN` (`Migrations/functions/0002_next_case_id.sql`): unique
    /// under concurrent calls, never handed out twice, skipping ids already
    /// used by a case. Call it outside a transaction.
    public func nextCaseID(prefix: String, year: Int) throws -> String {
        try mapped {
            guard let id = try connection.query("SELECT dtledger.next_case_id($1, $2::integer)", [prefix, String(year)]).scalar else {
                throw LedgerError.migration("dtledger.next_case_id returned nothing: run dtledger migrate")
            }
            return id
        }
    }

    /// The stored event with this idempotency key, if any (so a retry of a
    /// command that generated its case id finds the original).
    public func event(key: String) throws -> RecordedEvent? {
        var found: RecordedEvent?
        try mapped {
            try connection.forEachRow("SELECT \(EventStore.columns) FROM dtledger.events WHERE idempotency_key = $1",
                                      [key], binary: true) { row in found = try StoredEvent(row: row).decoded() }
        }
        return found
    }

    /// The stored event at a position of a case.
    public func event(caseID: String, position: Int64) throws -> RecordedEvent? {
        var found: RecordedEvent?
        try forEachEvent(caseID: caseID, after: position - 1, through: position) { found = try $0.decoded() }
        return found
    }
}
