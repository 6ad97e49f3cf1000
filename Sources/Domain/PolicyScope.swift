import Events
import Foundation

/// A policy's top-level `scope: {kinds: [...], teams: [...]}`: the cases it
/// judges side by side with the other policies in force (docs/policy.md,
/// "Several policies at once"). A list left out covers every kind or team.
/// A policy without `scope` is judged by today's rule: the latest unscoped
/// policy in force when the case was opened is the case's one primary policy.
public struct PolicyScope: Sendable, Equatable {
    /// Case kinds (`incident`, `planned_downtime`, or a kind the policy declares); nil: every kind.
    public var kinds: [String]?
    /// Teams; nil: every team.
    public var teams: [String]?

    public init(kinds: [String]? = nil, teams: [String]? = nil) {
        self.kinds = kinds
        self.teams = teams
    }

    /// The scope of a document, nil when it has none (or it is not a mapping).
    public init?(document: JSONValue) {
        guard let object = document["scope"]?.objectValue else { return nil }
        func list(_ key: String) -> [String]? {
            guard let value = object[key] else { return nil }
            if let s = value.stringValue { return [s] }
            return value.arrayValue?.compactMap(\.stringValue)
        }
        self.init(kinds: list("kinds"), teams: list("teams"))
    }

    /// Whether a case of this kind and team is in the scope (a case with no
    /// team is outside a scope that names teams).
    public func covers(kind: String?, team: String?) -> Bool {
        if let kinds, !kinds.contains(kind ?? "") { return false }
        if let teams, !teams.contains(team ?? "") { return false }
        return true
    }

    /// The problems of a document's `scope`, one message each ("scope: ...").
    /// Kinds: the built-in ones and those the document declares in `case_kinds`.
    static func problems(_ document: JSONValue) -> [String] {
        guard let value = document["scope"] else { return [] }
        guard let object = value.objectValue else { return ["scope: expected a mapping with kinds and/or teams, got \(value.kindName)"] }
        var out: [String] = []
        for key in object.keys.sorted() where !["kinds", "teams"].contains(key) {
            out.append("scope: unknown key '\(key)' (expected kinds, teams)")
        }
        let declared = Set(document["case_kinds"]?.objectValue?.keys.map { $0 } ?? [])
        func strings(_ key: String) -> [String]? {
            guard let v = object[key] else { return nil }
            guard let items = v.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                out.append("scope: \(key): expected a list of text")
                return nil
            }
            return items.compactMap(\.stringValue)
        }
        for kind in strings("kinds") ?? [] where !["planned_downtime", "incident"].contains(kind) && !declared.contains(kind) {
            out.append("scope: kinds: unknown case kind '\(kind)' (expected planned_downtime, incident or a kind declared in case_kinds)")
        }
        for team in strings("teams") ?? [] where !Team.allCases.map(\.rawValue).contains(team) {
            out.append("scope: teams: unknown team '\(team)' (expected \(Team.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return out
    }
}

extension Policy {
    /// The policy's `scope`, nil when it has none (the primary-policy rule applies).
    public var scope: PolicyScope? { PolicyScope(document: document) }
}
