import Compliance
import Events
import Foundation
import Domain

public enum TimelineFormat: String, Sendable, CaseIterable { case table, markdown, json }

/// `dtledger timeline`: a case in order of occurrence.
public enum TimelineRenderer {
    /// Notifications whose purpose was inferred (a message without a
    /// `Purpose:` line received by `dtledger serve`): event id -> the rule
    /// that chose it (`metadata.import.purpose_inferred`). Read from the
    /// review's events: the timeline entries do not carry metadata.
    static func inferredPurposes(_ review: Review) -> [String: String] {
        var out: [String: String] = [:]
        for e in review.report.events where e.type == EventType.notificationSent.rawValue {
            if let rule = e.metadata["import"]?["purpose_inferred"]?.stringValue { out[e.id] = rule }
        }
        return out
    }

    /// Imported events' provenance (`Provenance.label`), event id -> label,
    /// so that verified and unverified evidence (a DKIM-verified message,
    /// an unsigned one) are told apart on the timeline, in a Source column
    /// shown when the case has any imported event; typed events have none.
    static func sourceLabels(_ review: Review) -> [String: String] {
        var out: [String: String] = [:]
        for e in review.report.events {
            guard let p = review.provenance[e.id], p != .typed else { continue }
            out[e.id] = p.label(source: e.source)
        }
        return out
    }

    static func rows(_ entries: [TimelineEntry], _ tz: TimeZone, inferred: [String: String] = [:],
                     sources: [String: String] = [:]) -> [[String]] {
        entries.map { t in
            let recorded: String = {
                guard let r = t.recordedAt, abs(r.timeIntervalSince(t.at)) >= 60 else { return "" }
                return Fmt.time(r, tz)
            }()
            let who = t.actor.map { a in t.actorRoles.isEmpty ? a : "\(a) (\(t.actorRoles.joined(separator: ", ")))" } ?? ""
            var what = t.summary
            if let rule = t.eventID.flatMap({ inferred[$0] }) {
                // Beside the purpose ("Slack update message"), so a narrow table keeps it.
                let mark = " (purpose inferred: \(rule))"
                if let r = what.range(of: " message") { what.insert(contentsOf: mark, at: r.upperBound) } else { what += mark }
            }
            if t.retracted { what = "[RETRACTED: \(t.retractionReason ?? "")] " + what }
            if t.kind == .deadline { what = "⏰ " + what }
            let audience = t.audience.isEmpty ? "" : t.audience.joined(separator: ", ")
            let row = [Fmt.time(t.at, tz), recorded, t.position.map { "#\($0)" } ?? "", who, what, audience]
            return sources.isEmpty ? row : row + [t.eventID.flatMap { sources[$0] } ?? ""]
        }
    }

    static let header = ["OCCURRED", "RECORDED (if later)", "EVENT", "ACTOR (ROLES THEN)", "WHAT", "AUDIENCE"]

    /// `names` with the Source column when `sources` has any label.
    static func header(_ names: [String], _ sources: [String: String], source: String) -> [String] {
        sources.isEmpty ? names : names + [source]
    }

    public static func render(_ review: Review, as format: TimelineFormat) -> String {
        let tz = review.report.policyTimeZone
        switch format {
        case .table:
            let sources = sourceLabels(review)
            return "Timeline of \(ComplianceRenderer.heading(review.report))\n\(ComplianceRenderer.provenance(review.report))\n\n"
                + TextTable.render(header(header, sources, source: "SOURCE"),
                                   rows(review.timeline, tz, inferred: inferredPurposes(review), sources: sources), maxWidth: 70)
        case .markdown:
            return markdown(review)
        case .json:
            return JSONValue.object([
                "case": .string(review.evaluation.caseID),
                "ledger": review.report.digest.json,
                "entries": .array(entriesJSON(review)),
            ]).jsonText() + "\n"
        }
    }

    public static func markdown(_ review: Review, heading: String = "##") -> String {
        let tz = review.report.policyTimeZone
        let sources = sourceLabels(review)
        return "\(heading) Timeline of \(MD.cell(review.evaluation.caseID))\n\n"
            + "Times in \(tz.identifier). A recorded time is shown when the event was entered a minute or more after it happened; ⏰ marks an obligation's deadline.\n\n"
            + MD.table(header(["Occurred", "Recorded", "Event", "Actor (roles then)", "What", "Audience"], sources, source: "Source"),
                       rows(review.timeline, tz, inferred: inferredPurposes(review), sources: sources))
    }

    /// Each entry's JSON; an inferred purpose's rule as `purpose_inferred`;
    /// an imported event's provenance as `provenance` (`Provenance.json`:
    /// status, label, dkim_domain and dkim_selector for verified email).
    static func entriesJSON(_ review: Review) -> [JSONValue] {
        let inferred = inferredPurposes(review)
        let sources = Dictionary(review.report.events.map { ($0.id, $0.source) }) { first, _ in first }
        return review.timeline.map { t in
            guard let id = t.eventID, case .object(var o) = t.json else { return t.json }
            if let rule = inferred[id] { o["purpose_inferred"] = .string(rule) }
            if let p = review.provenance[id], p != .typed, let source = sources[id] {
                o["provenance"] = p.json(source: source)
                o["signature_verified"] = p.signatureVerified.map(JSONValue.bool) ?? .null
            }
            return .object(o)
        }
    }
}
