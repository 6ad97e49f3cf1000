import Events
import Foundation
import Ledger
import Domain

/// Publishing the directory and policies into the ledger.
public enum Publishing {
    /// Every event type that may open a stream: the two case openers and the
    /// reference-data publications (which open their own streams).
    public static let openingTypes = Catalog.streamOpeningTypes.map(\.rawValue)

    public struct Outcome: Sendable {
        public let result: AppendResult
        public let warnings: [String]
        /// The effective date published (given, or the file's).
        public let effectiveFrom: Date
    }

    /// Appends a `directory.published` event. Republishing the same
    /// directory is a no-op (its key is the content's hash). A directory
    /// effective before now needs `retroactiveReason` (the append functions
    /// refuse it without one, SQLSTATE DTL05).
    public static func publishDirectory(_ store: EventStore, yaml: String, effectiveFrom: Date?,
                                        actor: String, retroactiveReason: String? = nil,
                                        now: Date = Date()) throws -> Outcome {
        var directory = try Directory.parse(yaml: yaml)
        if let effectiveFrom { directory.effectiveFrom = effectiveFrom }
        if let retroactiveReason { directory.retroactiveReason = retroactiveReason }
        let data = directory.json
        let key = "directory/\(ChainHash.sha256Hex(data.jsonText()))"
        let envelope = Envelope(type: "directory.published", caseID: Catalog.directoryStream, occurredAt: now,
                                actor: actor, source: .cli, key: key, data: data)
        try Catalog.validate(envelope)
        let result = try store.append(caseID: envelope.caseID, events: [envelope], openingTypes: openingTypes)[0]
        // A shared login is published (the directory says what it says) but
        // never trusted by the engine; say so now.
        return Outcome(result: result, warnings: directory.loginProblems, effectiveFrom: directory.effectiveFrom)
    }

    /// Appends a `policy.published` event after checking the policy against
    /// the directory in force at its effective date. A version already
    /// published with other content or another date is refused: publish a
    /// new version instead. A policy effective before now needs
    /// `retroactiveReason` (the append functions refuse it without one).
    ///
    /// `effectiveFrom` nil: the file's `effective_from` (as for a
    /// directory); a policy with neither is refused. Every refusal names
    /// the policy ("policy NAME version V: ...").
    public static func publishPolicy(_ store: EventStore, yaml: String, effectiveFrom given: Date?,
                                     actor: String, retroactiveReason: String? = nil,
                                     now: Date = Date()) throws -> Outcome {
        let head = try store.digest()
        let reference = try ReferenceData.load(store, through: head.position)
        let policy = try Policy.parse(yaml: yaml)
        let which = "policy \(policy.name) version \(policy.version)"
        guard let effectiveFrom = given ?? policy.effectiveFrom else {
            throw ValidationError(field: "effective_from", "\(which): no effective date: give --effective-from or effective_from in the file")
        }
        let problems = policy.problems(directory: reference.directories.at(effectiveFrom) ?? reference.directories.directories.last)
        guard problems.isEmpty else {
            throw ValidationError(field: "policy", "\(which): \(problems.count) problem(s): " + problems.joined(separator: "; "))
        }
        let contentHash = ChainHash.sha256Hex(policy.document.jsonText())
        // A version is unique per policy name (the unique index of
        // migration 0010 says the same): another policy may have its own v1.
        for entry in reference.policies.entries where entry.policy.name == policy.name && entry.version == policy.version {
            let sameContent = ChainHash.sha256Hex(entry.policy.document.jsonText()) == contentHash
            if !(sameContent && entry.effectiveFrom == effectiveFrom) {
                throw ValidationError(field: "policy.version", "\(which) is already published (effective \(RFC3339.format(entry.effectiveFrom))); give the changed policy a new version")
            }
        }
        var warnings: [String] = []
        if effectiveFrom < now {
            warnings.append("the effective date \(RFC3339.format(effectiveFrom)) is in the past: cases opened since then will be judged by version \(policy.version)")
        }
        var fields: [String: JSONValue] = [
            "effective_from": .string(RFC3339.format(effectiveFrom)),
            "policy": policy.document,
            "sha256": .string(contentHash),
        ]
        if let retroactiveReason { fields["retroactive_reason"] = .string(retroactiveReason) }
        let data: JSONValue = .object(fields)
        let key = "policy/\(policy.version)/\(contentHash)/\(RFC3339.format(effectiveFrom))"
        let envelope = Envelope(type: "policy.published", caseID: Catalog.policyStream, occurredAt: now,
                                actor: actor, source: .cli, key: key, data: data)
        try Catalog.validate(envelope)
        let result = try store.append(caseID: envelope.caseID, events: [envelope], openingTypes: openingTypes)[0]
        return Outcome(result: result, warnings: warnings, effectiveFrom: effectiveFrom)
    }

    /// Why `migrate` publishes the default policy effective in the past.
    public static let defaultPolicyReason = "default policy published by dtledger migrate"

    /// Publishes the default policy (the seed process, Policies/default.yaml)
    /// at its own effective date when no policy has been published yet
    /// (retroactively, with `defaultPolicyReason`). Returns nil when a
    /// policy already exists.
    public static func publishDefaultPolicyIfNone(_ store: EventStore, actor: String) throws -> Outcome? {
        guard try store.version(caseID: Catalog.policyStream) == 0 else { return nil }
        let policy = Policy.defaultPolicy()
        guard let effective = policy.effectiveFrom else { return nil }
        let outcome = try publishPolicy(store, yaml: Policy.defaultPolicyYAML, effectiveFrom: effective, actor: actor,
                                        retroactiveReason: defaultPolicyReason)
        return Outcome(result: outcome.result, warnings: [], effectiveFrom: outcome.effectiveFrom)
    }
}
