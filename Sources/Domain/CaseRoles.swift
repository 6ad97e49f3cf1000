import Events
import Foundation

/// `case.role_assigned {role, person, note?}`: a person is given a role for
/// one case (an incident commander). Either kind of case; a later
/// assignment of the same role replaces the holder; the actor is who assigned.
public struct CaseRoleAssigned: CatalogPayload, Equatable {
    public static let eventType = EventType.caseRoleAssigned

    /// A lowercase identifier (`incident_commander`), as `case:<role>` names it.
    public var role: String
    /// The person's handle.
    public var person: String
    public var note: String?

    public init(role: String, person: String, note: String? = nil) {
        self.role = role
        self.person = person
        self.note = note
    }

    public init(data: JSONValue) throws(ValidationError) {
        let r = try FieldReader(data, path: "data")
        role = try r.string("role")
        guard CaseRoleAssigned.isRoleName(role) else {
            throw ValidationError(field: r.field("role"), "'\(printable(role))' is not a case role name (lowercase letters, digits, _ and -)")
        }
        person = try r.string("person")
        note = try r.optionalString("note")
    }

    public var json: JSONValue {
        var o = JSONObjectBuilder()
        o.add("role", role)
        o.add("person", person)
        o.add("note", note)
        return o.json
    }

    /// Case role names: `[a-z][a-z0-9_-]*`, at most 64 characters.
    static func isRoleName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, ("a"..."z").contains(first), s.unicodeScalars.count <= 64 else { return false }
        return s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
    }
}

extension CaseState {
    /// The person assigned `role` in the case at `t`.
    func caseRoleHolder(_ role: String, at t: Date) -> String? { caseRoles[role]?.last { $0.0 <= t }?.1 }
}

extension EvidenceFinder {
    /// Whether `actor` is what a `by:` entry other than a directory role
    /// names at `t`: `case:<role>` (assigned that role in the case) or
    /// `product:pm` (the PM of the case's product in the directory then).
    /// Nil when `entry` is a directory role.
    func caseActor(_ entry: String, _ actor: String, at t: Date) -> Bool? {
        if entry.hasPrefix("case:") { return state.caseRoleHolder(String(entry.dropFirst(5)), at: t) == actor }
        if entry == "product:pm" {
            guard let product = state.product, let pm = directories.at(t)?.product(id: product)?.pm else { return false }
            return pm == actor
        }
        return nil
    }

    /// How a `by:` entry is named in "actor X is not ...".
    static func byText(_ entry: String) -> String {
        if entry == "communication_owner" { return "the communication owner" }
        if entry.hasPrefix("case:") { return "the case's \(entry.dropFirst(5))" }
        if entry == "product:pm" { return "the product's PM" }
        return "role \(entry)"
    }
}
