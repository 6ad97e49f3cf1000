import Events
import Foundation

extension Policy {
    /// Everything wrong with the policy, one message per problem, each
    /// naming the rule (or parameter/audience) and the problem. With a
    /// directory, roles, people and groups are checked against it too.
    public func problems(directory: Directory?) -> [String] {
        var out = parseProblems
        var seen = Set<String>()
        for rule in rules where !seen.insert(rule.id).inserted {
            out.append("rule \(rule.id): duplicate rule id")
        }
        for (name, entries) in audienceEntries.sorted(by: { $0.key < $1.key }) {
            for entry in entries {
                for p in entryProblems(entry, directory: directory, visiting: [name]) {
                    out.append("audience \(name): \(p)")
                }
            }
        }
        for rule in rules {
            if case .notification(let n) = rule.requirement {
                var named: [String] = []
                for entry in n.allEntries {
                    for p in entryProblems(entry, directory: directory, visiting: []) where !named.contains(p) {
                        named.append(p)
                        out.append("rule \(rule.id): \(p)")
                    }
                }
            }
            if case .ticket(let t) = rule.requirement, let role = t.approvedBy,
               let p = roleProblem(role, directory: directory) {
                out.append("rule \(rule.id): approved_by: \(p)")
            }
            if case .everyMessageContent(let kind) = rule.requirement, (content[kind] ?? []).isEmpty {
                out.append("rule \(rule.id): no content is defined for \(kind.rawValue)")
            }
            for role in rule.by where role != "communication_owner" {
                if role.hasPrefix("case:") {
                    if !CaseRoleAssigned.isRoleName(String(role.dropFirst(5))) {
                        out.append("rule \(rule.id): by: '\(role)' is not a case role (case:<role>, lowercase)")
                    }
                } else if role.hasPrefix("product:") {
                    if role != "product:pm" { out.append("rule \(rule.id): by: unknown '\(role)' (expected product:pm)") }
                } else if let p = roleProblem(role, directory: directory) {
                    out.append("rule \(rule.id): by: \(p)")
                }
            }
            for due in rule.due {
                switch due.timing {
                case .before, .dayBefore:
                    if rule.appliesWhen.kind != .plannedDowntime {
                        out.append("rule \(rule.id): timing \(due.timing) needs applies_when.kind: planned_downtime")
                    }
                case .dailyWhileUnresolved where rule.appliesWhen.kind == nil:
                    out.append("rule \(rule.id): daily_while_unresolved needs applies_when.kind")
                case .within(_, _, let type) where type == EventType.caseOpened || type == EventType.caseClosed:
                    if let kind = rule.appliesWhen.kind, kind.isBuiltIn {
                        out.append("rule \(rule.id): \(type) does not happen in \(kind.rawValue) cases (case.opened and case.closed belong to cases of kinds declared in case_kinds:)")
                    }
                default: break
                }
            }
            if rule.due.count > 1 && Set(rule.due.map { $0.label ?? "" }).count != rule.due.count {
                out.append("rule \(rule.id): several due entries need distinct labels")
            }
        }
        return out
    }

    private func roleProblem(_ role: String, directory: Directory?) -> String? {
        guard let directory else { return nil }
        return directory.roles.contains(role) ? nil : "unknown role '\(role)'"
    }

    /// Every problem of an audience entry: `every` needs a known role; a
    /// named audience's entries are all checked (every unknown person,
    /// group or role is named, once each).
    private func entryProblems(_ entry: AudienceEntry, directory: Directory?, visiting: Set<String>) -> [String] {
        if entry.every { return roleProblem(String(entry.ref.dropFirst(5)), directory: directory).map { [$0] } ?? [] }
        return refProblems(entry.ref, directory: directory, visiting: visiting)
    }

    private func refProblems(_ ref: String, directory: Directory?, visiting: Set<String>) -> [String] {
        guard let named = audienceEntries[ref] else { return refProblem(ref, directory: directory).map { [$0] } ?? [] }
        guard !visiting.contains(ref) else { return ["audience '\(ref)' includes itself"] }
        var out: [String] = []
        for inner in named {
            for p in entryProblems(inner, directory: directory, visiting: visiting.union([ref])) where !out.contains(p) {
                out.append(p)
            }
        }
        return out
    }

    /// The problem of a ref that is not a named audience, or nil.
    private func refProblem(_ ref: String, directory: Directory?) -> String? {
        guard let colon = ref.firstIndex(of: ":") else { return "unknown audience '\(ref)'" }
        let scheme = String(ref[..<colon])
        let value = String(ref[ref.index(after: colon)...])
        switch scheme {
        case "role": return roleProblem(value, directory: directory)
        case "person":
            guard let directory else { return nil }
            return directory.person(handle: value) == nil ? "unknown person '\(value)'" : nil
        case "group":
            guard let directory else { return nil }
            return directory.group(ref: value) == nil ? "unknown group '\(value)'" : nil
        case "product":
            return ["pm", "oncall"].contains(value) ? nil : "unknown product audience '\(ref)' (expected product:pm or product:oncall)"
        case "case":
            return CaseRoleAssigned.isRoleName(value) ? nil : "'\(ref)' is not a case role (case:<role>, lowercase)"
        default:
            return "unknown audience '\(ref)'"
        }
    }
}

/// Every published policy. A case is judged by the latest unscoped policy
/// in force when it was opened (its primary policy), and by every scoped
/// policy in force then whose scope covers it (docs/policy.md, "Several
/// policies at once").
public struct PolicyHistory: Sendable {
    public struct Entry: Sendable {
        public let effectiveFrom: Date
        public let policy: Policy
        /// The policy's `scope`, read once (nil: unscoped).
        public let scope: PolicyScope?
        public var version: String { policy.version }
    }

    public let entries: [Entry]

    public init(_ published: [PolicyPublished]) {
        entries = published.enumerated()
            .sorted { ($0.element.effectiveFrom, $0.offset) < ($1.element.effectiveFrom, $1.offset) }
            .map { Entry(effectiveFrom: $0.element.effectiveFrom, policy: $0.element.policy, scope: $0.element.policy.scope) }
        hasScoped = entries.contains { $0.scope != nil }
    }

    /// Whether any published policy has a scope.
    public let hasScoped: Bool

    /// The latest unscoped policy whose effective date is at or before
    /// `date` (any name): the primary policy of a case opened then.
    public func inForce(at date: Date) -> (version: String, policy: Policy)? {
        guard let e = entries.last(where: { $0.effectiveFrom <= date && $0.scope == nil }) else { return nil }
        return (e.version, e.policy)
    }

    /// The scoped policies in force at `date`, one per name: the latest
    /// version of each name whose effective date is at or before `date`,
    /// when that version has a scope; sorted by name. Whether each covers a case is the
    /// caller's to check (`scope.covers`).
    public func scopedInForce(at date: Date) -> [(version: String, policy: Policy, scope: PolicyScope)] {
        guard hasScoped else { return [] }
        var latest: [String: Entry] = [:]
        for e in entries where e.effectiveFrom <= date { latest[e.policy.name] = e }
        return latest.keys.sorted().compactMap { name in
            let e = latest[name]!
            return e.scope.map { (e.version, e.policy, $0) }
        }
    }
}
