import Compliance
import Events
import Foundation
import Ledger
import Domain

/// The System Owner's and ISSO's audit over a period: its layouts (Markdown
/// and HTML; its JSON and CSV are the period compliance ones, the JSON with
/// the verification added), written by the period renderer.
public enum AuditRenderer {
    public static func render(_ audit: Audit, as format: ReportFormat) -> String {
        let facts = PeriodStreamRenderer.AuditFacts(verification: audit.verification, digestChecked: audit.digestChecked)
        return switch format {
        case .markdown: PeriodStreamRenderer.render(audit.period, layout: .auditMarkdown, audit: facts)
        case .html: PeriodStreamRenderer.render(audit.period, layout: .auditHTML, audit: facts)
        case .json: PeriodStreamRenderer.render(audit.period, layout: .json, audit: facts)
        case .csv: PeriodStreamRenderer.render(audit.period, layout: .csv)
        }
    }

    static func verificationLine(_ a: PeriodStreamRenderer.AuditFacts) -> String {
        let v = a.verification
        if v.ok {
            var s = "Chain verified: \(v.eventsChecked) events, tip at position \(v.lastPosition), hash \(v.lastHash)"
            if let d = a.digestChecked { s += "; extends the external digest at position \(d.position)" }
            return s + "."
        }
        return "TAMPERING DETECTED at position \(v.firstBadPosition ?? 0): \(v.problem ?? "")"
    }

    static func policyRows(_ p: PeriodSummary) -> TextTable.Rows {
        let tz = ComplianceRenderer.zone(p)
        return { body in
            for publication in p.policyPublications {
                body(["v\(publication.version)", Fmt.time(publication.effectiveFrom, tz), Fmt.time(publication.recordedAt, tz),
                      publication.actor, "#\(publication.position)"])
            }
        }
    }

    static let policyHeader = ["Version", "Effective from", "Published", "By", "Event"]
    static let rateHeader = ["", "Rate", "Met", "Late", "Partial", "Missed", "Pending", "N/A"]
    static let caseHeader = ["Case", "Kind", "Team", "Opened", "Policy", "Rate", "Violations"]
    static let violationHeader = ["Case", "Team", "Rule", "Occurrence", "Verdict", "Deadline", "Evidence", "Detail"]

    /// Rows of a rate table, by rule or by team.
    static func rateRows(_ items: [(String, VerdictCounts)], bar: Bool = false) -> TextTable.Rows {
        let rows = ComplianceRenderer.rateRows(items, bar: bar)
        return { body in rows.forEach(body) }
    }

    /// The audit in Markdown; the case and violation rows as the period
    /// renderer hands them over (see `ComplianceRenderer.periodText`).
    static func markdown(_ p: PeriodSummary, _ a: PeriodStreamRenderer.AuditFacts, out: TextSink,
                         caseRows: TextTable.Rows, violationRows: TextTable.Rows) {
        let tz = ComplianceRenderer.zone(p)
        let rateColumns = ["Rate", "", "Met", "Late", "Partial", "Missed", "Pending", "N/A"]
        out.add("# Compliance audit, \(Fmt.time(p.from, tz)) to \(Fmt.time(p.to, tz))\n\n")
        out.add("_As of \(Fmt.time(p.asOf, tz)); ledger position \(p.digest.position), hash \(p.digest.hash)._\n\n")
        out.add("**\(MD.cell(verificationLine(a)))**\n\n")
        out.add("\(p.totals.cases) case(s) opened in the period. Overall: \(ComplianceRenderer.summary(p.totals.totals)).\n\n")
        out.add("## Compliance by rule\n\n")
        MD.write(["Rule"] + rateColumns, rateRows(p.totals.ruleCounts.map { ($0.rule, $0.counts) }, bar: true), to: out)
        out.add("\n## Compliance by team\n\n")
        MD.write(["Team"] + rateColumns, rateRows(p.totals.teamCounts.map { ($0.team, $0.counts) }, bar: true), to: out)
        out.add("\n## Cases\n\n")
        MD.write(caseHeader, caseRows, to: out)
        out.add("\n## Violations\n\n")
        if p.totals.totals.violations == 0 {
            out.add("None.\n\n")
        } else {
            MD.write(violationHeader, violationRows, to: out)
            out.add("\n")
        }
        out.add("## Policy versions published\n\n")
        MD.write(policyHeader, policyRows(p), to: out)
        out.add("\nRate = met / (met + late + partial + missed); pending and not-applicable obligations are left out.\n")
    }

    /// The audit as one HTML page, rows handed over as for `markdown`.
    static func html(_ p: PeriodSummary, _ a: PeriodStreamRenderer.AuditFacts, out: TextSink,
                     caseRows: TextTable.Rows, violationRows: TextTable.Rows) {
        let tz = ComplianceRenderer.zone(p)
        let byRule = p.totals.ruleCounts.map { ($0.rule, $0.counts) }
        let byTeam = p.totals.teamCounts.map { ($0.team, $0.counts) }
        out.add(HTML.pageHead(title: "Compliance audit"))
        out.add("<h1>Compliance audit, \(HTML.esc(Fmt.time(p.from, tz))) to \(HTML.esc(Fmt.time(p.to, tz)))</h1>\n")
        out.add("<p class=\"meta\">As of \(HTML.esc(Fmt.time(p.asOf, tz))); ledger position \(p.digest.position), hash <code>\(p.digest.hash)</code>.</p>\n")
        out.add("<p class=\"\(a.verification.ok ? "ok" : "bad")\">\(HTML.esc(verificationLine(a)))</p>\n")
        out.add("<p>\(p.totals.cases) case(s) opened in the period. Overall: \(HTML.esc(ComplianceRenderer.summary(p.totals.totals))).</p>\n")
        out.add("<h2>Compliance by rule</h2>\n<figure>\n" + SVGChart.rates(byRule, title: "Compliance rate by rule") + "</figure>\n")
        HTML.write(["Rule"] + rateHeader.dropFirst(), rateRows(byRule), to: out)
        out.add("<h2>Compliance by team</h2>\n<figure>\n" + SVGChart.rates(byTeam, title: "Compliance rate by team") + "</figure>\n")
        HTML.write(["Team"] + rateHeader.dropFirst(), rateRows(byTeam), to: out)
        out.add("<h2>Cases</h2>\n")
        HTML.write(caseHeader, caseRows, to: out)
        out.add("<h2>Violations</h2>\n")
        if p.totals.totals.violations == 0 {
            out.add("<p>None.</p>\n")
        } else {
            HTML.write(violationHeader, violationRows, rowClass: { row, _ in row[4].lowercased() }, to: out)
        }
        out.add("<h2>Policy versions published</h2>\n")
        HTML.write(policyHeader, policyRows(p), to: out)
        out.add("<p class=\"meta\">Rate = met / (met + late + partial + missed); pending and not-applicable obligations are left out.</p>\n")
        out.add(HTML.pageTail)
    }

    /// What the audit adds to the period's top-level JSON fields.
    static func jsonFields(_ p: PeriodSummary, _ a: PeriodStreamRenderer.AuditFacts) -> [String: JSONValue] {
        var v: [String: JSONValue] = [
            "ok": .bool(a.verification.ok), "events_checked": .int(a.verification.eventsChecked),
            "last_position": .int(a.verification.lastPosition), "last_hash": .string(a.verification.lastHash),
        ]
        if let bad = a.verification.firstBadPosition { v["first_bad_position"] = .int(bad) }
        if let problem = a.verification.problem { v["problem"] = .string(problem) }
        if let d = a.digestChecked { v["digest"] = d.json; v["digest_matched"] = .bool(a.verification.digestMatched ?? false) }
        return [
            "verification": .object(v),
            "policy_publications": .array(p.policyPublications.map {
                .object(["version": .string($0.version), "effective_from": .string(RFC3339.format($0.effectiveFrom)),
                         "published_at": .string(RFC3339.format($0.recordedAt)), "actor": .string($0.actor),
                         "position": .int($0.position), "event": .string($0.eventID)])
            }),
        ]
    }
}
