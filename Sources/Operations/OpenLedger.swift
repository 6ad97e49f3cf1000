import Compliance
import Domain
import Events
import Foundation
import Ledger
import Reports

/// The ledger, connected: reading, judging, reporting and publishing. The
/// connection is made first (`Session.open()`), so a front end decides
/// whether a bad request is told before or after an unreachable database.
public struct OpenLedger {
    public let session: Session
    public let store: EventStore

    var progress: ProgressSink { session.progress }
}

extension Session {
    /// Connects to the ledger.
    public func open() throws -> OpenLedger { OpenLedger(session: self, store: try store()) }
}

// MARK: Judging and reports

/// A text report and the count of obligations that were late, partial or missed.
public struct ComplianceOutput: Sendable {
    public let violations: Int
}

extension OpenLedger {
    /// The head to judge at, and the chain's verification through it,
    /// started on a thread and a connection of its own (it runs while the
    /// caller judges; `ChainVerification.result()` waits for it).
    func verifyingHead() throws -> (head: Digest, verification: ChainVerification) {
        let head = try store.digest()
        let settings = session.settings
        return (head, ChainVerification(judged: head.position) { try EventStore(settings: settings) })
    }

    /// Judges one case; its report in `format` goes to `write`.
    public func compliance(caseID: String, asOf: Date?, format: ComplianceFormat,
                           write: (String) -> Void) throws -> ComplianceOutput {
        try Envelope.validateCaseID(caseID)
        let (head, verification) = try verifyingHead()
        var report = try verification.waitingOnFailure {
            try Compliance.evaluateCaseWithReference(store, caseID: caseID, asOf: asOf, at: head).report
        }
        report.chain = verification.result()
        write(ComplianceRenderer.render(report, as: format))
        return ComplianceOutput(violations: report.all.reduce(0) { $0 + $1.counts.violations })
    }

    /// Judges every case opened in [from, to), streamed: the cases' rows
    /// wait in a temporary file, so memory stays flat; the report in
    /// `format` goes to `write` at the end.
    public func compliance(from start: Date, to end: Date, asOf: Date?, format: ComplianceFormat,
                           write: @escaping (String) -> Void) throws -> ComplianceOutput {
        guard start < end else { throw OperationError.usage("--from must be before --to") }
        let renderer = try PeriodStreamRenderer(format: format)
        let (head, verification) = try verifyingHead()
        var summary = try verification.waitingOnFailure {
            try Compliance.streamPeriod(store, from: start, to: end, asOf: asOf, at: head, progress: { done, total in
                if done % 100 == 0 || done == total { progress.update("judged \(done)/\(total) cases") }
            }) { index, report in
                try renderer.add(report, index: index)
            }
        }
        summary.chain = verification.result()
        progress.done()
        try renderer.finish(summary, write: write)
        return ComplianceOutput(violations: summary.totals.allViolations)
    }

    /// The on-call view of a case at `asOf`: what is overdue, what is due next.
    public func status(caseID: String, asOf: Date) throws -> String {
        try Envelope.validateCaseID(caseID)
        return StatusRenderer.render(try Compliance.evaluateCase(store, caseID: caseID, asOf: asOf))
    }

    /// A case in order of occurrence, with the deadlines that fell due.
    public func timeline(caseID: String, asOf: Date?, format: TimelineFormat) throws -> String {
        try Envelope.validateCaseID(caseID)
        return TimelineRenderer.render(try Review.build(store, caseID: caseID, asOf: asOf), as: format)
    }

    /// The post-incident review of a case.
    public func review(caseID: String, asOf: Date?, format: ReportFormat) throws -> String {
        try Envelope.validateCaseID(caseID)
        let (head, verification) = try verifyingHead()
        var review = try verification.waitingOnFailure { try Review.build(store, caseID: caseID, asOf: asOf, at: head) }
        review.report.chain = verification.result()
        return ReviewRenderer.render(review, as: format)
    }

    /// The audit of a period, with the whole chain verified (against
    /// `digest` when given); `verified` false when it does not verify.
    public func audit(from start: Date, to end: Date, asOf: Date?, digest: Digest?,
                      format: ReportFormat) throws -> (text: String, verified: Bool) {
        guard start < end else { throw OperationError.usage("--from must be before --to") }
        let audit = try Audit.build(store, from: start, to: end, asOf: asOf, digest: digest) { progress.update($0) }
        progress.done()
        return (AuditRenderer.render(audit, as: format), audit.verification.ok)
    }
}

// MARK: Reference data

/// Who held a role at a time.
public struct RoleHolders: Sendable {
    public let role: String
    public let at: Date
    public let directory: Directory
    public let people: [Person]
    /// Group handles whose tag reaches the role.
    public let groups: [String]
}

/// Where `checkPolicy` finds the directory to check roles and people against.
public enum DirectorySource: Sendable {
    /// Not checked.
    case none
    /// A directory YAML file.
    case file(String)
    /// The latest directory published in the session's ledger.
    case ledger
}

/// A policy file, checked.
public struct PolicyCheck: Sendable {
    public let policy: Policy
    /// Whether a directory was found to check roles against.
    public let directoryChecked: Bool
    /// One line per problem, each naming its rule; empty when valid.
    public let problems: [String]
}

/// The policies published in the ledger.
public struct PublishedPolicies: Sendable {
    public let reference: ReferenceData

    public var publications: [ReferenceData.Publication] { reference.policyPublications }

    /// The version and policy in force at `when`.
    public func inForce(at when: Date) throws(OperationError) -> (version: String, policy: Policy) {
        guard let (version, policy) = reference.policies.inForce(at: when) else {
            throw .invalid("no policy was in force at \(RFC3339.format(when))")
        }
        return (version, policy)
    }

    /// The published policy of that name and version (`NAME@VERSION`).
    public func policy(name: String, version: String) throws(OperationError) -> Policy {
        guard let e = reference.policies.entries.last(where: { $0.policy.name == name && $0.version == version }) else {
            let versions = reference.policies.entries.filter { $0.policy.name == name }.map(\.version)
            throw .invalid("policy \(name) version \(version) is not published in the ledger"
                + (versions.isEmpty ? " (no version of \(name) is)" : " (published: \(versions.map { "v\($0)" }.joined(separator: ", ")))"))
        }
        return e.policy
    }
}

extension Session {
    /// Checks a policy document without publishing it: unknown audiences,
    /// roles, event kinds and timing forms, duplicate rule ids, bad durations.
    public func checkPolicy(yaml: String, directory: DirectorySource) throws -> PolicyCheck {
        let policy = try Policy.parse(yaml: yaml)
        var dir: Directory?
        switch directory {
        case .none: break
        case .file(let path): dir = try Directory.parse(yaml: String(decoding: try read(path), as: UTF8.self))
        case .ledger:
            let store = try store()
            dir = try ReferenceData.load(store, through: try store.digest().position).directories.directories.last
        }
        return PolicyCheck(policy: policy, directoryChecked: dir != nil, problems: policy.problems(directory: dir) + (dir?.loginProblems ?? []))
    }
}

extension OpenLedger {
    var reference: ReferenceData {
        get throws { try ReferenceData.load(store, through: try store.digest().position) }
    }

    /// Publishes a directory document (republishing the same one is a no-op).
    /// One effective before now needs `retroactiveReason`.
    public func publishDirectory(yaml: String, effectiveFrom: Date?, actor: String?,
                                 retroactiveReason: String? = nil) throws -> Publishing.Outcome {
        try Publishing.publishDirectory(store, yaml: yaml, effectiveFrom: effectiveFrom,
                                        actor: actor ?? session.defaultActor ?? "unknown",
                                        retroactiveReason: retroactiveReason)
    }

    /// Publishes a policy document effective from a time (nil: the file's
    /// `effective_from`), after checking it. One effective before now needs
    /// `retroactiveReason`.
    public func publishPolicy(yaml: String, effectiveFrom: Date?, actor: String?,
                              retroactiveReason: String? = nil) throws -> Publishing.Outcome {
        try Publishing.publishPolicy(store, yaml: yaml, effectiveFrom: effectiveFrom,
                                     actor: actor ?? session.defaultActor ?? "unknown",
                                     retroactiveReason: retroactiveReason)
    }

    /// The directory published in the ledger and in force at `when`.
    public func directory(at when: Date) throws -> Directory {
        guard let directory = try reference.directories.at(when) else {
            throw OperationError.invalid("no directory was in force at \(RFC3339.format(when)); publish one with 'dtledger directory publish'")
        }
        return directory
    }

    /// Who held `role` at `when` ("who was the ISSO on 3 March").
    public func holders(of role: String, at when: Date) throws -> RoleHolders {
        let directory = try directory(at: when)
        guard directory.roles.contains(role) else {
            throw OperationError.invalid("role: '\(printable(role))' is not a role of the directory in force then; roles: \(directory.roles.joined(separator: ", "))")
        }
        return RoleHolders(role: role, at: when, directory: directory, people: directory.holders(of: role),
                           groups: directory.groups.filter { $0.role == role }.map(\.handle))
    }

    /// The published policy versions.
    public func policies() throws -> PublishedPolicies { PublishedPolicies(reference: try reference) }
}

// MARK: The ledger itself

extension OpenLedger {
    /// Applies pending migrations (`log` gets each step); returns those
    /// applied now (empty: up to date).
    public func migrate(log: (String) -> Void) throws -> [Migration] {
        try Migrator().migrate(store.connection, progress: log)
    }

    /// Publishes the default policy when none is published yet; its position, or nil.
    public func publishDefaultPolicyIfNone() throws -> Int64? {
        try Publishing.publishDefaultPolicyIfNone(store, actor: session.defaultActor ?? "dtledger")?.result.position
    }

    /// Recomputes the hash chain (and checks it extends `digest`).
    public func verify(digest: Digest?) throws -> VerificationReport {
        let report = try store.verify(digest: digest) { count in progress.update("verified \(count) events") }
        progress.done()
        return report
    }

    /// The chain tip, to keep outside the database.
    public func digest() throws -> Digest { try store.digest() }

    /// Every stored event in position order (of one case, after a position),
    /// streamed to `body`.
    public func read(caseID: String?, after: Int64, _ body: (StoredEvent) throws -> Void) throws {
        try store.forEachEvent(caseID: caseID, after: after, body)
    }
}

extension Session {
    /// Reads a digest file written by `digest`.
    public func readDigest(_ path: String) throws -> Digest {
        try Digest.parse(String(decoding: try read(path), as: UTF8.self))
    }
}
