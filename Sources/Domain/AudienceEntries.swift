import Events
import Foundation

/// One entry of an audience list (docs/policy.md "Audience entries"): a
/// plain ref or named audience, `{ref: X, when: {...}}` (included only while
/// the condition holds at the occasion), or `{every: role:X, when?}` (every
/// holder of the role must be reached).
public struct AudienceEntry: Sendable {
    public var ref: String
    /// Every holder of the role `ref` names (`role:x`), not any one.
    public var every: Bool
    public var when: Applicability?

    public init(ref: String, every: Bool = false, when: Applicability? = nil) {
        self.ref = ref
        self.every = every
        self.when = when
    }

    /// A plain ref (a string in the policy).
    public var isPlain: Bool { !every && when == nil }

    /// `person:vahb-po when impacts_mobile is true`, `every role:octo-po`.
    public var text: String {
        (every ? "every \(ref)" : ref) + (when.map { " when \($0.conditionText)" } ?? "")
    }

    /// Reads the items of an audience list; problems name `field[i]`.
    static func parse(_ items: [JSONValue], field: String, parser: ConditionParser, problems: inout [String]) -> [AudienceEntry] {
        var out: [AudienceEntry] = []
        for (i, item) in items.enumerated() {
            let f = "\(field)[\(i)]"
            if let s = item.stringValue, !s.isEmpty {
                out.append(AudienceEntry(ref: s))
                continue
            }
            guard let o = item.objectValue else {
                problems.append("\(f): expected an audience ref, {ref: REF, when: {...}} or {every: role:ROLE}, got \(item.kindName)")
                continue
            }
            let unknown = o.keys.filter { !["ref", "every", "when"].contains($0) }.sorted()
            if !unknown.isEmpty {
                problems.append("\(f): unknown key '\(unknown.joined(separator: ", "))' (expected ref or every, and when)")
                continue
            }
            var entry: AudienceEntry
            switch (o["ref"], o["every"]) {
            case (let r?, nil):
                guard let ref = r.stringValue, !ref.isEmpty else { problems.append("\(f).ref: expected an audience ref"); continue }
                entry = AudienceEntry(ref: ref)
            case (nil, let e?):
                guard let ref = e.stringValue, ref.hasPrefix("role:"), ref.count > 5 else {
                    problems.append("\(f).every: expected role:<role> (every holder of a role), got \(e.jsonText())")
                    continue
                }
                entry = AudienceEntry(ref: ref, every: true)
            case (nil, nil):
                problems.append("\(f): needs ref or every")
                continue
            default:
                problems.append("\(f): give ref or every, not both")
                continue
            }
            if let w = o["when"] {
                var found: [String] = []
                let cond = parser.when(w, field: "\(f).when", problems: &found)
                problems += found
                guard found.isEmpty, let cond else { continue }
                if cond.hasCondition { entry.when = cond }
            }
            out.append(entry)
        }
        return out
    }
}

/// What a rule's audience requires, before the case is known: a target
/// (any one holder of a role, a person, ...) or every holder of a role.
enum AudienceItem: Sendable, Equatable {
    case one(AudienceTarget)
    case every(role: String)
}

/// An item of a rule's expanded audience, with the conditions under which
/// it is required: it is required at an occasion when every condition of
/// one of `alternatives` holds (an empty alternative: always).
struct RuleAudienceItem: Sendable {
    var item: AudienceItem
    var alternatives: [[Applicability]]

    var unconditional: Bool { alternatives.contains { $0.isEmpty } }
}

/// A rule audience with conditional entries or quantifiers, expanded once
/// per policy (nested named audiences included); its targets are chosen per
/// occasion. Rules without any keep the plain target list (`Policy.ruleTargets`).
struct RuleAudience: Sendable {
    var items: [RuleAudienceItem]

    static func expand(_ entries: [AudienceEntry], named: [String: [AudienceEntry]]) -> [RuleAudienceItem] {
        var out: [RuleAudienceItem] = []
        var visiting = Set<String>()
        func add(_ entry: AudienceEntry, _ conds: [Applicability]) {
            let conds = conds + (entry.when.map { [$0] } ?? [])
            if !entry.every, let inner = named[entry.ref] {
                guard visiting.insert(entry.ref).inserted else { return }
                for e in inner { add(e, conds) }
                visiting.remove(entry.ref)
                return
            }
            let item: AudienceItem
            if entry.every {
                item = .every(role: String(entry.ref.dropFirst("role:".count)))
            } else if let t = AudienceTarget.parse(entry.ref) {
                item = .one(t)
            } else {
                return
            }
            if let i = out.firstIndex(where: { $0.item == item }) {
                if out[i].unconditional { return }
                if conds.isEmpty { out[i].alternatives = [[]] } else { out[i].alternatives.append(conds) }
            } else {
                out.append(RuleAudienceItem(item: item, alternatives: [conds]))
            }
        }
        for e in entries { add(e, []) }
        return out
    }

    /// True when some item is conditional or a quantifier.
    static func isDynamic(_ items: [RuleAudienceItem]) -> Bool {
        items.contains { item in
            if case .every = item.item { return true }
            return !item.unconditional
        }
    }
}

extension RuleEvaluator {
    /// The targets a dynamic audience may require in this case: its plain
    /// targets, and for `every` items each person who holds the role in any
    /// directory (in order of first appearance). With each: its item's index.
    func universe(_ audience: RuleAudience) -> (targets: [AudienceTarget], items: [Int]) {
        var targets: [AudienceTarget] = []
        var items: [Int] = []
        for (i, entry) in audience.items.enumerated() {
            switch entry.item {
            case .one(let t):
                targets.append(t)
                items.append(i)
            case .every(let role):
                var seen = Set<String>()
                for d in directories.directories {
                    for p in d.holders(of: role) where seen.insert(p.handle).inserted {
                        targets.append(.holder(role: role, person: p.handle))
                        items.append(i)
                    }
                }
            }
        }
        return (targets, items)
    }

    /// The indices of `universe` required at the occasion `occ`: items whose
    /// condition holds at its deadline (at as-of while it is ahead), and for
    /// `every`, the people holding the role in the directory in force then.
    func required(_ audience: RuleAudience, _ universe: (targets: [AudienceTarget], items: [Int]), _ occ: Occurrence) -> [Int] {
        let t = min(occ.deadline, asOf)
        let directory = directories.at(t)
        var holds: [Int: Bool] = [:]
        return universe.targets.indices.filter { i in
            let item = universe.items[i]
            if holds[item] == nil {
                holds[item] = audience.items[item].alternatives.contains { conds in conds.allSatisfy { state.holds($0, at: t) } }
            }
            guard holds[item]! else { return false }
            if case .holder(let role, let person) = universe.targets[i] {
                return directory?.hasRole(person, role) ?? false
            }
            return true
        }
    }

    /// `candidates` with their reach renumbered to `active` (indices of the universe they were found with).
    static func restrict(_ candidates: [Candidate], to active: [Int]) -> [Candidate] {
        candidates.map { c in
            var r = c
            var covers = TargetSet()
            for (j, i) in active.enumerated() where c.covers.contains(i) { covers.insert(j) }
            r.covers = covers
            return r
        }
    }

    /// Merges "every role:x (person:a)" entries of `missing` into one per
    /// role: "every role:x (person:a, person:b)".
    static func mergeEvery(_ missing: [String]) -> [String] {
        var out: [String] = []
        var at: [String: Int] = [:]
        for m in missing {
            guard m.hasPrefix("every role:"), m.hasSuffix(")"), let open = m.range(of: " (") else {
                out.append(m)
                continue
            }
            let head = String(m[..<open.lowerBound])
            let inner = String(m[open.upperBound..<m.index(before: m.endIndex)])
            if let i = at[head] {
                out[i] = String(out[i].dropLast()) + ", " + inner + ")"
            } else {
                at[head] = out.count
                out.append(m)
            }
        }
        return out
    }
}
