import Domain
import Events
import Foundation
import Ingest
import Ledger
import Postgres

/// `dtledger import email`: the messages that cannot be mapped go to the
/// inbox of `dtledger serve` (docs/importers.md, "Unmapped messages and the
/// inbox"), as receipts of source `email` with an `inbox` outcome naming the
/// code and reason, in the import's own transaction. Only a login that may
/// write receipts (a `dtledger_receiver`: EXECUTE on `dtledger.receive` and
/// `dtledger.record_outcomes`) can keep them; a person's writer login cannot,
/// and the import says so. The receipt's delivery key is the SHA-256 of the
/// message's bytes, as the service's route makes it: the same message posted
/// by a relay and imported from a mailbox is one receipt.
enum EmailInbox {
    /// A message kept for the inbox.
    struct Kept {
        var item: Int
        var receiptID: Int64
        /// The receipt was there already (imported or posted before): no new outcome.
        var duplicate: Bool
        var unmapped: Unmapped
    }

    /// Whether this session's login may write receipts and their outcomes.
    static func canWriteReceipts(_ store: EventStore) throws -> Bool {
        let row: String?
        do {
            row = try store.connection.query("""
                SELECT has_function_privilege('dtledger.receive(jsonb)', 'EXECUTE')
                   AND has_function_privilege('dtledger.record_outcomes(jsonb)', 'EXECUTE')
                """).scalar
        } catch { throw LedgerError.from(error) }
        return row == "t"
    }

    /// The messages of `unmapped` (one entry per message: its first reason)
    /// among `payloads`.
    static func messages(_ payloads: [RawPayload], _ unmapped: [Unmapped]) -> [(payload: RawPayload, unmapped: Unmapped)] {
        var seen = Set<Int>()
        var out: [(RawPayload, Unmapped)] = []
        for u in unmapped where seen.insert(u.item).inserted {
            if let p = payloads.first(where: { $0.item == u.item }) { out.append((p, u)) }
        }
        return out
    }

    /// Keeps the messages as receipts with an `inbox` outcome. Call it in
    /// the import's transaction. A message already received keeps its
    /// receipt and its history: nothing new is recorded for it.
    static func keep(_ store: EventStore, _ messages: [(payload: RawPayload, unmapped: Unmapped)], origin: String,
                     purpose: NotificationPurpose?, at: Date) throws -> [Kept] {
        guard !messages.isEmpty else { return [] }
        var headers: [String: JSONValue] = ["x-dtledger-import": .string("email")]
        if let purpose { headers["x-dtledger-import-purpose"] = .string(purpose.rawValue) }
        headers["x-dtledger-import-file"] = .string(String(printable(origin).prefix(500)))
        let items = JSONValue.array(messages.map { m in
            .object([
                "source": .string(EventSource.email.rawValue), "delivery_key": .string("sha256:\(m.payload.sha256)"),
                "received_at": .string(RFC3339.format(at)), "headers": .object(headers),
                "body": .string(m.payload.body.base64EncodedString()),
                "refs": .array(Refs.of(source: .email, body: m.payload.body).filter { Refs.storable($0, maxBytes: 1000) }.map(JSONValue.string)),
            ])
        })
        let rows: [Row]
        do {
            rows = try store.connection.query("SELECT item, receipt_id, duplicate FROM dtledger.receive($1::jsonb)", [items.jsonText()]).rows
        } catch { throw LedgerError.from(error) }
        var kept: [Kept] = []
        for (m, row) in zip(messages, rows) {
            kept.append(Kept(item: m.payload.item, receiptID: row.int64(1) ?? 0, duplicate: row.bool(2) ?? false, unmapped: m.unmapped))
        }
        let outcomes = JSONValue.array(kept.filter { !$0.duplicate }.map { k in
            .object([
                "receipt_id": .int(k.receiptID), "outcome": .string("inbox"), "code": .string(k.unmapped.code.rawValue),
                "reason": .string("\(k.unmapped.reason) (dtledger import email \(printable(origin)), message \(k.item)); assign it with `dtledger inbox assign \(k.receiptID) --case CASE --reason ...`"),
            ])
        })
        if outcomes.arrayValue?.isEmpty == false {
            do { _ = try store.connection.query("SELECT dtledger.record_outcomes($1::jsonb)", [outcomes.jsonText()]) } catch {
                throw LedgerError.from(error)
            }
        }
        return kept
    }
}
