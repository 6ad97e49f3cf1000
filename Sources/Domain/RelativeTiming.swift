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

    func beforeEvent(_ cond: Applicability, _ type: String, _ label: String?) -> [Slot] {
        if let t = laterEventTime(type) {
            // As for `before: window.start`: the occasion is the deadline;
            // the condition must hold just before it, and evidence counts
            // from when the case entered the stretch holding then.
            var from = Date.distantPast
            if cond.hasCondition {
                guard let since = state.stretchStart(cond, before: t) else {
                    return [.notApplicable(label, conditionMissed(cond, at: t, occasion: "\(type) (\(RFC3339.format(t)))",
                                                                  dayForm: false))]
                }
                from = since
            }
            return [.judge(Occurrence(label: label, from: from, deadline: t))]
        }
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
