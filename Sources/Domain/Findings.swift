import Events
import Foundation

/// Something a verdict's reader must know about its evidence: who recorded
/// it, whether its provenance can be believed, when it was recorded.
/// Findings are listed by every report; some of them (a login mismatch, a
/// shared or unknown login) also stop the evidence from counting.
public struct Finding: Sendable, Equatable, Hashable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case loginMismatch = "login_mismatch"
        case unboundLogin = "unbound_login"
        case sharedLogin = "shared_login"
        case unknownLogin = "unknown_login"
        case unverifiedProvenance = "unverified_provenance"
        /// Email evidence that is not DKIM-verified (unsigned, or its
        /// signatures failed): it counts, and the reader is told.
        case unverifiedEmail = "unverified_email"
        case recordedAfterDeadline = "recorded_after_deadline"
        case retroactivePolicy = "retroactive_policy"
        case retroactiveDirectory = "retroactive_directory"
        case undecodableEvent = "undecodable_event"
    }

    public var kind: Kind
    /// The event it is about, when it is about one.
    public var eventID: String?
    /// One line, e.g. "actor sean-good recorded by login bob".
    public var detail: String
    /// A duration, when the finding has one (how long after the deadline).
    public var seconds: Int64?

    public init(kind: Kind, eventID: String? = nil, detail: String, seconds: Int64? = nil) {
        self.kind = kind
        self.eventID = eventID
        self.detail = detail
        self.seconds = seconds
    }

    /// The kinds about who recorded an action (the "Identity and provenance" of a report).
    public var isIdentity: Bool {
        switch kind {
        case .loginMismatch, .unboundLogin, .sharedLogin, .unknownLogin, .unverifiedProvenance, .unverifiedEmail: true
        default: false
        }
    }

    public var json: JSONValue {
        .object(["kind": .string(kind.rawValue), "event": eventID.map(JSONValue.string) ?? .null,
                 "detail": .string(detail), "seconds": seconds.map(JSONValue.int) ?? .null])
    }

    /// `items` without repeats, in first-seen order.
    public static func unique(_ items: [Finding]) -> [Finding] {
        guard items.count > 1 else { return items }
        var seen = Set<Finding>()
        return items.filter { seen.insert($0).inserted }
    }

    /// "2h 10m", "45m", "30s": how long, for a one-line finding.
    public static func duration(_ seconds: Int64) -> String {
        let d = seconds / 86_400, h = (seconds % 86_400) / 3_600, m = (seconds % 3_600) / 60, s = seconds % 60
        var parts: [String] = []
        if d > 0 { parts.append("\(d)d") }
        if h > 0 { parts.append("\(h)h") }
        if m > 0 { parts.append("\(m)m") }
        if parts.isEmpty { parts.append("\(s)s") }
        return parts.joined(separator: " ")
    }
}

extension RecordedEvent {
    /// The database login that appended the event (`metadata.db_role`, set
    /// by the append functions from `session_user`; a client cannot set it).
    public var login: String? { metadata["db_role"]?.stringValue }
}

/// Whether an action in an actor's name may count, given the login that
/// recorded it (docs/policy.md, "Actors and logins").
enum LoginBinding: Sendable {
    /// The login is the actor's, or a service login registered for the event's source.
    case trusted
    /// The actor has no login in the directory: the action counts, with this finding.
    case unbound(Finding)
    /// The action does not count: `reason` goes on the verdict, `finding` in the report.
    case untrusted(reason: String, finding: Finding)

    var finding: Finding? {
        switch self {
        case .trusted: nil
        case .unbound(let f): f
        case .untrusted(_, let f): f
        }
    }
}

extension Directory {
    /// Binds an action that `actor` is said to have done to the login that
    /// recorded it. `actor` not being a person of the directory is left to
    /// the role checks (trusted here: nothing to bind).
    func binding(actor: String, event e: RecordedEvent) -> LoginBinding {
        let login = e.login
        let reason = "actor \(actor) recorded by login \(login ?? "(none)")"
        if let login, let owner = owner(ofLogin: login) {
            switch owner {
            case .service(let i):
                if serviceLogins[i].sources.contains(e.source) { return .trusted }
                return .untrusted(reason: reason, finding: Finding(
                    kind: .loginMismatch, eventID: e.id,
                    detail: "\(reason), a service login not registered for source \(e.source)"))
            case .shared(let names):
                return .untrusted(reason: reason, finding: Finding(
                    kind: .sharedLogin, eventID: e.id,
                    detail: "\(reason), which is shared (listed for \(names.joined(separator: ", "))): not trusted"))
            case .person(let i):
                if people[i].handle == actor { return .trusted }
                return .untrusted(reason: reason, finding: Finding(kind: .loginMismatch, eventID: e.id, detail: reason))
            }
        }
        guard let person = person(handle: actor) else { return .trusted }
        if person.logins.isEmpty {
            return .unbound(Finding(kind: .unboundLogin, eventID: e.id,
                                    detail: "\(actor) could not be bound to a login (the directory lists none)"))
        }
        return .untrusted(reason: reason, finding: Finding(
            kind: .unknownLogin, eventID: e.id,
            detail: "\(reason), which the directory does not list: not trusted"))
    }
}

extension DirectoryHistory {
    /// `Directory.binding` with the directory in force at `t`; with none in
    /// force, nothing can be bound (the role checks fail such actions anyway).
    func binding(actor: String, event: RecordedEvent, at t: Date) -> LoginBinding {
        guard let directory = at(t) else { return .trusted }
        return directory.binding(actor: actor, event: event)
    }
}

extension DirectoryHistory {
    /// Whether a retraction takes effect: its login may act for its actor
    /// (the rule engine's rule, for timelines and reports to agree with it).
    public func honoursRetraction(_ e: RecordedEvent) -> Bool {
        if case .untrusted = binding(actor: e.actor, event: e, at: e.occurredAt) { return false }
        return true
    }
}

/// Where an event's content comes from, as every report shows it: the one
/// place that reads an event's import provenance.
public enum Provenance: Sendable, Equatable {
    /// Who signed verified content, when the scheme names a signer: for
    /// email, the DKIM signing domain (d=) and selector (s=) of the
    /// signature that verified.
    public struct Signer: Sendable, Equatable, Hashable {
        public var domain: String
        public var selector: String

        public init(domain: String, selector: String) {
            self.domain = domain
            self.selector = selector
        }
    }

    /// Appended by a service login registered for `source`, which says it
    /// verified the source's signature (with the name of the environment
    /// variable that held the secret, `import.signature.secret_env`, when
    /// kept; for email the DKIM signer, `import.dkim_domain`/`dkim_selector`).
    case verified(source: String, secretName: String?, signer: Signer? = nil)
    /// Claims a verified signature that cannot be believed.
    case unverified(reason: String)
    /// Imported from `source` without a verified signature; for email, why
    /// (`no DKIM signature`, `DKIM: body hash mismatch`, `DKIM not checked`).
    case unsigned(source: String, reason: String? = nil)
    /// Typed: no import provenance claimed.
    case typed

    /// The provenance of `event` under `directory` (the one in force when
    /// it was recorded). A `signature_verified: true` claim is believed
    /// only from a registered service login for the event's source.
    public static func of(_ event: RecordedEvent, directory: Directory?) -> Provenance {
        guard let imported = event.metadata["import"] else { return .typed }
        guard imported["signature_verified"] == .bool(true) else {
            guard imported["signature_verified"] == .bool(false) else { return .typed }
            return .unsigned(source: event.source, reason: event.source == EventSource.email.rawValue ? emailReason(imported) : nil)
        }
        let login = event.login ?? "(none)"
        if let directory, case .service(let i)? = event.login.flatMap(directory.owner(ofLogin:)),
           directory.serviceLogins[i].sources.contains(event.source) {
            var signer: Signer?
            if let d = imported["dkim_domain"]?.stringValue, let s = imported["dkim_selector"]?.stringValue {
                signer = Signer(domain: d, selector: s)
            }
            return .verified(source: event.source,
                             secretName: imported["signature"]?["secret_env"]?.stringValue, signer: signer)
        }
        return .unverified(reason: "signature_verified claimed by login \(login), not a registered importer login")
    }

    /// Why an imported message is not verified, from the DKIM results the
    /// import kept (`import.dkim`, one summary per signature): none kept
    /// means no check ran; an empty list, no signature; else the first
    /// failure's reason (`failed d=... s=... a=...: body hash mismatch`).
    static func emailReason(_ imported: JSONValue) -> String {
        guard let results = imported["dkim"]?.arrayValue else { return "DKIM not checked" }
        let summaries = results.compactMap(\.stringValue)
        guard !summaries.isEmpty else { return "no DKIM signature" }
        for s in summaries where s.hasPrefix("failed ") {
            if let colon = s.range(of: ": ") { return "DKIM: " + printable(String(s[colon.upperBound...])) }
            return "DKIM: " + printable(s)
        }
        return "DKIM: " + printable(summaries[0])
    }

    /// `of(_:directory:)` with the directory in force when the event was recorded.
    public static func of(_ event: RecordedEvent, directories: DirectoryHistory) -> Provenance {
        of(event, directory: directories.at(event.recordedAt) ?? directories.directories.last)
    }

    /// The finding to report: for an unverified claim, and for email
    /// evidence that is not DKIM-verified (it counts, shown as unverified).
    public func finding(eventID: String) -> Finding? {
        switch self {
        case .unverified(let reason):
            return Finding(kind: .unverifiedProvenance, eventID: eventID, detail: reason)
        case .unsigned(let source, let reason?) where source == EventSource.email.rawValue:
            return Finding(kind: .unverifiedEmail, eventID: eventID,
                           detail: "email not DKIM-verified (\(reason)): it counts as evidence, unverified")
        default:
            return nil
        }
    }

    /// How a report shows the event's source ("pagerduty, signature
    /// verified", "email, DKIM verified (d=example.gov, s=sel2026)",
    /// "email, not verified (no DKIM signature)").
    public func label(source: String) -> String {
        let email = source == EventSource.email.rawValue
        switch self {
        case .verified(_, _, let signer?): return "\(source), DKIM verified (d=\(signer.domain), s=\(signer.selector))"
        case .verified: return email ? "\(source), DKIM verified" : "\(source), signature verified"
        case .unverified: return "\(source), signature not verified (claimed by a client)"
        case .unsigned(_, let reason?): return "\(source), not verified (\(reason))"
        case .unsigned: return "\(source), not verified"
        case .typed: return source
        }
    }

    /// The JSON every report gives an event's provenance: `status`
    /// (verified, unverified, unsigned, typed), `label`, and what it has of
    /// `source`, `secret_name`, `dkim_domain`, `dkim_selector`, `reason`.
    public func json(source: String) -> JSONValue {
        var o: [String: JSONValue] = ["label": .string(label(source: source))]
        switch self {
        case .verified(let s, let secret, let signer):
            o["status"] = .string("verified")
            o["source"] = .string(s)
            o["secret_name"] = secret.map(JSONValue.string) ?? .null
            if let signer {
                o["dkim_domain"] = .string(signer.domain)
                o["dkim_selector"] = .string(signer.selector)
            }
        case .unverified(let reason):
            o["status"] = .string("unverified")
            o["reason"] = .string(reason)
        case .unsigned(let s, let reason):
            o["status"] = .string("unsigned")
            o["source"] = .string(s)
            if let reason { o["reason"] = .string(reason) }
        case .typed:
            o["status"] = .string("typed")
        }
        return .object(o)
    }

    /// `signature_verified` as a report believes it: true only when
    /// verified; null for typed events.
    public var signatureVerified: Bool? {
        switch self {
        case .verified: true
        case .unverified, .unsigned: false
        case .typed: nil
        }
    }
}
