import Compliance
import Events
import Foundation
import Ledger
import Domain

/// The System Owner's and ISSO's audit over a period.
public enum AuditRenderer {
    public static func render(_ audit: Audit, as format: ReportFormat) -> String {
        switch format {
        case .markdown: markdown(audit)
        case .html: html(audit)
        case .json: json(audit).jsonText() + "\n"
        case .csv: ComplianceRenderer.render(audit.period, as: .csv)
        }
    }

    static func zone(_ a: Audit) -> TimeZone { ComplianceRenderer.zone(a.period) }

    static func verificationLine(_ a: Audit) -> String {
        let v = a.verification
        if v.ok {
            var s = "Chain verified: \(v.eventsChecked) events, tip at position \(v.lastPosition), hash \(v.lastHash)"
            if let d = a.digestChecked { s += "; extends the external digest at position \(d.position)" }
            return s + "."
        }
        return "TAMPERING DETECTED at position \(v.firstBadPosition ?? 0): \(v.problem ?? "")"
    }

    static func policyRows(_ a: Audit) -> [[String]] {
        let tz = zone(a)
        return a.period.policyPublications.map {
            ["v\($0.version)", Fmt.time($0.effectiveFrom, tz), Fmt.time($0.recordedAt, tz), $0.actor, "#\($0.position)"]
        }
    }

    static let policyHeader = ["Version", "Effective from", "Published", "By", "Event"]

    static let rateHeader = ["", "Rate", "Met", "Late", "Partial", "Missed", "Pending", "N/A"]

    public static func markdown(_ a: Audit) -> String {
        let p = a.period
        let tz = zone(a)
        var out = "# Compliance audit, \(Fmt.time(p.from, tz)) to \(Fmt.time(p.to, tz))\n\n"
        out += "_As of \(Fmt.time(p.asOf, tz)); ledger position \(p.digest.position), hash \(p.digest.hash)._\n\n"
        out += "**\(MD.cell(verificationLine(a)))**\n\n"
        out += "\(p.cases.count) case(s) opened in the period. Overall: \(ComplianceRenderer.summary(p.totals)).\n\n"
        out += "## Compliance by rule\n\n"
        out += MD.table(["Rule", "Rate", "", "Met", "Late", "Partial", "Missed", "Pending", "N/A"],
                        ComplianceRenderer.rateRows(p.ruleCounts.map { ($0.rule, $0.counts) }, bar: true)) + "\n"
        out += "## Compliance by team\n\n"
        out += MD.table(["Team", "Rate", "", "Met", "Late", "Partial", "Missed", "Pending", "N/A"],
                        ComplianceRenderer.rateRows(p.teamCounts.map { ($0.team, $0.counts) }, bar: true)) + "\n"
        out += "## Cases\n\n" + MD.table(caseHeader, caseRows(a)) + "\n"
        out += "## Violations\n\n"
        let v = ComplianceRenderer.violations(p)
        out += v.isEmpty ? "None.\n\n" : MD.table(violationHeader, v) + "\n"
        out += "## Policy versions published\n\n" + MD.table(policyHeader, policyRows(a)) + "\n"
        out += "Rate = met / (met + late + partial + missed); pending and not-applicable obligations are left out.\n"
        return out
    }

    static let caseHeader = ["Case", "Kind", "Team", "Opened", "Policy", "Rate", "Violations"]
    static let violationHeader = ["Case", "Team", "Rule", "Occurrence", "Verdict", "Deadline", "Evidence", "Detail"]

    static func caseRows(_ a: Audit) -> [[String]] {
        let tz = zone(a)
        return a.period.cases.map { c in
            [c.evaluation.caseID, c.evaluation.kind?.rawValue ?? "", c.evaluation.team?.rawValue ?? "",
             Fmt.time(c.evaluation.openedAt, tz), "v\(c.evaluation.policyVersion)", Fmt.percent(c.counts.rate), String(c.counts.violations)]
        }
    }

    public static func html(_ a: Audit) -> String {
        let p = a.period
        let tz = zone(a)
        var b = "<h1>Compliance audit, \(HTML.esc(Fmt.time(p.from, tz))) to \(HTML.esc(Fmt.time(p.to, tz)))</h1>\n"
        b += "<p class=\"meta\">As of \(HTML.esc(Fmt.time(p.asOf, tz))); ledger position \(p.digest.position), hash <code>\(p.digest.hash)</code>.</p>\n"
        b += "<p class=\"\(a.verification.ok ? "ok" : "bad")\">\(HTML.esc(verificationLine(a)))</p>\n"
        b += "<p>\(p.cases.count) case(s) opened in the period. Overall: \(HTML.esc(ComplianceRenderer.summary(p.totals))).</p>\n"
        b += "<h2>Compliance by rule</h2>\n<figure>\n" + SVGChart.rates(p.ruleCounts.map { ($0.rule, $0.counts) }, title: "Compliance rate by rule") + "</figure>\n"
        b += HTML.table(["Rule"] + rateHeader.dropFirst(), ComplianceRenderer.rateRows(p.ruleCounts.map { ($0.rule, $0.counts) }))
        b += "<h2>Compliance by team</h2>\n<figure>\n" + SVGChart.rates(p.teamCounts.map { ($0.team, $0.counts) }, title: "Compliance rate by team") + "</figure>\n"
        b += HTML.table(["Team"] + rateHeader.dropFirst(), ComplianceRenderer.rateRows(p.teamCounts.map { ($0.team, $0.counts) }))
        b += "<h2>Cases</h2>\n" + HTML.table(caseHeader, caseRows(a))
        b += "<h2>Violations</h2>\n"
        let v = ComplianceRenderer.violations(p)
        b += v.isEmpty ? "<p>None.</p>\n" : HTML.table(violationHeader, v, classes: v.map { $0[4].lowercased() })
        b += "<h2>Policy versions published</h2>\n" + HTML.table(policyHeader, policyRows(a))
        b += "<p class=\"meta\">Rate = met / (met + late + partial + missed); pending and not-applicable obligations are left out.</p>\n"
        return HTML.page(title: "Compliance audit", body: b)
    }

    public static func json(_ a: Audit) -> JSONValue {
        var o = ComplianceRenderer.json(a.period).objectValue ?? [:]
        var v: [String: JSONValue] = [
            "ok": .bool(a.verification.ok), "events_checked": .int(a.verification.eventsChecked),
            "last_position": .int(a.verification.lastPosition), "last_hash": .string(a.verification.lastHash),
        ]
        if let bad = a.verification.firstBadPosition { v["first_bad_position"] = .int(bad) }
        if let problem = a.verification.problem { v["problem"] = .string(problem) }
        if let d = a.digestChecked { v["digest"] = d.json; v["digest_matched"] = .bool(a.verification.digestMatched ?? false) }
        o["verification"] = .object(v)
        o["policy_publications"] = .array(a.period.policyPublications.map {
            .object(["version": .string($0.version), "effective_from": .string(RFC3339.format($0.effectiveFrom)),
                     "published_at": .string(RFC3339.format($0.recordedAt)), "actor": .string($0.actor),
                     "position": .int($0.position), "event": .string($0.eventID)])
        })
        return .object(o)
    }
}
