import Compliance
import Events
import Foundation
import Domain

/// `dtledger status`: what an on-call engineer needs right now.
public enum StatusRenderer {
    public static func render(_ r: CaseReport) -> String {
        let e = r.evaluation
        let tz = r.policyTimeZone
        var out = ComplianceRenderer.heading(r) + "\n"
        var state: [String] = []
        if let opened = e.openedAt { state.append("opened \(Fmt.time(opened, tz))") }
        if let resolved = e.resolvedAt { state.append("resolved \(Fmt.time(resolved, tz))") }
        if let concluded = e.concludedAt { state.append("concluded \(Fmt.time(concluded, tz))") }
        if let cancelled = e.cancelledAt { state.append("cancelled \(Fmt.time(cancelled, tz))") }
        if let closed = e.closedAt { state.append("closed \(Fmt.time(closed, tz))") }
        if let w = e.window { state.append("window \(Fmt.time(w.start, tz)) to \(Fmt.time(w.end, tz))") }
        out += state.joined(separator: "; ") + "\n"
        out += "as of \(Fmt.time(e.asOf, tz)), policy v\(e.policyVersion)\n\n"
        out += obligations(r)
        for other in r.others {
            let title = "POLICY \(other.evaluation.policyName) v\(other.evaluation.policyVersion) (scoped)"
            out += "\n\(title)\n\(String(repeating: "=", count: title.count))\n" + obligations(other)
        }
        let findings = Fmt.findingLines(e.findings, r.positions)
        if !findings.isEmpty {
            out += "\nFINDINGS (\(findings.count))\n"
            for line in findings { out += "  \(line)\n" }
        }
        let c = r.counts
        out += "\nDone: \(c.met) met, \(c.late) late; \(c.notApplicable) not applicable"
        if c.shouldObligations > 0 { out += "; \(ComplianceRenderer.shouldLine(c))" }
        return out
    }

    /// A `should` obligation's marker after its rule id.
    static func mark(_ o: Obligation) -> String { o.level == .should ? " (should)" : "" }

    /// What is overdue, violated, due next and incomplete, for one evaluation.
    static func obligations(_ r: CaseReport) -> String {
        let e = r.evaluation
        let tz = r.policyTimeZone
        var out = ""
        let overdue = e.obligations.filter { $0.verdict == .missed }
        let violated = e.obligations.filter { $0.verdict == .violated }
        let pending = e.obligations.filter { $0.verdict == .pending }
            .sorted { ($0.deadline ?? .distantFuture) < ($1.deadline ?? .distantFuture) }
        let partial = e.obligations.filter { $0.verdict == .partial }
        func label(_ o: Obligation) -> String {
            o.ruleID + (o.occurrence.map { " [\(Fmt.occurrence($0, r.positions))]" } ?? "") + mark(o)
        }
        out += "OVERDUE (\(overdue.count))\n"
        for o in overdue {
            let ago = o.deadline.map { " — due \(Fmt.time($0, tz)), \(Fmt.duration(e.asOf.timeIntervalSince($0))) ago" } ?? ""
            out += "  \(label(o))\(ago)\n      \(o.title)\n"
            if !o.missing.isEmpty { out += "      missing: \(o.missing.joined(separator: ", "))\n" }
        }
        if !violated.isEmpty {
            out += "\nVIOLATED (\(violated.count))\n"
            for o in violated { out += "  \(label(o)): \(Fmt.detail(o))\n      \(o.title)\n" }
        }
        out += "\nDUE NEXT (\(pending.count))\n"
        for o in pending {
            let due = o.deadline.map { " — by \(Fmt.time($0, tz)) (in \(Fmt.duration($0.timeIntervalSince(e.asOf))))" } ?? " — when its trigger happens"
            out += "  \(label(o))\(due)\n      \(o.title)\n"
        }
        if !partial.isEmpty {
            out += "\nINCOMPLETE (\(partial.count))\n"
            for o in partial { out += "  \(label(o)): \(Fmt.detail(o))\n" }
        }
        return out
    }
}
