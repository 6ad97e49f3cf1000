import Domain
import Events
import Foundation
import Ledger

/// One publication or retraction in the `policy` or `directory` stream, as
/// the audit lists it: who (the login the database recorded and the actor
/// named), when recorded, effective from, whether retroactive and why, and
/// what changed against the version before it in the same stream.
public struct PublicationRecord: Sendable {
    public enum Kind: String, Sendable { case policy, directory, retraction }
    public let kind: Kind
    /// `policy` or `directory`.
    public let stream: String
    public let position: Int64
    public let eventID: String
    public let recordedAt: Date
    /// `metadata.db_role`: the login the database recorded (nil: none stored).
    public let login: String?
    public let actor: String
    public let effectiveFrom: Date?
    /// The policy version (policies only).
    public let version: String?
    /// `data.retroactive_reason`, when the publication is marked retroactive.
    public let retroactiveReason: String?
    /// What changed against the previous publication of the stream, one item each.
    public let changes: [String]
    /// For a retraction: the event it retracts.
    public let retracts: String?

    public var retroactive: Bool { retroactiveReason != nil }

    /// One line naming it: "policy v2 (position 31)".
    public var name: String {
        switch kind {
        case .policy: "policy v\(version ?? "?") (position \(position))"
        case .directory: "directory (position \(position))"
        case .retraction: "retraction in \(stream) (position \(position))"
        }
    }

    public var json: JSONValue {
        .object([
            "kind": .string(kind.rawValue), "stream": .string(stream), "position": .int(position), "event": .string(eventID),
            "recorded_at": .string(RFC3339.format(recordedAt)), "login": login.map(JSONValue.string) ?? .null,
            "actor": .string(actor), "effective_from": effectiveFrom.map { .string(RFC3339.format($0)) } ?? .null,
            "version": version.map(JSONValue.string) ?? .null, "retroactive": .bool(retroactive),
            "retroactive_reason": retroactiveReason.map(JSONValue.string) ?? .null,
            "changes": .array(changes.map(JSONValue.string)), "retracts": retracts.map(JSONValue.string) ?? .null,
        ])
    }

    /// Every publication and retraction of the reference streams, in position order.
    static func records(policyStream: [RecordedEvent], directoryStream: [RecordedEvent]) -> [PublicationRecord] {
        var out: [PublicationRecord] = []
        // Each policy is compared with the previous publication of the same name.
        var previousPolicy: [String: JSONValue] = [:]
        var previousDirectory: JSONValue?
        for event in (policyStream + directoryStream).sorted(by: { $0.position < $1.position }) {
            let login = event.metadata["db_role"]?.stringValue
            let reason = event.data["retroactive_reason"]?.stringValue
            let effective = event.data["effective_from"]?.stringValue.flatMap { try? RFC3339.parse($0) }
            let stream = event.caseID
            switch event.type {
            case EventType.policyPublished:
                let document = event.data["policy"] ?? .object([:])
                out.append(PublicationRecord(kind: .policy, stream: stream, position: event.position, eventID: event.id,
                                             recordedAt: event.recordedAt, login: login, actor: event.actor,
                                             effectiveFrom: effective, version: document["version"]?.stringValue
                                                 ?? document["version"].map { $0.jsonText() },
                                             retroactiveReason: reason,
                                             changes: policyChanges(previousPolicy[document["name"]?.stringValue ?? ""], document),
                                             retracts: nil))
                previousPolicy[document["name"]?.stringValue ?? ""] = document
            case EventType.directoryPublished:
                out.append(PublicationRecord(kind: .directory, stream: stream, position: event.position, eventID: event.id,
                                             recordedAt: event.recordedAt, login: login, actor: event.actor,
                                             effectiveFrom: effective, version: nil, retroactiveReason: reason,
                                             changes: directoryChanges(previousDirectory, event.data), retracts: nil))
                previousDirectory = event.data
            case EventType.eventRetracted:
                out.append(PublicationRecord(kind: .retraction, stream: stream, position: event.position, eventID: event.id,
                                             recordedAt: event.recordedAt, login: login, actor: event.actor,
                                             effectiveFrom: nil, version: nil, retroactiveReason: nil,
                                             changes: [event.data["reason"]?.stringValue.map { "reason: \($0)" } ?? "retracted"],
                                             retracts: event.data["event_id"]?.stringValue))
            default: continue
            }
        }
        return out
    }

    /// Items of an array by a key (`id` of a rule, `handle` of a person), as JSON text.
    static func keyed(_ value: JSONValue?, _ key: String) -> [String: String] {
        var out: [String: String] = [:]
        for item in value?.arrayValue ?? [] {
            if let id = item[key]?.stringValue { out[id] = item.jsonText() }
        }
        return out
    }

    static func diff(_ label: String, _ old: [String: String], _ new: [String: String]) -> [String] {
        var out: [String] = []
        let added = new.keys.filter { old[$0] == nil }.sorted()
        let removed = old.keys.filter { new[$0] == nil }.sorted()
        let changed = new.keys.filter { old[$0] != nil && old[$0] != new[$0] }.sorted()
        if !added.isEmpty { out.append("\(label) added: \(added.joined(separator: ", "))") }
        if !removed.isEmpty { out.append("\(label) removed: \(removed.joined(separator: ", "))") }
        if !changed.isEmpty { out.append("\(label) changed: \(changed.joined(separator: ", "))") }
        return out
    }

    static func policyChanges(_ old: JSONValue?, _ new: JSONValue) -> [String] {
        guard let old else { return ["first publication: \(new["rules"]?.arrayValue?.count ?? 0) rules"] }
        var out = diff("rules", keyed(old["rules"], "id"), keyed(new["rules"], "id"))
        let keys = Set(old.objectValue?.keys.map { $0 } ?? []).union(new.objectValue?.keys.map { $0 } ?? [])
            .subtracting(["rules", "version"]).sorted()
        let parameters = keys.filter { old[$0]?.jsonText() != new[$0]?.jsonText() }
        if !parameters.isEmpty { out.append("parameters changed: \(parameters.joined(separator: ", "))") }
        return out.isEmpty ? ["no rule or parameter changed"] : out
    }

    static func directoryChanges(_ old: JSONValue?, _ new: JSONValue) -> [String] {
        guard let old else { return ["first publication: \(new["people"]?.arrayValue?.count ?? 0) people"] }
        var out = diff("people", keyed(old["people"], "handle"), keyed(new["people"], "handle"))
        let oldRoles = Set((old["roles"]?.arrayValue ?? []).compactMap(\.stringValue))
        let newRoles = Set((new["roles"]?.arrayValue ?? []).compactMap(\.stringValue))
        if !newRoles.subtracting(oldRoles).isEmpty { out.append("roles added: \(newRoles.subtracting(oldRoles).sorted().joined(separator: ", "))") }
        if !oldRoles.subtracting(newRoles).isEmpty { out.append("roles removed: \(oldRoles.subtracting(newRoles).sorted().joined(separator: ", "))") }
        for key in ["groups", "products", "service_logins"] where old[key]?.jsonText() != new[key]?.jsonText() {
            out.append("\(key) changed")
        }
        return out.isEmpty ? ["nothing changed"] : out
    }

    /// Whether this retroactive publication re-judges a case opened at
    /// `openedAt` whose opening event was recorded at `openingRecorded`:
    /// the case was in the ledger before it, and opened on or after its
    /// effective date (issue 15 plan, item 2).
    public func rejudges(openedAt: Date, openingRecorded: Date) -> Bool {
        guard retroactive, kind != .retraction, let effectiveFrom else { return false }
        return openingRecorded < recordedAt && openedAt >= effectiveFrom
    }
}
