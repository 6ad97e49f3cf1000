import Events
import Foundation

/// A required audience member, resolved from a policy audience ref.
enum AudienceTarget: Sendable, Hashable {
    case role(String)
    case person(String)
    case group(String)
    case productPM
    case productOncall
    /// One holder of a role that `{every: role:X}` requires (reached by
    /// naming the person, or a group standing for the role, or the role).
    case holder(role: String, person: String)
    /// The person assigned a role in the case (`case:incident_commander`).
    case caseRole(String)

    /// The target of a ref that is not a named audience, or nil.
    static func parse(_ ref: String) -> AudienceTarget? {
        guard let colon = ref.firstIndex(of: ":") else { return nil }
        let value = String(ref[ref.index(after: colon)...])
        switch ref[..<colon] {
        case "role": return .role(value)
        case "person": return .person(value)
        case "group": return .group(value)
        case "product": return value == "pm" ? .productPM : value == "oncall" ? .productOncall : nil
        case "case": return .caseRole(value)
        default: return nil
        }
    }
}

/// Who a message reached, resolved through the directory in force when it
/// was sent.
struct Reach: Sendable {
    /// Who its audience list names there.
    let names: ResolvedAudience
    /// The directory in force when the message was sent, and the case's
    /// product targets then (`AudienceResolver.concrete`), resolved once per message.
    let directory: Directory?
    let productPM: AudienceTarget
    let productOncall: AudienceTarget
}

/// The part of a `Reach` that depends only on the audience list and the
/// directory in force: the roles, people and groups its refs name there
/// (`role:` refs as roles), and every ref lowercased. Used as sets (only
/// `contains`); arrays because a message names a handful of refs, and
/// hashing them into sets was most of the cost.
struct ResolvedAudience: Sendable {
    var roles: [String] = []
    var people: [String] = []
    var groups: [String] = []
    var literals: [String] = []
    /// Roles named as a whole: `role:` refs and the roles of groups (not
    /// the roles of people named), which reach every holder of the role.
    var wholeRoles: [String] = []

    init(audience: [String], directory d: Directory?) {
        let people = d?.people ?? [], groups = d?.groups ?? []
        literals.reserveCapacity(audience.count)
        roles.reserveCapacity(audience.count * 2)
        for ref in audience {
            literals.append(ref.lowercasedFast)
            if ref.hasPrefix("role:") {
                roles.append(String(ref.dropFirst(5)))
                wholeRoles.append(String(ref.dropFirst(5)))
            } else {
                switch d?.resolve(ref: ref) ?? .none {
                case .person(let i):
                    self.people.append(people[i].handle)
                    roles.append(contentsOf: people[i].roles)
                case .group(let i):
                    self.groups.append(groups[i].handle)
                    if let role = groups[i].role {
                        roles.append(role)
                        wholeRoles.append(role)
                    }
                case .none:
                    break
                }
            }
        }
    }
}

/// A class (immutable): one per case, shared by the evaluation of each of
/// its rules without copying the policy and directories it holds.
final class AudienceResolver: Sendable {
    let policy: Policy
    let directories: DirectoryHistory
    let product: String?
    /// Who holds each case role over time (`case.role_assigned`).
    let caseRoles: [String: [(Date, String)]]

    init(policy: Policy, directories: DirectoryHistory, product: String?, caseRoles: [String: [(Date, String)]] = [:]) {
        self.policy = policy
        self.directories = directories
        self.product = product
        self.caseRoles = caseRoles
    }

    /// The person assigned `role` in the case at `t`.
    func caseRoleHolder(_ role: String, at t: Date) -> String? { caseRoles[role]?.last { $0.0 <= t }?.1 }

    /// Expands named audiences (recursively) into targets, in order, without duplicates.
    func targets(_ refs: [String]) -> [AudienceTarget] {
        Self.targets(refs, audiences: policy.audiences)
    }

    static func targets(_ refs: [String], audiences: [String: [String]]) -> [AudienceTarget] {
        var out: [AudienceTarget] = []
        var visiting = Set<String>()
        func add(_ ref: String) {
            if let named = audiences[ref] {
                guard visiting.insert(ref).inserted else { return }
                named.forEach(add)
                visiting.remove(ref)
                return
            }
            if let target = AudienceTarget.parse(ref), !out.contains(target) { out.append(target) }
        }
        refs.forEach(add)
        return out
    }

    func reach(of audience: [String], at t: Date) -> Reach {
        let d = directories.at(t)
        return Reach(names: d?.resolve(audience: audience) ?? ResolvedAudience(audience: audience, directory: nil),
                     directory: d, productPM: concrete(.productPM, in: d), productOncall: concrete(.productOncall, in: d))
    }

    /// A product target as a concrete one, with the directory in force at `t`.
    /// Without a (known) product: the product's PM is any `uf-pm`, its on-call any `uf-oncall`.
    func concrete(_ target: AudienceTarget, at t: Date) -> AudienceTarget {
        switch target {
        case .productPM, .productOncall: return concrete(target, in: directories.at(t))
        default: return target
        }
    }

    /// `concrete(_:at:)` with the directory in force at that time.
    func concrete(_ target: AudienceTarget, in directory: Directory?) -> AudienceTarget {
        let p = product.flatMap { directory?.product(id: $0) }
        switch target {
        case .productPM: return p?.pm.map(AudienceTarget.person) ?? .role("uf-pm")
        case .productOncall: return p?.oncall.map(AudienceTarget.group) ?? .role("uf-oncall")
        default: return target
        }
    }

    /// Whether the message of `r` (sent at `t`; `r` = `reach(of:at: t)`) reached `target`.
    func reached(_ target: AudienceTarget, by r: Reach, at t: Date) -> Bool {
        let concrete: AudienceTarget = switch target {
        case .productPM: r.productPM
        case .productOncall: r.productOncall
        case .caseRole(let role): caseRoleHolder(role, at: t).map(AudienceTarget.person) ?? target
        default: target
        }
        switch concrete {
        case .role(let role): return r.names.roles.contains(role)
        case .person(let h): return r.names.people.contains(h) || r.names.literals.contains(h.lowercasedFast)
        case .group(let g):
            let group = r.directory?.group(ref: g)
            if let group, r.names.groups.contains(group.handle) { return true }
            if let role = group?.role, r.names.roles.contains(role) { return true }
            return r.names.literals.contains(g.lowercasedFast)
        case .holder(let role, let h):
            return r.names.people.contains(h) || r.names.literals.contains(h.lowercasedFast) || r.names.wholeRoles.contains(role)
        case .productPM, .productOncall, .caseRole: return false
        }
    }

    /// How a missing target is named in a verdict.
    func label(_ target: AudienceTarget, at t: Date) -> String {
        let c = concrete(target, at: t)
        let base: String
        switch c {
        case .role(let r): base = "role:\(r)"
        case .person(let h): base = "person:\(h)"
        case .group(let g): base = "group:\(g)"
        case .productPM, .productOncall: base = "product"
        case .holder(let role, let h): return "every role:\(role) (person:\(h))"
        case .caseRole(let role):
            return "case:\(role) (\(caseRoleHolder(role, at: t).map { "person:\($0)" } ?? "not assigned"))"
        }
        switch target {
        case .productPM: return "product:pm (\(base))"
        case .productOncall: return "product:oncall (\(base))"
        default: return base
        }
    }
}
