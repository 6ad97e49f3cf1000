import Events
import Foundation
import Testing
@testable import Compliance
@testable import Domain
@testable import Ledger
@testable import Reports
@testable import Projections

/// Issue 17: `should` obligations, `violated` verdicts and expected/given
/// values in every report and format, and a case judged by several policies.
@Suite struct LevelReportTests {
    static let zone = TimeZone(identifier: "America/New_York")!
    static let opened = try! RFC3339.parse("2026-05-04T09:00:00-04:00")

    static func obligation(_ rule: String, _ verdict: Verdict, level: RuleLevel = .must, expected: String? = nil,
                           given: String? = nil, missing: [String] = []) -> Obligation {
        var o = Obligation(ruleID: rule, title: "title of \(rule)", quote: "quote", verdict: verdict,
                           deadline: opened.addingTimeInterval(3600), missing: missing)
        o.level = level
        o.expected = expected
        o.given = given
        return o
    }

    static func evaluation(_ obligations: [Obligation], policy: String = "team-process", version: String = "2") -> CaseEvaluation {
        CaseEvaluation(caseID: "INC-2026-0300", kind: .incident, team: .userFacing, openedAt: opened, currentPriority: .p2,
                       priorityHistory: [], resolvedAt: nil, concludedAt: nil, cancelledAt: nil, window: nil,
                       policyName: policy, policyVersion: version, asOf: opened.addingTimeInterval(86400),
                       obligations: obligations)
    }

    static let digest = Digest(position: 42, hash: String(repeating: "a", count: 64), recordedAt: "")

    /// A case with a met and a missed `must`, a `should` met and a `should`
    /// missed, a prohibition violated and a wrong priority (partial, expected P1 given P2).
    static func report(others: Bool = false) -> CaseReport {
        var r = CaseReport(evaluation: evaluation([
            obligation("MUST-MET", .met),
            obligation("MUST-MISSED", .missed, missing: ["notification.sent on slack"]),
            obligation("SHOULD-MET", .met, level: .should),
            obligation("SHOULD-MISSED", .missed, level: .should, missing: ["role:octo-po"]),
            obligation("NO-SSN", .violated, missing: ["e1: ssn in content.summary"]),
            obligation("PRIORITY", .partial, expected: "P1", given: "P2"),
        ]), events: [], digest: digest, policyTimeZone: zone)
        if others {
            r.others = [CaseReport(evaluation: evaluation([obligation("FED-1", .met), obligation("FED-2", .late)],
                                                          policy: "federal-ic", version: "1"),
                                   events: [], digest: digest, policyTimeZone: zone)]
        }
        return r
    }

    @Test func countsLeaveShouldOut() {
        let c = Self.report().counts
        #expect(c.met == 1 && c.missed == 1 && c.violated == 1 && c.partial == 1)
        #expect(c.judged == 4 && c.violations == 3)
        #expect(c.rate == 0.25)
        #expect(c.shouldObligations == 2 && c.shouldJudged == 2 && c.shouldMet == 1)
    }

    @Test func complianceTextAndMarkdown() {
        for format in [ComplianceFormat.table, .markdown] {
            let out = ComplianceRenderer.render(Self.report(), as: format)
            #expect(out.contains("VIOLATED"), "\(format)")
            #expect(out.contains("MISSED (should)"), "\(format)")
            #expect(out.contains("met (should)"), "\(format)")
            #expect(out.contains("expected P1, given P2"), "\(format)")
            #expect(out.contains("1 met, 0 late, 1 partial, 1 missed, 1 violated, 0 pending"), "\(format)")
            #expect(out.contains("compliance 25.0% of 4 judged; should: 1 met / 2 judged (not in the rate)"), "\(format)")
        }
    }

    @Test func complianceJSON() throws {
        let json = try JSONValue.parse(Data(ComplianceRenderer.render(Self.report(), as: .json).utf8))
        #expect(json["summary"]?["violated"]?.intValue == 1)
        #expect(json["summary"]?["judged"]?.intValue == 4)
        #expect(json["summary"]?["should"]?["met"]?.intValue == 1)
        #expect(json["summary"]?["should"]?["judged"]?.intValue == 2)
        let obligations = json["obligations"]?.arrayValue ?? []
        #expect(obligations.first { $0["rule"]?.stringValue == "SHOULD-MISSED" }?["level"]?.stringValue == "should")
        let priority = obligations.first { $0["rule"]?.stringValue == "PRIORITY" }
        #expect(priority?["expected"]?.stringValue == "P1" && priority?["given"]?.stringValue == "P2")
        #expect(json["other_policies"] == nil, "one policy: no other_policies key")
    }

    @Test func complianceCSV() {
        let lines = ComplianceRenderer.render(Self.report(), as: .csv).split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        let level = header.firstIndex(of: "level")!, expected = header.firstIndex(of: "expected")!
        let given = header.firstIndex(of: "given")!, verdict = header.firstIndex(of: "verdict")!
        #expect(header.count == 25)
        let rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.allSatisfy { $0.count == header.count })
        let should = rows.first { $0.contains("SHOULD-MISSED") }!
        #expect(should[level] == "should" && should[verdict] == "missed")
        let priority = rows.first { $0.contains("PRIORITY") }!
        #expect(priority[expected] == "P1" && priority[given] == "P2" && priority[level] == "must")
        #expect(rows.contains { $0.contains("NO-SSN") && $0[verdict] == "violated" })
    }

    static func period(others: Bool = false) -> PeriodReport {
        PeriodReport(from: opened.addingTimeInterval(-86400), to: opened.addingTimeInterval(86400),
                     asOf: opened.addingTimeInterval(86400), digest: digest, cases: [report(others: others)], unjudged: [],
                     policyPublications: [])
    }

    @Test func periodEveryFormat() throws {
        for format in [ComplianceFormat.table, .markdown] {
            let out = ComplianceRenderer.render(Self.period(), as: format)
            #expect(out.contains("VIOLATED"), "\(format): the rate tables' column and the violation")
            #expect(out.contains("SHOULD-MISSED (should)"), "\(format): by rule")
            #expect(out.contains("should: 1 met / 2 judged"), "\(format): overall")
            #expect(out.contains("expected P1, given P2"), "\(format): violations")
            #expect(!out.contains("By policy"), "\(format): one policy")
            // The should obligation that was missed is not a violation.
            let violations = out.components(separatedBy: "Violations").last ?? ""
            #expect(!violations.contains("SHOULD-MISSED"), "\(format)")
            #expect(violations.contains("NO-SSN"), "\(format)")
        }
        let json = try JSONValue.parse(Data(ComplianceRenderer.render(Self.period(), as: .json).utf8))
        #expect(json["summary"]?["violated"]?.intValue == 1)
        #expect(json["summary"]?["should"]?["judged"]?.intValue == 2)
        let csv = ComplianceRenderer.render(Self.period(), as: .csv)
        #expect(csv.contains(",should,") && csv.contains(",violated,"))
    }

    @Test func auditAndReviewAndStatus() throws {
        var verification = VerificationReport()
        verification.eventsChecked = 42
        let audit = Audit(period: Self.period(), verification: verification, digestChecked: nil)
        for format in [ReportFormat.markdown, .html] {
            let out = AuditRenderer.render(audit, as: format)
            #expect(out.contains("VIOLATED"), "\(format)")
            #expect(out.contains("SHOULD-MISSED (should)"), "\(format)")
            #expect(out.contains("expected P1, given P2"), "\(format)")
        }
        #expect(AuditRenderer.render(audit, as: .html).contains("<tr class=\"violated\">"))
        let review = Review.build(report: Self.report(), directories: DirectoryHistory([]))
        for format in [ReportFormat.markdown, .html] {
            let out = ReviewRenderer.render(review, as: format)
            #expect(out.contains("VIOLATED") && out.contains("MISSED (should)") && out.contains("expected P1, given P2"), "\(format)")
            #expect(out.contains("should: 1 met / 2 judged"), "\(format)")
        }
        let reviewJSON = try JSONValue.parse(Data(ReviewRenderer.render(review, as: .json).utf8))
        #expect(reviewJSON["compliance"]?["summary"]?["violated"]?.intValue == 1)
        #expect(ReviewRenderer.render(review, as: .csv).contains(",should,"))
        let status = StatusRenderer.render(Self.report())
        #expect(status.contains("VIOLATED (1)") && status.contains("NO-SSN"))
        #expect(status.contains("SHOULD-MISSED [") == false && status.contains("SHOULD-MISSED (should)"))
        #expect(status.contains("should: 1 met / 2 judged"))
    }

    @Test func severalPoliciesInEveryFormat() throws {
        let r = Self.report(others: true)
        for format in [ComplianceFormat.table, .markdown] {
            let out = ComplianceRenderer.render(r, as: format)
            #expect(out.contains("Also judged by policy federal-ic v1"), "\(format)")
            #expect(out.contains("FED-2") && out.contains("compliance 50.0% of 2 judged"), "\(format)")
        }
        let json = try JSONValue.parse(Data(ComplianceRenderer.render(r, as: .json).utf8))
        let other = json["other_policies"]?.arrayValue?.first
        #expect(other?["policy"]?["name"]?.stringValue == "federal-ic")
        #expect(other?["summary"]?["rate"]?.doubleValue == 0.5)
        #expect(ComplianceRenderer.render(r, as: .csv).contains(",federal-ic,"))
        let period = ComplianceRenderer.render(Self.period(others: true), as: .table)
        #expect(period.contains("By policy"))
        #expect(period.contains("federal-ic v1"), "its case row")
        #expect(period.contains("federal-ic: FED-2"), "its violation")
        let byPolicy = try JSONValue.parse(Data(ComplianceRenderer.render(Self.period(others: true), as: .json).utf8))["by_policy"]?.arrayValue ?? []
        #expect(byPolicy.compactMap { $0["policy"]?.stringValue } == ["federal-ic", "team-process"])
        #expect(StatusRenderer.render(r).contains("POLICY federal-ic v1 (scoped)"))
        let review = ReviewRenderer.render(Review.build(report: r, directories: DirectoryHistory([])), as: .markdown)
        #expect(review.contains("Also judged by policy federal-ic v1"))
    }
}

/// The read model's rows of such a case (migration 0013's columns).
@Suite struct LevelReadModelRowTests {
    @Test func rowsCarryLevelsAndPolicies() {
        let rows = CaseRows(report: LevelReportTests.report(others: true), events: [])
        // met, late, partial, missed, pending, not applicable: the primary policy's `must` obligations.
        #expect(rows.values.counts == [1, 0, 1, 1, 0, 0])
        #expect(rows.values.violatedAndShould == [1, 1, 2])
        #expect(rows.values.policyName == "team-process")
        #expect(rows.values.policies == ["team-process v2", "federal-ic v1"])
        #expect(rows.obligations.map(\.ordinal) == Array(1...8))
        #expect(rows.obligations.map(\.policyName) == Array(repeating: "team-process", count: 6) + ["federal-ic", "federal-ic"])
        #expect(rows.obligations.first { $0.ruleID == "SHOULD-MISSED" }?.level == "should")
        let priority = rows.obligations.first { $0.ruleID == "PRIORITY" }
        #expect(priority?.expected == "P1" && priority?.given == "P2")
        #expect(rows.caseRow.count == 23 && rows.obligationRows.allSatisfy { $0.count == 17 })
    }
}
