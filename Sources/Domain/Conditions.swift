import Events
import Foundation

/// A value a case attribute or a product attribute takes (docs/policy.md
/// "Case attributes"): true/false, a number or a text.
public enum AttributeValue: Sendable, Equatable, CustomStringConvertible {
    case bool(Bool)
    case number(Double)
    case text(String)

    /// A JSON boolean, number or non-blank string; nil for anything else.
    public init?(json: JSONValue) {
        switch json {
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .number(Double(i))
        case .double(let d) where d.isFinite: self = .number(d)
        case .string(let s) where !Blank.isBlank(s, newlines: true): self = .text(s)
        default: return nil
        }
    }

    public var json: JSONValue {
        switch self {
        case .bool(let b): .bool(b)
        case .number(let d): d.rounded() == d && abs(d) < 9.0e15 ? .int(Int64(d)) : .double(d)
        case .text(let s): .string(s)
        }
    }

    /// `true`, `1200`, `1.5`, `phishing`.
    public var description: String {
        switch self {
        case .bool(let b): String(b)
        case .number(let d): d.rounded() == d && abs(d) < 9.0e15 ? String(Int64(d)) : String(d)
        case .text(let s): s
        }
    }

    var type: AttributeType {
        switch self {
        case .bool: .boolean
        case .number: .number
        case .text: .text
        }
    }

    /// Attribute names: a lowercase identifier.
    static func isName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, ("a"..."z").contains(first), s.unicodeScalars.count <= 64 else { return false }
        return s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    /// Reads an `attributes: {name: value}` object of an event or a product;
    /// errors name the field (`data.attributes.users_affected`).
    /// `update`: an update's attributes must name at least one (else it names no change).
    static func attributes(_ value: JSONValue?, field: String, update: Bool = false) throws(ValidationError) -> [String: AttributeValue]? {
        guard let value, value != .null else { return nil }
        guard let o = value.objectValue else {
            throw ValidationError(field: field, "expected an object of attribute values, got \(value.kindName)")
        }
        if update && o.isEmpty { throw ValidationError(field: field, "names no attribute") }
        var out: [String: AttributeValue] = [:]
        for (name, v) in o {
            guard isName(name) else {
                throw ValidationError(field: field, "attribute name '\(printable(name))' is not a lowercase identifier ([a-z][a-z0-9_]*)")
            }
            guard let a = AttributeValue(json: v) else {
                throw ValidationError(field: "\(field).\(name)", "expected true/false, a number or a text, got \(v.kindName)")
            }
            out[name] = a
        }
        return out
    }

    static func json(_ attributes: [String: AttributeValue]?) -> JSONValue? {
        attributes.map { .object($0.mapValues(\.json)) }
    }
}

/// The type a policy declares for a case attribute.
public enum AttributeType: String, Sendable, CaseIterable {
    case boolean, number, text
}

/// `attributes: {name: {type: ..., values: [...]}}` of a policy.
public struct AttributeDeclaration: Sendable, Equatable {
    public var type: AttributeType
    /// For text attributes: the values allowed in conditions (nil: any).
    public var values: [String]?
}

/// What a value condition tests: a case attribute or an attribute of the case's product.
public enum ConditionSubject: Sendable, Hashable, CustomStringConvertible {
    case attribute(String)
    case product(String)

    /// `users_affected`, `product.tier`.
    public var description: String {
        switch self {
        case .attribute(let n): n
        case .product(let n): "product.\(n)"
        }
    }
}

/// How a value condition compares.
public enum Comparison: Sendable, Equatable {
    /// Equal to one of these (a scalar: a list of one).
    case oneOf([AttributeValue])
    /// A number within every given bound.
    case range(atLeast: Double?, atMost: Double?, above: Double?, below: Double?)

    func matches(_ v: AttributeValue) -> Bool {
        switch self {
        case .oneOf(let values): return values.contains(v)
        case .range(let atLeast, let atMost, let above, let below):
            guard case .number(let x) = v else { return false }
            if let b = atLeast, !(x >= b) { return false }
            if let b = atMost, !(x <= b) { return false }
            if let b = above, !(x > b) { return false }
            if let b = below, !(x < b) { return false }
            return true
        }
    }

    /// `is true`, `is one of 1/2`, `is at least 1000`.
    var text: String {
        switch self {
        case .oneOf(let values) where values.count == 1: return "is \(values[0])"
        case .oneOf(let values): return "is one of \(values.map(\.description).joined(separator: "/"))"
        case .range(let atLeast, let atMost, let above, let below):
            func n(_ d: Double) -> String { AttributeValue.number(d).description }
            var parts: [String] = []
            if let b = atLeast { parts.append("at least \(n(b))") }
            if let b = above { parts.append("above \(n(b))") }
            if let b = atMost { parts.append("at most \(n(b))") }
            if let b = below { parts.append("below \(n(b))") }
            return "is " + parts.joined(separator: " and ")
        }
    }
}

/// `attribute.users_affected: {at_least: 1000}`, `product.tier: [1, 2]`:
/// a while-condition on a value.
public struct ValueCondition: Sendable, Equatable {
    public var subject: ConditionSubject
    public var comparison: Comparison

    var text: String { "\(subject) \(comparison.text)" }
}

extension Applicability {
    /// "priority in P1/P2 and impacts_mobile is true and users_affected is at least 1000".
    var conditionText: String {
        var parts: [String] = []
        if let ps = priorities { parts.append("priority in \(ps.map(\.rawValue).joined(separator: "/"))") }
        for (f, v) in flags.sorted(by: { $0.key.rawValue < $1.key.rawValue }) { parts.append("\(f.rawValue) is \(v)") }
        for c in values { parts.append(c.text) }
        return parts.joined(separator: " and ")
    }
}

/// Reads condition maps: `applies_when`'s while-conditions, and the `when:`
/// of audience entries and priority-matrix rows. Problems are "FIELD: ..."
/// messages; the caller prefixes the rule or audience.
struct ConditionParser {
    let attributes: [String: AttributeDeclaration]

    /// Reads one while-condition key (priority, a flag, `attribute.<name>`,
    /// `product.<name>`) into `a`; false when `key` is none of these.
    func read(_ key: String, _ value: JSONValue, into a: inout Applicability, field: String, problems: inout [String]) -> Bool {
        if key == "priority" {
            var ps: [Priority] = []
            for item in value.arrayValue ?? [value] {
                if let s = item.stringValue, let p = Priority(rawValue: s) { ps.append(p) } else {
                    problems.append("\(field).priority: unknown priority \(item.jsonText()) (expected P1..P4)")
                }
            }
            a.priorities = ps
            return true
        }
        if let flag = CaseFlag(rawValue: key) {
            if let b = value.boolValue { a.flags[flag] = b } else { problems.append("\(field).\(key): expected true or false") }
            return true
        }
        let subject: ConditionSubject
        if key.hasPrefix("attribute.") {
            subject = .attribute(String(key.dropFirst("attribute.".count)))
        } else if key.hasPrefix("product.") {
            subject = .product(String(key.dropFirst("product.".count)))
        } else {
            return false
        }
        let name: String
        switch subject { case .attribute(let n), .product(let n): name = n }
        guard AttributeValue.isName(name) else {
            problems.append("\(field).\(key): '\(name)' is not an attribute name (a lowercase identifier)")
            return true
        }
        var declared: AttributeDeclaration?
        if case .attribute = subject {
            declared = attributes[name]
            if declared == nil {
                problems.append("\(field).\(key): attribute '\(name)' is not declared in the policy's attributes")
                return true
            }
        }
        guard let comparison = comparison(value, declared: declared, field: "\(field).\(key)", problems: &problems) else {
            return true
        }
        a.values.append(ValueCondition(subject: subject, comparison: comparison))
        return true
    }

    /// A scalar (equals), a list (one of) or `{at_least, at_most, above, below}` (numbers).
    func comparison(_ value: JSONValue, declared: AttributeDeclaration?, field: String, problems: inout [String]) -> Comparison? {
        if let o = value.objectValue {
            let keys = ["at_least", "at_most", "above", "below"]
            let unknown = o.keys.filter { !keys.contains($0) }.sorted()
            if !unknown.isEmpty || o.isEmpty {
                problems.append("\(field): unknown comparison '\(unknown.joined(separator: ", "))' (expected at_least, at_most, above, below)")
                return nil
            }
            if let d = declared, d.type != .number {
                problems.append("\(field): \(keys.filter { o[$0] != nil }.joined(separator: ", ")) compares numbers, but the attribute is \(d.type.rawValue)")
                return nil
            }
            var bounds: [String: Double] = [:]
            for (k, v) in o {
                guard let d = v.doubleValue else {
                    problems.append("\(field).\(k): expected a number, got \(v.kindName)")
                    return nil
                }
                bounds[k] = d
            }
            return .range(atLeast: bounds["at_least"], atMost: bounds["at_most"], above: bounds["above"], below: bounds["below"])
        }
        let items = value.arrayValue ?? [value]
        if items.isEmpty {
            problems.append("\(field): expected a value or a list of values, got an empty list")
            return nil
        }
        var values: [AttributeValue] = []
        for item in items {
            guard let v = AttributeValue(json: item) else {
                problems.append("\(field): expected true/false, a number or a text, got \(item.kindName)")
                return nil
            }
            if let d = declared {
                guard v.type == d.type else {
                    problems.append("\(field): \(item.jsonText()) is \(v.type.rawValue), but the attribute is \(d.type.rawValue)")
                    return nil
                }
                if case .text(let s) = v, let allowed = d.values, !allowed.contains(s) {
                    problems.append("\(field): '\(s)' is not one of the declared values (\(allowed.joined(separator: ", ")))")
                    return nil
                }
            }
            values.append(v)
        }
        return .oneOf(values)
    }

    /// A `when:` map: while-condition keys only.
    func when(_ value: JSONValue, field: String, problems: inout [String]) -> Applicability? {
        guard let o = value.objectValue else {
            problems.append("\(field): expected a mapping of conditions")
            return nil
        }
        var a = Applicability(kind: nil, teams: nil, priorities: nil, flags: [:])
        for (key, v) in o.sorted(by: { $0.key < $1.key }) where !read(key, v, into: &a, field: field, problems: &problems) {
            problems.append("\(field): unknown condition '\(key)' (expected priority, data_compromise_suspected, impacts_mobile, attribute.<name>, product.<name>)")
        }
        return a
    }

    /// The policy's `attributes:` declarations.
    static func declarations(_ value: JSONValue?, problems: inout [String]) -> [String: AttributeDeclaration] {
        guard let value else { return [:] }
        guard let o = value.objectValue else {
            problems.append("attributes: expected a mapping of attribute declarations")
            return [:]
        }
        var out: [String: AttributeDeclaration] = [:]
        for (name, v) in o.sorted(by: { $0.key < $1.key }) {
            guard AttributeValue.isName(name) else {
                problems.append("attribute \(name): not a lowercase identifier ([a-z][a-z0-9_]*)")
                continue
            }
            guard let d = v.objectValue, let t = d["type"]?.stringValue, let type = AttributeType(rawValue: t) else {
                problems.append("attribute \(name): expected {type: boolean|number|text}")
                continue
            }
            for k in d.keys where !["type", "values"].contains(k) { problems.append("attribute \(name): unknown key '\(k)'") }
            var values: [String]?
            if let vs = d["values"] {
                if type != .text {
                    problems.append("attribute \(name): values are only for text attributes")
                } else if let list = vs.arrayValue, !list.isEmpty, list.allSatisfy({ $0.stringValue != nil }) {
                    values = list.compactMap(\.stringValue)
                } else {
                    problems.append("attribute \(name): values: expected a list of texts")
                }
            }
            out[name] = AttributeDeclaration(type: type, values: values)
        }
        return out
    }
}
