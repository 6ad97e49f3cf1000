import Events
import Foundation
import Ledger
import Operations
import Postgres

/// An outcome as recorded: what the service did, by which login, when.
public struct RecordedOutcome: Sendable, Equatable {
    public var outcome: ReceiptOutcome
    /// The login that recorded it (the service's own).
    public var login: String
    public var recordedAt: Date

    public init(outcome: ReceiptOutcome, login: String, recordedAt: Date) {
        self.outcome = outcome
        self.login = login
        self.recordedAt = recordedAt
    }
}

/// One receipt as `dtledger inbox show` prints it: the receipt, every
/// outcome and every resolution, oldest first.
public struct InboxEntry: Sendable, Equatable {
    public var receipt: Receipt
    public var outcomes: [RecordedOutcome]
    public var resolutions: [Resolution]

    /// The latest outcome's kind; nil while the service has not mapped it yet.
    public var state: ReceiptOutcome.Kind? { outcomes.last?.outcome.kind }

    /// A resolution recorded that no outcome has applied yet.
    public var pending: Resolution? {
        let applied = Set(outcomes.compactMap(\.outcome.resolutionID))
        return resolutions.last { !applied.contains($0.id) }
    }

    /// Outcomes and resolutions merged in the order they were recorded.
    public enum Step: Sendable, Equatable {
        case outcome(RecordedOutcome)
        case resolution(Resolution)

        /// Resolutions before outcomes, then by id.
        var tieOrder: (Int, Int64) {
            switch self {
            case .resolution(let r): (0, r.id)
            case .outcome(let o): (1, o.outcome.resolutionID ?? 0)
            }
        }

        public var recordedAt: Date {
            switch self {
            case .outcome(let o): o.recordedAt
            case .resolution(let r): r.recordedAt
            }
        }
    }

    /// Every step, oldest first. A resolution comes before the outcome that
    /// applied it (it was recorded first; the ids break equal times).
    public var history: [Step] {
        var steps: [Step] = outcomes.map(Step.outcome) + resolutions.map(Step.resolution)
        steps.sort { a, b in
            if a.recordedAt != b.recordedAt { return a.recordedAt < b.recordedAt }
            return a.tieOrder < b.tieOrder
        }
        return steps
    }
}

/// A person's request to resolve an inbox item (`dtledger inbox assign|map|discard`).
public struct InboxResolutionRequest: Sendable, Equatable {
    public var receiptID: Int64
    public var action: Resolution.Action
    /// The case, for `assign` only.
    public var caseID: String?
    public var reason: String
    /// Who resolves it (what the person says); nil: the session's default actor.
    public var actor: String?

    public init(receiptID: Int64, action: Resolution.Action, caseID: String? = nil, reason: String, actor: String? = nil) {
        self.receiptID = receiptID
        self.action = action
        self.caseID = caseID
        self.reason = reason
        self.actor = actor
    }
}

/// A resolution recorded (not applied yet: the service applies it).
public struct RecordedResolution: Sendable, Equatable {
    public var id: Int64
    public var request: InboxResolutionRequest
    /// The actor recorded (the request's, else the session's default).
    public var actor: String
    /// A note for the person: an assign to a case the ledger has not opened.
    public var note: String?
}

/// What waiting for the service to apply a resolution gave.
public enum AppliedResolution: Sendable, Equatable {
    /// The service recorded this outcome for the resolution.
    case applied(RecordedOutcome)
    /// Not applied within the time given (the service is not running, or busy).
    case notYet

    /// The CLI's exit status: 0 appended, duplicate or discarded; 1 back in
    /// the inbox (or ignored); 75 not applied in time.
    public var exitStatus: Int32 {
        switch self {
        case .applied(let o):
            switch o.outcome.kind {
            case .appended, .duplicate, .discarded: 0
            case .inbox, .ignored: 1
            }
        case .notYet: 75
        }
    }
}

/// The inbox use cases (`dtledger inbox`; docs/serve.md, "The inbox"):
/// listing and showing receipts (a reader login), and recording a person's
/// resolution with dtledger.resolve_receipt (a writer login). The running
/// service applies a resolution with its own login, so the events it
/// appends carry its registered, trusted signature claims; this only records
/// what the person asked, and can wait for the service to apply it.
/// Blocking libpq code; not Sendable (one connection).
public final class Inbox {
    public let receipts: ReceiptStore
    let defaultActor: String?

    public init(connection: Connection, defaultActor: String? = nil) {
        self.receipts = ReceiptStore(connection: connection)
        self.defaultActor = defaultActor
    }

    /// Connects with the session's database and default actor.
    public convenience init(session: Session) throws {
        let store = try session.store()
        self.init(connection: store.connection, defaultActor: session.defaultActor)
    }

    /// The receipts waiting in the inbox, oldest first (with `ignored` too when asked).
    public func list(includeIgnored: Bool = false) throws -> [ReceiptStore.InboxItem] {
        try requireReader("inbox list")
        return try receipts.inbox(includeIgnored: includeIgnored, limit: 100_000)
    }

    /// One receipt with its outcomes and resolutions.
    public func show(_ receiptID: Int64) throws -> InboxEntry {
        try requireReader("inbox show")
        guard let receipt = try receipts.receipt(id: receiptID) else { throw Self.noReceipt(receiptID) }
        let outcomes = try receipts.outcomes(receiptID: receiptID).map {
            RecordedOutcome(outcome: $0.outcome, login: $0.login, recordedAt: $0.recordedAt)
        }
        return InboxEntry(receipt: receipt, outcomes: outcomes, resolutions: try receipts.resolutions(receiptID: receiptID))
    }

    /// Records a resolution (dtledger.resolve_receipt, with this login). The
    /// request is checked first: a reason, an actor, a valid case id for
    /// assign and none otherwise. The database refuses (DTL00, LedgerError
    /// .invalid) an unknown receipt, one not in the inbox, and one with a
    /// resolution the service has not applied yet; nothing is recorded then.
    /// `forWaiting`: the caller will wait for the outcome, which needs a
    /// login that can read the receipts: checked before anything is recorded.
    public func resolve(_ request: InboxResolutionRequest, forWaiting: Bool = false) throws -> RecordedResolution {
        let reason = request.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else {
            throw OperationError.usage("--reason is empty: say why (it is recorded with your login)")
        }
        guard let actor = (request.actor ?? defaultActor).flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw OperationError.usage("missing --actor (or set DTLEDGER_ACTOR)")
        }
        switch request.action {
        case .assign:
            guard let caseID = request.caseID else { throw OperationError.usage("assign needs --case CASE") }
            try Envelope.validateCaseID(caseID, field: "--case")
        case .map, .discard:
            if request.caseID != nil { throw OperationError.usage("\(request.action.rawValue) takes no --case (assign does)") }
        }
        guard request.receiptID > 0 else { throw Self.noReceipt(request.receiptID) }
        if forWaiting { try requireReader("--wait") }
        let id = try receipts.resolve(receiptID: request.receiptID, action: request.action, caseID: request.caseID,
                                      reason: request.reason, actor: actor)
        var note: String?
        if request.action == .assign, let caseID = request.caseID,
           let opened = try? WriterReads.openedCases(EventStore(connection: receipts.connection)),
           !opened.contains(where: { $0.caseID == caseID }) {
            note = "case \(caseID) is not in the ledger yet: unless this receipt opens it, the service puts it back in the inbox"
        }
        return RecordedResolution(id: id, request: request, actor: actor, note: note)
    }

    /// Waits up to `seconds` for the service to apply resolution `id`.
    public func wait(resolutionID id: Int64, seconds: Double, poll: Double = 0.1) throws -> AppliedResolution {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if let o = try receipts.outcome(resolutionID: id) {
                return .applied(RecordedOutcome(outcome: o.outcome, login: o.login, recordedAt: o.recordedAt))
            }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return .notYet }
            Thread.sleep(forTimeInterval: min(poll, left))
        }
    }

    /// A clear refusal for a login that cannot read the receipts.
    func requireReader(_ what: String) throws {
        guard try receipts.canReadReceipts() else {
            let login = (try? receipts.connection.query("SELECT session_user").scalar) ?? nil
            throw LedgerError.permissionDenied("\(what) reads the receipts: login \(login ?? "(unknown)") needs dtledger_reader")
        }
    }

    static func noReceipt(_ id: Int64) -> LedgerError {
        .invalid(ValidationError(field: nil, "no receipt \(id)"))
    }
}
