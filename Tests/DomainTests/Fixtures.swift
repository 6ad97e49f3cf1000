import Events
import Foundation
@testable import Domain
import Testing

/// Shared scenario files: <package>/../shared/scenarios.
enum Fixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let scenarios = packageRoot.deletingLastPathComponent().appending(path: "shared/scenarios")

    static func text(_ name: String) throws -> String {
        try String(contentsOf: scenarios.appending(path: name), encoding: .utf8)
    }

    static func directory() throws -> Directory {
        try Directory.parse(yaml: text("directory.yaml"))
    }

    static func directories() throws -> DirectoryHistory {
        DirectoryHistory([try directory()])
    }

    static let policy = Policy.defaultPolicy()

    static func time(_ s: String) -> Date {
        do { return try RFC3339.parse(s) } catch { fatalError("bad time in test: \(s)") }
    }

    static let later = time("2026-06-01T00:00:00-04:00")

    static func judge(_ s: Scenario, asOf: Date = later, directories: DirectoryHistory? = nil,
                         policy: Policy = policy) throws -> CaseEvaluation {
        let dirs = try directories ?? Fixtures.directories()
        return evaluate(caseID: s.caseID, events: try s.events(), policy: policy,
                                policyVersion: policy.version, directories: dirs, asOf: asOf)
    }
}

/// A case's events as envelope JSON, editable before it is "recorded".
struct Scenario {
    var lines: [JSONValue]

    init(lines: [JSONValue]) { self.lines = lines }

    init(file: String) throws {
        lines = try Fixtures.text(file).split(separator: "\n").filter { !$0.isEmpty }
            .map { try JSONValue.parse(String($0)) }
    }

    static func planned() throws -> Scenario { try Scenario(file: "planned-downtime-api-platform.jsonl") }
    static func incident() throws -> Scenario { try Scenario(file: "incident-user-facing-escalated.jsonl") }

    var caseID: String { lines.first?["case"]?.stringValue ?? "" }

    /// Validated through the envelope and the catalog, then recorded with
    /// ids e1, e2, ... in file order (recorded_at = occurred_at unless `recordedLate` names the key).
    func events(recordedLate: [String: TimeInterval] = [:]) throws -> [RecordedEvent] {
        var out: [RecordedEvent] = []
        for (i, line) in lines.enumerated() {
            let env = try Envelope.parse(line)
            try Catalog.validate(env)
            let delay = env.key.flatMap { recordedLate[$0] } ?? 0
            out.append(RecordedEvent(id: "e\(i + 1)", position: Int64(i + 1), caseID: env.caseID,
                                     version: Int64(i + 1), type: env.type, occurredAt: env.occurredAt,
                                     recordedAt: env.occurredAt.addingTimeInterval(delay), actor: env.actor,
                                     source: env.source.rawValue, key: env.key, data: env.data))
        }
        return out
    }

    func id(ofKey key: String) -> String? {
        lines.firstIndex { $0["key"]?.stringValue == key }.map { "e\($0 + 1)" }
    }

    func removing(_ keys: String...) -> Scenario {
        Scenario(lines: lines.filter { !keys.contains($0["key"]?.stringValue ?? "") })
    }

    /// Sets `data.<path>` (dot-separated) of the event with `key`; nil removes it.
    func setting(_ key: String, _ path: String, _ value: JSONValue?) -> Scenario {
        var s = self
        for i in s.lines.indices where s.lines[i]["key"]?.stringValue == key {
            s.lines[i] = Scenario.set(s.lines[i], ["data"] + path.split(separator: ".").map(String.init), value)
        }
        return s
    }

    /// Sets a top-level envelope field (occurred_at, actor) of the event with `key`.
    func envelope(_ key: String, _ field: String, _ value: String) -> Scenario {
        var s = self
        for i in s.lines.indices where s.lines[i]["key"]?.stringValue == key {
            s.lines[i] = Scenario.set(s.lines[i], [field], .string(value))
        }
        return s
    }

    func appending(_ type: String, at time: String, actor: String = "lou-em", key: String, data: JSONValue) -> Scenario {
        var s = self
        s.lines.append(.object(["type": .string(type), "case": .string(caseID), "occurred_at": .string(time),
                                "actor": .string(actor), "key": .string(key), "data": data]))
        return s
    }

    private static func set(_ v: JSONValue, _ path: [String], _ value: JSONValue?) -> JSONValue {
        guard var o = v.objectValue, let head = path.first else { return value ?? .null }
        if path.count == 1 {
            o[head] = value
        } else {
            o[head] = set(o[head] ?? .object([:]), Array(path.dropFirst()), value)
        }
        return .object(o)
    }
}

extension CaseEvaluation {
    func verdicts(_ rule: String) -> [Verdict] { obligations(rule: rule).map(\.verdict) }

    func only(_ rule: String) throws -> Obligation {
        let all = obligations(rule: rule)
        try #require(all.count == 1, "expected one obligation for \(rule), got \(all.count)")
        return all[0]
    }

    func occurrence(_ rule: String, _ label: String) throws -> Obligation {
        try #require(obligations(rule: rule).first { $0.occurrence == label })
    }
}

/// JSON literal helpers.
func obj(_ pairs: KeyValuePairs<String, JSONValue>) -> JSONValue {
    .object(Dictionary(uniqueKeysWithValues: pairs.map { ($0.key, $0.value) }))
}

func strs(_ items: String...) -> JSONValue { .array(items.map(JSONValue.string)) }
