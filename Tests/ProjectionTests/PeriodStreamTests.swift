import Compliance
import Events
import Foundation
import Ledger
@testable import Reports
import Testing
import TestSupport

/// `dtledger compliance --from --to` streams the cases through a temporary
/// file (issue 6: flat memory); its output must be byte for byte the
/// rendering of the whole `PeriodReport`, in every format.
@Suite struct PeriodStreamTests {
    @Test func streamedPeriodEqualsTheWholeReport() throws {
        let db = try TestDatabase.withSamples()
        // A copy of the incident whose id sorts first (cases are read in id
        // order but listed in opening order: the planned downtime, opened
        // first, sorts last), and a case opened before any policy (not judged).
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

        let from = "2000-01-01T00:00:00Z", to = "2100-01-01T00:00:00Z"
        for asOf in ["2026-04-08T12:00:00Z", "2026-11-01T00:00:00Z"] {
            let report = try Compliance.evaluatePeriod(try db.store(), from: try RFC3339.parse(from), to: try RFC3339.parse(to),
                                                       asOf: try RFC3339.parse(asOf))
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
        let report = try Compliance.evaluatePeriod(try db.store(), from: try RFC3339.parse(from), to: try RFC3339.parse(to),
                                                   asOf: try RFC3339.parse(asOf))
        for format in ComplianceFormat.allCases {
            let r = try CLI.run(["compliance", "--from", from, "--to", to, "--as-of", asOf,
                                 "--format", format.rawValue], database: db.url)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout == ComplianceRenderer.render(report, as: format), "\(format)")
        }
    }
}
