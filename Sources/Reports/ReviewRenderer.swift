import Compliance
import Events
import Foundation
import Domain

public enum ReportFormat: String, Sendable, CaseIterable { case markdown, html, json, csv }

/// The post-incident review of one case: summary and impact, the timeline,
/// key figures, the compliance section and an evidence appendix.
public enum ReviewRenderer {
    public static func render(_ review: Review, as format: ReportFormat) -> String {
        switch format {
        case .markdown: markdown(review)
        case .html: html(review)
        case .json: json(review).jsonText() + "\n"
        case .csv: ComplianceRenderer.render(review.report, as: .csv)
        }
    }

    static func summaryRows(_ r: Review) -> [[String]] {
        let e = r.evaluation
        let tz = r.report.policyTimeZone
        var rows: [[String]] = [
            ["Case", e.caseID],
            ["Kind", e.kind?.rawValue.replacingOccurrences(of: "_", with: " ") ?? "-"],
            ["Team", e.team?.rawValue ?? "-"],
        ]
        if let t = r.title { rows.append(["Title", t]) }
        if let s = r.summary, s != r.title { rows.append([e.kind == .plannedDowntime ? "Reason" : "Summary", s]) }
        if let p = r.product { rows.append(["Product", p]) }
        if let i = r.impact {
            rows.append(["Impact", ([i.users.map { "\($0) users" }].compactMap { $0 } + [i.services.joined(separator: ", ")]).joined(separator: "; ")])
        }
        if e.kind == .incident {
            rows.append(["Incident start", Fmt.time(r.startedAt, tz)])
            rows.append(["Detected (opened)", Fmt.time(r.detectedAt, tz)])
            rows.append(["Resolved", Fmt.time(e.resolvedAt, tz)])
        } else {
            if let w = e.window { rows.append(["Window", "\(Fmt.time(w.start, tz)) to \(Fmt.time(w.end, tz))"]) }
            rows.append(["Planning started", Fmt.time(r.detectedAt, tz)])
            rows.append(["Concluded", Fmt.time(e.concludedAt, tz)])
            if let c = e.cancelledAt { rows.append(["Cancelled", Fmt.time(c, tz)]) }
        }
        if !e.priorityHistory.isEmpty {
            rows.append(["Priority history", e.priorityHistory.map { "\($0.priority.rawValue) at \(Fmt.time($0.at, tz))" }.joined(separator: " → ")])
        }
        rows.append(["Policy", ([e.policyName + " v" + e.policyVersion]
                        + r.report.others.map { "\($0.evaluation.policyName) v\($0.evaluation.policyVersion)" }).joined(separator: "; ")])
        return rows
    }

    static func figureRows(_ r: Review) -> [[String]] {
        var rows: [[String]] = []
        if r.evaluation.kind == .incident {
            rows.append(["Time to resolve, from incident start", Fmt.duration(r.timeToResolveFromStart)])
            rows.append(["Time to resolve, from detection", Fmt.duration(r.timeToResolveFromDetection)])
        }
        rows.append(["Updates sent (update, milestone, resolved, day-before, concluded messages)", String(r.updatesSent)])
        rows.append(["Update obligations met (on time or late) / required", "\(r.updatesMet) / \(r.updatesRequired)"])
        let c = r.report.counts
        let violated = c.violated > 0 ? ", \(c.violated) violated" : ""
        rows.append(["Compliance", "\(Fmt.percent(c.rate)) (\(c.met) met, \(c.late) late, \(c.partial) partial, \(c.missed) missed\(violated), \(c.pending) pending)"])
        if c.shouldObligations > 0 { rows.append(["Should obligations", ComplianceRenderer.shouldLine(c)]) }
        for other in r.report.others {
            rows.append(["Compliance, policy \(other.evaluation.policyName) v\(other.evaluation.policyVersion)",
                         ComplianceRenderer.summary(other.counts)])
        }
        return rows
    }

    static func firstRows(_ r: Review) -> [[String]] {
        let tz = r.report.policyTimeZone
        let positions = r.report.positions
        return r.firstNotifications.map { f in
            [f.ruleID + (f.occurrence.map { " [\(Fmt.occurrence($0, positions))]" } ?? ""), f.title, Fmt.time(f.at, tz),
             Fmt.duration(f.sinceStart), Fmt.duration(f.sinceDetection), f.verdict.rawValue,
             positions[f.eventID].map { "#\($0)" } ?? f.eventID]
        }
    }

    static let firstHeader = ["Obligation", "What it requires", "First message", "Since start", "Since detection", "Verdict", "Event"]

    static func evidenceRows(_ r: Review) -> [[String]] {
        let tz = r.report.policyTimeZone
        return r.report.events.map { e in
            ["#\(e.position)", e.id, e.type, Fmt.time(e.occurredAt, tz), Fmt.time(e.recordedAt, tz), e.actor,
             (e.login ?? ""), sourceLabel(e, r.provenance[e.id] ?? .typed), e.hash]
        }
    }

    /// Where the evidence came from, and whether its signature was verified
    /// at the source (imports with --verify-signature, by a registered
    /// importer login: `Provenance.of`).
    static func sourceLabel(_ e: RecordedEvent, _ provenance: Provenance) -> String {
        provenance.label(source: e.source)
    }

    /// The JSON of an event's provenance (`Provenance.json`).
    static func provenanceJSON(_ p: Provenance?, source: String) -> JSONValue {
        (p ?? .typed).json(source: source)
    }

    /// `signature_verified` as the review believes it: true only when verified.
    static func signatureVerified(_ p: Provenance?) -> JSONValue {
        (p ?? .typed).signatureVerified.map(JSONValue.bool) ?? .null
    }

    /// The case's findings (`Fmt.findingLines`).
    static func findingLines(_ r: Review) -> [String] { Fmt.findingLines(r.evaluation.findings, r.report.positions) }

    static let evidenceHeader = ["Position", "Event id", "Type", "Occurred", "Recorded", "Actor", "DB role", "Source", "SHA-256 chain hash"]

    static func provenance(_ r: Review) -> String {
        "Computed from the ledger at position \(r.report.digest.position) (chain hash \(r.report.digest.hash)), as of \(Fmt.time(r.evaluation.asOf, r.report.policyTimeZone)). Verify with: dtledger verify --digest (a digest kept outside the database)."
    }

    // MARK: Markdown

    public static func markdown(_ r: Review) -> String {
        var out = "# Post-incident review: \(MD.cell(r.evaluation.caseID))\(r.title.map { " — \(MD.cell($0))" } ?? "")\n\n"
        out += "_\(MD.cell(provenance(r)))_\n\n"
        out += "**\(MD.cell(ComplianceRenderer.chainLine(r.report.chain)))**\n\n"
        for line in ComplianceRenderer.retroactiveLines(r.report.retroactive, r.report.policyTimeZone) { out += "**\(MD.cell(line))**\n\n" }
        out += "## Summary and impact\n\n" + MD.table(["Item", "Value"], summaryRows(r)) + "\n"
        out += "## Key figures\n\n" + MD.table(["Figure", "Value"], figureRows(r)) + "\n"
        if !r.firstNotifications.isEmpty {
            out += "### First notification of each required audience\n\n" + MD.table(firstHeader, firstRows(r)) + "\n"
        }
        out += TimelineRenderer.markdown(r) + "\n"
        out += "## Compliance\n\n"
        out += MD.table(["Rule", "Occurrence", "Verdict", "Deadline", "Evidence", "Detail"], ComplianceRenderer.rows(r.report)) + "\n"
        out += ComplianceRenderer.summary(r.report.counts) + "\n\n"
        for other in r.report.others {
            out += "### \(MD.cell(ComplianceRenderer.otherHeading(other)))\n\n"
            out += MD.table(["Rule", "Occurrence", "Verdict", "Deadline", "Evidence", "Detail"], ComplianceRenderer.rows(other)) + "\n"
            out += ComplianceRenderer.summary(other.counts) + "\n\n"
        }
        let findings = findingLines(r)
        if !findings.isEmpty {
            out += "## Findings\n\n" + findings.map { "- \(MD.cell($0))\n" }.joined() + "\n"
        }
        if !r.report.undecodable.isEmpty {
            out += "## \(ComplianceRenderer.undecodableTitle)\n\n"
            out += r.report.undecodable.map { "- " + MD.cell($0.line) }.joined(separator: "\n") + "\n\n"
        }
        out += "## Evidence appendix\n\n" + MD.table(evidenceHeader, evidenceRows(r)) + "\n"
        out += "Ledger digest at this report: `{\"position\": \(r.report.digest.position), \"hash\": \"\(r.report.digest.hash)\"}`\n"
        return out
    }

    // MARK: HTML

    public static func html(_ r: Review) -> String {
        let tz = r.report.policyTimeZone
        var b = "<h1>Post-incident review: \(HTML.esc(r.evaluation.caseID))\(r.title.map { " — \(HTML.esc($0))" } ?? "")</h1>\n"
        b += "<p class=\"meta\">\(HTML.esc(provenance(r)))</p>\n"
        b += "<p class=\"\(r.report.chain?.verified == true ? "ok" : "bad")\">\(HTML.esc(ComplianceRenderer.chainLine(r.report.chain)))</p>\n"
        for line in ComplianceRenderer.retroactiveLines(r.report.retroactive, r.report.policyTimeZone) { b += "<p class=\"bad\">\(HTML.esc(line))</p>\n" }
        b += "<h2>Summary and impact</h2>\n" + HTML.keyValues(summaryRows(r))
        b += "<h2>Timeline chart</h2>\n<figure>\n" + SVGChart.timeline(r) + "<figcaption class=\"meta\">Priority bands over time; each message on its channel's lane; each deadline coloured by its verdict. Times in \(HTML.esc(tz.identifier)).</figcaption>\n</figure>\n"
        b += "<h2>Key figures</h2>\n" + HTML.keyValues(figureRows(r))
        if !r.firstNotifications.isEmpty {
            b += "<h3>First notification of each required audience</h3>\n" + HTML.table(firstHeader, firstRows(r))
        }
        let timelineClasses: [String?] = r.timeline.map { $0.retracted ? "retracted" : $0.kind == .deadline ? "deadline" : nil }
        b += "<h2>Timeline</h2>\n<p class=\"meta\">Times in \(HTML.esc(tz.identifier)). Retracted events are struck through; deadlines are in italics.</p>\n"
        let sources = TimelineRenderer.sourceLabels(r)
        b += HTML.table(TimelineRenderer.header(TimelineRenderer.header, sources, source: "SOURCE"),
                        TimelineRenderer.rows(r.timeline, tz, inferred: TimelineRenderer.inferredPurposes(r), sources: sources),
                        classes: timelineClasses)
        b += "<h2>Compliance</h2>\n"
        for (k, report) in r.report.all.enumerated() {
            if k > 0 { b += "<h3>\(HTML.esc(ComplianceRenderer.otherHeading(report)))</h3>\n" }
            let classes: [String?] = report.evaluation.obligations.map { Fmt.isViolation($0) ? $0.verdict.rawValue : nil }
            b += HTML.table(["Rule", "Occurrence", "Verdict", "Deadline", "Evidence", "Detail"], ComplianceRenderer.rows(report), classes: classes)
            b += "<p>\(HTML.esc(ComplianceRenderer.summary(report.counts)))</p>\n"
        }
        let findings = findingLines(r)
        if !findings.isEmpty {
            b += "<h2>Findings</h2>\n<ul>\n" + findings.map { "<li>\(HTML.esc($0))</li>\n" }.joined() + "</ul>\n"
        }
        if !r.report.undecodable.isEmpty {
            b += "<h2>\(ComplianceRenderer.undecodableTitle)</h2>\n"
                + HTML.table(["Position", "Event id", "Type", "Case", "Why"],
                             r.report.undecodable.map { [String($0.position), $0.id, $0.type, $0.caseID, $0.reason] })
        }
        b += "<h2>Evidence appendix</h2>\n" + HTML.table(evidenceHeader, evidenceRows(r))
        b += "<p class=\"meta\">Ledger digest at this report: <code>{\"position\": \(r.report.digest.position), \"hash\": \"\(r.report.digest.hash)\"}</code></p>\n"
        return HTML.page(title: "Review \(r.evaluation.caseID)", body: b)
    }

    // MARK: JSON

    public static func json(_ r: Review) -> JSONValue {
        func t(_ d: Date?) -> JSONValue { d.map { .string(RFC3339.format($0)) } ?? .null }
        return .object([
            "case": .string(r.evaluation.caseID),
            "title": r.title.map(JSONValue.string) ?? .null,
            "summary": r.summary.map(JSONValue.string) ?? .null,
            "product": r.product.map(JSONValue.string) ?? .null,
            "impact": r.impact.map { i in
                .object(["users": i.users.map(JSONValue.int) ?? .null, "services": .array(i.services.map(JSONValue.string))])
            } ?? .null,
            "started_at": t(r.startedAt), "detected_at": t(r.detectedAt), "ended_at": t(r.endedAt),
            "key_figures": .object([
                "time_to_resolve_from_start_seconds": r.timeToResolveFromStart.map { .int(Int64($0)) } ?? .null,
                "time_to_resolve_from_detection_seconds": r.timeToResolveFromDetection.map { .int(Int64($0)) } ?? .null,
                "updates_sent": .int(Int64(r.updatesSent)),
                "update_obligations_required": .int(Int64(r.updatesRequired)),
                "update_obligations_met": .int(Int64(r.updatesMet)),
                "first_notifications": .array(r.firstNotifications.map { f in
                    .object(["rule": .string(f.ruleID), "occurrence": f.occurrence.map(JSONValue.string) ?? .null,
                             "at": .string(RFC3339.format(f.at)), "event": .string(f.eventID),
                             "since_start_seconds": f.sinceStart.map { .int(Int64($0)) } ?? .null,
                             "since_detection_seconds": f.sinceDetection.map { .int(Int64($0)) } ?? .null,
                             "verdict": .string(f.verdict.rawValue)])
                }),
            ]),
            "timeline": .array(r.timeline.map(\.json)),
            "compliance": ComplianceRenderer.json(r.report),
            "evidence": .array(r.report.events.map { e -> JSONValue in
                var o: [String: JSONValue] = [
                    "position": .int(e.position), "id": .string(e.id), "type": .string(e.type),
                    "source": .string(e.source),
                    "signature_verified": signatureVerified(r.provenance[e.id]),
                    "provenance": provenanceJSON(r.provenance[e.id], source: e.source),
                    "hash": .string(e.hash), "previous_hash": .string(e.previousHash)]
                if case .verified(_, _, let signer?)? = r.provenance[e.id] {
                    (o["dkim_domain"], o["dkim_selector"]) = (.string(signer.domain), .string(signer.selector))
                }
                return .object(o)
            }),
            "ledger": r.report.digest.json,
            "chain_check": ComplianceRenderer.chainJSON(r.report.chain),
            "retroactive_publications": .array(r.report.retroactive.map(\.json)),
        ])
    }
}
