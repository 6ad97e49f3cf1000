import Events
import Foundation
import Domain

/// The importers' configuration file (YAML or JSON; docs/importers.md).
public struct IngestConfig: Sendable, Equatable {
    /// Source user ids, emails or names -> directory handle.
    public var actors: [String: String] = [:]
    /// Source ids (PagerDuty incident, service or window ids; ServiceNow
    /// numbers) -> case id.
    public var cases: [String: String] = [:]
    public var pagerDutyServices: [String: PagerDutyService] = [:]
    /// PagerDuty priority names -> P1..P4 (names starting with P1..P4 need no entry).
    public var pagerDutyPriorities: [String: String] = [:]
    /// e.g. https://example.slack.com: permalinks are built from it.
    public var slackWorkspaceURL: String?
    /// Slack channel id -> name (`#mhv-health-portal-coordination`).
    public var slackChannels: [String: String] = [:]
    public var serviceNowInstanceURL: String?
    /// Time zone of ServiceNow date-times without an offset (default UTC, as the Table API returns them).
    public var serviceNowTimeZone: TimeZone = TimeZone(identifier: "UTC")!
    /// Slack channel id -> which open case a message in it may take when
    /// nothing else names its case (`slack: {open_case: {C123: incident}}`):
    /// the one open case of that kind, only when there is exactly one. Used
    /// only with `ImportContext.lookups` (`dtledger serve`).
    public var slackOpenCase: [String: OpenCaseRule] = [:]

    public struct PagerDutyService: Sendable, Equatable {
        public var team: String?
        public var product: String?
        /// The service name events use (default: PagerDuty's summary).
        public var name: String?
        /// Impacted services for `estimated_user_impact` (default: [name]).
        public var impactServices: [String]?
    }

    public init() {}

    public static func parse(_ text: String) throws(ValidationError) -> IngestConfig {
        let doc = try YAML.parse(text)
        guard let root = doc.objectValue else { throw ValidationError(field: nil, "the config must be a mapping") }
        var c = IngestConfig()
        func strings(_ v: JSONValue?, _ field: String) throws(ValidationError) -> [String: String] {
            guard let v else { return [:] }
            guard let o = v.objectValue else { throw ValidationError(field: field, "expected a mapping") }
            var out: [String: String] = [:]
            for (k, x) in o {
                guard let s = x.stringValue else { throw ValidationError(field: "\(field).\(k)", "expected text, got \(x.kindName)") }
                out[k] = s
            }
            return out
        }
        c.actors = try strings(root["actors"], "actors")
        c.cases = try strings(root["cases"], "cases")
        for (k, v) in c.cases where !Envelope.isValidCaseID(v) {
            throw ValidationError(field: "cases.\(k)", "'\(printable(v))' is not a valid case id")
        }
        if let pd = root["pagerduty"] {
            c.pagerDutyPriorities = try strings(pd["priorities"], "pagerduty.priorities")
            for (id, s) in pd["services"]?.objectValue ?? [:] {
                guard let o = s.objectValue else { throw ValidationError(field: "pagerduty.services.\(id)", "expected a mapping") }
                c.pagerDutyServices[id] = PagerDutyService(
                    team: o["team"]?.stringValue, product: o["product"]?.stringValue, name: o["name"]?.stringValue,
                    impactServices: o["impact_services"]?.arrayValue?.compactMap(\.stringValue))
                if let team = o["team"]?.stringValue, Team(rawValue: team) == nil {
                    throw ValidationError(field: "pagerduty.services.\(id).team", "'\(printable(team))' is not one of \(Team.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                if let cid = o["case"]?.stringValue { c.cases[id] = cid }
            }
        }
        if let slack = root["slack"] {
            c.slackWorkspaceURL = slack["workspace_url"]?.stringValue.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
            c.slackChannels = try strings(slack["channels"], "slack.channels")
            for (channel, v) in try strings(slack["open_case"], "slack.open_case") {
                guard let rule = OpenCaseRule(rawValue: v) else {
                    throw ValidationError(field: "slack.open_case.\(channel)",
                                          "'\(printable(v))' is not one of \(OpenCaseRule.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                c.slackOpenCase[channel] = rule
            }
        }
        if let sn = root["servicenow"] {
            c.serviceNowInstanceURL = sn["instance_url"]?.stringValue.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
            if let tz = sn["timezone"]?.stringValue {
                guard let zone = TimeZone(identifier: tz) else {
                    throw ValidationError(field: "servicenow.timezone", "'\(printable(tz))' is not a tz database name")
                }
                c.serviceNowTimeZone = zone
            }
        }
        return c
    }
}

/// Which open case a Slack channel's messages may take (`slack.open_case`).
public enum OpenCaseRule: String, Sendable, Equatable, CaseIterable {
    case incident
    case plannedDowntime = "planned_downtime"
    /// An open case of either kind.
    case any

    /// Whether a case of `kind` matches the rule.
    public func matches(_ kind: CaseKind) -> Bool {
        switch self {
        case .incident: kind == .incident
        case .plannedDowntime: kind == .plannedDowntime
        case .any: true
        }
    }
}

/// What a long-running receiver (`dtledger serve`) knows from the ledger and
/// its receipts, passed in as closures so that the importers stay pure. With
/// lookups, the importers infer a message's case and purpose
/// (docs/importers.md, "Case and purpose inference (dtledger serve)").
public struct CaseLookups: Sendable {
    /// The case an earlier receipt with this ref was mapped to (see Refs).
    public var caseForRef: @Sendable (String) -> String?
    /// Cases open at a time (opened, not resolved/concluded/cancelled, reopened counts as open), with their kind.
    public var openCases: @Sendable (Date) -> [String: CaseKind]
    /// The purpose of a message sent to a case at a time, inferred from the case's state, and the rule that chose it.
    public var inferPurpose: @Sendable (_ caseID: String, _ at: Date) -> (purpose: NotificationPurpose, rule: String)?

    public init(caseForRef: @escaping @Sendable (String) -> String?,
                openCases: @escaping @Sendable (Date) -> [String: CaseKind],
                inferPurpose: @escaping @Sendable (_ caseID: String, _ at: Date) -> (purpose: NotificationPurpose, rule: String)?) {
        self.caseForRef = caseForRef
        self.openCases = openCases
        self.inferPurpose = inferPurpose
    }
}

/// What an import knows besides the payloads.
public struct ImportContext: Sendable {
    public var config: IngestConfig
    public var directories: DirectoryHistory
    /// Who did it when the payload names nobody the directory knows.
    public var defaultActor: String
    /// Put every event into this case (`--case`).
    public var caseOverride: String?
    /// Cases already in the ledger, with their kind.
    public var knownCases: [String: CaseKind]
    /// The signing secret, when signatures must be verified.
    public var secret: String?
    /// The name of the environment variable (or config entry) that held
    /// `secret`: kept with each verified event so the signature can be
    /// re-verified later (`dtledger verify --signatures`). Never the secret.
    public var secretName: String?
    /// Used when a saved payload has no `received_at`.
    public var now: Date
    /// PagerDuty: the team of an incident whose service the config does not map.
    public var defaultTeam: Team?
    /// Slack: the purpose of a message without a `Purpose:` line.
    public var defaultPurpose: NotificationPurpose?
    /// `dtledger serve`: the ledger's and the receipts' answers, for
    /// inferring cases and purposes. nil (every import command): the
    /// importers infer nothing and behave as they always did.
    public var lookups: CaseLookups?

    public init(config: IngestConfig = IngestConfig(), directories: DirectoryHistory = .empty, defaultActor: String,
                caseOverride: String? = nil, knownCases: [String: CaseKind] = [:], secret: String? = nil,
                secretName: String? = nil, now: Date = Date(), defaultTeam: Team? = nil,
                defaultPurpose: NotificationPurpose? = nil, lookups: CaseLookups? = nil) {
        self.config = config
        self.directories = directories
        self.defaultActor = defaultActor
        self.caseOverride = caseOverride
        self.knownCases = knownCases
        self.secret = secret
        self.secretName = secretName
        self.now = now
        self.defaultTeam = defaultTeam
        self.defaultPurpose = defaultPurpose
        self.lookups = lookups
    }

    /// The case for a thing with these source ids, or one named in these texts.
    func caseFor(ids: [String?], texts: [String?]) -> String? {
        if let caseOverride { return caseOverride }
        for id in ids.compactMap({ $0 }) { if let c = config.cases[id] { return c } }
        for text in texts.compactMap({ $0 }) { if let c = Labels.caseID(in: text) { return c } }
        return nil
    }

    /// A directory handle for a source user: the config's `actors`, else the
    /// directory by Slack id, email, handle or name.
    func handle(ids: [String?], at date: Date) -> String? {
        let refs = ids.compactMap { $0 }.filter { !$0.isEmpty }
        for r in refs { if let h = config.actors[r] { return h } }
        guard let dir = directories.at(date) ?? directories.directories.last else { return nil }
        for r in refs {
            if let p = dir.person(ref: r) { return p.handle }
            if let p = dir.people.first(where: { $0.name.caseInsensitiveCompare(r) == .orderedSame }) { return p.handle }
        }
        return nil
    }
}

/// One event an importer made, with the metadata the ledger keeps beside it.
public struct ImportedEvent: Sendable, Equatable {
    public var item: Int
    public var envelope: Envelope
    public var metadata: JSONValue
}

/// The result of mapping an input: the events (in input order) and what
/// could not be mapped. Signature failures are kept apart: they fail the
/// whole import.
public struct ImportOutcome: Sendable, Equatable {
    public var events: [ImportedEvent] = []
    public var unmapped: [Unmapped] = []
    public var signatureFailures: [Unmapped] = []
}

/// An event an importer mapped, before the shared checks.
struct Draft {
    /// The event's data.
    var payload: any CatalogPayload
    var caseID: String?
    var occurredAt: Date
    var actor: String?
    var key: String
    var sourceID: String
    /// Source fields stored in `data` beside the payload's (ServiceNow's
    /// ticket state and dates): the catalog does not read them.
    var sourceFields: [String: JSONValue] = [:]
    /// Stored in the event's `import` metadata beside the pipeline's own.
    var extra: [String: JSONValue] = [:]

    var type: EventType { payload.eventType }

    /// The event's `data`: the payload's JSON and the source fields.
    var data: JSONValue {
        guard !sourceFields.isEmpty, case .object(var members) = payload.json else { return payload.json }
        members.merge(sourceFields) { fromPayload, _ in fromPayload }
        return .object(members)
    }
}

enum Mapped {
    case event(Draft)
    /// `code`: `.notMapped` (not evidence) unless the skip waits on
    /// something a person can fix (`.needsConfig`).
    case skip(sourceID: String?, reason: String, code: Unmapped.Code = .notMapped)
}

/// The shared import pipeline: signature, mapping, catalog validation, the
/// never-opened check and the metadata.
enum Pipeline {
    /// `scheme` names how `verify` checks a signature: a verified payload
    /// keeps what re-verifying it needs (KeptSignature).
    static func run(_ payloads: [RawPayload], source: EventSource, context: ImportContext,
                    scheme: SignatureScheme? = nil, verify: ((RawPayload, String, Date) -> String?)?,
                    parse: (RawPayload) -> Result<JSONValue, Unmapped> = parsedBody,
                    map: (RawPayload, JSONValue) -> [Mapped]) -> ImportOutcome {
        var outcome = ImportOutcome()
        var opened = context.knownCases
        var keys = Set<String>()
        for payload in payloads {
            var verified = false
            var kept: JSONValue?
            if let secret = context.secret, let verify {
                let receivedAt = payload.receivedAt ?? context.now
                if let problem = verify(payload, secret, receivedAt) {
                    outcome.signatureFailures.append(Unmapped(item: payload.item, reason: "signature: \(problem)", code: .signature))
                    continue
                }
                verified = true
                if let scheme {
                    kept = KeptSignature.record(payload, scheme: scheme, secretName: context.secretName, receivedAt: receivedAt)
                }
            }
            let body: JSONValue
            switch parse(payload) {
            case .success(let v): body = v
            case .failure(let u): outcome.unmapped.append(u); continue
            }
            for mapped in map(payload, body) {
                switch mapped {
                case .skip(let id, let reason, let code):
                    outcome.unmapped.append(Unmapped(item: payload.item, sourceID: id, reason: reason, code: code))
                case .event(let d):
                    func skip(_ code: Unmapped.Code, _ reason: String) {
                        outcome.unmapped.append(Unmapped(item: payload.item, sourceID: d.sourceID, reason: reason, code: code))
                    }
                    guard let caseID = d.caseID else {
                        skip(.noCase, "no case: map it with --case, --map ID=CASE or the config's cases, or name the case in the text")
                        continue
                    }
                    var meta: [String: JSONValue] = [
                        "source": .string(source.rawValue), "source_event_id": .string(d.sourceID),
                        "payload_sha256": .string(payload.sha256), "signature_verified": .bool(verified),
                    ]
                    for (k, v) in d.extra { meta[k] = v }
                    if let kept { meta["signature"] = kept }
                    let envelope = Envelope(type: d.type.rawValue, caseID: caseID, occurredAt: d.occurredAt,
                                            actor: d.actor ?? context.defaultActor, source: source, key: d.key,
                                            data: d.data)
                    do {
                        try envelope.validate()
                        try Catalog.validate(envelope)
                    } catch {
                        skip(.invalidEvent, "not a valid \(d.type) event: \(error.description)")
                        continue
                    }
                    if let kind = Catalog.caseKind(forOpeningType: d.type) {
                        if opened[caseID] == nil { opened[caseID] = kind }
                    } else if opened[caseID] == nil {
                        skip(.caseNotOpened, "case \(caseID) was never opened (import or type its opening event first)")
                        continue
                    }
                    guard keys.insert(d.key).inserted else { continue }  // the same event twice in one input
                    outcome.events.append(ImportedEvent(item: payload.item, envelope: envelope,
                                                        metadata: .object(["import": .object(meta)])))
                }
            }
        }
        return outcome
    }
}

/// Labelled lines (`Reason: ...`) and case ids in free text.
public enum Labels {
    /// The first case id (`INC-2026-0142`, `PD-2026-0007`) in `text`.
    public static func caseID(in text: String) -> String? {
        guard let r = text.range(of: #"\b(INC|PD|CASE)-[0-9]{4}-[0-9]{4,}\b"#, options: .regularExpression) else { return nil }
        return String(text[r])
    }

    /// `Label: value` lines, in order: labels normalised to field names
    /// (`Estimated user impact` -> `estimated_user_impact`); Slack bold
    /// (`*Reason:*`), bullets and quotes are ignored.
    public static func lines(_ text: String) -> [(label: String, value: String)] {
        var out: [(String, String)] = []
        for raw in text.components(separatedBy: .newlines) {
            var line = raw.trimmingCharacters(in: .whitespaces)
            while let f = line.first, "•->".contains(f) || f == "&" && line.hasPrefix("&gt;") {
                line = line.hasPrefix("&gt;") ? String(line.dropFirst(4)) : String(line.dropFirst())
                line = line.trimmingCharacters(in: .whitespaces)
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            var label = String(line[..<colon]).replacingOccurrences(of: "*", with: "").replacingOccurrences(of: "_", with: " ")
            label = label.trimmingCharacters(in: .whitespaces)
            var value = String(line[line.index(after: colon)...])
            value = value.trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("*") { value = String(value.drop(while: { $0 == "*" })).trimmingCharacters(in: .whitespaces) }
            guard !label.isEmpty, label.count <= 40, !value.isEmpty, !value.hasPrefix("//"),
                  label.allSatisfy({ $0.isLetter || $0.isNumber || $0 == " " || $0 == "-" || $0 == "/" }),
                  label.first!.isLetter else { continue }
            let field = label.lowercased().split(whereSeparator: { $0 == " " || $0 == "-" || $0 == "/" }).joined(separator: "_")
            out.append((field, value))
        }
        return out
    }
}

// MARK: JSON helpers

extension JSONValue {
    func str(_ path: String...) -> String? {
        var v: JSONValue? = self
        for p in path { v = v?[p] }
        return v?.stringValue
    }
}

func parseTime(_ text: String?) -> Date? {
    guard let text else { return nil }
    return try? RFC3339.parse(text)
}

// MARK: What an Unmapped code means to a receiver

extension Unmapped.Code {
    /// The payload would map once the config says more (a PagerDuty service
    /// without a team, a priority name that is not P1..P4). Given only with
    /// `ImportContext.lookups`: without them such skips stay `.notMapped`,
    /// as they always were.
    public static let needsConfig = Unmapped.Code(rawValue: "needs_config")

    /// The payload may be evidence that cannot be placed yet: a receiver
    /// keeps it for a person to resolve (`dtledger serve`'s inbox) instead
    /// of ignoring it. Only `.notMapped` (not evidence: chatter, a message
    /// tagging nobody, an unchanged edit, an event type the importers do
    /// not map) is ignored; every other code, including one a future
    /// importer adds, waits: nothing is thrown away by default.
    public var waitsForResolution: Bool { self != .notMapped }
}
