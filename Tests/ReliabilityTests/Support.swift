import Events
import Foundation
import Ledger
import Postgres
import Testing
import TestSupport

func envelope(_ caseID: String, key: String?, type: String = "note.added", text: String = "hello",
              at: String = "2026-03-03T14:05:00-05:00") -> Envelope {
    Envelope(type: type, caseID: caseID, occurredAt: try! RFC3339.parse(at), actor: "jdoe",
             source: .cli, key: key, data: .object(["text": .string(text)]))
}

/// Valid `incident.opened` data. These suites test the ledger's mechanics,
/// not the catalog: single CLI appends use an opening event, so they need no
/// earlier event to open their case.
let openingData = #"{"team":"user-facing","summary":"reliability test","estimated_user_impact":{"services":["medications"]},"started_at":"2026-03-03T14:00:00-05:00"}"#

/// `envelopes` with the first event of each case turned into the
/// `incident.opened` that opens it (same key, same time), so a file passes
/// the catalog's "case never opened" check with the same event count.
func openingEachCase(_ envelopes: [Envelope]) -> [Envelope] {
    var seen = Set<String>()
    return envelopes.map { e in
        guard seen.insert(e.caseID).inserted else { return e }
        var opened = e
        opened.type = "incident.opened"
        opened.data = try! JSONValue.parse(openingData)
        return opened
    }
}

/// One JSONL line of an envelope (DOMAIN.md §1).
func jsonLine(_ e: Envelope) -> String {
    var o: [String: JSONValue] = [
        "type": .string(e.type), "case": .string(e.caseID), "occurred_at": .string(RFC3339.format(e.occurredAt)),
        "actor": .string(e.actor), "source": .string(e.source.rawValue), "data": e.data,
    ]
    if let key = e.key { o["key"] = .string(key) }
    return JSONValue.object(o).jsonText()
}

func jsonl(_ events: [Envelope]) -> Data {
    Data(openingEachCase(events).map(jsonLine).joined(separator: "\n").utf8)
}

/// What is in the ledger: events, distinct keys, and whether the chain verifies.
struct LedgerCensus: Equatable, CustomStringConvertible {
    var events: Int
    var keyed: Int
    var distinctKeys: Int
    var positionsGapFree: Bool
    var description: String { "\(events) events, \(keyed) keyed, \(distinctKeys) distinct keys, gap-free \(positionsGapFree)" }

    static func take(_ connection: Connection) throws -> LedgerCensus {
        let row = try connection.query("""
            SELECT count(*), count(idempotency_key), count(DISTINCT idempotency_key),
                   coalesce(max(position), 0) = count(*)
              FROM dtledger.events
            """).row(0)
        return LedgerCensus(events: Int(row.int64(0)!), keyed: Int(row.int64(1)!),
                            distinctKeys: Int(row.int64(2)!), positionsGapFree: row.bool(3)!)
    }
}

func keys(_ connection: Connection) throws -> Set<String> {
    Set(try connection.query("SELECT idempotency_key FROM dtledger.events WHERE idempotency_key IS NOT NULL")
        .rows.compactMap { $0[0] })
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
@discardableResult
func waitUntil(timeout: Double = 30, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        usleep(20_000)
    }
    return false
}

/// Backends of the CLI (application_name dtledger) in database `name`.
func cliBackends(_ admin: Connection, database name: String, waitingForLock: Bool = false) throws -> [Int32] {
    try admin.query("""
        SELECT pid FROM pg_stat_activity
         WHERE datname = $1 AND application_name = 'dtledger' AND pid <> pg_backend_pid()
           AND ($2::boolean IS NOT TRUE OR wait_event_type = 'Lock')
        """, [name, waitingForLock ? "true" : "false"]).rows.compactMap { $0[0].flatMap(Int32.init) }
}

func databaseName(_ url: String) -> String {
    url.split(separator: " ").first { $0.hasPrefix("dbname=") }.map { String($0.dropFirst(7)) } ?? ""
}

/// The error lines a CLI run printed (its stderr without warnings).
func errorLines(_ result: CLIResult) -> [String] {
    result.stderr.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("dtledger: warning:") }
}

/// Prints a figure for the report (`swift test` shows it in its output).
func report(_ line: String) {
    print("[reliability] \(line)")
}
