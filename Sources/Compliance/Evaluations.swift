import Events
import Foundation
import Ledger
import Domain

/// Counts of verdicts, and the compliance rate they give. `add(_:
/// Obligation)` counts a `should` obligation apart (`shouldMet`,
/// `shouldJudged`, `shouldObligations`): it is left out of every other
/// count, of the rate and of the violations (docs/policy.md, "Levels").
public struct VerdictCounts: Sendable, Equatable {
    public var met = 0, late = 0, partial = 0, missed = 0, pending = 0, notApplicable = 0, violated = 0
    /// `should` obligations: all of them, those judged, those met (in full and on time).
    public var shouldObligations = 0, shouldJudged = 0, shouldMet = 0

    public init() {}

    /// Counts an obligation by its level: a `must` one by its verdict, a
    /// `should` one only in the `should` counts.
    public mutating func add(_ obligation: Obligation) {
        guard obligation.level == .should else { return add(obligation.verdict) }
        shouldObligations += 1
        switch obligation.verdict {
        case .met: shouldMet += 1; shouldJudged += 1
        case .late, .partial, .missed, .violated: shouldJudged += 1
        case .pending, .notApplicable: break
        }
    }

    public mutating func add(_ verdict: Verdict) {
        switch verdict {
        case .met: met += 1
        case .late: late += 1
        case .partial: partial += 1
        case .missed: missed += 1
        case .pending: pending += 1
        case .notApplicable: notApplicable += 1
        case .violated: violated += 1
        }
    }

    /// Adds another set of counts to these.
    public mutating func add(_ other: VerdictCounts) {
        met += other.met; late += other.late; partial += other.partial
        missed += other.missed; pending += other.pending; notApplicable += other.notApplicable
        violated += other.violated
        shouldObligations += other.shouldObligations; shouldJudged += other.shouldJudged; shouldMet += other.shouldMet
    }

    /// Obligations whose outcome is known: met, late, partial, missed or violated.
    public var judged: Int { met + late + partial + missed + violated }
    public var violations: Int { late + partial + missed + violated }

    /// Share of judged obligations that were met in full and on time; nil
    /// when nothing was judged. Late and partial count against the rate.
    public var rate: Double? { judged == 0 ? nil : Double(met) / Double(judged) }
}

/// One case judged at a ledger position.
public struct CaseReport: Sendable {
    public let evaluation: CaseEvaluation
    /// The case's events; empty in a period report, which keeps only what
    /// it prints (so its memory does not grow with the events).
    public let events: [RecordedEvent]
    public let digest: Digest
    public let policyTimeZone: TimeZone
    /// Event positions by id, to show evidence compactly.
    public let positions: [String: Int64]
    /// The verification of the chain it was judged from (nil: not verified).
    public var chain: ChainCheck?
    /// Events of the case (and of the reference streams) that could not be
    /// decoded: skipped, listed in the report.
    public var undecodable: [UndecodableEvent] = []
    /// Retroactive publications that re-judge this case (it was in the
    /// ledger before they were recorded, and opened on or after their
    /// effective date).
    public var retroactive: [PublicationRecord] = []
    /// The case judged by the scoped policies in force besides its primary
    /// one (docs/policy.md, "Several policies at once"), one report each,
    /// by policy name; empty with one policy.
    public var others: [CaseReport] = []

    /// This report and each of `others`: every evaluation of the case.
    public var all: [CaseReport] { [self] + others }

    public init(evaluation: CaseEvaluation, events: [RecordedEvent], digest: Digest, policyTimeZone: TimeZone) {
        self.evaluation = evaluation
        self.events = events
        self.digest = digest
        self.policyTimeZone = policyTimeZone
        self.positions = Dictionary(uniqueKeysWithValues: events.map { ($0.id, $0.position) })
    }

    /// The report as a period report keeps it: without the events, and
    /// positions only for the events the obligations cite (evidence and
    /// anchoring occurrences). Built directly, without the full report's
    /// map of every event.
    public init(compacting evaluation: CaseEvaluation, events: [RecordedEvent], digest: Digest,
                policyTimeZone: TimeZone) {
        // Sized up front: growing them from empty cost more than filling them.
        var cited = Set<String>(minimumCapacity: 2 * evaluation.obligations.count + events.count)
        for o in evaluation.obligations {
            cited.formUnion(o.evidence)
            if let occurrence = o.occurrence { cited.insert(occurrence) }
        }
        for f in evaluation.findings { if let id = f.eventID { cited.insert(id) } }
        var positions: [String: Int64] = [:]
        positions.reserveCapacity(min(cited.count, events.count))
        for e in events where cited.contains(e.id) { positions[e.id] = e.position }
        self.init(evaluation: evaluation, digest: digest, policyTimeZone: policyTimeZone, positions: positions)
    }

    init(evaluation: CaseEvaluation, digest: Digest, policyTimeZone: TimeZone, positions: [String: Int64]) {
        self.evaluation = evaluation
        self.events = []
        self.digest = digest
        self.policyTimeZone = policyTimeZone
        self.positions = positions
    }

    public var counts: VerdictCounts {
        var c = VerdictCounts()
        for o in evaluation.obligations { c.add(o) }
        return c
    }
}

/// Every case opened in a period, judged at one ledger position.
public struct PeriodReport: Sendable {
    public let from: Date
    public let to: Date
    public let asOf: Date
    public let digest: Digest
    public let cases: [CaseReport]
    /// Cases that could not be judged (no policy in force when opened).
    public let unjudged: [(caseID: String, reason: String)]
    public let policyPublications: [ReferenceData.Publication]
    /// The verification of the chain it was judged from (nil: not verified).
    public var chain: ChainCheck?
    /// Every event skipped because it could not be decoded, by position.
    public var undecodable: [UndecodableEvent] = []
    /// The policy and directory publications and retractions recorded or
    /// effective in the period.
    public var publications: [PublicationRecord] = []

    /// The counts of `cases`, accumulated as a streamed period does.
    public var periodTotals: PeriodTotals {
        var t = PeriodTotals()
        for (index, c) in cases.enumerated() { t.add(c, index: index) }
        return t
    }

    public var ruleCounts: [(rule: String, counts: VerdictCounts)] { periodTotals.ruleCounts }
    public var teamCounts: [(team: String, counts: VerdictCounts)] { periodTotals.teamCounts }
    public var totals: VerdictCounts { periodTotals.totals }
    /// Policy versions that judged at least one case.
    public var policyVersionsUsed: [String] { periodTotals.policyVersionsUsed }
}

/// The counts of a period's cases, added case by case in any order: each
/// case carries its index in opening order, and the results are those of
/// the cases in that order (rules in the order they first appear, teams
/// sorted). A streamed period keeps these instead of every case, so its
/// memory does not grow with the cases.
public struct PeriodTotals: Sendable {
    public private(set) var cases = 0
    public private(set) var totals = VerdictCounts()
    /// Per rule: where it first appears (case index, obligation index) and its counts.
    private var byRule: [String: (first: Int, at: Int, counts: VerdictCounts)] = [:]
    private var byTeam: [String: VerdictCounts] = [:]
    private var byPolicy: [String: VerdictCounts] = [:]
    private var versions = Set<String>()
    /// Evaluations by scoped policies besides each case's primary one.
    public private(set) var otherEvaluations = 0
    private var first: (index: Int, zone: TimeZone)?

    public init() {}

    public mutating func add(_ c: CaseReport, index: Int) {
        cases += 1
        var counts = VerdictCounts()
        for (k, o) in c.evaluation.obligations.enumerated() {
            counts.add(o)
            // One lookup per obligation, the entry updated in place; a
            // `should` rule's row counts its verdicts, marked in its name.
            Self.count(o.verdict, at: (index, k),
                       in: &byRule[o.level == .should ? o.ruleID + " (should)" : o.ruleID, default: (index, k, VerdictCounts())])
        }
        totals.add(counts)
        if !c.evaluation.obligations.isEmpty {  // a team appears once it has an obligation
            byTeam[c.evaluation.team?.rawValue ?? "unknown", default: VerdictCounts()].add(counts)
        }
        versions.insert("\(c.evaluation.policyName) v\(c.evaluation.policyVersion)")
        byPolicy[c.evaluation.policyName, default: VerdictCounts()].add(counts)
        // The scoped policies that also judged the case: their own totals.
        for other in c.others {
            otherEvaluations += 1
            var own = VerdictCounts()
            for o in other.evaluation.obligations { own.add(o) }
            byPolicy[other.evaluation.policyName, default: VerdictCounts()].add(own)
            versions.insert("\(other.evaluation.policyName) v\(other.evaluation.policyVersion)")
        }
        if first.map({ index < $0.index }) ?? true { first = (index, c.policyTimeZone) }
    }

    private static func count(_ verdict: Verdict, at place: (Int, Int),
                              in entry: inout (first: Int, at: Int, counts: VerdictCounts)) {
        if place < (entry.first, entry.at) { (entry.first, entry.at) = place }
        entry.counts.add(verdict)
    }

    public var ruleCounts: [(rule: String, counts: VerdictCounts)] {
        byRule.sorted { ($0.value.first, $0.value.at) < ($1.value.first, $1.value.at) }.map { ($0.key, $0.value.counts) }
    }

    public var teamCounts: [(team: String, counts: VerdictCounts)] {
        byTeam.keys.sorted().map { ($0, byTeam[$0]!) }
    }

    public var policyVersionsUsed: [String] { versions.sorted() }

    /// Violations of every evaluation: the primary policies' and the scoped ones'.
    public var allViolations: Int { policyCounts.reduce(0) { $0 + $1.counts.violations } }

    /// Per policy name, the counts of every case it judged (the primary
    /// policy's and each scoped policy's evaluations alike), by name.
    public var policyCounts: [(policy: String, counts: VerdictCounts)] {
        byPolicy.keys.sorted().map { ($0, byPolicy[$0]!) }
    }

    /// The policy time zone of the first case in opening order.
    public var firstPolicyTimeZone: TimeZone? { first?.zone }
}

/// A period judged case by case (`Compliance.streamPeriod`): everything
/// but the cases, which went to the caller as they were judged.
public struct PeriodSummary: Sendable {
    public let from: Date
    public let to: Date
    public let asOf: Date
    public let digest: Digest
    public let totals: PeriodTotals
    /// Cases that could not be judged (no policy in force when opened).
    public let unjudged: [(caseID: String, reason: String)]
    public let policyPublications: [ReferenceData.Publication]
    /// The verification of the chain it was judged from (nil: not verified).
    public var chain: ChainCheck?
    /// Every event skipped because it could not be decoded, by position.
    public var undecodable: [UndecodableEvent] = []
    /// The policy and directory publications and retractions recorded or
    /// effective in the period.
    public var publications: [PublicationRecord] = []
    /// Cases re-judged by a retroactive publication: the case and the publication's event.
    public var retroactiveCases: [(caseID: String, publication: String)] = []

    public init(from: Date, to: Date, asOf: Date, digest: Digest, totals: PeriodTotals,
                unjudged: [(caseID: String, reason: String)], policyPublications: [ReferenceData.Publication],
                chain: ChainCheck? = nil) {
        self.chain = chain
        self.from = from
        self.to = to
        self.asOf = asOf
        self.digest = digest
        self.totals = totals
        self.unjudged = unjudged
        self.policyPublications = policyPublications
    }
}

/// The errors of judging cases.
public struct ComplianceError: LayerError {
    public typealias Code = ErrorCode<ComplianceError>
    public let code: Code
    public let message: String

    public static func unknownCase(_ id: String) -> ComplianceError {
        ComplianceError(code: .unknownCase, message: "case: no case '\(printable(id))' in the ledger")
    }

    public static func noPolicy(_ id: String) -> ComplianceError {
        ComplianceError(code: .noPolicy, message: "case \(printable(id)): no policy was in force when it was opened; publish one with 'dtledger policy publish'")
    }
}

extension ErrorCode where Layer == ComplianceError {
    /// No case of that id in the ledger (or the id of a reference stream).
    public static var unknownCase: Self { Self(rawValue: "unknown_case") }
    /// No policy was in force when the case was opened.
    public static var noPolicy: Self { Self(rawValue: "no_policy") }
}

/// Judges cases from the ledger: reads the events up to the current head
/// (so the digest printed with a result is the state it was computed from)
/// and calls the pure rule engine.
public enum Compliance {
    public static func evaluateCase(_ store: EventStore, caseID: String, asOf: Date? = nil) throws -> CaseReport {
        try evaluateCaseWithReference(store, caseID: caseID, asOf: asOf).report
    }

    /// `evaluateCase`, also returning the reference data it judged with.
    /// `at`: the ledger position to judge at (nil: the current head).
    public static func evaluateCaseWithReference(_ store: EventStore, caseID: String, asOf: Date? = nil,
                                                 at: Digest? = nil) throws
        -> (report: CaseReport, reference: ReferenceData) {
        let digest = try at ?? store.digest()
        let reference = try ReferenceData.load(store, through: digest.position)
        let (events, decoded, undecodable) = try UndecodableEvent.events(store, caseID: caseID, through: digest.position,
                                                                         catalog: true)
        guard !events.isEmpty || !undecodable.isEmpty, !Catalog.referenceStreams.values.contains(caseID) else {
            throw ComplianceError.unknownCase(caseID)
        }
        guard var report = judge(caseID: caseID, events: events, decoded: decoded, reference: reference, digest: digest,
                                 asOf: asOf ?? Date()) else {
            if !undecodable.isEmpty {
                throw ComplianceError(code: .noPolicy, message: "case: '\(printable(caseID))' cannot be judged: \(undecodable.map(\.line).joined(separator: "; "))")
            }
            throw ComplianceError.noPolicy(caseID)
        }
        report.undecodable = reference.undecodable + undecodable
        return (report, reference)
    }

    /// Worker threads for judging many cases: `reserve` fewer than the
    /// cores, at least one; `DTLEDGER_THREADS` overrides it (0: judge on
    /// the calling thread). Period compliance and rebuilds reserve none
    /// (the reading thread mostly waits for rows, the workers also parse
    /// them, and a rebuild's COPY streams are sent from threads of their
    /// own; docs/benchmarks.md has the measurements).
    public static func workerThreads(reserve: Int) -> Int {
        if let text = ProcessInfo.processInfo.environment["DTLEDGER_THREADS"], let n = Int(text), n >= 0 { return min(n, 16) }
        return max(1, ProcessInfo.processInfo.activeProcessorCount - reserve)
    }

    /// Every case opened in [from, to).
    public static func evaluatePeriod(_ store: EventStore, from: Date, to: Date, asOf: Date? = nil, at: Digest? = nil,
                                      progress: (Int, Int) -> Void = { _, _ in }) throws -> PeriodReport {
        var reports: [Int: CaseReport] = [:]
        let summary = try streamPeriod(store, from: from, to: to, asOf: asOf, at: at, progress: progress) { index, report in
            reports[index] = report
        }
        return PeriodReport(from: from, to: to, asOf: summary.asOf, digest: summary.digest,
                            cases: reports.keys.sorted().map { reports[$0]! }, unjudged: summary.unjudged,
                            policyPublications: summary.policyPublications, undecodable: summary.undecodable,
                            publications: summary.publications)
    }

    /// Every case opened in [from, to), handed to `body` as it is judged
    /// (compacted, with its index in opening order; cases come in the order
    /// their last events were appended, see `EventStore.forEachCaseInOnePass`)
    /// and not kept: memory stays flat however many cases there are.
    /// `at`: the ledger position to judge at (nil: the current head).
    public static func streamPeriod(_ store: EventStore, from: Date, to: Date, asOf: Date? = nil, at: Digest? = nil,
                                    threads: Int = Compliance.workerThreads(reserve: 0),
                                    progress: (Int, Int) -> Void = { _, _ in },
                                    _ body: (_ index: Int, _ report: CaseReport) throws -> Void) throws -> PeriodSummary {
        let digest = try at ?? store.digest()
        let reference = try ReferenceData.load(store, through: digest.position)
        let asOf = asOf ?? Date()
        let cases = try store.cases()
            .filter { Catalog.opensCase($0.openedType) && $0.openedAt >= from && $0.openedAt < to }
        let caseIDs = cases.map(\.caseID)
        var order: [String: Int] = [:]
        for (index, id) in caseIDs.enumerated() where order[id] == nil { order[id] = index }
        var totals = PeriodTotals()
        var unjudged: [(String, String)] = []
        var done = 0
        // Cases are parsed and judged on worker threads while this one reads
        // the next ones; results come back here in the order read.
        // Undecodable events are skipped and listed (the reference streams' first).
        var undecodable = reference.undecodable
        var retroactiveCases: [(caseID: String, publication: String)] = []
        let judging = OrderedWork<(String, [StoredEvent]), (String, Result<CaseReport?, any Error>, [UndecodableEvent])>(threads: threads) { caseID, stored in
            let (events, decoded, skipped) = UndecodableEvent.decode(stored, catalog: true)
            return (caseID, Result {
                judge(caseID: caseID, events: events, decoded: decoded, reference: reference, digest: digest, asOf: asOf,
                      compact: true)
            }, skipped)
        }
        func consume(_ result: (String, Result<CaseReport?, any Error>, [UndecodableEvent])) throws {
            let caseID = result.0
            var report = try result.1.get()
            undecodable += result.2
            report?.undecodable = result.2
            for p in report?.retroactive ?? [] { retroactiveCases.append((caseID, p.eventID)) }
            if let report, let index = order[caseID] {
                totals.add(report, index: index)
                try body(index, report)
            } else {
                unjudged.append((caseID, "no policy in force when it was opened"))
            }
            done += 1
            progress(done, caseIDs.count)
        }
        let extents = cases.map { EventStore.CaseExtent(caseID: $0.caseID, version: $0.version, lastPosition: $0.lastPosition) }
        try store.forEachCaseInOnePass(extents, through: digest.position, forJudging: true) { caseID, stored in
            try judging.submit((caseID, stored), consume)
        }
        try judging.finish(consume)
        var summary = PeriodSummary(from: from, to: to, asOf: asOf, digest: digest, totals: totals, unjudged: unjudged,
                                    policyPublications: reference.policyPublications)
        summary.undecodable = undecodable.sorted { $0.position < $1.position }
        summary.publications = reference.records.filter {
            ($0.recordedAt >= from && $0.recordedAt < to) || ($0.effectiveFrom.map { $0 >= from && $0 < to } ?? false)
        }
        summary.retroactiveCases = retroactiveCases.sorted { ($0.caseID, $0.publication) < ($1.caseID, $1.publication) }
        return summary
    }

    /// `decoded`: `decodeAll(events)`, when the caller has it.
    /// `compact`: the report as a period keeps it (`CaseReport(compacting:...)`).
    public static func judge(caseID: String, events: [RecordedEvent], decoded: [CatalogEvent?]? = nil,
                             reference: ReferenceData, digest: Digest, asOf: Date, compact: Bool = false) -> CaseReport? {
        func report(_ evaluation: CaseEvaluation, _ policy: Policy) -> CaseReport {
            compact
                ? CaseReport(compacting: evaluation, events: events, digest: digest, policyTimeZone: policy.timeZone)
                : CaseReport(evaluation: evaluation, events: events, digest: digest, policyTimeZone: policy.timeZone)
        }
        var reports: [CaseReport] = []
        var openedAt: Date?
        if let evaluation = evaluate(caseID: caseID, events: events, decoded: decoded, policies: reference.policies,
                                     directories: reference.directories, asOf: asOf),
           let opened = evaluation.openedAt,
           let policy = reference.policies.inForce(at: opened)?.policy {
            reports.append(report(evaluation, policy))
            openedAt = opened
        }
        // Every scoped policy in force at the opening whose scope covers the case.
        if reference.policies.hasScoped,
           let opened = openedAt ?? events.filter({ Catalog.opensCase($0.type) && $0.occurredAt <= asOf })
               .min(by: { ($0.occurredAt, $0.position) < ($1.occurredAt, $1.position) })?.occurredAt {
            for (version, policy, scope) in reference.policies.scopedInForce(at: opened) {
                let evaluation = evaluate(caseID: caseID, events: events, policy: policy, policyVersion: version,
                                          directories: reference.directories, asOf: asOf)
                guard evaluation.openedAt != nil,
                      scope.covers(kind: evaluation.kind?.rawValue, team: evaluation.team?.rawValue) else { continue }
                reports.append(report(evaluation, policy))
                openedAt = openedAt ?? evaluation.openedAt
            }
        }
        guard var primary = reports.first, let opened = openedAt else { return nil }
        primary.others = Array(reports.dropFirst())
        if let opening = events.first, !reference.records.isEmpty {
            primary.retroactive = reference.records.filter { $0.rejudges(openedAt: opened, openingRecorded: opening.recordedAt) }
        }
        return primary
    }
}
