import Events
import Foundation

/// When one obligation may be met: evidence counts from `from`; it is met
/// by `deadline`, late until `lateLimit` (nil: any time up to as-of).
struct Occurrence: Sendable {
    var label: String?
    var from: Date
    var deadline: Date
    var lateLimit: Date?
    /// Evidence must come strictly before `lateLimit` (calendar-day windows).
    var exclusiveLimit = false
}

/// The verdict of one occurrence from its candidates (DOMAIN.md §3).
struct Judge {
    static let attestationLimit: TimeInterval = 24 * 3600

    /// `targets`: how many audience targets there are; `label` names target
    /// i in a verdict (only asked for the targets that are missing).
    /// `requirement`: what the rule asks for (`Requirement.missingText`),
    /// the `missing` of a missed obligation that has no audience to name.
    static func judge(_ occ: Occurrence, candidates: [Candidate], targets: Int, label: (Int) -> String, asOf: Date,
                      base: Obligation, requirement: String) -> Obligation {
        var o = base
        o.occurrence = occ.label
        o.deadline = occ.deadline
        let inWindow = candidates.filter { c in
            guard c.time >= occ.from, c.time <= asOf else { return false }
            guard let limit = occ.lateLimit else { return true }
            return occ.exclusiveLimit ? c.time < limit : c.time <= limit
        }
        // Walk clean candidates in time order until every target is reached.
        var covered = TargetSet()
        var used: [Candidate] = []
        var completeAt: Date?
        for c in inWindow where c.issues.isEmpty {
            let before = covered.count
            covered.formUnion(c.covers)
            if covered.count > before || used.isEmpty { used.append(c) }
            if covered.count == targets {
                completeAt = c.time
                break
            }
        }
        if let completeAt {
            o.evidence = ids(used)
            o.attestedLate = attested(used)
            o.findings = findings(used, deadline: occ.deadline)
            if completeAt <= occ.deadline {
                o.verdict = .met
            } else {
                o.verdict = .late
                o.lateBy = seconds(completeAt.timeIntervalSince(occ.deadline))
            }
            return o
        }
        // Not complete: name what is missing, from the on-time candidates
        // when there are any (later messages may serve other obligations).
        let onTime = inWindow.filter { $0.time <= occ.deadline }
        let usable = onTime.isEmpty ? inWindow : onTime
        var allCovered = TargetSet()
        for c in usable { allCovered.formUnion(c.covers) }
        var missing = (0..<targets).filter { !allCovered.contains($0) }.map(label)
        // Problems of messages that reached none of the audience are noise
        // (they were about something else); the others are named.
        for c in usable where targets == 0 || !c.covers.isEmpty {
            for issue in c.issues where !missing.contains(issue) { missing.append(issue) }
        }
        if usable.isEmpty {
            o.verdict = asOf < occ.deadline ? .pending : .missed
            if o.verdict == .pending { o.reason = "due by \(RFC3339.format(occ.deadline))" }
            o.missing = (0..<targets).map(label)
            // A missed obligation always says what was missing: with no
            // audience to name (a ticket, a milestone, a notification to
            // anyone), the requirement itself.
            if o.verdict == .missed && o.missing.isEmpty { o.missing = [requirement] }
            return o
        }
        o.evidence = ids(usable)
        o.attestedLate = attested(usable)
        o.missing = missing
        o.findings = findings(usable, deadline: occ.deadline)
        if asOf < occ.deadline {
            o.verdict = .pending
            o.reason = "due by \(RFC3339.format(occ.deadline)); not complete yet"
        } else {
            o.verdict = .partial
            // Evidence that would count but for the login that recorded it.
            o.reason = usable.lazy.filter { targets == 0 || !$0.covers.isEmpty }.compactMap(\.loginReason).first
            if let first = usable.first, first.time > occ.deadline {
                o.lateBy = seconds(first.time.timeIntervalSince(occ.deadline))
            }
        }
        return o
    }

    /// Durations to the millisecond (Date arithmetic leaves float noise).
    static func seconds(_ t: TimeInterval) -> TimeInterval { (t * 1000).rounded() / 1000 }

    static func ids(_ cs: [Candidate]) -> [String] {
        var out: [String] = []
        out.reserveCapacity(cs.count)
        for c in cs { for e in c.events where !out.contains(e.id) { out.append(e.id) } }
        return out
    }

    /// The candidates' findings, and each event that occurred by the
    /// deadline but was recorded after it (it claims a deadline it was not
    /// in the ledger for), once each.
    static func findings(_ cs: [Candidate], deadline: Date) -> [Finding] {
        var out: [Finding] = []
        for c in cs {
            out += c.findings
            for e in c.events where e.time <= deadline && e.recorded.recordedAt > deadline {
                let late = Int64(e.recorded.recordedAt.timeIntervalSince(deadline).rounded())
                out.append(Finding(kind: .recordedAfterDeadline, eventID: e.id,
                                   detail: "recorded \(Finding.duration(late)) after the deadline", seconds: late))
            }
        }
        return Finding.unique(out)
    }

    static func attested(_ cs: [Candidate]) -> Bool {
        cs.contains { c in c.events.contains { $0.recorded.recordedAt.timeIntervalSince($0.recorded.occurredAt) > attestationLimit } }
    }
}
