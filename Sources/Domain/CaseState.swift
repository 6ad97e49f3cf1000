import Events
import Foundation

/// A decoded, non-retracted case event. A class (immutable) so that the
/// rules pass it around without copying the event's fields.
final class CaseEvent: Sendable {
    let recorded: RecordedEvent
    let event: CatalogEvent

    init(recorded: RecordedEvent, event: CatalogEvent) {
        self.recorded = recorded
        self.event = event
    }

    var time: Date { recorded.occurredAt }
    var id: String { recorded.id }
    var type: String { recorded.type }
}

/// The case folded from its events: what the rules need to know and when.
struct CaseState: Sendable {
    var events: [CaseEvent] = []
    var retracted: Set<String> = []
    var kind: CaseKind?
    var team: Team?
    var openedAt: Date?
    var product: String?
    var communicationOwner: String?
    var window: TimeWindow?
    var priorities: [PriorityChange] = []
    var flagChanges: [CaseFlag: [(Date, Bool)]] = [:]
    /// Case attributes over time (from the opening event and the updates).
    var attributeChanges: [String: [(Date, AttributeValue)]] = [:]
    /// The case's product over time (the opening event and the updates).
    var productChanges: [(Date, String)] = []
    /// Who holds each case role over time (`case.role_assigned`).
    var caseRoles: [String: [(Date, String)]] = [:]
    /// The directories product conditions read (set by the engine).
    var directoryHistory: DirectoryHistory = .empty
    /// (time, closed?) for resolved / concluded / cancelled (true) and reopened (false).
    var closures: [(Date, Bool)] = []
    var resolvedAt: Date?
    var concludedAt: Date?
    var cancelledAt: Date?
    /// When `case.closed` closed a case of a declared kind.
    var caseClosedAt: Date?
    /// Retractions' login findings (a retraction counts only when its
    /// login is its actor's, as for any restricted action).
    var findings: [Finding] = []

    /// Builds the state from a case's events occurred by `asOf`. Events of
    /// other cases, retracted events and events that fail to decode are left out.
    /// `decoded`: each input event's `Catalog.decode` (nil when it fails),
    /// when the caller has them already; else they are decoded here.
    /// `directories`: binds each retraction's actor to its login (nil:
    /// every retraction counts, as before logins were bound).
    init(caseID: String, events input: [RecordedEvent], decoded given: [CatalogEvent?]? = nil, asOf: Date,
         directories: DirectoryHistory? = nil) {
        let mine = input.indices.filter { input[$0].caseID == caseID && input[$0].occurredAt <= asOf }
            .sorted { (input[$0].occurredAt, input[$0].position) < (input[$1].occurredAt, input[$1].position) }
        let retraction = EventType.eventRetracted.rawValue
        for i in mine where input[i].type == retraction {
            guard let target = input[i].data["event_id"]?.stringValue else { continue }
            if let directories {
                let e = input[i]
                switch directories.binding(actor: e.actor, event: e, at: e.occurredAt) {
                case .trusted: break
                case .unbound(let f): findings.append(f)
                case .untrusted(let reason, var f):
                    // Not honoured: the target keeps counting.
                    f.detail = "retraction of \(target) not honoured: " + (f.detail == reason ? reason : f.detail)
                    findings.append(f)
                    continue
                }
            }
            retracted.insert(target)
        }
        for i in mine where !retracted.contains(input[i].id) && input[i].type != retraction {
            let e = input[i]
            let decoded: CatalogEvent?
            if let given { decoded = given[i] } else { decoded = try? Catalog.decode(type: e.type, data: e.data) }
            guard let decoded else { continue }
            if kind == nil {
                // Nothing counts before the case is opened.
                let opening: CaseKind?
                if case .caseOpened(let o) = decoded { opening = o.kind } else { opening = Catalog.caseKind(forOpeningType: e.type) }
                guard let k = opening else { continue }
                kind = k
                openedAt = e.occurredAt
            }
            apply(CaseEvent(recorded: e, event: decoded))
        }
    }

    private mutating func apply(_ e: CaseEvent) {
        events.append(e)
        switch e.event {
        case .downtimePlanned(let d):
            team = d.team
            window = d.window
            product = d.product
            communicationOwner = d.communicationOwner
            flagChanges[.impactsMobile, default: []].append((e.time, d.impactsMobile))
            setAttributes(d.attributes, product: d.product, at: e.time)
        case .downtimeUpdated(let u):
            if let w = u.window { window = w }
            if let p = u.product { product = p }
            if let c = u.communicationOwner { communicationOwner = c }
            if let m = u.impactsMobile { flagChanges[.impactsMobile, default: []].append((e.time, m)) }
            setAttributes(u.attributes, product: u.product, at: e.time)
        case .incidentOpened(let o):
            team = o.team
            product = o.product
            flagChanges[.dataCompromiseSuspected, default: []].append((e.time, o.dataCompromiseSuspected))
            flagChanges[.impactsMobile, default: []].append((e.time, o.impactsMobile))
            setAttributes(o.attributes, product: o.product, at: e.time)
        case .incidentUpdated(let u):
            if let p = u.product { product = p }
            if let d = u.dataCompromiseSuspected { flagChanges[.dataCompromiseSuspected, default: []].append((e.time, d)) }
            if let m = u.impactsMobile { flagChanges[.impactsMobile, default: []].append((e.time, m)) }
            setAttributes(u.attributes, product: u.product, at: e.time)
        case .caseRoleAssigned(let r):
            caseRoles[r.role, default: []].append((e.time, r.person))
        case .prioritySet(let p):
            priorities.append(PriorityChange(at: e.time, priority: p.priority, eventID: e.id))
        case .incidentResolved:
            closures.append((e.time, true))
            resolvedAt = e.time
        case .incidentReopened:
            closures.append((e.time, false))
            resolvedAt = nil
        case .downtimeConcluded:
            closures.append((e.time, true))
            concludedAt = e.time
        case .downtimeCancelled:
            closures.append((e.time, true))
            cancelledAt = e.time
        case .caseOpened(let o):
            team = o.team
            product = o.product
            communicationOwner = o.communicationOwner
            setAttributes(o.attributes, product: o.product, at: e.time)
        case .caseClosed:
            // Closes a case of a declared kind; an incident or a downtime
            // closes by its own events (resolved, concluded, cancelled).
            guard let kind, !kind.isBuiltIn else { break }
            closures.append((e.time, true))
            caseClosedAt = e.time
        default:
            break
        }
    }

    // MARK: State at a time

    func priority(at t: Date) -> Priority? { priorities.last { $0.at <= t }?.priority }

    func flag(_ f: CaseFlag, at t: Date) -> Bool { flagChanges[f]?.last { $0.0 <= t }?.1 ?? false }

    func isClosed(at t: Date) -> Bool { closures.last { $0.0 <= t }?.1 ?? false }

    /// Closed now (by the last event considered).
    var isClosed: Bool { closures.last?.1 ?? false }

    /// Time of the final closure when the case is closed.
    var closedAt: Date? { isClosed ? closures.last?.0 : nil }

    var currentPriority: Priority? { priorities.last?.priority }

    func first(_ type: String) -> CaseEvent? { events.first { $0.type == type } }

    func all(_ type: String) -> [CaseEvent] { events.filter { $0.type == type } }

    // MARK: While-conditions

    func holds(_ a: Applicability, at t: Date) -> Bool {
        if let ps = a.priorities {
            guard let p = priority(at: t), ps.contains(p) else { return false }
        }
        for (f, v) in a.flags where flag(f, at: t) != v { return false }
        for c in a.values {
            guard let v = value(c.subject, at: t, strictly: false), c.comparison.matches(v) else { return false }
        }
        return true
    }

    /// Whether the condition holds just before `t`: changes at `t` itself
    /// do not count yet (a flag set at the local midnight that starts the
    /// window's day was set on that day, not on the day before).
    func holds(_ a: Applicability, justBefore t: Date) -> Bool {
        if let ps = a.priorities {
            guard let p = priorities.last(where: { $0.at < t })?.priority, ps.contains(p) else { return false }
        }
        for (f, v) in a.flags where (flagChanges[f]?.last { $0.0 < t }?.1 ?? false) != v { return false }
        for c in a.values {
            guard let v = value(c.subject, at: t, strictly: true), c.comparison.matches(v) else { return false }
        }
        return true
    }

    /// Times at which the parts of `a` changed (priority changes and
    /// changes of its flags), ascending, once each.
    func changeTimes(_ a: Applicability) -> [Date] {
        var times: [Date] = []
        if a.priorities != nil { times += priorities.map(\.at) }
        for f in a.flags.keys { times += (flagChanges[f] ?? []).map(\.0) }
        times += valueChangeTimes(a)
        return Array(Set(times)).sorted()
    }

    /// When the stretch of `a` holding just before `t` began: the last time
    /// the case entered the condition (or its opening) before `t`. Nil when
    /// the condition does not hold just before `t`.
    func stretchStart(_ a: Applicability, before t: Date) -> Date? {
        guard holds(a, justBefore: t) else { return nil }
        var start: Date?
        for x in ([openedAt].compactMap { $0 } + changeTimes(a)) where x < t {
            if holds(a, at: x) { if start == nil { start = x } } else { start = nil }
        }
        return start ?? openedAt
    }

    /// The last time before `t` the condition stopped holding (it held up
    /// to then), or nil when it never held before `t`.
    func lastExit(from a: Applicability, before t: Date) -> Date? {
        var held = openedAt.map { holds(a, at: $0) } ?? false
        var exit: Date?
        for x in changeTimes(a) where x < t {
            let now = holds(a, at: x)
            if held && !now { exit = x }
            held = now
        }
        return exit
    }

    /// What changed at `x` that made the condition start (`entering`) or
    /// stop holding: "impacts_mobile became true", "priority became P3".
    func changeText(_ a: Applicability, at x: Date, entering: Bool) -> String {
        var parts: [String] = []
        if let ps = a.priorities {
            let before = priorities.last(where: { $0.at < x })?.priority
            let after = priority(at: x)
            let inBefore = before.map(ps.contains) ?? false, inAfter = after.map(ps.contains) ?? false
            if inBefore != inAfter && inAfter == entering {
                parts.append("priority became \(after?.rawValue ?? "unset")")
            }
        }
        for (f, v) in a.flags.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let before = flagChanges[f]?.last { $0.0 < x }?.1 ?? false
            let after = flag(f, at: x)
            if before != after && (after == v) == entering { parts.append("\(f.rawValue) became \(after)") }
        }
        for c in a.values {
            let before = value(c.subject, at: x, strictly: true), after = value(c.subject, at: x, strictly: false)
            let inBefore = before.map(c.comparison.matches) ?? false, inAfter = after.map(c.comparison.matches) ?? false
            if inBefore != inAfter && inAfter == entering {
                parts.append(after.map { "\(c.subject) became \($0)" } ?? "\(c.subject) became unset")
            }
        }
        if parts.isEmpty { return entering ? "the condition (\(conditionText(a))) began to hold" : "the condition (\(conditionText(a))) stopped holding" }
        return parts.joined(separator: " and ")
    }

    /// The first time at or after `t` when the condition holds.
    func entry(into a: Applicability, from t: Date) -> Date? {
        if holds(a, at: t) { return t }
        var times = priorities.map(\.at)
        for (_, changes) in flagChanges { times += changes.map(\.0) }
        times += valueChangeTimes(a)
        return times.filter { $0 > t }.sorted().first { holds(a, at: $0) }
    }

    /// The condition as text; value conditions on something the case never
    /// set say so ("users_affected is at least 1000; users_affected is not set").
    func conditionText(_ a: Applicability) -> String {
        let unset = a.values.map(\.subject).filter { !everSet($0) }
        var seen = Set<ConditionSubject>()
        let notes = unset.filter { seen.insert($0).inserted }.map { "\($0) is not set" }
        return ([a.conditionText] + notes).joined(separator: "; ")
    }

    func stateText(_ a: Applicability, at t: Date) -> String {
        var parts: [String] = []
        if a.priorities != nil { parts.append("priority \(priority(at: t)?.rawValue ?? "not set")") }
        for f in a.flags.keys.sorted(by: { $0.rawValue < $1.rawValue }) { parts.append("\(f.rawValue) \(flag(f, at: t))") }
        for c in a.values { parts.append("\(c.subject) \(value(c.subject, at: t, strictly: false)?.description ?? "not set")") }
        return parts.joined(separator: ", ")
    }
}

// MARK: Case attributes and product attributes

extension CaseState {
    mutating func setAttributes(_ attributes: [String: AttributeValue]?, product: String?, at t: Date) {
        for (name, v) in attributes ?? [:] { attributeChanges[name, default: []].append((t, v)) }
        if let product { productChanges.append((t, product)) }
    }

    /// The value a condition tests at `t` (`strictly`: changes at `t` not yet counted):
    /// the attribute's latest value, or the attribute of the case's product
    /// then, in the directory in force then. Nil when not set.
    func value(_ subject: ConditionSubject, at t: Date, strictly: Bool) -> AttributeValue? {
        switch subject {
        case .attribute(let name):
            return attributeChanges[name]?.last { strictly ? $0.0 < t : $0.0 <= t }?.1
        case .product(let name):
            guard let product = productChanges.last(where: { strictly ? $0.0 < t : $0.0 <= t })?.1 else { return nil }
            let d = strictly ? directoryHistory.directories.last { $0.effectiveFrom < t } : directoryHistory.at(t)
            return d?.product(id: product)?.attributes[name]
        }
    }

    /// Whether the case ever had a value for `subject`.
    func everSet(_ subject: ConditionSubject) -> Bool {
        switch subject {
        case .attribute(let name): return !(attributeChanges[name] ?? []).isEmpty
        case .product(let name):
            let products = Set(productChanges.map(\.1))
            return directoryHistory.directories.contains { d in products.contains { d.product(id: $0)?.attributes[name] != nil } }
        }
    }

    /// When the values `a` tests may change: the attributes' changes, and for
    /// product conditions the product's changes and each directory's start.
    func valueChangeTimes(_ a: Applicability) -> [Date] {
        var times: [Date] = []
        var product = false
        for c in a.values {
            switch c.subject {
            case .attribute(let name): times += (attributeChanges[name] ?? []).map(\.0)
            case .product: product = true
            }
        }
        if product {
            times += productChanges.map(\.0)
            times += directoryHistory.directories.map(\.effectiveFrom).filter { t in openedAt.map { t > $0 } ?? true }
        }
        return times
    }
}
