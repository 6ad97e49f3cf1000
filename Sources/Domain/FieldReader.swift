import Events
import Foundation

/// Typed reads from a JSON object, with errors naming the field's path
/// (`data.window.start`).
struct FieldReader {
    let object: [String: JSONValue]
    let path: String

    init(_ value: JSONValue, path: String) throws(ValidationError) {
        guard let object = value.objectValue else {
            throw ValidationError(field: path.isEmpty ? nil : path, "expected an object, got \(value.kindName)")
        }
        self.object = object
        self.path = path
    }

    func field(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    func has(_ name: String) -> Bool {
        if let v = object[name], v != .null { return true }
        return false
    }

    func value(_ name: String) -> JSONValue? {
        guard let v = object[name], v != .null else { return nil }
        return v
    }

    /// For update events: at least one of `fields` must be present.
    func requireAny(of fields: [String]) throws(ValidationError) {
        guard fields.contains(where: has) else {
            throw ValidationError(field: "data", "names no change; expected at least one of \(fields.joined(separator: ", "))")
        }
    }

    func missing(_ name: String) -> ValidationError {
        ValidationError(field: field(name), "required field is missing")
    }

    func optionalString(_ name: String) throws(ValidationError) -> String? {
        guard let v = value(name) else { return nil }
        guard let s = v.stringValue else {
            throw ValidationError(field: field(name), "expected a string, got \(v.kindName)")
        }
        guard !Blank.isBlank(s, newlines: true) else {
            throw ValidationError(field: field(name), "must not be empty")
        }
        return s
    }

    func string(_ name: String) throws(ValidationError) -> String {
        guard let s = try optionalString(name) else { throw missing(name) }
        return s
    }

    func bool(_ name: String, default fallback: Bool) throws(ValidationError) -> Bool {
        try optionalBool(name) ?? fallback
    }

    func optionalBool(_ name: String) throws(ValidationError) -> Bool? {
        guard let v = value(name) else { return nil }
        guard let b = v.boolValue else {
            throw ValidationError(field: field(name), "expected true or false, got \(v.kindName)")
        }
        return b
    }

    func optionalInt(_ name: String) throws(ValidationError) -> Int64? {
        guard let v = value(name) else { return nil }
        guard let i = v.intValue, i >= 0 else {
            throw ValidationError(field: field(name), "expected a whole number >= 0, got \(v.kindName)")
        }
        return i
    }

    func optionalTime(_ name: String) throws(ValidationError) -> Date? {
        guard let text = try optionalString(name) else { return nil }
        do { return try RFC3339.parse(text) } catch {
            throw ValidationError(field: field(name), error.description)
        }
    }

    func time(_ name: String) throws(ValidationError) -> Date {
        guard let d = try optionalTime(name) else { throw missing(name) }
        return d
    }

    func optionalEnum<E: RawRepresentable & CaseIterable>(_ name: String, _ type: E.Type) throws(ValidationError) -> E?
    where E.RawValue == String {
        guard let text = try optionalString(name) else { return nil }
        guard let e = E(rawValue: text) else {
            let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
            throw ValidationError(field: field(name), "unknown value '\(printable(text))'; expected one of \(allowed)")
        }
        return e
    }

    func enumValue<E: RawRepresentable & CaseIterable>(_ name: String, _ type: E.Type) throws(ValidationError) -> E
    where E.RawValue == String {
        guard let e = try optionalEnum(name, type) else { throw missing(name) }
        return e
    }

    /// A value of an open set (a channel, a case kind): any lowercase
    /// identifier; `examples` name the built-in ones in the error.
    func openValue<V: OpenValue>(_ name: String, _ type: V.Type, what: String) throws(ValidationError) -> V {
        guard let text = try optionalString(name) else { throw missing(name) }
        guard let v = V(rawValue: text) else {
            let known = V.builtIn.map(\.rawValue).joined(separator: ", ")
            throw ValidationError(field: field(name), "'\(printable(text))' is not a \(what): expected a lowercase identifier (\(Identifier.pattern)), e.g. \(known) or one a policy declares")
        }
        return v
    }

    func optionalStringArray(_ name: String) throws(ValidationError) -> [String]? {
        guard let v = value(name) else { return nil }
        guard let items = v.arrayValue else {
            throw ValidationError(field: field(name), "expected an array of strings, got \(v.kindName)")
        }
        var out: [String] = []
        out.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard let s = item.stringValue, !s.isEmpty else {
                throw ValidationError(field: "\(field(name))[\(i)]", "expected a non-empty string, got \(item.kindName)")
            }
            out.append(s)
        }
        return out
    }

    func stringArray(_ name: String) throws(ValidationError) -> [String] {
        guard let a = try optionalStringArray(name) else { throw missing(name) }
        return a
    }

    func optionalObject(_ name: String) throws(ValidationError) -> FieldReader? {
        guard let v = value(name) else { return nil }
        return try FieldReader(v, path: field(name))
    }

    func object(_ name: String) throws(ValidationError) -> FieldReader {
        guard let r = try optionalObject(name) else { throw missing(name) }
        return r
    }
}
