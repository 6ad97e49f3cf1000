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

    /// The warning an audit whose chain did not verify opens with.
    static let unverifiedBanner = "UNVERIFIED: the ledger's chain did not verify; nothing in this audit can be relied on until the tampering below is explained."

    static func policyRows(_ p: PeriodSummary) -> TextTable.Rows {
        let tz = ComplianceRenderer.zone(p)
        return { body in
            for publication in p.policyPublications {
                body(["\(publication.name) v\(publication.version)", Fmt.time(publication.effectiveFrom, tz), Fmt.time(publication.recordedAt, tz),
                      publication.actor, "#\(publication.position)"])
            }
        }
    }

    static let policyHeader = ["Policy", "Effective from", "Published", "By", "Event"]
    static let caseHeader = ["Case", "Kind", "Team", "Opened", "Policy", "Rate", "Violations"]
    static let violationHeader = ["Case", "Team", "Rule", "Occurrence", "Verdict", "Deadline", "Evidence", "Detail"]

    /// The audit as one Markdown document or one HTML page (`html`), its
    /// sections in one order for both; the case and violation rows as the
    /// period renderer hands them over (see `ComplianceRenderer.periodText`).
    static func write(_ p: PeriodSummary, _ a: PeriodStreamRenderer.AuditFacts, html: Bool, out: TextSink,
                      caseRows: TextTable.Rows, violationRows: TextTable.Rows, findingRows: TextTable.Rows? = nil) {
        let tz = ComplianceRenderer.zone(p)
        func heading(_ text: String) { out.add(html ? "<h2>\(text)</h2>\n" : "## \(text)\n\n") }
        func table(_ header: [String], _ rows: TextTable.Rows, rowClass: (([String], Int) -> String?)? = nil) {
            if html {
                HTML.write(header, rows, rowClass: rowClass, to: out)
            } else {
                MD.write(header, rows, to: out)
                out.add("\n")
            }
        }
        /// Rates by rule or team: in HTML a chart, then the table; in Markdown a text bar column after the rate.
        func rates(_ name: String, _ items: [(String, VerdictCounts)]) {
            heading("Compliance by \(name.lowercased())")
            if html { out.add("<figure>\n" + SVGChart.rates(items, title: "Compliance rate by \(name.lowercased())") + "</figure>\n") }
            let rows = ComplianceRenderer.rateRows(items, bar: !html)
            table([name, "Rate"] + (html ? [] : [""]) + ["Met", "Late", "Partial", "Missed", "Violated", "Pending", "N/A"],
                  { body in rows.forEach(body) })
        }
        let title = "Compliance audit, \(Fmt.time(p.from, tz)) to \(Fmt.time(p.to, tz))"
        let overall = "\(p.totals.cases) case(s) opened in the period. Overall: \(ComplianceRenderer.summary(p.totals.totals))."
        let note = "Rate = met / (met + late + partial + missed + violated); pending and not-applicable obligations, and `should` obligations (marked \"(should)\", counted apart), are left out."
        if html {
            out.add(HTML.pageHead(title: "Compliance audit"))
            out.add("<h1>\(HTML.esc(title))</h1>\n")
            out.add("<p class=\"meta\">As of \(HTML.esc(Fmt.time(p.asOf, tz))); ledger position \(p.digest.position), hash <code>\(p.digest.hash)</code>.</p>\n")
            if !a.verification.ok { out.add("<p class=\"bad\"><strong>\(HTML.esc(unverifiedBanner))</strong></p>\n") }
            out.add("<p class=\"\(a.verification.ok ? "ok" : "bad")\">\(HTML.esc(verificationLine(a)))</p>\n")
            out.add("<p>\(HTML.esc(overall))</p>\n")
        } else {
            out.add("# \(title)\n\n")
            if !a.verification.ok { out.add("> **\(MD.cell(unverifiedBanner))**\n\n") }
            out.add("_As of \(Fmt.time(p.asOf, tz)); ledger position \(p.digest.position), hash \(p.digest.hash)._\n\n")
            out.add("**\(MD.cell(verificationLine(a)))**\n\n")
            out.add("\(overall)\n\n")
        }
        rates("Rule", p.totals.ruleCounts.map { ($0.rule, $0.counts) })
        rates("Team", p.totals.teamCounts.map { ($0.team, $0.counts) })
        if p.totals.otherEvaluations > 0 { rates("Policy", p.totals.policyCounts.map { ($0.policy, $0.counts) }) }
        heading("Cases")
        table(caseHeader, caseRows)
        heading("Violations")
        if p.totals.allViolations == 0 {
            out.add(html ? "<p>None.</p>\n" : "None.\n\n")
        } else {
            table(violationHeader, violationRows, rowClass: { row, _ in row[4].lowercased() })
        }
        heading("Identity and provenance")
        if let findingRows {
            out.add(html ? "<p class=\"meta\">Actions whose login is not the actor's, shared or unknown logins, people the directory binds to no login, import provenance claimed by a login not registered for it, and email evidence that is not DKIM-verified (it counts, unverified).</p>\n"
                         : "Actions whose login is not the actor's, shared or unknown logins, people the directory binds to no login, import provenance claimed by a login not registered for it, and email evidence that is not DKIM-verified (it counts, unverified).\n\n")
            table(["Case", "Finding"], findingRows)
        } else {
            out.add(html ? "<p>None: every restricted action was recorded by its actor's login.</p>\n"
                         : "None: every restricted action was recorded by its actor's login.\n\n")
        }
        heading("Policy versions published")
        table(policyHeader, policyRows(p))
        heading("Policy and directory publications and retractions")
        if p.publications.isEmpty {
            out.add(html ? "<p>None in the period.</p>\n" : "None in the period.\n\n")
        } else {
            table(ComplianceRenderer.publicationHeader, { body in
                for record in p.publications { body(ComplianceRenderer.publicationRow(record, tz)) }
            })
        }
        if !p.retroactiveCases.isEmpty {
            heading("Cases re-judged by retroactive publications")
            table(["Case", "Publication event"], { body in for c in p.retroactiveCases { body([c.caseID, c.publication]) } })
        }
        if !p.undecodable.isEmpty {
            heading(ComplianceRenderer.undecodableTitle)
            table(["Position", "Event id", "Type", "Case", "Why"], { body in
                for u in p.undecodable { body([String(u.position), u.id, u.type, u.caseID, u.reason]) }
            })
        }
        out.add(html ? "<p class=\"meta\">\(note)</p>\n" + HTML.pageTail : "\(note)\n")
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
            "verified": .bool(a.verification.ok),
            "publications": .array(p.publications.map(\.json)),
            "verification": .object(v),
            "policy_publications": .array(p.policyPublications.map {
                .object(["name": .string($0.name), "version": .string($0.version), "effective_from": .string(RFC3339.format($0.effectiveFrom)),
                         "published_at": .string(RFC3339.format($0.recordedAt)), "actor": .string($0.actor),
                         "position": .int($0.position), "event": .string($0.eventID)])
            }),
        ]
    }
}
