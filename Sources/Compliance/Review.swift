import Events
import Foundation
import Ledger
import Domain

/// Everything a post-incident review of one case needs, at one ledger position.
public struct Review: Sendable {
    public var report: CaseReport
    /// Events and deadlines in order of occurrence.
    public let timeline: [TimelineEntry]
    public let title: String?
    public let summary: String?
    public let impact: Impact?
    public let product: String?
    public let startedAt: Date?
    public let detectedAt: Date?
    public let endedAt: Date?
    public let firstNotifications: [FirstNotification]
    public let updatesSent: Int
    public let updatesRequired: Int
    public let updatesMet: Int
    /// Each event's provenance (`Provenance.of`, with the directory in
    /// force when it was recorded), by event id: what the review shows
    /// instead of the metadata's own claim.
    public let provenance: [String: Provenance]

    /// The first message that satisfied (or tried to satisfy) a notification obligation.
    public struct FirstNotification: Sendable {
        public let ruleID: String
        public let occurrence: String?
        public let title: String
        public let verdict: Verdict
        public let at: Date
        public let eventID: String
        public let sinceStart: TimeInterval?
        public let sinceDetection: TimeInterval?
    }

    public var evaluation: CaseEvaluation { report.evaluation }
    public var timeToResolveFromStart: TimeInterval? { endedAt.flatMap { e in startedAt.map { e.timeIntervalSince($0) } } }
    public var timeToResolveFromDetection: TimeInterval? { endedAt.flatMap { e in detectedAt.map { e.timeIntervalSince($0) } } }

    public static func build(_ store: EventStore, caseID: String, asOf: Date? = nil, at: Digest? = nil) throws -> Review {
        let (report, reference) = try Compliance.evaluateCaseWithReference(store, caseID: caseID, asOf: asOf, at: at)
        return build(report: report, directories: reference.directories)
    }

    public static func build(report: CaseReport, directories: DirectoryHistory) -> Review {
        let events = report.events
        let e = report.evaluation
        let entries = TimelineBuilder.entries(events: events, directories: directories)
        let timeline = TimelineBuilder.withDeadlines(entries, evaluation: e)
        var title: String?, summary: String?, impact: Impact?, product: String?, started: Date?
        if let first = events.first, let typed = try? Catalog.decode(type: first.type, data: first.data) {
            switch typed {
            case .incidentOpened(let i):
                title = i.summary; summary = i.summary; impact = i.estimatedUserImpact
                product = i.product; started = i.startedAt
            case .downtimePlanned(let d):
                title = d.title; summary = d.reason; impact = d.anticipatedImpact
                product = d.product; started = d.window.start
            case .caseOpened(let o):
                title = o.title; product = o.product; started = first.occurredAt
            default: break
            }
        }
        if e.kind == .plannedDowntime, let w = e.window { started = w.start }
        let retracted = Set(entries.filter(\.retracted).compactMap(\.eventID))
        let byID = Dictionary(uniqueKeysWithValues: events.map { ($0.id, $0) })
        var firsts: [FirstNotification] = []
        for o in e.obligations where [.met, .late, .partial].contains(o.verdict) {
            let messages = o.evidence.compactMap { byID[$0] }.filter { $0.type == EventType.notificationSent }
            guard let first = messages.min(by: { $0.occurredAt < $1.occurredAt }) else { continue }
            firsts.append(FirstNotification(
                ruleID: o.ruleID, occurrence: o.occurrence, title: o.title, verdict: o.verdict, at: first.occurredAt,
                eventID: first.id, sinceStart: started.map { first.occurredAt.timeIntervalSince($0) },
                sinceDetection: e.openedAt.map { first.occurredAt.timeIntervalSince($0) }))
        }
        let updatePurposes: Set<String> = ["update", "milestone", "resolved", "concluded", "day_before"]
        let sent = events.filter {
            $0.type == EventType.notificationSent && !retracted.contains($0.id)
                && updatePurposes.contains($0.data["purpose"]?.stringValue ?? "")
        }.count
        let updateObligations = e.obligations.filter { $0.ruleID.contains("-UPDATE-") && $0.verdict != .notApplicable }
        return Review(
            report: report, timeline: timeline, title: title, summary: summary, impact: impact, product: product,
            startedAt: started, detectedAt: e.openedAt, endedAt: e.resolvedAt ?? e.concludedAt ?? e.cancelledAt ?? e.closedAt,
            firstNotifications: firsts, updatesSent: sent, updatesRequired: updateObligations.count,
            updatesMet: updateObligations.filter { $0.verdict == .met || $0.verdict == .late }.count,
            provenance: Dictionary(events.map { ($0.id, Provenance.of($0, directories: directories)) }) { first, _ in first })
    }
}

/// An audit over a period: the compliance of every case opened in it, the
/// policies in force, and a verification of the whole chain.
public struct Audit: Sendable {
    public let period: PeriodReport
    public let verification: VerificationReport
    /// The digest the chain was verified against, when one was given.
    public let digestChecked: Digest?

    /// Whether the chain verified: an unverified audit is still written,
    /// marked UNVERIFIED in every format.
    public var verified: Bool { verification.ok }

    /// Verifies the chain first (its snapshot taken after the head was
    /// read, so it covers every judged event), then judges the period at
    /// that head.
    public static func build(_ store: EventStore, from: Date, to: Date, asOf: Date? = nil, digest: Digest? = nil,
                             progress: (String) -> Void = { _ in }) throws -> Audit {
        let head = try store.digest()
        let verification = try store.verify(digest: digest) { n in progress("verified \(n) events") }
        var period = try Compliance.evaluatePeriod(store, from: from, to: to, asOf: asOf, at: head) { done, total in
            if done % 100 == 0 || done == total { progress("judged \(done)/\(total) cases") }
        }
        period.chain = ChainCheck(verification, judged: head.position)
        return Audit(period: period, verification: verification, digestChecked: digest)
    }
}
