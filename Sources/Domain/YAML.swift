import Events
import Foundation
import Yams

/// Reads a YAML document into a `JSONValue`, keeping timestamps and other
/// non-JSON scalars as strings (an RFC 3339 time stays the text it was).
public enum YAML {
    public static func parse(_ text: String) throws(ValidationError) -> JSONValue {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ValidationError(field: nil, "malformed YAML: \(oneLine(error))")
        }
        guard let node else { throw ValidationError(field: nil, "the YAML document is empty") }
        return try json(node, path: "")
    }

    /// Yams' messages quote the whole document; keep the problem and where.
    static func oneLine(_ error: any Error) -> String {
        let text = String(describing: error)
        var problem = text.components(separatedBy: "Context:").first ?? text
        problem = problem.components(separatedBy: "\n").first ?? problem
        problem = problem.trimmingCharacters(in: .whitespaces)
        if problem.count > 200 { problem = String(problem.prefix(200)) + "…" }
        if let range = text.range(of: #"line \d+, column \d+"#, options: [.regularExpression, .backwards]) {
            problem += " (at \(text[range]))"
        }
        return problem
    }

    private static func json(_ node: Node, path: String) throws(ValidationError) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            if scalar.style != .plain { return .string(scalar.string) }
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case .int: return node.int.map { .int(Int64($0)) } ?? .string(scalar.string)
            case .float: return node.float.map(JSONValue.double) ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .sequence(let sequence):
            var items: [JSONValue] = []
            for (index, item) in sequence.enumerated() {
                items.append(try json(item, path: "\(path)[\(index)]"))
            }
            return .array(items)
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw ValidationError(field: path.isEmpty ? nil : path, "mapping keys must be plain text")
                }
                let name = keyScalar.string
                let childPath = path.isEmpty ? name : "\(path).\(name)"
                guard members[name] == nil else {
                    throw ValidationError(field: childPath, "duplicate key")
                }
                members[name] = try json(value, path: childPath)
            }
            return .object(members)
        case .alias:
            throw ValidationError(field: path.isEmpty ? nil : path, "YAML aliases are not supported")
        }
    }
}
