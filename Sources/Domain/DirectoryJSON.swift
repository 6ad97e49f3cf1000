import Events
import Foundation

extension Directory {
    /// Reads `{effective_from, roles, people, groups, products}`; errors name
    /// the field (`people[3].roles`).
    public init(json: JSONValue) throws(ValidationError) {
        let r = try FieldReader(json, path: "")
        let effectiveFrom = try r.time("effective_from")
        let roles = try r.optionalStringArray("roles") ?? []
        var people: [Person] = []
        for (i, item) in try Self.items(r, "people").enumerated() {
            let p = try FieldReader(item, path: "people[\(i)]")
            let handle = try p.string("handle")
            people.append(Person(handle: handle, name: try p.optionalString("name") ?? handle,
                                 slackID: try p.optionalString("slack_id"), email: try p.optionalString("email"),
                                 roles: try p.optionalStringArray("roles") ?? [],
                                 logins: try p.optionalStringArray("logins") ?? []))
        }
        var groups: [Group] = []
        for (i, item) in try Self.items(r, "groups").enumerated() {
            let g = try FieldReader(item, path: "groups[\(i)]")
            groups.append(Group(handle: try g.string("handle"), slackID: try g.optionalString("slack_id"),
                                email: try g.optionalString("email"), role: try g.optionalString("role")))
        }
        var products: [Product] = []
        for (i, item) in try Self.items(r, "products").enumerated() {
            let p = try FieldReader(item, path: "products[\(i)]")
            let id = try p.string("id")
            products.append(Product(id: id, name: try p.optionalString("name") ?? id,
                                    pm: try p.optionalString("pm"), oncall: try p.optionalString("oncall"),
                                    attributes: try AttributeValue.attributes(p.value("attributes"), field: p.field("attributes")) ?? [:]))
        }
        var services: [ServiceLogin] = []
        for (i, item) in try Self.items(r, "service_logins").enumerated() {
            let s = try FieldReader(item, path: "service_logins[\(i)]")
            services.append(ServiceLogin(login: try s.string("login"), sources: try s.optionalStringArray("sources") ?? [],
                                         name: try s.optionalString("name")))
        }
        try self.init(effectiveFrom: effectiveFrom, roles: roles, people: people, groups: groups, products: products,
                      serviceLogins: services)
        retroactiveReason = try r.optionalString("retroactive_reason")
    }

    private static func items(_ r: FieldReader, _ name: String) throws(ValidationError) -> [JSONValue] {
        guard let v = r.value(name) else { return [] }
        guard let a = v.arrayValue else {
            throw ValidationError(field: name, "expected a list, got \(v.kindName)")
        }
        return a
    }

    /// The data of a `directory.published` event.
    public var json: JSONValue {
        var o = JSONObjectBuilder()
        o.add("effective_from", effectiveFrom)
        o.add("roles", roles)
        o.add("people", .array(people.map { p in
            var m = JSONObjectBuilder()
            m.add("handle", p.handle)
            m.add("name", p.name)
            m.add("slack_id", p.slackID)
            m.add("email", p.email)
            m.add("roles", p.roles)
            // Only when listed: a directory without logins publishes the same data as before.
            if !p.logins.isEmpty { m.add("logins", p.logins) }
            return m.json
        }))
        o.add("groups", .array(groups.map { g in
            var m = JSONObjectBuilder()
            m.add("handle", g.handle)
            m.add("slack_id", g.slackID)
            m.add("email", g.email)
            m.add("role", g.role)
            return m.json
        }))
        o.add("products", .array(products.map { p in
            var m = JSONObjectBuilder()
            m.add("id", p.id)
            m.add("name", p.name)
            m.add("pm", p.pm)
            m.add("oncall", p.oncall)
            // Only when listed: a directory without attributes publishes the same data as before.
            if !p.attributes.isEmpty { m.add("attributes", AttributeValue.json(p.attributes)) }
            return m.json
        }))
        o.add("retroactive_reason", retroactiveReason)
        if !serviceLogins.isEmpty {
            o.add("service_logins", .array(serviceLogins.map { s in
                var m = JSONObjectBuilder()
                m.add("login", s.login)
                m.add("sources", s.sources)
                m.add("name", s.name)
                return m.json
            }))
        }
        return o.json
    }
}

/// Every published directory; the one in force at a time is the latest
/// whose `effective_from` is at or before it (for equal dates, the one
/// published last).
public struct DirectoryHistory: Sendable {
    public let directories: [Directory]

    public init(_ directories: [Directory]) {
        // Stable sort: among equal dates the later-published stays later.
        self.directories = directories.enumerated()
            .sorted { ($0.element.effectiveFrom, $0.offset) < ($1.element.effectiveFrom, $1.offset) }
            .map(\.element)
    }

    public static let empty = DirectoryHistory([])

    public func at(_ date: Date) -> Directory? {
        directories.last { $0.effectiveFrom <= date }
    }

    /// People holding `role` at `date` ("who was the ISSO on 3 March").
    public func holders(of role: String, at date: Date) -> [Person] {
        at(date)?.holders(of: role) ?? []
    }

    public func hasRole(_ handle: String, _ role: String, at date: Date) -> Bool {
        at(date)?.hasRole(handle, role) ?? false
    }
}

/// `directory.published`: its data is the directory itself.
extension Directory: CatalogPayload {
    public static let eventType = EventType.directoryPublished

    /// `init(json:)` with errors naming the field under `data`
    /// (`data.people[3].roles`).
    public init(data: JSONValue) throws(ValidationError) {
        do throws(ValidationError) {
            try self.init(json: data)
        } catch {
            throw ValidationError(field: "data" + (error.field.map { "." + $0 } ?? ""), error.message)
        }
    }
}
