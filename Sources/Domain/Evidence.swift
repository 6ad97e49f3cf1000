import Events
import Foundation

/// One event (or event pair, e.g. ticket + approval) that may satisfy a
/// requirement: when it was complete, which audience targets it reached,
/// and what is wrong with it.
struct Candidate: Sendable {
    var time: Date
    var events: [CaseEvent]
    var covers: TargetSet
    var issues: [String]
    /// What reports must say about its events (logins); the late-recording
    /// findings are added by the judge, which knows the deadline.
    var findings: [Finding] = []
    /// Why it does not count although it otherwise would: the login that
    /// recorded it is not the actor's ("actor X recorded by login Y").
    var loginReason: String?
}

/// A `notification.sent` of a case, decoded, with who it reached
/// (a class: every notification rule of the case reads it).
final class Message: Sendable {
    let event: CaseEvent
    let sent: NotificationSent
    let reach: Reach

    init(event: CaseEvent, sent: NotificationSent, reach: Reach) {
        self.event = event
        self.sent = sent
        self.reach = reach
    }
}

/// Indices of audience targets: a set, as bits for the first 64 (a policy
/// names a handful of targets per rule) and a Set beyond.
struct TargetSet: Sendable, Equatable, ExpressibleByArrayLiteral {
    private var bits: UInt64 = 0
    private var more: Set<Int> = []

    init() {}

    init(arrayLiteral elements: Int...) {
        for i in elements { insert(i) }
    }

    mutating func insert(_ i: Int) {
        if (0..<64).contains(i) { bits |= 1 << UInt64(i) } else { more.insert(i) }
    }

    func contains(_ i: Int) -> Bool {
        (0..<64).contains(i) ? bits & (1 << UInt64(i)) != 0 : more.contains(i)
    }

    mutating func formUnion(_ other: TargetSet) {
        bits |= other.bits
        if !other.more.isEmpty { more.formUnion(other.more) }
    }

    var count: Int { bits.nonzeroBitCount + more.count }
    var isEmpty: Bool { bits == 0 && more.isEmpty }
}

/// Finds the candidates for a rule's requirement among the case events.
struct EvidenceFinder: Sendable {
    let rule: Rule
    let state: CaseState
    let audience: AudienceResolver
    let directories: DirectoryHistory
    /// The case's messages, in the order of `state.events`.
    let messages: [Message]
    /// Targets a notification must reach (empty for other requirements).
    let targets: [AudienceTarget]

    init(rule: Rule, state: CaseState, audience: AudienceResolver, directories: DirectoryHistory, messages: [Message],
         targets: [AudienceTarget]) {
        self.rule = rule
        self.state = state
        self.audience = audience
        self.directories = directories
        self.messages = messages
        self.targets = targets
    }

    func actorIssue(_ actor: String, at t: Date) -> String? {
        guard !rule.by.isEmpty else { return nil }
        for role in rule.by {
            if role == "communication_owner" {
                if state.communicationOwner == actor { return nil }
            } else if let matches = caseActor(role, actor, at: t) {
                if matches { return nil }
            } else if directories.hasRole(actor, role, at: t) {
                return nil
            }
        }
        let roles = rule.by.map(EvidenceFinder.byText)
        return "actor \(actor) is not \(roles.joined(separator: " or "))"
    }

    /// The `by:` check of an event done by its actor, and, when the actor
    /// may do it, the binding of the actor to the login that recorded it.
    func checkActor(_ e: CaseEvent, _ c: inout Candidate) {
        guard !rule.by.isEmpty else { return }
        if let issue = actorIssue(e.recorded.actor, at: e.time) {
            c.issues.append(issue)
            return
        }
        bind(e.recorded.actor, e, &c)
    }

    /// Binds `actor` (who the policy needs to have done `e`) to the login
    /// that recorded `e`: an untrusted login stops the candidate counting.
    func bind(_ actor: String, _ e: CaseEvent, _ c: inout Candidate) {
        switch directories.binding(actor: actor, event: e.recorded, at: e.time) {
        case .trusted:
            break
        case .unbound(let f):
            c.findings.append(f)
        case .untrusted(let reason, let f):
            c.findings.append(f)
            c.issues.append(reason)
            if c.loginReason == nil { c.loginReason = reason }
        }
    }

    func candidates() -> [Candidate] {
        var out: [Candidate] = []
        switch rule.requirement {
        case .notification(let n):
            out.reserveCapacity(messages.count)
            let destination = n.destination?.lowercasedFast
            for message in messages {
                let e = message.event, m = message.sent
                guard n.channels.contains(m.channel) else { continue }
                var issues: [String] = []
                if let dest = n.destination, let destination, m.channel == .slack || n.channels == [m.channel],
                   destination != m.destination.lowercasedFast {
                    issues.append("destination \(m.destination) (expected \(dest))")
                }
                let missingContent = n.content.filter { Blank.isBlank(m.content[$0] ?? "", newlines: false) }
                if !missingContent.isEmpty { issues.append("\(e.id): content \(missingContent.joined(separator: ", "))") }
                if !n.parts.isEmpty { issues += contentPartIssues(n, m, e) }
                var covers = TargetSet()
                for i in targets.indices where audience.reached(targets[i], by: message.reach, at: e.time) { covers.insert(i) }
                var c = Candidate(time: e.time, events: [e], covers: covers, issues: issues)
                checkActor(e, &c)
                out.append(c)
            }
        case .ticket(let req):
            for e in state.events {
                guard case .ticketSubmitted(let t) = e.event, t.system.lowercasedFast == req.system.lowercasedFast,
                      t.purpose == req.purpose else { continue }
                var c = Candidate(time: e.time, events: [e], covers: [], issues: [])
                checkActor(e, &c)
                if let role = req.approvedBy {
                    // The first approval by a holder of the role whose login
                    // is the approver's; else the first one, which then does
                    // not count (its login is named).
                    var first: (CaseEvent, String)?
                    var approval: CaseEvent?
                    for a in state.events {
                        guard case .approvalRecorded(let ap) = a.event, ap.ticket == t.number, ap.decision == .approved,
                              directories.hasRole(ap.approver, role, at: a.time) else { continue }
                        if first == nil { first = (a, ap.approver) }
                        if case .untrusted = directories.binding(actor: ap.approver, event: a.recorded, at: a.time) { continue }
                        approval = a
                        break
                    }
                    if let chosen = approval ?? first?.0, let approver = approval.flatMap(approverOf) ?? first?.1 {
                        c.time = max(c.time, chosen.time)
                        c.events.append(chosen)
                        bind(approver, chosen, &c)
                    } else {
                        c.issues.append("approval of \(t.number) by role:\(role)")
                    }
                }
                out.append(c)
            }
        case .maintenanceWindow(let system, let coversDowntime):
            for e in latestWindows(system: system) {
                guard case .maintenanceWindowSet(let w) = e.event else { continue }
                var issues: [String] = []
                if coversDowntime, let downtime = state.window, !w.window.covers(downtime) {
                    issues.append("window \(w.windowID) (\(RFC3339.format(w.window.start)) to \(RFC3339.format(w.window.end))) does not cover the downtime window (\(RFC3339.format(downtime.start)) to \(RFC3339.format(downtime.end)))")
                }
                var c = Candidate(time: e.time, events: [e], covers: [], issues: issues)
                checkActor(e, &c)
                out.append(c)
            }
        case .maintenanceWindowVerified(let system):
            let windows = latestWindows(system: system)
            for e in state.events {
                guard case .maintenanceWindowVerified(let v) = e.event else { continue }
                var issues: [String] = []
                var events = [e]
                if let set = windows.first(where: { w in
                    if case .maintenanceWindowSet(let s) = w.event { return s.windowID == v.windowID }
                    return false
                }) {
                    events.insert(set, at: 0)
                } else {
                    issues.append("window \(v.windowID) was never set in \(system)")
                }
                var c = Candidate(time: e.time, events: events, covers: [], issues: issues)
                // The actor is the verifier: bound to the login whether or not the rule names roles.
                if rule.by.isEmpty { bind(e.recorded.actor, e, &c) } else { checkActor(e, &c) }
                out.append(c)
            }
        case .escalation(let to):
            for e in state.events {
                guard case .escalationRequested(let x) = e.event, x.to.lowercasedFast == to.lowercasedFast else { continue }
                var c = Candidate(time: e.time, events: [e], covers: [], issues: [])
                checkActor(e, &c)
                out.append(c)
            }
        case .milestone(let kind):
            for e in state.events {
                guard case .milestone(let m) = e.event, m.kind == kind else { continue }
                var c = Candidate(time: e.time, events: [e], covers: [], issues: [])
                checkActor(e, &c)
                out.append(c)
            }
        case .decision(let req):
            // Every recording of the decision is an attempt; one with an
            // outcome outside the policy's list is incomplete (partial).
            let allowed = req.outcomes?.map(\.lowercasedFast)
            for e in state.events {
                guard case .decisionRecorded(let d) = e.event, d.decision == req.decision else { continue }
                var issues: [String] = []
                if let allowed, !allowed.contains(d.outcome.lowercasedFast) {
                    issues.append("decision \(d.decision) outcome '\(d.outcome)' (expected \(req.outcomes!.joined(separator: " or ")))")
                }
                var c = Candidate(time: e.time, events: [e], covers: [], issues: issues)
                checkActor(e, &c)
                out.append(c)
            }
        case .everyMessageContent, .prohibitedContent, .priorityMatrix, .invalid:
            break
        }
        if rule.evidence != nil { for i in out.indices { checkSource(&out[i]) } }
        return out.sorted { $0.time < $1.time }
    }

    private func approverOf(_ e: CaseEvent) -> String? {
        if case .approvalRecorded(let ap) = e.event { return ap.approver }
        return nil
    }

    /// The latest `maintenance_window.set` per window id in `system`.
    private func latestWindows(system: String) -> [CaseEvent] {
        var latest: [String: CaseEvent] = [:]
        var order: [String] = []
        for e in state.events {
            guard case .maintenanceWindowSet(let w) = e.event, w.system.lowercasedFast == system.lowercasedFast else { continue }
            if latest[w.windowID] == nil { order.append(w.windowID) }
            latest[w.windowID] = e
        }
        return order.compactMap { latest[$0] }
    }
}

extension Requirement {
    /// What the requirement asks for, as a missed obligation's `missing`
    /// names it: "ticket.submitted (snow, downtime_approval) approved by
    /// role:system-owner", "incident.milestone group_chat_convened".
    public var missingText: String {
        switch self {
        case .notification(let n):
            var text = "notification.sent on \(n.channels.map(\.rawValue).joined(separator: " or "))"
            if let d = n.destination { text += " to \(d)" }
            if !n.allEntries.isEmpty { text += " reaching \(n.allEntries.map(\.text).joined(separator: ", "))" }
            return text
        case .ticket(let t):
            return "ticket.submitted (\(t.system), \(t.purpose.rawValue))" + (t.approvedBy.map { " approved by role:\($0)" } ?? "")
        case .maintenanceWindow(let system, let covers):
            return "maintenance_window.set in \(system)" + (covers ? " covering the downtime window" : "")
        case .maintenanceWindowVerified(let system):
            return "maintenance_window.verified of a window set in \(system)"
        case .escalation(let to):
            return "escalation.requested to \(to)"
        case .milestone(let kind):
            return "incident.milestone \(kind.rawValue)"
        case .decision(let d):
            return "decision.recorded \(d.decision)" + (d.outcomes.map { " with outcome \($0.joined(separator: " or "))" } ?? "")
        case .everyMessageContent(let kind):
            return "the \(kind.rawValue) content in every message"
        case .prohibitedContent(let p):
            return "no message with \(p.patterns.map(\.name).joined(separator: ", "))"
        case .priorityMatrix:
            return "incident.priority_set agreeing with the priority matrix"
        case .invalid:
            return "a valid rule"
        }
    }
}
