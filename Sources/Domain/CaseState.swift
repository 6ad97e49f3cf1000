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
    /// (time, closed?) for resolved / concluded / cancelled (true) and reopened (false).
    var closures: [(Date, Bool)] = []
    var resolvedAt: Date?
    var concludedAt: Date?
    var cancelledAt: Date?
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
                guard let k = Catalog.caseKind(forOpeningType: e.type) else { continue }
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
        case .downtimeUpdated(let u):
            if let w = u.window { window = w }
            if let p = u.product { product = p }
            if let c = u.communicationOwner { communicationOwner = c }
            if let m = u.impactsMobile { flagChanges[.impactsMobile, default: []].append((e.time, m)) }
        case .incidentOpened(let o):
            team = o.team
            product = o.product
            flagChanges[.dataCompromiseSuspected, default: []].append((e.time, o.dataCompromiseSuspected))
            flagChanges[.impactsMobile, default: []].append((e.time, o.impactsMobile))
        case .incidentUpdated(let u):
            if let p = u.product { product = p }
            if let d = u.dataCompromiseSuspected { flagChanges[.dataCompromiseSuspected, default: []].append((e.time, d)) }
            if let m = u.impactsMobile { flagChanges[.impactsMobile, default: []].append((e.time, m)) }
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
        return true
    }

    /// The first time at or after `t` when the condition holds.
    func entry(into a: Applicability, from t: Date) -> Date? {
        if holds(a, at: t) { return t }
        var times = priorities.map(\.at)
        for (_, changes) in flagChanges { times += changes.map(\.0) }
        return times.filter { $0 > t }.sorted().first { holds(a, at: $0) }
    }

    func conditionText(_ a: Applicability) -> String {
        var parts: [String] = []
        if let ps = a.priorities { parts.append("priority in \(ps.map(\.rawValue).joined(separator: "/"))") }
        for (f, v) in a.flags.sorted(by: { $0.key.rawValue < $1.key.rawValue }) { parts.append("\(f.rawValue) is \(v)") }
        return parts.joined(separator: " and ")
    }

    func stateText(_ a: Applicability, at t: Date) -> String {
        var parts: [String] = []
        if a.priorities != nil { parts.append("priority \(priority(at: t)?.rawValue ?? "not set")") }
        for f in a.flags.keys.sorted(by: { $0.rawValue < $1.rawValue }) { parts.append("\(f.rawValue) \(flag(f, at: t))") }
        return parts.joined(separator: ", ")
    }
}
