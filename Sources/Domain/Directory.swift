import Events
import Foundation
import Synchronization

public struct Person: Sendable, Equatable {
    public var handle: String
    public var name: String
    public var slackID: String?
    public var email: String?
    public var roles: [String]
    /// The database logins that are this person's (`metadata.db_role` of
    /// the events they append). Empty: the directory binds them to none, and
    /// their actions count with an `unbound_login` finding.
    public var logins: [String]

    public init(handle: String, name: String, slackID: String? = nil, email: String? = nil, roles: [String] = [],
                logins: [String] = []) {
        self.handle = handle
        self.name = name
        self.slackID = slackID
        self.email = email
        self.roles = roles
        self.logins = logins
    }
}

/// A database login used by an importer or a receiving service, and the
/// event sources it may record: its events count for the actor they name
/// (the importer vouches for the vendor's identity), and only its import
/// provenance (`signature_verified`) is believed.
public struct ServiceLogin: Sendable, Equatable {
    public var login: String
    /// `EventSource` raw values (pagerduty, slack, servicenow, email, import).
    public var sources: [String]
    public var name: String?

    public init(login: String, sources: [String], name: String? = nil) {
        self.login = login
        self.sources = sources
        self.name = name
    }
}

/// Whom a database login belongs to in a directory.
public enum LoginOwner: Sendable, Equatable {
    /// The person at this index of `people`.
    case person(Int)
    /// The service login at this index of `serviceLogins`.
    case service(Int)
    /// Listed more than once (for two people, or a person and a service):
    /// never trusted. The owners as the directory names them.
    case shared([String])
}

/// A Slack user group or mail list. A group stands for a role: tagging it
/// reaches that role.
public struct Group: Sendable, Equatable {
    public var handle: String
    public var slackID: String?
    public var email: String?
    public var role: String?

    public init(handle: String, slackID: String? = nil, email: String? = nil, role: String? = nil) {
        self.handle = handle
        self.slackID = slackID
        self.email = email
        self.role = role
    }
}

public struct Product: Sendable, Equatable {
    public var id: String
    public var name: String
    /// Handle of the product manager.
    public var pm: String?
    /// Handle of the on-call group.
    public var oncall: String?
    /// Attributes rules can test (`product.tier: 1`).
    public var attributes: [String: AttributeValue]

    public init(id: String, name: String, pm: String? = nil, oncall: String? = nil, attributes: [String: AttributeValue] = [:]) {
        self.id = id
        self.name = name
        self.pm = pm
        self.oncall = oncall
        self.attributes = attributes
    }
}

/// Who holds which role, from `effectiveFrom` on (the shape of
/// shared/scenarios/directory.yaml; stored as the data of `directory.published`).
public struct Directory: Sendable, Equatable {
    public var effectiveFrom: Date
    public var roles: [String]
    public var people: [Person] { didSet { box = IndexBox(Index(people: people, groups: groups, services: serviceLogins)) } }
    public var groups: [Group] { didSet { box = IndexBox(Index(people: people, groups: groups, services: serviceLogins)) } }
    public var products: [Product]
    /// Why a directory effective before its recording re-judges the past
    /// (`retroactive_reason`); the append functions refuse a retroactive
    /// publication without one.
    public var retroactiveReason: String? = nil
    /// Logins of importers and receiving services, with the sources each may record.
    public var serviceLogins: [ServiceLogin] { didSet { box = IndexBox(Index(people: people, groups: groups, services: serviceLogins)) } }

    /// Lookups by handle, Slack id and lowercased email, built with the
    /// lists (the rule engine resolves every audience ref of every message).
    private var box: IndexBox
    /// The lookups, shared by the copies of this directory (a copy costs
    /// one retain, not one per table; the engine copies directories often).

    private final class IndexBox: Sendable, Equatable {
        let index: Index
        /// `resolve(audience:)`'s answers, by audience list: messages of a
        /// case, and of many cases, name the same lists over and over.
        /// Derived data: not part of equality.
        let audiences = Mutex<[[String]: ResolvedAudience]>([:])
        init(_ index: Index) { self.index = index }
        static func == (a: IndexBox, b: IndexBox) -> Bool { a.index == b.index }
    }

    /// Most audience lists `resolve(audience:)` remembers per directory;
    /// past it, lists are resolved each time (memory stays bounded).
    static let audienceMemoLimit = 4_096

    private struct Index: Sendable, Equatable {
        var personByHandle: [String: Int] = [:]
        var personBySlackID: [String: Int] = [:]
        var personByEmail: [String: Int] = [:]
        var groupByHandle: [String: Int] = [:]
        var groupBySlackID: [String: Int] = [:]
        var groupByEmail: [String: Int] = [:]
        /// `resolve(ref:)`'s answer for every handle, Slack id and email
        /// as written (and lowercased), and every group handle without its
        /// `@`: computed with the lookup chain itself, so one lookup gives
        /// the same answer as the chain for these strings.
        var refs: [String: RefHit] = [:]
        /// Who each login belongs to (the rule engine looks up the login of
        /// every restricted action).
        var loginOwners: [String: LoginOwner] = [:]

        init(people: [Person], groups: [Group], services: [ServiceLogin]) {
            for (i, p) in people.enumerated() {
                for login in Set(p.logins) { Self.claim(login, .person(i), p.handle, &loginOwners, people, services) }
            }
            for (i, s) in services.enumerated() {
                Self.claim(s.login, .service(i), "service " + (s.name ?? s.login), &loginOwners, people, services)
            }
            // The first entry wins, as a linear search would find it.
            for (i, p) in people.enumerated() {
                if personByHandle[p.handle] == nil { personByHandle[p.handle] = i }
                if let s = p.slackID, personBySlackID[s] == nil { personBySlackID[s] = i }
                if let e = p.email?.lowercased(), personByEmail[e] == nil { personByEmail[e] = i }
            }
            for (i, g) in groups.enumerated() {
                if groupByHandle[g.handle] == nil { groupByHandle[g.handle] = i }
                if let s = g.slackID, groupBySlackID[s] == nil { groupBySlackID[s] = i }
                if let e = g.email?.lowercased(), groupByEmail[e] == nil { groupByEmail[e] = i }
            }
            var keys: [String] = []
            for p in people { keys += [p.handle, p.slackID, p.email, p.email?.lowercased()].compactMap { $0 } }
            for g in groups {
                keys += [g.handle, g.slackID, g.email, g.email?.lowercased()].compactMap { $0 }
                if g.handle.hasPrefix("@") { keys.append(String(g.handle.dropFirst())) }
            }
            for key in keys where refs[key] == nil { refs[key] = chain(key) }
        }

        private static func claim(_ login: String, _ owner: LoginOwner, _ name: String,
                                  _ owners: inout [String: LoginOwner], _ people: [Person], _ services: [ServiceLogin]) {
            switch owners[login] {
            case nil: owners[login] = owner
            case .person(let j): owners[login] = .shared([people[j].handle, name])
            case .service(let j): owners[login] = .shared(["service " + (services[j].name ?? services[j].login), name])
            case .shared(let names): owners[login] = .shared(names + [name])
            }
        }

        /// person(ref:), then group(ref:), as indexes.
        func chain(_ ref: String) -> RefHit {
            if let i = personByHandle[ref] ?? personBySlackID[ref] ?? personByEmail[ref.lowercasedFast] { return .person(i) }
            if let i = groupByHandle[ref] ?? groupByHandle["@" + ref] ?? groupBySlackID[ref] ?? groupByEmail[ref.lowercasedFast] {
                return .group(i)
            }
            return .none
        }
    }

    /// What a ref names: the person `person(ref:)` finds, else the group `group(ref:)` finds.
    enum RefHit: Sendable, Equatable {
        case person(Int)
        case group(Int)
        case none
    }

    /// `person(ref:)`, else `group(ref:)`, in one lookup for the usual refs
    /// (the rule engine resolves every audience ref of every message).
    func resolve(ref: String) -> RefHit { box.index.refs[ref] ?? box.index.chain(ref) }

    /// Who a message's audience list reaches through this directory
    /// (`ResolvedAudience(audience:directory:)`), remembered per list.
    func resolve(audience: [String]) -> ResolvedAudience {
        if let known = box.audiences.withLock({ $0[audience] }) { return known }
        let resolved = ResolvedAudience(audience: audience, directory: self)
        box.audiences.withLock { memo in
            if memo.count < Self.audienceMemoLimit { memo[audience] = resolved }
        }
        return resolved
    }

    public init(effectiveFrom: Date, roles: [String], people: [Person], groups: [Group], products: [Product],
                serviceLogins: [ServiceLogin] = [])
        throws(ValidationError) {
        self.effectiveFrom = effectiveFrom
        self.roles = roles
        self.people = people
        self.groups = groups
        self.products = products
        self.serviceLogins = serviceLogins
        self.box = IndexBox(Index(people: people, groups: groups, services: serviceLogins))
        try check()
    }

    public static func parse(yaml: String) throws(ValidationError) -> Directory {
        try Directory(json: YAML.parse(yaml))
    }

    // MARK: Lookups

    public func person(handle: String) -> Person? { box.index.personByHandle[handle].map { people[$0] } }
    public func person(slackID: String) -> Person? { box.index.personBySlackID[slackID].map { people[$0] } }
    public func person(email: String) -> Person? { box.index.personByEmail[email.lowercasedFast].map { people[$0] } }
    /// A person named by handle, Slack id or email.
    public func person(ref: String) -> Person? {
        person(handle: ref) ?? person(slackID: ref) ?? person(email: ref)
    }

    public func group(handle: String) -> Group? { box.index.groupByHandle[handle].map { groups[$0] } }
    public func group(slackID: String) -> Group? { box.index.groupBySlackID[slackID].map { groups[$0] } }
    public func group(email: String) -> Group? { box.index.groupByEmail[email.lowercasedFast].map { groups[$0] } }
    /// A group named by handle (with or without the leading `@`), Slack id or email.
    public func group(ref: String) -> Group? {
        group(handle: ref) ?? group(handle: "@" + ref) ?? group(slackID: ref) ?? group(email: ref)
    }

    /// Who `login` belongs to, or nil when the directory does not list it.
    public func owner(ofLogin login: String) -> LoginOwner? { box.index.loginOwners[login] }

    /// Logins listed more than once ("shared": reported, never trusted),
    /// one line each, in login order, for `directory publish` and `policy check`.
    public var loginProblems: [String] {
        box.index.loginOwners.compactMap { login, owner -> (String, String)? in
            guard case .shared(let names) = owner else { return nil }
            return (login, "login '\(printable(login))' is shared (listed for \(names.joined(separator: ", "))): its actions are not trusted")
        }.sorted { $0.0 < $1.0 }.map(\.1)
    }

    public func product(id: String) -> Product? { products.first { $0.id == id } }

    /// People holding `role`, in directory order.
    public func holders(of role: String) -> [Person] { people.filter { $0.roles.contains(role) } }

    public func hasRole(_ handle: String, _ role: String) -> Bool {
        person(handle: handle)?.roles.contains(role) ?? false
    }

    // MARK: Validation

    private func check() throws(ValidationError) {
        let roleSet = Set(roles)
        if let dup = firstDuplicate(roles) {
            throw ValidationError(field: "roles", "role '\(printable(dup))' is listed twice")
        }
        var seenIDs: [String: String] = [:]   // handle/slack id/email (lowercased) -> where
        func claim(_ id: String?, _ field: String) throws(ValidationError) {
            guard let id else { return }
            let key = id.lowercased()
            if let other = seenIDs[key] {
                throw ValidationError(field: field, "'\(printable(id))' is already used by \(other)")
            }
            seenIDs[key] = field
        }
        for (i, p) in people.enumerated() {
            let f = "people[\(i)]"
            try claim(p.handle, "\(f).handle")
            try claim(p.slackID, "\(f).slack_id")
            try claim(p.email, "\(f).email")
            for role in p.roles where !roleSet.contains(role) {
                throw ValidationError(field: "\(f).roles", "unknown role '\(printable(role))' (not in roles)")
            }
        }
        for (i, g) in groups.enumerated() {
            let f = "groups[\(i)]"
            try claim(g.handle, "\(f).handle")
            try claim(g.slackID, "\(f).slack_id")
            try claim(g.email, "\(f).email")
            if let role = g.role, !roleSet.contains(role) {
                throw ValidationError(field: "\(f).role", "unknown role '\(printable(role))' (not in roles)")
            }
        }
        let sources = Set(EventSource.allCases.map(\.rawValue))
        for (i, p) in people.enumerated() {
            for (k, login) in p.logins.enumerated() where Blank.isBlank(login, newlines: true) {
                throw ValidationError(field: "people[\(i)].logins[\(k)]", "a login must not be blank")
            }
        }
        for (i, s) in serviceLogins.enumerated() {
            if Blank.isBlank(s.login, newlines: true) {
                throw ValidationError(field: "service_logins[\(i)].login", "a login must not be blank")
            }
            if s.sources.isEmpty {
                throw ValidationError(field: "service_logins[\(i)].sources", "list the sources this login may record")
            }
            for source in s.sources where !sources.contains(source) {
                throw ValidationError(field: "service_logins[\(i)].sources",
                                      "unknown source '\(printable(source))' (one of \(EventSource.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
        }
        if let dup = firstDuplicate(products.map(\.id)) {
            throw ValidationError(field: "products", "product id '\(printable(dup))' is listed twice")
        }
        for (i, p) in products.enumerated() {
            if let pm = p.pm, person(handle: pm) == nil {
                throw ValidationError(field: "products[\(i)].pm", "'\(printable(pm))' is not a person in the directory")
            }
            if let oncall = p.oncall, group(handle: oncall) == nil {
                throw ValidationError(field: "products[\(i)].oncall", "'\(printable(oncall))' is not a group in the directory")
            }
        }
    }

    private func firstDuplicate(_ items: [String]) -> String? {
        var seen = Set<String>()
        for item in items where !seen.insert(item).inserted { return item }
        return nil
    }
}
