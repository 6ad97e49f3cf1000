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

    static func rows(_ entries: [TimelineEntry], _ tz: TimeZone, inferred: [String: String] = [:]) -> [[String]] {
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
            return [Fmt.time(t.at, tz), recorded, t.position.map { "#\($0)" } ?? "", who, what, audience]
        }
    }

    static let header = ["OCCURRED", "RECORDED (if later)", "EVENT", "ACTOR (ROLES THEN)", "WHAT", "AUDIENCE"]

    public static func render(_ review: Review, as format: TimelineFormat) -> String {
        let tz = review.report.policyTimeZone
        switch format {
        case .table:
            return "Timeline of \(ComplianceRenderer.heading(review.report))\n\(ComplianceRenderer.provenance(review.report))\n\n"
                + TextTable.render(header, rows(review.timeline, tz, inferred: inferredPurposes(review)), maxWidth: 70)
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
        return "\(heading) Timeline of \(MD.cell(review.evaluation.caseID))\n\n"
            + "Times in \(tz.identifier). A recorded time is shown when the event was entered a minute or more after it happened; ⏰ marks an obligation's deadline.\n\n"
            + MD.table(["Occurred", "Recorded", "Event", "Actor (roles then)", "What", "Audience"],
                       rows(review.timeline, tz, inferred: inferredPurposes(review)))
    }

    /// Each entry's JSON; an inferred purpose's rule as `purpose_inferred`.
    static func entriesJSON(_ review: Review) -> [JSONValue] {
        let inferred = inferredPurposes(review)
        return review.timeline.map { t in
            guard let rule = t.eventID.flatMap({ inferred[$0] }), case .object(var o) = t.json else { return t.json }
            o["purpose_inferred"] = .string(rule)
            return .object(o)
        }
    }
}
