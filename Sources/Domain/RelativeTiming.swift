import Events
import Foundation

/// `due: {before: <event type>}` and `{before: case.closed}`: due by the
/// time of a later event of the case (docs/policy.md §2, "Timing forms").
extension RuleEvaluator {
    /// When the deadline event happened: the first non-retracted event of
    /// `type`, or for `case.closed` the first time the case closed
    /// (resolved, concluded or cancelled, whichever came first).
    func laterEventTime(_ type: String) -> Date? {
        if type == Timing.caseClosed { return state.closures.first { $0.1 }?.0 }
        return state.first(type)?.time
    }

    /// Due by a time (a window edge, a later event's): the occasion is the
    /// deadline; the rule applies when its condition holds just before it,
    /// and evidence counts from when the case entered the stretch of the
    /// condition holding then (as for an opening anchor).
    func before(_ cond: Applicability, deadline t: Date, occasion: String, _ label: String?) -> Slot {
        var from = Date.distantPast
        if cond.hasCondition {
            guard let since = state.stretchStart(cond, before: t) else {
                return .notApplicable(label, conditionMissed(cond, at: t, occasion: "\(occasion) (\(RFC3339.format(t)))",
                                                             dayForm: false))
            }
            from = since
        }
        return .judge(Occurrence(label: label, from: from, deadline: t))
    }

    func beforeEvent(_ cond: Applicability, _ type: String, _ label: String?) -> [Slot] {
        if let t = laterEventTime(type) { return [before(cond, deadline: t, occasion: type, label)] }
        // Not happened: the case closed without it (or the downtime was
        // cancelled), or it is still ahead.
        if state.isClosed { return [absent(type, label)] }
        var from = Date.distantPast
        if cond.hasCondition {
            // The occasion is ahead: the condition as it stands at as-of.
            let now = asOf.addingTimeInterval(0.001)
            guard let since = state.stretchStart(cond, before: now) else {
                return [.notApplicable(label, conditionMissed(cond, at: now, occasion: "\(type) (not yet)", dayForm: false))]
            }
            from = since
        }
        return [.untilEvent(Occurrence(label: label, from: from, deadline: .distantFuture),
                            "not yet due: waiting for \(type)")]
    }
}
