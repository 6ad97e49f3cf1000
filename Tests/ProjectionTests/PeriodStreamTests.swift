@testable import Compliance
import Events
import Foundation
import Ledger
@testable import Reports
import Testing
import TestSupport

/// `dtledger compliance --from --to` streams the cases through a temporary
/// file (flat memory); its output must be byte for byte the rendering of
/// the whole `PeriodReport` (the same renderer writing into a buffer), in
/// every format.
@Suite struct PeriodStreamTests {
    /// The samples, a copy of the incident whose id sorts first (cases are
    /// read in id order but listed in opening order: the planned downtime,
    /// opened first, sorts last), and a case opened before any policy (not judged).
    static func loaded() throws -> TestDatabase {
        let db = try TestDatabase.withSamples()
        let incident = try String(contentsOf: CLI.scenarios.appendingPathComponent("incident-user-facing-escalated.jsonl"), encoding: .utf8)
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("stream-\(UUID().uuidString).jsonl")
        try incident.replacingOccurrences(of: "INC-2026-0142", with: "INC-2026-0001").write(to: copy, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: copy) }
        #expect(try CLI.run(["append", "--file", copy.path], database: db.url).status == 0)
        let early = try CLI.run(["append", "--case", "INC-2025-0001", "--type", "incident.opened", "--occurred-at", "2025-06-01T10:00:00Z",
                                 "--key", "INC-2025-0001/opened", "--data",
                                 #"{"team":"user-facing","summary":"Before any policy","estimated_user_impact":{"users":1,"services":["medications"]},"started_at":"2025-06-01T09:00:00Z"}"#],
                                database: db.url)
        #expect(early.status == 0, "\(early.stderr)")
        return db
    }

    @Test func streamedPeriodEqualsTheWholeReport() throws {
        let db = try Self.loaded()
        let from = "2000-01-01T00:00:00Z", to = "2100-01-01T00:00:00Z"
        for asOf in ["2026-04-08T12:00:00Z", "2026-11-01T00:00:00Z"] {
            var report = try Compliance.evaluatePeriod(try db.store(), from: try RFC3339.parse(from), to: try RFC3339.parse(to),
                                                       asOf: try RFC3339.parse(asOf))
            // The command carries the chain's verification (the ledger does not change meanwhile).
            report.chain = ChainCheck(try db.store().verify(), judged: report.digest.position)
            #expect(report.cases.map(\.evaluation.caseID) == ["PD-2026-0007", "INC-2026-0001", "INC-2026-0142"])
            #expect(report.unjudged.map(\.caseID) == ["INC-2025-0001"])
            // Judged on the calling thread, and on one and two worker threads.
            for (format, threads) in ComplianceFormat.allCases.flatMap({ f in ["0", "1", "2"].map { (f, $0) } }) {
                let r = try CLI.run(["compliance", "--from", from, "--to", to, "--as-of", asOf, "--format", format.rawValue],
                                    database: db.url, environment: ["DTLEDGER_THREADS": threads])
                #expect(r.status == 0, "\(r.stderr)")
                #expect(r.stdout == ComplianceRenderer.render(report, as: format), "\(format) as of \(asOf), \(threads) threads")
            }
        }
    }

    @Test func anEmptyPeriod() throws {
        let db = try TestDatabase.withSamples()
        let from = "2001-01-01T00:00:00Z", to = "2002-01-01T00:00:00Z"
        let asOf = "2026-11-01T00:00:00Z"
        var report = try Compliance.evaluatePeriod(try db.store(), from: try RFC3339.parse(from), to: try RFC3339.parse(to),
                                                   asOf: try RFC3339.parse(asOf))
        report.chain = ChainCheck(try db.store().verify(), judged: report.digest.position)
        for format in ComplianceFormat.allCases {
            let r = try CLI.run(["compliance", "--from", from, "--to", to, "--as-of", asOf,
                                 "--format", format.rawValue], database: db.url)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout == ComplianceRenderer.render(report, as: format), "\(format)")
        }
    }

    /// The renderer streaming (cases spooled to a temporary file, handed
    /// over in any order, the output in chunks) writes byte for byte what
    /// it writes into a buffer for the whole `PeriodReport`, in every
    /// layout, the audit's included; with enough cases that the output
    /// goes out in several chunks.
    @Test func streamedEqualsInMemoryInEveryLayout() throws {
        let db = try Self.loaded()
        let store = try db.store()
        let sample = try Compliance.evaluatePeriod(store, from: try RFC3339.parse("2000-01-01T00:00:00Z"),
                                                   to: try RFC3339.parse("2100-01-01T00:00:00Z"),
                                                   asOf: try RFC3339.parse("2026-11-01T00:00:00Z"))
        let many = PeriodReport(from: sample.from, to: sample.to, asOf: sample.asOf, digest: sample.digest,
                                cases: Array(repeating: sample.cases, count: 300).flatMap { $0 },
                                unjudged: sample.unjudged, policyPublications: sample.policyPublications)
        let facts = PeriodStreamRenderer.AuditFacts(verification: try store.verify(digest: nil), digestChecked: nil)
        let layouts: [(PeriodStreamRenderer.Layout, PeriodStreamRenderer.AuditFacts?)] = [
            (.table, nil), (.markdown, nil), (.json, nil), (.csv, nil), (.json, facts), (.auditMarkdown, facts), (.auditHTML, facts),
        ]
        for report in [sample, many] {
            var summary = PeriodSummary(from: report.from, to: report.to, asOf: report.asOf, digest: report.digest,
                                        totals: report.periodTotals, unjudged: report.unjudged,
                                        policyPublications: report.policyPublications)
            // The audit's publications section, as streamPeriod sets it.
            summary.publications = report.publications
            for (layout, audit) in layouts {
                let whole = PeriodStreamRenderer.render(report, layout: layout, audit: audit)
                let streaming = PeriodStreamRenderer(layout: layout, audit: audit, spool: try Spool(file: ()))
                // Last case first, then the rest in a stride: any order.
                let order = report.cases.indices.reversed().sorted { ($0 % 7, $0) < ($1 % 7, $1) }
                for index in order { try streaming.add(report.cases[index], index: index) }
                var chunks: [String] = []
                try streaming.finish(summary) { chunks.append($0) }
                #expect(chunks.joined() == whole, "\(layout), \(report.cases.count) cases")
                if report.cases.count > 100 { #expect(chunks.count > 1, "\(layout): streamed in chunks") }
            }
        }
    }
}
