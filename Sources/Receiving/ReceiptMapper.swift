import Domain
import Events
import Foundation
import Ingest
import Ledger
import Mail
import Operations
import Postgres
import Synchronization

/// Where a receipt came from, as the mapper needs to know it.
public enum ReceiptKind: Sendable, Equatable {
    case slack, pagerDuty, serviceNow
    /// A raw RFC 5322 message: posted by a mail relay (`POST /email/messages`)
    /// or kept by `dtledger import email` for the inbox.
    case email
    /// Fetched by a poller (no signature: authenticated by the API token over TLS).
    case polled(EventSource)

    /// The header a poller sets on its receipts.
    public static let pollerHeader = "x-dtledger-poller"
    /// The header `dtledger import email` sets on the receipts it keeps for
    /// the inbox (never taken from a request: the route does not keep it).
    public static let importHeader = "x-dtledger-import"
    /// With `importHeader`: the import's `--purpose`, used again when the
    /// receipt is mapped after a resolution.
    public static let importPurposeHeader = "x-dtledger-import-purpose"

    public init?(_ receipt: Receipt) {
        let polled = receipt.headers[ReceiptKind.pollerHeader] != nil
        switch receipt.source {
        case EventSource.slack.rawValue: self = polled ? .polled(.slack) : .slack
        case EventSource.pagerduty.rawValue: self = polled ? .polled(.pagerduty) : .pagerDuty
        case EventSource.servicenow.rawValue: self = polled ? .polled(.servicenow) : .serviceNow
        case EventSource.email.rawValue: self = .email
        default: return nil
        }
    }
}

/// What one pass of the mapper did.
public struct MapperPass: Sendable, Equatable {
    public var receipts = 0
    public var resolutions = 0
    public var appended = 0
    public var duplicates = 0
    public var inbox = 0
    public var ignored = 0
    public var discarded = 0
    /// Inbox receipts placed by this pass's new cases and refs.
    public var retried = 0
    public var isEmpty: Bool { receipts == 0 && resolutions == 0 }
}

/// Maps durable receipts to catalog events with the importers (Ingest) and
/// appends them, with each receipt's outcome, in one transaction per pass:
/// every receipt that arrived since the last pass lands together. A receipt
/// that cannot be placed goes to the inbox with its reason; one the ledger
/// refuses rolls back alone (a savepoint) and goes to the inbox with the
/// refusal. Runs on the thread that owns its connection.
public final class ReceiptMapper {
    public let store: EventStore
    public let receipts: ReceiptStore
    public var config: ServeConfig
    /// Looks up a secret by its environment variable name.
    let secret: @Sendable (String) -> String?
    let now: @Sendable () -> Date
    /// Source refs -> case, from the outcomes so far (loaded on first use).
    let refs = RefIndex()
    var refsLoaded = false
    /// Which cases are open when (for `slack.open_case`), kept current by position.
    let cases = CaseIndex()
    /// The connection, for the importers' lookups (Sendable closures that
    /// run synchronously on this mapper's thread, inside its transaction).
    let box: StoreBox

    public init(connection: Connection, config: ServeConfig, secret: @escaping @Sendable (String) -> String?,
                now: @escaping @Sendable () -> Date = Date.init) {
        self.store = EventStore(connection: connection)
        self.receipts = ReceiptStore(connection: connection)
        self.box = StoreBox(store)
        self.config = config
        self.secret = secret
        self.now = now
    }

    /// How far back an inbox receipt is tried again automatically.
    public static let retryWindow: TimeInterval = 7 * 86_400

    /// Maps up to `limit` unmapped receipts and applies every pending resolution.
    public func pass(limit: Int = 500) throws -> MapperPass {
        let batch = try receipts.unmapped(limit: limit)
        let resolutions = try receipts.pendingResolutions()
        var pass = MapperPass()
        guard !batch.isEmpty || !resolutions.isEmpty else { return pass }
        if !refsLoaded {
            for (ref, caseID) in try receipts.refCases() { refs.set(ref, caseID) }
            refsLoaded = true
        }
        let directories = try currentDirectories()
        let snapshot = refs.snapshot()
        try cases.refresh(store)
        var known = cases.kinds()
        do {
            try store.atomically {
                var outcomes: [ReceiptOutcome] = []
                for receipt in batch {
                    let outcome = try map(receipt, caseOverride: nil, directories: directories, known: &known)
                    outcomes.append(outcome)
                    pass.count(outcome)
                    pass.receipts += 1
                }
                for resolution in resolutions {
                    guard let receipt = try receipts.receipt(id: resolution.receiptID) else { continue }
                    var outcome: ReceiptOutcome
                    switch resolution.action {
                    case .discard:
                        outcome = ReceiptOutcome(receiptID: receipt.id, kind: .discarded, code: "discarded",
                                                 reason: "discarded by \(resolution.actor) (login \(resolution.login)): \(resolution.reason)")
                    case .assign:
                        outcome = try map(receipt, caseOverride: resolution.caseID, directories: directories, known: &known,
                                          resolution: resolution)
                    case .map:
                        outcome = try map(receipt, caseOverride: nil, directories: directories, known: &known,
                                          resolution: resolution)
                    }
                    outcome.resolutionID = resolution.id
                    outcomes.append(outcome)
                    pass.count(outcome)
                    pass.resolutions += 1
                }
                // A pass that placed something may have opened the case or
                // the thread an earlier receipt was waiting for (PagerDuty
                // does not promise to deliver in order): those try again, and
                // an outcome is recorded only for the ones now placed.
                if outcomes.contains(where: { $0.kind == .appended }) {
                    let again = try receipts.waiting(codes: [Unmapped.Code.noCase.rawValue, Unmapped.Code.caseNotOpened.rawValue],
                                                     since: now().addingTimeInterval(-Self.retryWindow), limit: 100)
                    for receipt in again where !outcomes.contains(where: { $0.receiptID == receipt.id }) {
                        var outcome = try map(receipt, caseOverride: nil, directories: directories, known: &known)
                        guard outcome.kind == .appended || outcome.kind == .duplicate else { continue }
                        outcome.code = "retried"
                        outcome.reason = "placed when a later receipt gave its case"
                        outcomes.append(outcome)
                        pass.count(outcome)
                        pass.retried += 1
                    }
                }
                try receipts.record(outcomes)
            }
        } catch {
            refs.restore(snapshot)
            cases.reset()
            throw error
        }
        return pass
    }

    /// The directories, read again only when the directory stream has grown.
    var directoryCache: (version: Int64, history: DirectoryHistory)?

    func currentDirectories() throws -> DirectoryHistory {
        let version: Int64
        do {
            version = Int64(try store.connection.query("SELECT coalesce((SELECT version FROM dtledger.streams WHERE case_id = $1), 0)",
                                                       [Catalog.directoryStream]).scalar ?? "0") ?? 0
        } catch { throw LedgerError.from(error) }
        if let cached = directoryCache, cached.version == version { return cached.history }
        let history = try WriterReads.directories(store)
        directoryCache = (version, history)
        return history
    }

    /// The importers' lookups: refs of earlier receipts, the open cases,
    /// and the purpose inferred from a case's events (Domain's PurposeInference).
    var lookups: CaseLookups {
        let refs = self.refs, cases = self.cases, box = self.box
        return CaseLookups(
            caseForRef: { ref in
                if let c = refs.get(ref) { return c }
                // A thread whose first message came in by `import email`
                // has no receipt: the ledger's email notifications answer.
                guard ref.hasPrefix("email:"), let found = try? EmailThreads.cases(ofMessageIDs: [String(ref.dropFirst(6))], box.store)
                else { return nil }
                return found.values.first
            },
            openCases: { cases.open(at: $0) },
            inferPurpose: { caseID, at in
                guard let events = try? box.store.events(caseID: caseID) else { return nil }
                return PurposeInference.infer(caseID: caseID, events: events, at: at)
            })
    }

    /// The DKIM verifier of email receipts (`sources.email`: the key file's
    /// keys first, then DNS unless `dns: false`; without `sources.email`,
    /// DNS, as `import email`), built on first use; nil checks nothing. A key
    /// file that cannot be read fails (the receipt waits in the inbox).
    var dkim: Result<DKIMVerifier?, MailError>?

    func emailVerifier() -> Result<DKIMVerifier?, MailError> {
        if let dkim { return dkim }
        let source = config.email ?? ServeConfig.EmailSource()
        var providers: [any DKIMKeyProvider] = []
        var result: Result<DKIMVerifier?, MailError>
        do {
            if let path = source.dkimKeys { providers.append(try DKIMKeyFile(path: path)) }
            if source.dns { providers.append(DKIMDNSKeys()) }
            result = .success(providers.isEmpty ? nil : DKIMVerifier(keys: DKIMKeyChain(providers)))
        } catch {
            result = .failure(MailError("sources.email.dkim_keys: \(error)"))
        }
        dkim = result
        return result
    }

    /// Maps one receipt and appends its events under a savepoint.
    /// `resolution`: the person's inbox resolution being applied; it is
    /// kept in each event's `import.resolution` (covered by the event's
    /// hash), so a report shows who placed the evidence in its case.
    func map(_ receipt: Receipt, caseOverride: String?, directories: DirectoryHistory,
             known: inout [String: CaseKind], resolution: Resolution? = nil) throws -> ReceiptOutcome {
        guard let kind = ReceiptKind(receipt) else {
            return ReceiptOutcome(receiptID: receipt.id, kind: .inbox, code: "unknown_source",
                                  reason: "source \(printable(receipt.source)) is not one the service maps")
        }
        var context = ImportContext(config: config.ingest, directories: directories, defaultActor: config.actor,
                                    caseOverride: caseOverride, knownCases: known, now: receipt.receivedAt, lookups: lookups)
        let secretName: String?
        switch kind {
        case .slack: secretName = config.slack?.signingSecretEnv
        case .pagerDuty: secretName = config.pagerDuty?.webhookSecretEnv
        case .serviceNow, .polled, .email: secretName = nil
        }
        if let secretName {
            guard let value = secret(secretName), !value.isEmpty else {
                return ReceiptOutcome(receiptID: receipt.id, kind: .inbox, code: "signature",
                                      reason: "the secret \(secretName) is not set: the signature cannot be checked again")
            }
            context.secret = value
            context.secretName = secretName
        }
        var verifier: DKIMVerifier?
        if kind == .email {
            switch emailVerifier() {
            case .success(let v): verifier = v
            case .failure(let problem):
                return ReceiptOutcome(receiptID: receipt.id, kind: .inbox, code: "signature",
                                      reason: "\(problem): the DKIM signatures cannot be checked")
            }
            if let p = receipt.headers[ReceiptKind.importPurposeHeader] { context.defaultPurpose = NotificationPurpose(rawValue: p) }
        }
        let payload = RawPayload(item: 1, body: receipt.body, headers: receipt.headers, receivedAt: receipt.receivedAt)
        var outcome = run(kind, payload, context, verifier: verifier)
        // A new PagerDuty incident with no case yet opens one: the service
        // allocates its id as `incident open` would.
        if caseOverride == nil, outcome.events.isEmpty, kind == .pagerDuty,
           outcome.unmapped.count == 1, outcome.unmapped[0].code == .noCase, Self.isTrigger(receipt.body) {
            context.caseOverride = try store.nextCaseID(prefix: "INC", year: Self.caseYear(receipt.receivedAt))
            outcome = run(kind, payload, context, verifier: verifier)
        }
        if let failure = outcome.signatureFailures.first {
            return ReceiptOutcome(receiptID: receipt.id, kind: .inbox, code: failure.code.rawValue, reason: failure.reason)
        }
        guard !outcome.events.isEmpty else {
            let u = outcome.unmapped.first
            let code = u?.code ?? .notMapped
            if kind == .email {
                // Every email the relay or the import could not map waits
                // for a person (docs/serve.md, "Email"): it was posted or
                // journaled as incident mail, so nothing is ignored.
                let reason = code == .noCase
                    ? "no case: nothing in it names one the service knows (a Case: line, a case id in the Subject or the text, a reply to a message already in a case); assign it with `dtledger inbox assign \(receipt.id) --case CASE --reason ...`"
                    : "\(u?.reason ?? "the message maps to no event"); resolve it with `dtledger inbox assign \(receipt.id) --case CASE --reason ...` or `dtledger inbox discard \(receipt.id) --reason ...`"
                return ReceiptOutcome(receiptID: receipt.id, kind: .inbox, code: code.rawValue, reason: reason)
            }
            if code == .noCase, u?.reason.hasPrefix("no case: map it with --case") == true {
                return ReceiptOutcome(receiptID: receipt.id, kind: .inbox, code: code.rawValue,
                                      reason: "no case: nothing in it names one the service knows (a thread, a case id, a PagerDuty incident, the only open case of its channel); assign it with `dtledger inbox assign \(receipt.id) --case CASE --reason ...`, or map the source id in the config's cases and `dtledger inbox map \(receipt.id)`")
            }
            return ReceiptOutcome(receiptID: receipt.id, kind: code.waitsForResolution ? .inbox : .ignored,
                                  code: code.rawValue, reason: u?.reason ?? "the payload maps to no event")
        }
        var events = outcome.events
        for i in events.indices {
            events[i].metadata = Self.withReceipt(events[i].metadata, receipt: receipt, kind: kind, resolution: resolution)
        }
        _ = try store.connection.execute("SAVEPOINT receipt")
        var ids: [String] = []
        var fresh = 0
        do {
            var index = 0
            while index < events.count {
                var end = index + 1
                while end < events.count, events[end].envelope.caseID == events[index].envelope.caseID { end += 1 }
                let group = Array(events[index..<end])
                let results = try store.append(caseID: group[0].envelope.caseID, events: group.map(\.envelope),
                                               openingTypes: EventValidation.openingTypes, metadata: group.map(\.metadata))
                ids += results.map(\.id)
                fresh += results.filter { !$0.duplicate }.count
                index = end
            }
            _ = try store.connection.execute("RELEASE SAVEPOINT receipt")
        } catch let error as LedgerError where store.connection.isOK && error.code != .unavailable {
            // The ledger refused this receipt's events (a check, a permission,
            // anything but a lost connection): it alone goes to the inbox, so
            // one bad receipt never holds back the ones after it.
            _ = try store.connection.execute("ROLLBACK TO SAVEPOINT receipt")
            return ReceiptOutcome(receiptID: receipt.id, kind: .inbox, code: "refused",
                                  reason: "the ledger refused the event: \(error.message)")
        }
        let caseID = events[0].envelope.caseID
        for e in events {
            if let k = Catalog.caseKind(forOpeningType: EventType(rawValue: e.envelope.type)), known[e.envelope.caseID] == nil {
                known[e.envelope.caseID] = k
            }
        }
        for ref in receipt.refs { refs.set(ref, caseID) }
        // Only an opening or closing event changes which cases are open.
        if events.contains(where: { CaseIndex.types.contains($0.envelope.type) }) { try cases.refresh(store) }
        return ReceiptOutcome(receiptID: receipt.id, kind: fresh == 0 ? .duplicate : .appended, caseID: caseID, eventIDs: ids)
    }

    func run(_ kind: ReceiptKind, _ payload: RawPayload, _ context: ImportContext, verifier: DKIMVerifier? = nil) -> ImportOutcome {
        switch kind {
        case .email: EmailImporter.map([payload], context: context, verifier: verifier)
        case .slack, .polled(.slack): SlackImporter.map([payload], context: context)
        case .pagerDuty, .polled(.pagerduty): PagerDutyImporter.map([payload], context: context)
        default: ServiceNowImporter.map([payload], context: context)
        }
    }

    static func isTrigger(_ body: Data) -> Bool {
        (try? JSONValue.parse(body))?["event"]?["event_type"]?.stringValue == "incident.triggered"
    }

    /// The event's `import` metadata gains the receipt it came from; a
    /// payload without a kept signature (ServiceNow, polled records) keeps
    /// its raw body here, so every mapped event's body stays in the ledger,
    /// covered by the event's hash.
    static func withReceipt(_ metadata: JSONValue, receipt: Receipt, kind: ReceiptKind, resolution: Resolution? = nil) -> JSONValue {
        guard case .object(var top) = metadata, case .object(var imported)? = top["import"] else { return metadata }
        if let r = resolution {
            var o: [String: JSONValue] = [
                "id": .int(r.id), "action": .string(r.action.rawValue), "actor": .string(r.actor),
                "login": .string(r.login), "reason": .string(r.reason), "recorded_at": .string(RFC3339.format(r.recordedAt)),
            ]
            if let c = r.caseID { o["case"] = .string(c) }
            imported["resolution"] = .object(o)
        }
        imported["receipt_id"] = .int(receipt.id)
        imported["received_at"] = .string(RFC3339.format(receipt.receivedAt))
        imported["received_by"] = .string("dtledger serve")
        if case .polled = kind { imported["polled"] = .bool(true) }
        // An email event keeps its raw message itself (`raw_message`).
        if imported["signature"]?["payload_kept"] != .bool(true), imported["raw_message_kept"] == nil {
            if receipt.body.count <= KeptSignature.maxKeptPayloadBytes, let text = String(validating: receipt.body, as: UTF8.self),
               !receipt.body.contains(0) {
                imported["payload"] = .string(text)
            } else if receipt.body.count <= KeptSignature.maxKeptPayloadBytes {
                imported["payload_base64"] = .string(receipt.body.base64EncodedString())
            }
        }
        top["import"] = .object(imported)
        return .object(top)
    }

    static func caseYear(_ date: Date) -> Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "America/New_York")!
        return calendar.component(.year, from: date)
    }
}

extension MapperPass {
    mutating func count(_ o: ReceiptOutcome) {
        switch o.kind {
        case .appended: appended += 1
        case .duplicate: duplicates += 1
        case .inbox: inbox += 1
        case .ignored: ignored += 1
        case .discarded: discarded += 1
        }
    }
}

/// DKIM keys from the first provider that has a record (a key file, then DNS).
struct DKIMKeyChain: DKIMKeyProvider {
    let providers: [any DKIMKeyProvider]
    init(_ providers: [any DKIMKeyProvider]) { self.providers = providers }

    func lookup(_ name: String) -> DKIMKeyLookup {
        var last = DKIMKeyLookup.notFound
        for p in providers {
            let found = p.lookup(name)
            if case .records(let r) = found, !r.isEmpty { return found }
            if case .failed = found { last = found }
        }
        return last
    }
}

/// Source ref -> case, shared with the importers' lookups (which are
/// Sendable closures called on the mapper's thread).
final class RefIndex: Sendable {
    private let map = Mutex<[String: String]>([:])
    func set(_ ref: String, _ caseID: String) { map.withLock { $0[ref] = caseID } }
    func get(_ ref: String) -> String? { map.withLock { $0[ref] } }
    func snapshot() -> [String: String] { map.withLock { $0 } }
    func restore(_ s: [String: String]) { map.withLock { $0 = s } }
}

/// The mapper's store, for lookups that run on its own thread.
final class StoreBox: @unchecked Sendable {
    // @unchecked: only used synchronously by the mapper's thread, which owns the connection.
    let store: EventStore
    init(_ store: EventStore) { self.store = store }
}

/// Each case's kind, opening time and closures (resolved, concluded,
/// cancelled; reopened), read incrementally by position from the events of
/// those types, to answer "which cases are open at a time".
final class CaseIndex: Sendable {
    struct Info: Sendable {
        var kind: CaseKind
        var opened: Date
        var closures: [(at: Date, closed: Bool)] = []
    }
    private struct State {
        var cases: [String: Info] = [:]
        var through: Int64 = 0
    }
    private let state = Mutex(State())

    static let types: [String] = [
        EventType.incidentOpened, .downtimePlanned, .incidentResolved, .incidentReopened, .downtimeConcluded, .downtimeCancelled,
        .caseOpened, .caseClosed,
    ].map(\.rawValue)

    func reset() { state.withLock { $0 = State() } }

    /// Reads the relevant events after the last position read.
    func refresh(_ store: EventStore) throws {
        let after = state.withLock { $0.through }
        let rows: [Row]
        do {
            rows = try store.connection.query("""
                SELECT position, case_id, type, (extract(epoch FROM occurred_at) * 1000000)::bigint,
                       CASE WHEN type = $3 THEN data->>'kind' END
                  FROM dtledger.events WHERE position > $1::bigint AND type = ANY($2::text[]) ORDER BY position
                """, [String(after), PGText.array(CaseIndex.types), EventType.caseOpened.rawValue]).rows
        } catch { throw LedgerError.from(error) }
        let head = try Int64(store.connection.query("SELECT coalesce(max(position), 0) FROM dtledger.events").scalar ?? "0") ?? 0
        state.withLock { s in
            for r in rows {
                guard let caseID = r[1], let type = r[2] else { continue }
                let at = RFC3339.date(microseconds: r.int64(3) ?? 0)
                // A case of a kind a policy declares is opened by case.opened
                // (its kind in the data) and closed by case.closed, which
                // closes nothing in an incident or a downtime (as CaseState).
                let kind = type == EventType.caseOpened.rawValue ? r[4].flatMap(CaseKind.init(rawValue:))
                    : Catalog.caseKind(forOpeningType: EventType(rawValue: type))
                if let kind {
                    if s.cases[caseID] == nil { s.cases[caseID] = Info(kind: kind, opened: at) }
                } else if type == EventType.caseClosed.rawValue {
                    if let info = s.cases[caseID], !info.kind.isBuiltIn { s.cases[caseID]?.closures.append((at, true)) }
                } else if type != EventType.caseOpened.rawValue {
                    s.cases[caseID]?.closures.append((at, type != EventType.incidentReopened.rawValue))
                }
            }
            s.through = max(s.through, head)
        }
    }

    /// Every case's kind.
    func kinds() -> [String: CaseKind] { state.withLock { $0.cases.mapValues(\.kind) } }

    /// Cases opened by `at` and not closed at `at`.
    func open(at: Date) -> [String: CaseKind] {
        state.withLock { s in
            var out: [String: CaseKind] = [:]
            for (id, info) in s.cases where info.opened <= at {
                let last = info.closures.filter { $0.at <= at }.max { $0.at < $1.at }
                if last?.closed != true { out[id] = info.kind }
            }
            return out
        }
    }
}
