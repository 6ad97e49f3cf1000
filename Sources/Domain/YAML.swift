import Events
import Foundation
import Yams

/// Reads a YAML document into a `JSONValue`, keeping timestamps and other
/// non-JSON scalars as strings (an RFC 3339 time stays the text it was).
///
/// Hostile documents are refused before they cost much: a document larger
/// than `maxBytes`, one whose structural tokens already exceed `maxNodes`
/// (scanned before Yams builds anything), and one whose aliases would expand
/// it past `maxNodes` ("billion laughs": Yams shares an aliased node, the
/// conversion below would copy it each time it is referred to).
public enum YAML {
    /// The largest document read (policies, directories and importer
    /// configs are far smaller).
    public static let maxBytes = 4 << 20
    /// The most nodes a document may have, aliases expanded.
    public static let maxNodes = 250_000

    public static func parse(_ text: String) throws(ValidationError) -> JSONValue {
        try precheck(text)
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ValidationError(field: nil, "malformed YAML: \(oneLine(error))")
        }
        guard let node else { throw ValidationError(field: nil, "the YAML document is empty") }
        var budget = maxNodes
        return try json(node, path: "", budget: &budget)
    }

    /// One linear pass over the bytes, before Yams: the size, an upper
    /// bound of the node count (every `,`, `[`, `{`, line break and `- `,
    /// `: `, `? ` indicator counts, quoted or not, so the bound cannot be
    /// hidden in a string), and aliases used as or inside mapping keys
    /// (Yams compares keys by value, which for an aliased tree costs its
    /// whole expansion).
    static func precheck(_ text: String) throws(ValidationError) {
        let bytes = text.utf8
        guard bytes.count <= maxBytes else {
            throw ValidationError(field: nil, "the YAML document is \(bytes.count) bytes; the limit is \(maxBytes) bytes (4 MiB)")
        }
        var tokens = 0, aliases = 0
        var complexKeys = false
        var previous: UInt8 = 0x0A
        var aliasOpen = false  // inside an alias name (`*name`)
        var aliasEnded = false  // just after an alias name, before anything but blanks
        var flowEnded = false  // just after `]` or `}`, before anything but blanks
        func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
        var iterator = bytes.makeIterator()
        var current = iterator.next()
        while let b = current {
            let next = iterator.next()
            let followedByBlank = next.map(isBlank) ?? true
            switch b {
            case UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "{"), 0x0A: tokens += 1
            case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"):
                if followedByBlank {
                    tokens += 1
                    if b == UInt8(ascii: ":") && (aliasEnded || flowEnded || aliasOpen) { complexKeys = true }
                    if b == UInt8(ascii: "?") && isBlank(previous) { complexKeys = true }
                }
            case UInt8(ascii: "*"):
                if isBlank(previous) || "[{,".utf8.contains(previous), !followedByBlank {
                    aliases += 1
                    aliasOpen = true
                }
            default: break
            }
            if tokens > maxNodes {
                throw ValidationError(field: nil, "the YAML document has more than \(maxNodes) nodes (the limit)")
            }
            if aliasOpen, b != UInt8(ascii: "*"), isBlank(b) || ",]}".utf8.contains(b) {
                aliasOpen = false
                aliasEnded = b == 0x20 || b == 0x09
            } else if aliasEnded, b != 0x20, b != 0x09 {
                aliasEnded = false
            }
            if b == UInt8(ascii: "]") || b == UInt8(ascii: "}") {
                flowEnded = true
            } else if flowEnded, b != 0x20, b != 0x09 {
                flowEnded = false
            }
            previous = b
            current = next
        }
        if aliases > 0 && complexKeys {
            throw ValidationError(field: nil, "YAML aliases in a document with complex mapping keys (an alias, sequence or mapping as a key, or '? ') are not supported")
        }
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

    /// `budget` counts the nodes still allowed: an aliased node counts each
    /// time it is referred to, so an alias bomb runs out at `maxNodes`.
    private static func json(_ node: Node, path: String, budget: inout Int) throws(ValidationError) -> JSONValue {
        budget -= 1
        guard budget >= 0 else {
            throw ValidationError(field: nil, "the YAML document expands to more than \(maxNodes) nodes (the limit; YAML aliases count each time they are used)")
        }
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
                items.append(try json(item, path: "\(path)[\(index)]", budget: &budget))
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
                members[name] = try json(value, path: childPath, budget: &budget)
            }
            return .object(members)
        case .alias:
            throw ValidationError(field: path.isEmpty ? nil : path, "YAML aliases are not supported")
        }
    }
}
