import Events
import Foundation

/// `due: {every: PT4H, while: unresolved, after?: <event type>}`: one
/// obligation per interval while the case is unresolved (docs/policy.md §2,
/// "every"), the interval form of `daily_while_unresolved`.
extension Timing {
    /// The shortest interval a policy may give (policy check).
    public static let shortestInterval: TimeInterval = 15 * 60
    /// At most this many intervals are listed per rule and case.
    static let maxIntervals = 10_000
}

extension RuleParser {
    mutating func parseEvery(_ o: [String: JSONValue]) -> Timing {
        let text = o["every"]?.stringValue
        guard let seconds = duration(text, "every") else { return .invalid }
        guard seconds >= Timing.shortestInterval else {
            problem("due.every: \(text!) is shorter than the shortest interval (PT15M)")
            return .invalid
        }
        if let w = o["while"], w.stringValue != "unresolved" {
            problem("due.while: unknown value \(w.jsonText()) (expected unresolved)")
            return .invalid
        }
        var after: String?
        if let a = o["after"] {
            guard let s = a.stringValue, eventType(s, "after") else {
                if a.stringValue == nil { problem("due.after: expected an event type, got \(a.kindName)") }
                return .invalid
            }
            after = s
        }
        return .every(seconds: seconds, text: text!, after: after)
    }
}

extension RuleEvaluator {
    /// Each interval of `seconds` from the rule's start (the anchor event,
    /// or the first entry into the while-condition at or after it) while
    /// the case is unresolved: as `daily`, with intervals instead of days.
    /// An interval during which the case closed (and is closed at its end)
    /// is not applicable; one ending outside the condition is not
    /// applicable; the current one is judged up to as-of (pending until it
    /// ends or is complete). Labelled by the interval start (policy time zone).
    func intervals(_ cond: Applicability, seconds: TimeInterval, after: String?, _ prefix: String?) -> [Slot] {
        let anchor: Date
        if let after, !Catalog.opensCase(after) {
            guard let t = anchorTime(after) else { return [absent(after, prefix)] }
            anchor = t
        } else {
            guard let opened = state.openedAt else { return [] }
            anchor = opened
        }
        var start = anchor
        if cond.hasCondition {
            guard let entry = state.entry(into: cond, from: anchor) else {
                let since = after.map { Catalog.opensCase($0) ? "" : " since \($0)" } ?? ""
                return [.notApplicable(prefix, "the case has not met the condition (\(state.conditionText(cond)))\(since)")]
            }
            start = entry
        }
        // From the start each time: no drift from repeated additions.
        return periods(from: start, limit: Timing.maxIntervals, next: { _, n in start.addingTimeInterval(Double(n) * seconds) },
                       label: { from in
                           let text = RFC3339.format(from, in: policy.timeZone)
                           return prefix.map { "\($0) \(text)" } ?? text
                       },
                       cond, closedText: "not due: the case closed during the interval", period: "interval")
    }
}
