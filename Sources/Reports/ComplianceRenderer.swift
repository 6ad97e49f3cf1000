import Compliance
import Events
import Foundation
import Ledger
import Domain

/// The output formats of `dtledger compliance`.
public enum ComplianceFormat: String, Sendable, CaseIterable {
    case table, markdown, json, csv
}

/// Renders compliance results for one case or a period.
public enum ComplianceRenderer {
    // MARK: One case

    public static func render(_ report: CaseReport, as format: ComplianceFormat) -> String {
        switch format {
        case .table: table(report)
        case .markdown: markdown(report)
        case .json: json(report).jsonText() + "\n"
        case .csv:
            csvHeader + (report.all.flatMap(csvRows) + recordRows(undecodable: report.undecodable,
                                                      retroactive: report.retroactive.map { (report.evaluation.caseID, $0.eventID) }))
                .map { $0 + chainColumns(report.chain) + "\n" }.joined()
        }
    }

    // MARK: The chain's verification (ChainCheck), in every format

    /// The text line: "Chain verified: ..." or "CHAIN NOT VERIFIED: ...".
    static func chainLine(_ c: ChainCheck?) -> String {
        c?.line ?? "Chain not verified: no verification was run for this report."
    }

    /// The chain columns that end each CSV row (same values on every row).
    static func chainColumns(_ c: ChainCheck?) -> String {
        guard let c else { return ",,,,," }
        return "," + CSV.row([c.verified ? "true" : "false", String(c.eventsChecked), String(c.lastPosition), c.lastHash,
                              c.problem ?? ""])
    }

    static func chainJSON(_ c: ChainCheck?) -> JSONValue { c?.json ?? .null }

    // MARK: Undecodable events (skipped, listed when there are any)

    static let undecodableTitle = "Undecodable events (skipped)"

    /// The list as text or Markdown lines; empty when there are none.
    static func undecodableLines(_ list: [UndecodableEvent], markdown: Bool) -> String {
        guard !list.isEmpty else { return "" }
        let title = markdown ? "### \(undecodableTitle)\n\n" : "\(undecodableTitle)\n\(String(repeating: "-", count: undecodableTitle.count))\n"
        return title + list.map { "- " + (markdown ? MD.cell($0.line) : $0.line) }.joined(separator: "\n") + "\n"
    }

    // MARK: Retroactive publications and the publications of a period

    /// One line per retroactive publication that re-judges the case.
    static func retroactiveLines(_ list: [PublicationRecord], _ tz: TimeZone) -> [String] {
        list.map { p in
            "Re-judged by a retroactive publication: \(p.name), effective \(Fmt.time(p.effectiveFrom, tz)), recorded \(Fmt.time(p.recordedAt, tz)) by login \(p.login ?? "unknown") (actor \(p.actor)): \(p.retroactiveReason ?? "")"
        }
    }

    static let publicationHeader = ["Position", "Kind", "Recorded", "Effective from", "Login", "Actor", "Retroactive", "Changes"]

    static func publicationRow(_ p: PublicationRecord, _ tz: TimeZone) -> [String] {
        [String(p.position), p.kind == .policy ? "policy v\(p.version ?? "?")" : p.kind == .retraction ? "retraction of \(p.retracts ?? "?") (\(p.stream))" : "directory",
         Fmt.time(p.recordedAt, tz), Fmt.time(p.effectiveFrom, tz), p.login ?? "unknown", p.actor,
         p.retroactiveReason.map { "yes: \($0)" } ?? "no", p.changes.joined(separator: "; ")]
    }

    static func undecodableJSON(_ list: [UndecodableEvent], into o: inout [String: JSONValue]) {
        if !list.isEmpty { o["undecodable_events"] = .array(list.map(\.json)) }
    }

    static func heading(_ r: CaseReport) -> String {
        let e = r.evaluation
        var parts = [e.kind?.rawValue.replacingOccurrences(of: "_", with: " ") ?? "case"]
        if let team = e.team { parts.append("team \(team.rawValue)") }
        if let p = e.currentPriority { parts.append("priority \(p.rawValue)") }
        return "\(e.caseID) (\(parts.joined(separator: ", ")))"
    }

    static func provenance(_ r: CaseReport) -> String {
        "policy \(r.evaluation.policyName) v\(r.evaluation.policyVersion); as of \(Fmt.time(r.evaluation.asOf, r.policyTimeZone)); ledger position \(r.digest.position), hash \(r.digest.hash)"
    }

    static func rows(_ r: CaseReport) -> [[String]] {
        let positions = r.positions
        return r.evaluation.obligations.map { o in
            [o.ruleID, Fmt.occurrence(o.occurrence, positions), Fmt.verdictLabel(o), Fmt.time(o.deadline, r.policyTimeZone),
             Fmt.evidence(o.evidence, positions), Fmt.detail(o)]
        }
    }

    /// The counts in one line; `violated` when there are any, and the
    /// `should` obligations (not in the rate) when there are any.
    static func summary(_ c: VerdictCounts) -> String {
        let violated = c.violated > 0 ? "\(c.violated) violated, " : ""
        var line = "\(c.met) met, \(c.late) late, \(c.partial) partial, \(c.missed) missed, \(violated)\(c.pending) pending, \(c.notApplicable) not applicable; compliance \(Fmt.percent(c.rate)) of \(c.judged) judged"
        if c.shouldObligations > 0 { line += "; \(shouldLine(c))" }
        return line
    }

    /// "should: 2 met / 3 judged (not in the rate)".
    static func shouldLine(_ c: VerdictCounts) -> String {
        "should: \(c.shouldMet) met / \(c.shouldJudged) judged (not in the rate)"
    }

    /// The heading of the section of a case judged by another (scoped) policy.
    static func otherHeading(_ r: CaseReport) -> String {
        "Also judged by policy \(r.evaluation.policyName) v\(r.evaluation.policyVersion)"
    }

    static func table(_ r: CaseReport) -> String {
        var out = "Compliance of \(heading(r))\n\(provenance(r))\n\(chainLine(r.chain))\n\n"
        out += TextTable.render(["RULE", "OCCURRENCE", "VERDICT", "DEADLINE", "EVIDENCE", "DETAIL"], rows(r))
        out += "\n\(summary(r.counts))\n"
        for other in r.others {
            let title = otherHeading(other)
            out += "\n\(title)\n\(String(repeating: "-", count: title.count))\n"
            out += TextTable.render(["RULE", "OCCURRENCE", "VERDICT", "DEADLINE", "EVIDENCE", "DETAIL"], rows(other))
            out += "\n\(summary(other.counts))\n"
        }
        if !r.undecodable.isEmpty { out += "\n" + undecodableLines(r.undecodable, markdown: false) }
        for line in retroactiveLines(r.retroactive, r.policyTimeZone) { out += line + "\n" }
        if r.evaluation.obligations.contains(where: \.attestedLate) {
            out += "attested late: the evidence was recorded in the ledger more than 24 hours after it occurred.\n"
        }
        let findings = Fmt.findingLines(r.evaluation.findings, r.positions)
        if !findings.isEmpty {
            out += "\nFindings:\n" + findings.map { "  - \($0)\n" }.joined()
        }
        return out
    }

    static func markdown(_ r: CaseReport) -> String {
        var out = "## Compliance of \(MD.cell(heading(r)))\n\n"
        out += "_\(MD.cell(provenance(r)))_\n\n"
        out += "**\(MD.cell(chainLine(r.chain)))**\n\n"
        out += MD.table(["Rule", "Occurrence", "Verdict", "Deadline", "Evidence", "Detail"], rows(r))
        out += "\n\(summary(r.counts))\n"
        for other in r.others {
            out += "\n### \(MD.cell(otherHeading(other)))\n\n"
            out += MD.table(["Rule", "Occurrence", "Verdict", "Deadline", "Evidence", "Detail"], rows(other))
            out += "\n\(summary(other.counts))\n"
        }
        out += findingsMarkdown(r)
        if !r.undecodable.isEmpty { out += "\n" + undecodableLines(r.undecodable, markdown: true) }
        for line in retroactiveLines(r.retroactive, r.policyTimeZone) { out += "\n**\(MD.cell(line))**\n" }
        return out
    }

    /// "### Findings" and a list, or nothing when the case has none.
    static func findingsMarkdown(_ r: CaseReport) -> String {
        let findings = Fmt.findingLines(r.evaluation.findings, r.positions)
        guard !findings.isEmpty else { return "" }
        return "\n### Findings\n\n" + findings.map { "- \(MD.cell($0))\n" }.joined()
    }

    public static func json(_ r: CaseReport) -> JSONValue {
        var o = r.evaluation.json.objectValue ?? [:]
        o["ledger"] = r.digest.json
        o["summary"] = counts(r.counts)
        o["evidence_positions"] = .object(r.positions.mapValues { .int($0) })
        o["chain_check"] = chainJSON(r.chain)
        undecodableJSON(r.undecodable, into: &o)
        if !r.retroactive.isEmpty { o["retroactive_publications"] = .array(r.retroactive.map(\.json)) }
        // The scoped policies that also judged the case, each with its own summary.
        if !r.others.isEmpty {
            o["other_policies"] = .array(r.others.map { other in
                var e = other.evaluation.json.objectValue ?? [:]
                e["summary"] = counts(other.counts)
                e["evidence_positions"] = .object(other.positions.mapValues { .int($0) })
                return .object(e)
            })
        }
        return .object(o)
    }

    static func counts(_ c: VerdictCounts) -> JSONValue {
        .object([
            "met": .int(Int64(c.met)), "late": .int(Int64(c.late)), "partial": .int(Int64(c.partial)),
            "missed": .int(Int64(c.missed)), "pending": .int(Int64(c.pending)),
            "not_applicable": .int(Int64(c.notApplicable)), "judged": .int(Int64(c.judged)),
            "violated": .int(Int64(c.violated)), "violations": .int(Int64(c.violations)),
            "rate": c.rate.map { .double(($0 * 10000).rounded() / 10000) } ?? .null,
            "should": .object(["obligations": .int(Int64(c.shouldObligations)), "judged": .int(Int64(c.shouldJudged)),
                               "met": .int(Int64(c.shouldMet))]),
        ])
    }

    /// The CSV rows that are not obligations, after them, each told apart by
    /// its `kind` column (never a case kind): `publication` or `retraction`
    /// of the policy or directory (case = the stream), `undecodable_event`
    /// (a stored event the readers skipped), `retroactive_rejudged` (a case
    /// re-judged by a retroactive publication, evidence = the publication).
    /// Without the chain columns and the newline.
    static func recordRows(publications: [PublicationRecord] = [], undecodable: [UndecodableEvent],
                           retroactive: [(caseID: String, publication: String)]) -> [String] {
        func row(_ caseID: String, _ kind: String, version: String = "", evidence: String, missing: String = "",
                 reason: String, position: String = "") -> String {
            CSV.row([caseID, kind, "", version, "", "", "", "", "", evidence, missing, reason, "", position, "", "", "", "", "", ""])
        }
        var out: [String] = []
        for p in publications {
            var reason = "recorded \(RFC3339.format(p.recordedAt)) by login \(p.login ?? "unknown") (actor \(p.actor))"
            if let from = p.effectiveFrom { reason += "; effective \(RFC3339.format(from))" }
            if let r = p.retroactiveReason { reason += "; retroactive: \(r)" }
            if let target = p.retracts { reason += "; retracts \(target)" }
            out.append(row(p.stream, p.kind == .retraction ? "retraction" : "publication", version: p.version ?? "",
                           evidence: p.eventID, missing: p.changes.joined(separator: "; "), reason: reason,
                           position: String(p.position)))
        }
        for u in undecodable {
            out.append(row(u.caseID, "undecodable_event", evidence: u.id, reason: "\(u.type): \(u.reason)", position: String(u.position)))
        }
        for r in retroactive {
            out.append(row(r.caseID, "retroactive_rejudged", evidence: r.publication, reason: "re-judged by a retroactive publication"))
        }
        return out
    }

    static let csvHeader = CSV.row(["case", "kind", "team", "policy_version", "rule", "occurrence", "verdict", "deadline",
                                    "late_by_seconds", "evidence", "missing", "reason", "attested_late",
                                    "ledger_position", "ledger_hash", "findings", "level", "expected", "given", "policy_name",
                                    "chain_verified", "chain_events_checked",
                                    "chain_tip_position", "chain_tip_hash", "chain_problem"]) + "\n"

    /// A case's CSV rows, without the chain columns and the newline: one per
    /// obligation, then one per finding of the case that no obligation
    /// carries (e.g. unverified provenance), with only the case columns and
    /// `findings` filled.
    static func csvRows(_ r: CaseReport) -> [String] {
        var out = r.evaluation.obligations.map { csvRow(r, $0) }
        var carried = Set<Finding>()
        for o in r.evaluation.obligations { carried.formUnion(o.findings) }
        let e = r.evaluation
        for f in e.findings where !carried.contains(f) {
            out.append(CSV.row([e.caseID, e.kind?.rawValue ?? "", e.team?.rawValue ?? "", e.policyVersion, "", "", "", "", "",
                                f.eventID ?? "", "", "", "", String(r.digest.position), r.digest.hash,
                                Fmt.findingsCell([f]), "", "", "", e.policyName]))
        }
        return out
    }

    /// One obligation's CSV row, without the chain columns and the newline.
    static func csvRow(_ r: CaseReport, _ o: Obligation) -> String {
        let e = r.evaluation
        return CSV.row([
            e.caseID, e.kind?.rawValue ?? "", e.team?.rawValue ?? "", e.policyVersion, o.ruleID, o.occurrence ?? "",
            o.verdict.rawValue, o.deadline.map { RFC3339.format($0) } ?? "",
            o.lateBy.map { String(Int64($0.rounded())) } ?? "", o.evidence.joined(separator: " "),
            o.missing.joined(separator: "; "), o.reason ?? "", o.attestedLate ? "true" : "false",
            String(r.digest.position), r.digest.hash, Fmt.findingsCell(o.findings),
            o.level.rawValue, o.expected ?? "", o.given ?? "", e.policyName,
        ])
    }

    // MARK: A period

    /// The whole period, in memory: the period renderer writing into a buffer.
    public static func render(_ report: PeriodReport, as format: ComplianceFormat) -> String {
        PeriodStreamRenderer.render(report, layout: .init(format))
    }

    static func zone(_ s: PeriodSummary) -> TimeZone {
        s.totals.firstPolicyTimeZone ?? TimeZone(identifier: Policy.defaultTimezone) ?? .gmt
    }

    /// One row per name: rate, then the count of each verdict; `bar` adds a
    /// text bar after the rate (for Markdown, which has no charts).
    static func rateRows(_ items: [(String, VerdictCounts)], bar: Bool = false) -> [[String]] {
        items.map { name, c in
            [name, Fmt.percent(c.rate)] + (bar ? [Fmt.bar(c.rate)] : [])
                + [String(c.met), String(c.late), String(c.partial), String(c.missed), String(c.violated), String(c.pending),
                   String(c.notApplicable)]
        }
    }

    static let caseHeader = ["CASE", "KIND", "TEAM", "OPENED", "POLICY", "RATE", "VIOLATIONS"]
    static let violationHeader = ["CASE", "TEAM", "RULE", "OCCURRENCE", "VERDICT", "DEADLINE", "EVIDENCE", "DETAIL"]

    /// A case's row; `named`: the policy column names the policy (a scoped
    /// policy's evaluation), not only its version.
    static func caseRow(_ c: CaseReport, _ tz: TimeZone, named: Bool = false) -> [String] {
        let counts = c.counts
        return [c.evaluation.caseID, c.evaluation.kind?.rawValue ?? "", c.evaluation.team?.rawValue ?? "",
                Fmt.time(c.evaluation.openedAt, tz),
                (named ? "\(c.evaluation.policyName) " : "") + "v\(c.evaluation.policyVersion)", Fmt.percent(counts.rate),
                String(counts.violations)]
    }

    /// The violations of a case (`must` obligations late, partial, missed
    /// or violated); `named`: the rule column names the policy too.
    static func violationRows(_ c: CaseReport, named: Bool = false) -> [[String]] {
        let positions = c.positions
        return c.evaluation.obligations.filter(Fmt.isViolation).map { o in
            [c.evaluation.caseID, c.evaluation.team?.rawValue ?? "", (named ? "\(c.evaluation.policyName): " : "") + o.ruleID,
             Fmt.occurrence(o.occurrence, positions), Fmt.verdictLabel(o), Fmt.time(o.deadline, c.policyTimeZone),
             Fmt.evidence(o.evidence, positions), Fmt.detail(o)]
        }
    }

    /// The period as text or Markdown. The case and violation rows come
    /// from `caseRows` / `violationRows` (each may be called more than once,
    /// and must give the same rows in the same order each time), so a
    /// streamed period need not hold them.
    /// `caseWidths`, `violationWidths`: the text table's column widths of
    /// those rows, when the caller worked them out while collecting them.
    static func periodText(_ p: PeriodSummary, markdown: Bool, out: TextSink,
                           caseRows: TextTable.Rows, violationRows: TextTable.Rows,
                           caseWidths: TextTable.Widths? = nil, violationWidths: TextTable.Widths? = nil,
                           findingRows: TextTable.Rows? = nil) {
        let tz = zone(p)
        let rateHeader = ["", "RATE", "MET", "LATE", "PARTIAL", "MISSED", "VIOLATED", "PENDING", "N/A"]
        func table(_ header: [String], _ rows: TextTable.Rows, _ known: TextTable.Widths? = nil) {
            if markdown { MD.write(header, rows, to: out) } else { TextTable.write(header, rows, known: known, to: out) }
        }
        func h(_ text: String) -> String { markdown ? "### \(text)\n\n" : "\(text)\n\(String(repeating: "-", count: text.count))\n" }
        out.add(markdown ? "## Compliance, \(Fmt.time(p.from, tz)) to \(Fmt.time(p.to, tz))\n\n"
                         : "Compliance, \(Fmt.time(p.from, tz)) to \(Fmt.time(p.to, tz))\n\n")
        let versions = p.totals.policyVersionsUsed
        let policies = versions.isEmpty ? "none" : versions.joined(separator: ", ")
        let line = "\(p.totals.cases) case(s) opened in the period; policy \(policies); as of \(Fmt.time(p.asOf, tz)); ledger position \(p.digest.position), hash \(p.digest.hash)"
        out.add((markdown ? "_\(MD.cell(line))_" : line) + "\n\n")
        out.add((markdown ? "**\(MD.cell(chainLine(p.chain)))**" : chainLine(p.chain)) + "\n\n")
        out.add("Overall: \(summary(p.totals.totals))\n\n")
        out.add(h("By rule"))
        let byRule = rateRows(p.totals.ruleCounts.map { ($0.rule, $0.counts) })
        table(["RULE"] + rateHeader.dropFirst(), { body in byRule.forEach(body) })
        out.add("\n")
        out.add(h("By team"))
        let byTeam = rateRows(p.totals.teamCounts.map { ($0.team, $0.counts) })
        table(["TEAM"] + rateHeader.dropFirst(), { body in byTeam.forEach(body) })
        out.add("\n")
        if p.totals.otherEvaluations > 0 {
            // Several policies judged the period's cases: each with its own totals.
            out.add(h("By policy"))
            let byPolicy = rateRows(p.totals.policyCounts.map { ($0.policy, $0.counts) })
            table(["POLICY"] + rateHeader.dropFirst(), { body in byPolicy.forEach(body) })
            out.add("\n")
        }
        out.add(h("Cases"))
        table(caseHeader, caseRows, caseWidths)
        out.add("\n")
        out.add(h("Violations"))
        if p.totals.allViolations == 0 { out.add("None.\n") } else { table(violationHeader, violationRows, violationWidths) }
        if let findingRows {
            // Logins, provenance and late recording (docs/policy.md, "Findings").
            out.add("\n" + h("Findings"))
            table(["CASE", "FINDING"], findingRows)
        }
        if !p.unjudged.isEmpty {
            out.add("\n" + h("Not judged"))
            out.add(p.unjudged.map { "- \($0.caseID): \(Visible.escape($0.reason))" }.joined(separator: "\n") + "\n")
        }
        if !p.undecodable.isEmpty { out.add("\n" + undecodableLines(p.undecodable, markdown: markdown)) }
        if !p.retroactiveCases.isEmpty {
            out.add("\n" + h("Re-judged by retroactive publications"))
            out.add(p.retroactiveCases.map { "- \(markdown ? MD.cell($0.caseID) : $0.caseID): publication \($0.publication)" }
                .joined(separator: "\n") + "\n")
        }
    }

    /// The period's top-level JSON fields but "cases", which the period
    /// renderer streams in their place.
    static func jsonFields(_ p: PeriodSummary) -> [String: JSONValue] {
        var o: [String: JSONValue] = [
            "from": .string(RFC3339.format(p.from)), "to": .string(RFC3339.format(p.to)),
            "as_of": .string(RFC3339.format(p.asOf)), "ledger": p.digest.json,
            "policy_versions": .array(p.totals.policyVersionsUsed.map(JSONValue.string)),
            "summary": counts(p.totals.totals),
            "by_rule": .array(p.totals.ruleCounts.map { .object(["rule": .string($0.rule), "counts": counts($0.counts)]) }),
            "by_team": .array(p.totals.teamCounts.map { .object(["team": .string($0.team), "counts": counts($0.counts)]) }),
            "by_policy": .array(p.totals.policyCounts.map { .object(["policy": .string($0.policy), "counts": counts($0.counts)]) }),
            "not_judged": .array(p.unjudged.map { .object(["case": .string($0.caseID), "reason": .string($0.reason)]) }),
            "chain_check": chainJSON(p.chain),
        ]
        undecodableJSON(p.undecodable, into: &o)
        if !p.retroactiveCases.isEmpty {
            o["retroactive_cases"] = .array(p.retroactiveCases.map { .object(["case": .string($0.caseID), "publication": .string($0.publication)]) })
        }
        return o
    }
}
