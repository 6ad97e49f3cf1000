import Domain
import Events
import Foundation
import Ingest
import Ledger
import Postgres

/// Threads for `dtledger import email`: the case of each message a reply in
/// the mailbox answers (In-Reply-To, References) that is already in the
/// ledger, through `dtledger.email_thread_cases`
/// (Migrations/functions/0014_email_thread_cases.sql; a writer needs no
/// SELECT). docs/importers.md, "Threads".
public enum EmailThreads {
    /// Ids per call (the function looks at no more).
    static let chunk = 1_000

    /// `CaseLookups` whose `caseForRef` answers `email:<id>` for the parents
    /// of `payloads` from the ledger, asked once up front; it infers no
    /// purpose and knows no open cases (an import infers neither).
    static func lookups(for payloads: [RawPayload], _ store: EventStore) throws -> CaseLookups {
        var ids: [String] = []
        var seen = Set<String>()
        for p in payloads {
            for id in EmailImporter.parents(p.body) where seen.insert(id).inserted { ids.append(id) }
        }
        let found = try cases(ofMessageIDs: ids, store)
        return CaseLookups(
            caseForRef: { ref in ref.hasPrefix("email:") ? found[String(ref.dropFirst("email:".count))] : nil },
            openCases: { _ in [:] }, inferPurpose: { _, _ in nil })
    }

    /// The case of each email `notification.sent` in the ledger whose
    /// `message_ref` is one of `ids` (the earliest when several; retracted
    /// ones left out), through `dtledger.email_thread_cases`: for the
    /// service's mapper too, so a reply received live finds a thread
    /// whose first message was imported from a mailbox.
    public static func cases(ofMessageIDs ids: [String], _ store: EventStore) throws -> [String: String] {
        var cases: [String: String] = [:]
        var start = 0
        while start < ids.count {
            let slice = ids[start..<min(start + chunk, ids.count)]
            let rows: [Row]
            do {
                rows = try store.connection.query("SELECT message_ref, case_id FROM dtledger.email_thread_cases($1::text[])",
                                                  [textArray(Array(slice))]).rows
            } catch {
                throw LedgerError.from(error)
            }
            for r in rows { if let ref = r[0], let c = r[1], cases[ref] == nil { cases[ref] = c } }
            start += chunk
        }
        return cases
    }

    /// A PostgreSQL array literal of texts, each quoted.
    static func textArray(_ values: [String]) -> String {
        "{" + values.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            .joined(separator: ",") + "}"
    }
}
