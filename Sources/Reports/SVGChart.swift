import Compliance
import Events
import Foundation
import Domain

/// Self-contained SVG charts (no scripts, no external resources).
public enum SVGChart {
    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static let priorityColors = ["P1": "#d62728", "P2": "#ff7f0e", "P3": "#f2c80f", "P4": "#6baed6"]
    static let verdictColors: [Verdict: String] = [
        .met: "#2ca02c", .late: "#ff7f0e", .partial: "#9467bd", .missed: "#d62728", .pending: "#7f7f7f", .violated: "#8c1010",
    ]

    /// The case timeline: priority bands over time, each message as a marker
    /// on its channel's lane, each deadline as a tick coloured by its verdict.
    public static func timeline(_ review: Review) -> String {
        let e = review.evaluation
        let tz = review.report.policyTimeZone
        let events = review.report.events
        var times = events.map(\.occurredAt) + e.obligations.compactMap(\.deadline)
        if let s = review.startedAt { times.append(s) }
        if let w = e.window { times += [w.start, w.end] }
        guard var t0 = times.min(), var t1 = times.max() else { return "" }
        if t1.timeIntervalSince(t0) < 3600 { t1 = t0.addingTimeInterval(3600) }
        let pad = t1.timeIntervalSince(t0) * 0.03
        t0 = t0.addingTimeInterval(-pad); t1 = t1.addingTimeInterval(pad)
        let width = 960.0, left = 90.0, right = 20.0, plot = width - left - right
        func x(_ d: Date) -> Double { left + plot * d.timeIntervalSince(t0) / t1.timeIntervalSince(t0) }
        let lanes = ["Priority", "Slack", "Email", "Other", "Deadlines"]
        let laneH = 34.0, top = 30.0
        func y(_ lane: Int) -> Double { top + Double(lane) * laneH }
        let height = top + Double(lanes.count) * laneH + 50
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"Timeline chart of \(esc(e.caseID))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"100%\" font-family=\"sans-serif\" font-size=\"11\">\n"
        s += "<title>Timeline of \(esc(e.caseID))</title>\n"
        for (i, name) in lanes.enumerated() {
            s += "<text x=\"8\" y=\"\(y(i) + laneH / 2 + 4)\" fill=\"#333\">\(name)</text>\n"
            s += "<line x1=\"\(left)\" y1=\"\(y(i) + laneH)\" x2=\"\(width - right)\" y2=\"\(y(i) + laneH)\" stroke=\"#eee\"/>\n"
        }
        // Day ticks at local midnights.
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = tz
        var day = cal.startOfDay(for: t0)
        var ticks = 0
        while day <= t1 && ticks < 60 {
            if day >= t0 {
                let xx = x(day)
                s += "<line x1=\"\(xx)\" y1=\"\(top)\" x2=\"\(xx)\" y2=\"\(y(lanes.count))\" stroke=\"#ccc\" stroke-dasharray=\"3,3\"/>\n"
                let label = Fmt.time(day, tz).prefix(10)
                s += "<text x=\"\(xx + 2)\" y=\"\(y(lanes.count) + 14)\" fill=\"#555\">\(label)</text>\n"
            }
            guard let nextDay = cal.date(byAdding: .day, value: 1, to: day) else { break }
            day = nextDay
            ticks += 1
        }
        // Priority bands (incidents), or the downtime window.
        let end = review.endedAt ?? min(t1, e.asOf)
        for (i, change) in e.priorityHistory.enumerated() {
            let until = i + 1 < e.priorityHistory.count ? e.priorityHistory[i + 1].at : end
            let x0 = x(change.at), x1 = max(x0 + 2, x(until))
            let color = priorityColors[change.priority.rawValue] ?? "#999"
            s += "<rect x=\"\(x0)\" y=\"\(y(0) + 6)\" width=\"\(x1 - x0)\" height=\"\(laneH - 12)\" fill=\"\(color)\" opacity=\"0.85\"><title>\(change.priority.rawValue) from \(esc(Fmt.time(change.at, tz)))</title></rect>\n"
            s += "<text x=\"\(x0 + 4)\" y=\"\(y(0) + laneH / 2 + 4)\" fill=\"#000\" font-weight=\"bold\">\(change.priority.rawValue)</text>\n"
        }
        if let w = e.window {
            s += "<rect x=\"\(x(w.start))\" y=\"\(y(0) + 6)\" width=\"\(max(2, x(w.end) - x(w.start)))\" height=\"\(laneH - 12)\" fill=\"#8c8c8c\" opacity=\"0.6\"><title>downtime window</title></rect>\n"
            s += "<text x=\"\(x(w.start) + 4)\" y=\"\(y(0) + laneH / 2 + 4)\" fill=\"#000\">window</text>\n"
        }
        if let start = review.startedAt, e.kind == .incident {
            s += "<line x1=\"\(x(start))\" y1=\"\(top)\" x2=\"\(x(start))\" y2=\"\(y(lanes.count))\" stroke=\"#000\" stroke-width=\"1.5\"/><text x=\"\(x(start) + 3)\" y=\"\(top - 6)\">start</text>\n"
        }
        if let ended = review.endedAt {
            s += "<line x1=\"\(x(ended))\" y1=\"\(top)\" x2=\"\(x(ended))\" y2=\"\(y(lanes.count))\" stroke=\"#2ca02c\" stroke-width=\"1.5\"/><text x=\"\(x(ended) + 3)\" y=\"\(top - 6)\">\(e.kind == .incident ? "resolved" : "ended")</text>\n"
        }
        // Messages and other events.
        let retracted = Set(review.timeline.filter(\.retracted).compactMap(\.eventID))
        for ev in events {
            let xx = x(ev.occurredAt)
            // An imported event's provenance in its tip; an email not DKIM-verified is drawn hollow.
            let provenance = review.provenance[ev.id] ?? .typed
            let source = provenance == .typed ? "" : " (\(provenance.label(source: ev.source)))"
            let tip = esc("#\(ev.position) \(Fmt.time(ev.occurredAt, tz)) \(ev.type)\(source)")
            let faded = retracted.contains(ev.id) ? " opacity=\"0.3\"" : ""
            if ev.type == EventType.notificationSent {
                if ev.data["channel"]?.stringValue == "email" {
                    let unverified = provenance.signatureVerified == false
                    let fill = unverified ? "#fff\" stroke=\"#1f77b4\" stroke-width=\"2" : "#1f77b4"
                    s += "<rect x=\"\(xx - 5)\" y=\"\(y(2) + laneH / 2 - 5)\" width=\"10\" height=\"10\" fill=\"\(fill)\"\(faded)><title>\(tip)</title></rect>\n"
                } else {
                    s += "<circle cx=\"\(xx)\" cy=\"\(y(1) + laneH / 2)\" r=\"6\" fill=\"#4a154b\"\(faded)><title>\(tip)</title></circle>\n"
                }
            } else {
                s += "<path d=\"M \(xx) \(y(3) + 8) l 5 9 l -10 0 z\" fill=\"#555\"\(faded)><title>\(tip)</title></path>\n"
            }
        }
        // Deadlines.
        for o in e.obligations {
            guard let d = o.deadline, o.verdict != .notApplicable else { continue }
            let color = verdictColors[o.verdict] ?? "#999"
            let xx = x(d)
            s += "<line x1=\"\(xx)\" y1=\"\(y(4) + 6)\" x2=\"\(xx)\" y2=\"\(y(4) + laneH - 6)\" stroke=\"\(color)\" stroke-width=\"3\"><title>\(esc("\(o.ruleID) \(o.occurrence ?? "") due \(Fmt.time(d, tz)): \(o.verdict.rawValue)"))</title></line>\n"
        }
        // Legend.
        let ly = y(lanes.count) + 34
        var lx = left
        for (label, color) in [("met", "#2ca02c"), ("late", "#ff7f0e"), ("partial", "#9467bd"), ("missed", "#d62728"), ("pending", "#7f7f7f")] {
            s += "<rect x=\"\(lx)\" y=\"\(ly - 9)\" width=\"10\" height=\"10\" fill=\"\(color)\"/><text x=\"\(lx + 14)\" y=\"\(ly)\">deadline \(label)</text>\n"
            lx += 110
        }
        s += "<circle cx=\"\(lx + 5)\" cy=\"\(ly - 4)\" r=\"5\" fill=\"#4a154b\"/><text x=\"\(lx + 14)\" y=\"\(ly)\">Slack</text>\n"
        s += "<rect x=\"\(lx + 60)\" y=\"\(ly - 9)\" width=\"10\" height=\"10\" fill=\"#1f77b4\"/><text x=\"\(lx + 74)\" y=\"\(ly)\">email</text>\n"
        if events.contains(where: { review.provenance[$0.id]?.signatureVerified == false && $0.data["channel"]?.stringValue == "email" }) {
            s += "<rect x=\"\(lx + 120)\" y=\"\(ly - 9)\" width=\"10\" height=\"10\" fill=\"#fff\" stroke=\"#1f77b4\" stroke-width=\"2\"/><text x=\"\(lx + 134)\" y=\"\(ly)\">email, not verified</text>\n"
        }
        s += "</svg>\n"
        return s
    }

    /// Horizontal bars: one per row, its compliance rate.
    public static func rates(_ rows: [(String, VerdictCounts)], title: String) -> String {
        let barH = 20.0, left = 230.0, width = 760.0, plot = width - left - 70
        let height = 30 + Double(rows.count) * (barH + 6) + 10
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"\(esc(title))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"100%\" font-family=\"sans-serif\" font-size=\"12\">\n<title>\(esc(title))</title>\n"
        for (i, row) in rows.enumerated() {
            let yy = 20 + Double(i) * (barH + 6)
            s += "<text x=\"\(left - 8)\" y=\"\(yy + 14)\" text-anchor=\"end\">\(esc(row.0))</text>\n"
            s += "<rect x=\"\(left)\" y=\"\(yy)\" width=\"\(plot)\" height=\"\(barH)\" fill=\"#eee\"/>\n"
            if let rate = row.1.rate {
                let color = rate >= 0.999 ? "#2ca02c" : rate >= 0.8 ? "#f2c80f" : "#d62728"
                s += "<rect x=\"\(left)\" y=\"\(yy)\" width=\"\(plot * rate)\" height=\"\(barH)\" fill=\"\(color)\"><title>\(esc(row.0)): \(Fmt.percent(rate)) of \(row.1.judged)</title></rect>\n"
            }
            s += "<text x=\"\(left + plot + 6)\" y=\"\(yy + 14)\">\(Fmt.percent(row.1.rate))</text>\n"
        }
        return s + "</svg>\n"
    }
}
