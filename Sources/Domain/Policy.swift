import Events
import Foundation

/// A notification policy: the process written as declarative rules
/// (schema: docs/policy.md). Stored in the ledger as the `policy` of a
/// `policy.published` event; `document` is that JSON, kept verbatim.
public struct Policy: Sendable {
    public let document: JSONValue
    public let name: String
    public let version: String
    public let timezoneName: String
    public let timeZone: TimeZone
    /// Optional default effective date used when the policy is published.
    public let effectiveFrom: Date?
    /// Named durations (`planning: PT24H`), text and seconds.
    public let parameters: [String: String]
    /// Named audiences: their plain refs (conditional entries and
    /// quantifiers are in `audienceEntries`).
    public let audiences: [String: [String]]
    /// Every entry of each named audience, plain ones included.
    public let audienceEntries: [String: [AudienceEntry]]
    /// Case attributes the policy declares (`attributes:`).
    public let attributes: [String: AttributeDeclaration]
    /// Required message content per case kind.
    public let content: [CaseKind: [String]]
    public let rules: [Rule]
    /// Channels the policy declares besides Slack and email (`channels:`).
    public let channels: [Channel]
    /// Case kinds the policy declares besides the two built-in ones (`case_kinds:`).
    public let caseKinds: [CaseKind: CaseKindDeclaration]
    /// Problems found while reading the document (rule-level); see `problems(directory:)`.
    let parseProblems: [String]
    /// The audience targets of each rule (by index in `rules`; empty for
    /// requirements other than notifications), expanded once per policy
    /// rather than once per case.
    let ruleTargets: [[AudienceTarget]]
    /// For rules whose audience has conditional entries or quantifiers
    /// (nil otherwise): the audience expanded once, chosen per occasion.
    let ruleAudiences: [RuleAudience?]
    /// Local days in `timeZone`, shared by every case the policy judges.
    let days: LocalCalendar

    public init(name: String, version: String, timezoneName: String, timeZone: TimeZone, effectiveFrom: Date?,
                parameters: [String: String], audiences: [String: [String]], content: [CaseKind: [String]],
                rules: [Rule], document: JSONValue, parseProblems: [String],
                channels: [Channel] = [], caseKinds: [CaseKind: CaseKindDeclaration] = [:],
                attributes: [String: AttributeDeclaration] = [:], audienceEntries: [String: [AudienceEntry]]? = nil) {
        self.name = name
        self.version = version
        self.timezoneName = timezoneName
        self.timeZone = timeZone
        self.effectiveFrom = effectiveFrom
        self.parameters = parameters
        self.audiences = audiences
        let entries = audienceEntries ?? audiences.mapValues { $0.map { AudienceEntry(ref: $0) } }
        self.audienceEntries = entries
        self.attributes = attributes
        self.content = content
        self.rules = rules
        self.channels = channels
        self.caseKinds = caseKinds
        self.document = document
        self.parseProblems = parseProblems
        self.days = LocalCalendar(timeZone)
        self.ruleTargets = rules.map { rule in
            guard case .notification(let n) = rule.requirement else { return [] }
            return AudienceResolver.targets(n.audience, audiences: audiences)
        }
        self.ruleAudiences = rules.map { rule in
            guard case .notification(let n) = rule.requirement else { return nil }
            let items = RuleAudience.expand(n.allEntries, named: entries)
            return RuleAudience.isDynamic(items) ? RuleAudience(items: items) : nil
        }
    }

    public static let defaultTimezone = "America/New_York"

    /// Policies/default.yaml, embedded in the module.
    public static var defaultPolicyYAML: String {
        EmbeddedFiles.files.first { $0.name == "default.yaml" }?.text ?? ""
    }

    /// The default policy (the seed process). It is checked by the tests;
    /// a broken embedded file is a build defect, so this traps.
    public static func defaultPolicy() -> Policy {
        do {
            return try parse(yaml: defaultPolicyYAML)
        } catch {
            preconditionFailure("Policies/default.yaml is invalid: \(error)")
        }
    }

    public static func parse(yaml: String) throws(ValidationError) -> Policy {
        try Policy(json: YAML.parse(yaml))
    }

    /// Parses and refuses a policy with any problem (see `problems(directory:)`).
    public static func parseChecked(yaml: String, directory: Directory?) throws(ValidationError) -> Policy {
        let policy = try parse(yaml: yaml)
        let problems = policy.problems(directory: directory)
        if !problems.isEmpty {
            throw ValidationError(field: "policy", problems.joined(separator: "; "))
        }
        return policy
    }

    public var json: JSONValue { document }

    public func rule(_ id: String) -> Rule? { rules.first { $0.id == id } }

    /// Slack, email and the declared channels.
    public var knownChannels: [Channel] { Channel.builtIn + channels.filter { !$0.isBuiltIn } }

    /// Whether the policy knows the channel (built in or declared).
    public func knows(_ channel: Channel) -> Bool { channel.isBuiltIn || channels.contains(channel) }

    /// Whether the policy knows the case kind (built in or declared).
    public func knows(_ kind: CaseKind) -> Bool { kind.isBuiltIn || caseKinds[kind] != nil }
}

/// A case kind a policy declares (`case_kinds: {name: {title: ...}}`),
/// opened by `case.opened` with that kind.
public struct CaseKindDeclaration: Sendable, Equatable {
    /// What such a case is, for people ("Evaluate another team's outage").
    public var title: String?

    public init(title: String? = nil) { self.title = title }
}

/// A class (immutable) rather than a struct: the engine hands each rule
/// to the evaluation of every case, and a copy is then one reference
/// count instead of one per field.
public final class Rule: Sendable {
    public let id: String
    public let title: String
    /// The exact sentence(s) of the process this rule encodes.
    public let quote: String
    public let appliesWhen: Applicability
    public let requirement: Requirement
    /// Roles allowed to do it (`communication_owner` = the case's communication owner).
    public let by: [String]
    public let due: [Due]
    /// `must` (default) or `should`: a `should` rule is judged and reported
    /// but not counted in the compliance rate.
    public let level: RuleLevel
    /// `evidence: {source: automated}`: only verified imported events count.
    public let evidence: EvidenceSource?

    init(id: String, title: String, quote: String, appliesWhen: Applicability, requirement: Requirement,
         by: [String], due: [Due], level: RuleLevel = .must, evidence: EvidenceSource? = nil) {
        self.id = id
        self.title = title
        self.quote = quote
        self.appliesWhen = appliesWhen
        self.requirement = requirement
        self.by = by
        self.due = due
        self.level = level
        self.evidence = evidence
    }
}

public struct Applicability: Sendable {
    public var kind: CaseKind?
    public var teams: [Team]?
    /// While-condition: the case's priority is one of these.
    public var priorities: [Priority]?
    /// While-condition: the case's flags have these values.
    public var flags: [CaseFlag: Bool]
    /// While-conditions on case attributes and product attributes (all must hold).
    public var values: [ValueCondition] = []

    public var hasCondition: Bool { priorities != nil || !flags.isEmpty || !values.isEmpty }

    /// Whether the condition depends on the case's product (and so on the directory).
    var readsProduct: Bool { values.contains { if case .product = $0.subject { true } else { false } } }
}

public struct NotificationRequirement: Sendable {
    public var channels: [Channel]
    public var destination: String?
    /// Audience refs (named audiences or `role:`, `person:`, `group:`, `product:pm`, `product:oncall`).
    public var audience: [String]
    public var content: [String]
    /// Required parts of content fields (`{field, includes}` entries; their
    /// fields are in `content` too).
    public var parts: [ContentRequirement] = []
    /// Every audience entry (plain, conditional, `every`), in order; empty:
    /// `audience` is all there is.
    public var entries: [AudienceEntry] = []

    var allEntries: [AudienceEntry] { entries.isEmpty ? audience.map { AudienceEntry(ref: $0) } : entries }
}

public struct TicketRequirement: Sendable {
    public var system: String
    public var purpose: TicketPurpose
    /// Role whose approval the ticket must record.
    public var approvedBy: String?
}

/// `requires: {decision: {decision: affects_us, outcomes: [yes, no]}}`.
public struct DecisionRequirement: Sendable {
    /// The decision's name (`decision.recorded`'s `decision`).
    public var decision: String
    /// The outcomes that count (compared without case); nil: any outcome.
    public var outcomes: [String]?
}

public enum Requirement: Sendable {
    case notification(NotificationRequirement)
    case ticket(TicketRequirement)
    /// A maintenance window in `system`; `coversDowntime`: it must span the downtime window.
    case maintenanceWindow(system: String, coversDowntime: Bool)
    case maintenanceWindowVerified(system: String)
    case escalation(to: String)
    case milestone(MilestoneKind)
    /// A `decision.recorded` of that decision (with one of the outcomes, when given).
    case decision(DecisionRequirement)
    /// Every message of the case carries the policy's content for this case kind.
    case everyMessageContent(CaseKind)
    /// A prohibition: no message on its channels carries matching content.
    case prohibitedContent(ProhibitedContent)
    /// The case's priority agrees with the first matching row (docs/policy.md "priority_matrix").
    case priorityMatrix([PriorityMatrixRow])
    /// Could not be read (see the policy's problems).
    case invalid
}

public enum WindowEdge: String, Sendable, CaseIterable {
    case start = "window.start"
    case end = "window.end"
}

public enum Timing: Sendable {
    /// Within a duration after the first event of a type (the case-opening
    /// event: after the case enters the rule's while-condition).
    case within(seconds: TimeInterval, text: String, after: String)
    /// For each event of a type (optionally a milestone kind), within a duration.
    case each(event: String, milestone: MilestoneKind?, seconds: TimeInterval, text: String)
    case before(WindowEdge)
    /// By the first (non-retracted) event of a type, or `case.closed`: the
    /// first time the case closed (docs/policy.md §2, "before a later event").
    case beforeEvent(String)
    case dayBefore(WindowEdge)
    case dailyWhileUnresolved
    /// Each interval of `seconds` while the case is unresolved, from the
    /// first event of `after` (nil: the case-opening event), or the entry
    /// into the rule's while-condition (docs/policy.md §2, "every").
    case every(seconds: TimeInterval, text: String, after: String?)
    /// No deadline: checked over the whole case (content rules).
    case always
    case invalid
}

extension Timing {
    /// `before: case.closed`: whichever event closes the case.
    public static let caseClosed = "case.closed"
}

public struct Due: Sendable {
    public var label: String?
    public var timing: Timing
}

extension Timing: CustomStringConvertible {
    /// The timing as the policy file writes it.
    public var description: String {
        switch self {
        case .within(_, let text, let after): "within \(text) after \(after)"
        case .each(let event, let milestone, _, let text):
            "each \(event)\(milestone.map { " \($0.rawValue)" } ?? "") within \(text)"
        case .before(let edge): "before \(edge.rawValue)"
        case .beforeEvent(let event): "before \(event)"
        case .dayBefore(let edge): "day_before \(edge.rawValue)"
        case .dailyWhileUnresolved: "daily_while_unresolved"
        case .every(_, let text, let after): "every \(text) while unresolved\(after.map { " after \($0)" } ?? "")"
        case .always: "always"
        case .invalid: "invalid"
        }
    }
}
