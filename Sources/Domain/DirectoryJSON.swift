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
                                 roles: try p.optionalStringArray("roles") ?? []))
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
                                    pm: try p.optionalString("pm"), oncall: try p.optionalString("oncall")))
        }
        try self.init(effectiveFrom: effectiveFrom, roles: roles, people: people, groups: groups, products: products)
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
        func opt(_ s: String?) -> JSONValue? { s.map(JSONValue.string) }
        func obj(_ pairs: [(String, JSONValue?)]) -> JSONValue {
            var o: [String: JSONValue] = [:]
            for (k, v) in pairs { if let v { o[k] = v } }
            return .object(o)
        }
        return .object([
            "effective_from": .string(RFC3339.format(effectiveFrom)),
            "roles": .array(roles.map(JSONValue.string)),
            "people": .array(people.map { p in
                obj([("handle", .string(p.handle)), ("name", .string(p.name)), ("slack_id", opt(p.slackID)),
                     ("email", opt(p.email)), ("roles", .array(p.roles.map(JSONValue.string)))])
            }),
            "groups": .array(groups.map { g in
                obj([("handle", .string(g.handle)), ("slack_id", opt(g.slackID)), ("email", opt(g.email)), ("role", opt(g.role))])
            }),
            "products": .array(products.map { p in
                obj([("id", .string(p.id)), ("name", .string(p.name)), ("pm", opt(p.pm)), ("oncall", opt(p.oncall))])
            }),
        ])
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
