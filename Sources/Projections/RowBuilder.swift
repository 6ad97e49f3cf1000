import Compliance
import Domain
import Events
import Foundation
import Ledger
import Postgres

/// Events and reference data in, read-model rows out: the timeline entries
/// and the judged case of each case, as `CaseRows` and timeline rows. Pure
/// code: no database (the rows go to `ReadModelStore`).
enum RowBuilder {
    /// One case's rows for a rebuild, encoded for binary COPY.
    struct Built: Sendable {
        var timeline = BinaryCopyRows()
        var cases = BinaryCopyRows()
        var obligations = BinaryCopyRows()
        var events: Int
        init(events: Int) { self.events = events }
    }

    /// A case's timeline rows (text fields) for a batch that applied the
    /// events after `after`: the rows of those events (every row with
    /// `rewrite`, when new reference data may change roles), and the ids of
    /// earlier events that are now retracted (none with `rewrite`). Entries
    /// are built from the whole case, so summaries that depend on earlier
    /// events ("Priority changed P3 → P1") come out the same as in a rebuild.
    static func timeline(caseID: String, events: [RecordedEvent], reference: ReferenceData, after: Int64,
                         rewrite: Bool) -> (rows: [[String?]], retracted: [String]) {
        let entries = TimelineBuilder.entries(events: events, directories: reference.directories)
        var rows: [[String?]] = []
        for entry in entries where rewrite || (entry.position ?? 0) > after {
            rows.append(CaseRows.timelineRow(entry, caseID: caseID))
        }
        let retracted = rewrite ? [] : entries.filter { $0.retracted && ($0.position ?? 0) <= after }.compactMap(\.eventID)
        return (rows, retracted)
    }

    /// A case judged as of `asOf` at ledger position `through`: its case and obligation rows.
    static func caseRows(caseID: String, events: [RecordedEvent], reference: ReferenceData, through: Int64,
                         asOf: Date) -> CaseRows {
        let digest = Digest(position: through, hash: "", recordedAt: "")
        return Compliance.judge(caseID: caseID, events: events, reference: reference, digest: digest, asOf: asOf)
            .map { CaseRows(report: $0, events: events) }
            ?? CaseRows(unjudged: caseID, events: events, asOf: asOf)
    }

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
}
