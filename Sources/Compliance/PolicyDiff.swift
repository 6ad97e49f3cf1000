import Domain
import Events
import Foundation

/// What changed between two policy documents (`dtledger policy diff A B`):
/// rules added, removed and changed (with the keys that changed), and the
/// parameters, audiences, content and other top-level keys that changed.
/// A pure function of the two documents' JSON (docs/policy.md, "policy diff").
public struct PolicyDiff: Sendable, Equatable {
    /// One key whose value differs: nil `old` = added, nil `new` = removed.
    public struct Change: Sendable, Equatable {
        public let key: String
        public let old: JSONValue?
        public let new: JSONValue?

        public var json: JSONValue {
            .object(["key": .string(key), "old": old ?? .null, "new": new ?? .null,
                     "change": .string(old == nil ? "added" : new == nil ? "removed" : "changed")])
        }

        /// "planning: "PT24H" → "PT12H"", "added foo: ...", "removed bar (was ...)".
        public var line: String {
            switch (old, new) {
            case (nil, let new?): "\(key): added \(new.jsonText())"
            case (let old?, nil): "\(key): removed (was \(old.jsonText()))"
            case (let old?, let new?): "\(key): \(old.jsonText()) → \(new.jsonText())"
            case (nil, nil): "\(key): unchanged"
            }
        }
    }

    /// A rule present in both whose keys differ.
    public struct RuleChange: Sendable, Equatable {
        public let id: String
        public let changes: [Change]
        public var keys: [String] { changes.map(\.key) }
    }

    public let old: (name: String, version: String)
    public let new: (name: String, version: String)
    public let rulesAdded: [String]
    public let rulesRemoved: [String]
    public let rulesChanged: [RuleChange]
    public let parameters: [Change]
    public let audiences: [Change]
    public let content: [Change]
    /// Every other top-level key (name, version, timezone, effective_from,
    /// scope, and any key a later version of the language adds).
    public let topLevel: [Change]

    public var isEmpty: Bool {
        rulesAdded.isEmpty && rulesRemoved.isEmpty && rulesChanged.isEmpty && parameters.isEmpty && audiences.isEmpty
            && content.isEmpty && topLevel.isEmpty
    }

    public static func == (a: PolicyDiff, b: PolicyDiff) -> Bool {
        a.old == b.old && a.new == b.new && a.rulesAdded == b.rulesAdded && a.rulesRemoved == b.rulesRemoved
            && a.rulesChanged == b.rulesChanged && a.parameters == b.parameters && a.audiences == b.audiences
            && a.content == b.content && a.topLevel == b.topLevel
    }

    /// The rule keys in the order they are listed (others after, by name).
    static let ruleKeyOrder = ["title", "quote", "applies_when", "requires", "by", "due", "level"]

    /// The differences from `old` to `new` (two policy documents as JSON).
    public static func compare(_ old: JSONValue, _ new: JSONValue) -> PolicyDiff {
        func identity(_ d: JSONValue) -> (String, String) {
            (d["name"]?.stringValue ?? "?", d["version"]?.stringValue ?? d["version"].map { $0.jsonText() } ?? "?")
        }
        /// Rules by id, in document order (the first of a duplicated id).
        func rules(_ d: JSONValue) -> (order: [String], byID: [String: JSONValue]) {
            var order: [String] = []
            var byID: [String: JSONValue] = [:]
            for rule in d["rules"]?.arrayValue ?? [] {
                guard let id = rule["id"]?.stringValue, byID[id] == nil else { continue }
                order.append(id)
                byID[id] = rule
            }
            return (order, byID)
        }
        let (oldOrder, oldRules) = rules(old)
        let (newOrder, newRules) = rules(new)
        var changed: [RuleChange] = []
        for id in newOrder {
            guard let a = oldRules[id], let b = newRules[id] else { continue }
            let changes = keyChanges(a.objectValue ?? [:], b.objectValue ?? [:], order: ruleKeyOrder, normalise: { key, value in
                // An absent level is `must`.
                key == "level" && value == nil ? .string("must") : value
            })
            if !changes.isEmpty { changed.append(RuleChange(id: id, changes: changes)) }
        }
        let oldTop = old.objectValue ?? [:]
        let newTop = new.objectValue ?? [:]
        let sections = ["rules", "parameters", "audiences", "content"]
        return PolicyDiff(
            old: identity(old), new: identity(new),
            rulesAdded: newOrder.filter { oldRules[$0] == nil },
            rulesRemoved: oldOrder.filter { newRules[$0] == nil },
            rulesChanged: changed,
            parameters: keyChanges(old["parameters"]?.objectValue ?? [:], new["parameters"]?.objectValue ?? [:]),
            audiences: keyChanges(old["audiences"]?.objectValue ?? [:], new["audiences"]?.objectValue ?? [:]),
            content: keyChanges(old["content"]?.objectValue ?? [:], new["content"]?.objectValue ?? [:]),
            topLevel: keyChanges(oldTop.filter { !sections.contains($0.key) }, newTop.filter { !sections.contains($0.key) },
                                 order: ["name", "version"]))
    }

    /// The keys whose values differ, those in `order` first (in that order), then the others by name.
    static func keyChanges(_ a: [String: JSONValue], _ b: [String: JSONValue], order: [String] = [],
                           normalise: (String, JSONValue?) -> JSONValue? = { $1 }) -> [Change] {
        let keys = Set(a.keys).union(b.keys)
        let sorted = order.filter(keys.contains) + keys.subtracting(order).sorted()
        return sorted.compactMap { key in
            let x = normalise(key, a[key]), y = normalise(key, b[key])
            return x == y ? nil : Change(key: key, old: x, new: y)
        }
    }

    public var json: JSONValue {
        .object([
            "old": .object(["name": .string(old.name), "version": .string(old.version)]),
            "new": .object(["name": .string(new.name), "version": .string(new.version)]),
            "identical": .bool(isEmpty),
            "rules": .object([
                "added": .array(rulesAdded.map(JSONValue.string)),
                "removed": .array(rulesRemoved.map(JSONValue.string)),
                "changed": .array(rulesChanged.map { r in
                    .object(["id": .string(r.id), "keys": .array(r.keys.map(JSONValue.string)),
                             "changes": .array(r.changes.map(\.json))])
                }),
            ]),
            "parameters": .array(parameters.map(\.json)),
            "audiences": .array(audiences.map(\.json)),
            "content": .array(content.map(\.json)),
            "top_level": .array(topLevel.map(\.json)),
        ])
    }

    /// The diff as text, one item a line.
    public var text: String {
        var out = "policy \(old.name) v\(old.version) → \(new.name) v\(new.version)\n"
        if isEmpty { return out + "no differences\n" }
        if !rulesAdded.isEmpty { out += "rules added (\(rulesAdded.count)): \(rulesAdded.joined(separator: ", "))\n" }
        if !rulesRemoved.isEmpty { out += "rules removed (\(rulesRemoved.count)): \(rulesRemoved.joined(separator: ", "))\n" }
        if !rulesChanged.isEmpty {
            out += "rules changed (\(rulesChanged.count)):\n"
            for r in rulesChanged {
                out += "  \(r.id): \(r.keys.joined(separator: ", "))\n"
                for c in r.changes { out += "    \(c.line)\n" }
            }
        }
        for (title, changes) in [("parameters", parameters), ("audiences", audiences), ("content", content),
                                 ("top-level keys", topLevel)] where !changes.isEmpty {
            out += "\(title) changed (\(changes.count)):\n" + changes.map { "  \($0.line)\n" }.joined()
        }
        return out
    }
}
