import Events
import Foundation

extension Policy {
    /// Reads a policy document. Throws only when the document cannot be a
    /// policy at all (not a mapping, no name, version or rules list, a rule
    /// without an id); rule-level problems are collected and reported by
    /// `problems(directory:)`, and such rules judge nothing.
    public init(json: JSONValue) throws(ValidationError) {
        let r = try FieldReader(json, path: "")
        let name = try r.string("name")
        let version: String
        switch r.value("version") {
        case .string(let s)?: version = s
        case .int(let i)?: version = String(i)
        case .double(let d)?: version = String(d)
        case nil: throw r.missing("version")
        case let v?: throw ValidationError(field: "version", "expected text, got \(v.kindName)")
        }
        var problems: [String] = []
        let tzName = try r.optionalString("timezone") ?? Policy.defaultTimezone
        var zone = TimeZone(identifier: tzName)
        if zone == nil {
            problems.append("policy: unknown timezone '\(tzName)'")
            zone = TimeZone(identifier: Policy.defaultTimezone)
        }
        let effectiveFrom = try r.optionalTime("effective_from")
        problems += PolicyScope.problems(json)

        var parameters: [String: String] = [:]
        if let p = try r.optionalObject("parameters") {
            for (key, value) in p.object {
                guard let text = value.stringValue else {
                    problems.append("parameter \(key): expected an ISO 8601 duration, got \(value.kindName)")
                    continue
                }
                if ISODuration.parse(text) == nil {
                    problems.append("parameter \(key): bad duration '\(text)' (expected ISO 8601 like PT1H, PT24H, P1D)")
                }
                parameters[key] = text
            }
        }

        let attributes = ConditionParser.declarations(r.value("attributes"), problems: &problems)
        var audiences: [String: [String]] = [:]
        var audienceEntries: [String: [AudienceEntry]] = [:]
        if let a = try r.optionalObject("audiences") {
            for key in a.object.keys.sorted() {
                if let list = try? a.optionalStringArray(key) {
                    audiences[key] = list
                    audienceEntries[key] = list.map { AudienceEntry(ref: $0) }
                } else if let items = a.object[key]?.arrayValue {
                    // Conditional entries and quantifiers: `audiences` keeps the plain refs.
                    var found: [String] = []
                    let entries = AudienceEntry.parse(items, field: "audiences.\(key)", parser: ConditionParser(attributes: attributes),
                                                      problems: &found)
                    problems += found.map { "audience \(key): \($0)" }
                    audienceEntries[key] = entries
                    audiences[key] = entries.filter(\.isPlain).map(\.ref)
                } else {
                    problems.append("audience \(key): expected a list of audience refs")
                }
            }
        }

        let channels = Policy.parseChannels(r.value("channels"), &problems)
        let caseKinds = Policy.parseCaseKinds(r.value("case_kinds"), &problems)
        let knownKinds = Set(CaseKind.builtIn).union(caseKinds.keys)

        var content: [CaseKind: [String]] = [:]
        if let c = try r.optionalObject("content") {
            for key in c.object.keys {
                guard let kind = CaseKind(rawValue: key), knownKinds.contains(kind) else {
                    problems.append("content: unknown case kind '\(key)' (\(Policy.kindsExpected))")
                    continue
                }
                content[kind] = (try? c.optionalStringArray(key)) ?? []
            }
        }

        guard let ruleValues = r.value("rules")?.arrayValue else {
            throw ValidationError(field: "rules", r.has("rules") ? "expected a list of rules" : "required field is missing")
        }
        var rules: [Rule] = []
        for (i, value) in ruleValues.enumerated() {
            let rr = try FieldReader(value, path: "rules[\(i)]")
            let id = try rr.string("id")
            var parser = RuleParser(id: id, reader: rr, parameters: parameters,
                                    channels: Channel.builtIn + channels.filter { !$0.isBuiltIn }, kinds: knownKinds)
            parser.attributes = attributes
            parser.audienceEntries = audienceEntries
            rules.append(parser.parse())
            problems += parser.problems
        }
        self.init(name: name, version: version, timezoneName: tzName, timeZone: zone!, effectiveFrom: effectiveFrom,
                  parameters: parameters, audiences: audiences, content: content, rules: rules,
                  document: json, parseProblems: problems, channels: channels, caseKinds: caseKinds,
                  attributes: attributes, audienceEntries: audienceEntries)
    }

    /// What a case kind may be, for problems' text.
    static let kindsExpected = "expected planned_downtime, incident or a kind declared in case_kinds:"

    /// `channels: [phone_bridge, status_page]`: the channels besides Slack and email.
    static func parseChannels(_ value: JSONValue?, _ problems: inout [String]) -> [Channel] {
        guard let value else { return [] }
        guard let items = value.arrayValue else {
            problems.append("channels: expected a list of channel names, got \(value.kindName)")
            return []
        }
        var out: [Channel] = []
        for item in items {
            guard let text = item.stringValue, let c = Channel(rawValue: text) else {
                problems.append("channels: \(item.jsonText()) is not a channel name (expected a lowercase identifier, \(Identifier.pattern))")
                continue
            }
            if !c.isBuiltIn && !out.contains(c) { out.append(c) }
        }
        return out
    }

    /// `case_kinds: {vendor_outage_evaluation: {title: ...}}`: the case kinds
    /// besides planned_downtime and incident.
    static func parseCaseKinds(_ value: JSONValue?, _ problems: inout [String]) -> [CaseKind: CaseKindDeclaration] {
        guard let value else { return [:] }
        guard let members = value.objectValue else {
            problems.append("case_kinds: expected a mapping of kind name to {title: ...}, got \(value.kindName)")
            return [:]
        }
        var out: [CaseKind: CaseKindDeclaration] = [:]
        for (name, body) in members.sorted(by: { $0.key < $1.key }) {
            guard let kind = CaseKind(rawValue: name) else {
                problems.append("case_kinds: '\(name)' is not a case kind name (expected a lowercase identifier, \(Identifier.pattern))")
                continue
            }
            if kind.isBuiltIn {
                problems.append("case_kinds: \(name) is built in (opened by \(Catalog.openingType(of: kind).rawValue)); declare only other kinds")
                continue
            }
            var declaration = CaseKindDeclaration()
            switch body {
            case .null: break
            case .object(let o):
                for (key, v) in o.sorted(by: { $0.key < $1.key }) {
                    if key == "title", let t = v.stringValue { declaration.title = t } else if key == "title" {
                        problems.append("case_kinds.\(name).title: expected text, got \(v.kindName)")
                    } else {
                        problems.append("case_kinds.\(name): unknown key '\(key)'")
                    }
                }
            default:
                problems.append("case_kinds.\(name): expected a mapping ({title: ...}), got \(body.kindName)")
            }
            out[kind] = declaration
        }
        return out
    }
}

/// Reads one rule, collecting problems as "rule ID: ..." messages.
struct RuleParser {
    let id: String
    let reader: FieldReader
    let parameters: [String: String]
    /// Slack, email and the policy's declared channels.
    let channels: [Channel]
    /// The built-in case kinds and the policy's declared ones.
    let kinds: Set<CaseKind>
    var problems: [String] = []
    /// A problem that makes the rule judge nothing (an undeclared channel or kind).
    var invalid = false
    /// The policy's case attributes (conditions may only name these).
    var attributes: [String: AttributeDeclaration] = [:]
    /// The named audiences' entries (rule audiences may name them).
    var audienceEntries: [String: [AudienceEntry]] = [:]
    /// A value condition could not be read: the rule is invalid.
    var invalidCondition = false

    /// The types `after:` and `each:` may name: the events of a case's own
    /// kind, and the opening, closing and decisions of cases of declared kinds.
    static let caseEventTypes = Catalog.knownTypes.filter { Catalog.caseKind(ofType: $0) != nil }
        + [EventType.caseOpened, .caseClosed, .decisionRecorded].map(\.rawValue)

    /// The keys a rule may have.
    static let ruleKeys: Set<String> = ["id", "title", "quote", "applies_when", "requires", "by", "due", "level", "evidence"]

    init(id: String, reader: FieldReader, parameters: [String: String], channels: [Channel] = Channel.builtIn,
         kinds: Set<CaseKind> = Set(CaseKind.builtIn)) {
        self.id = id
        self.reader = reader
        self.parameters = parameters
        self.channels = channels
        self.kinds = kinds
    }

    mutating func problem(_ text: String) { problems.append("rule \(id): \(text)") }

    mutating func parse() -> Rule {
        let title = (try? reader.optionalString("title")) ?? nil
        let quote = (try? reader.optionalString("quote")) ?? nil
        if quote == nil { problem("missing quote (the sentence of the process it encodes)") }
        let applies = parseApplies()
        var requirement = parseRequirement()
        if invalidCondition { requirement = .invalid }
        var by: [String] = []
        if reader.has("by") {
            if let list = try? reader.stringArray("by") { by = list } else { problem("by: expected a list of roles") }
        }
        var due = parseDue()
        if reader.value("requires")?.objectValue?["prohibited_content"] != nil {
            // Checked over the whole case: no deadline, no actor (also
            // when the prohibition is invalid: its problems are named).
            if !due.isEmpty { problem("prohibited_content takes no due (it is checked over the whole case)") }
            if !by.isEmpty { problem("by: does not apply to prohibited_content") }
            due = [Due(label: nil, timing: .always)]
        }
        if due.isEmpty {
            if case .everyMessageContent = requirement {
                due = [Due(label: nil, timing: .always)]
            } else if reader.value("requires")?.objectValue?["every_message_content"] != nil {
                // A content rule with a bad kind: that is its problem, not a missing due.
                due = [Due(label: nil, timing: .always)]
            } else {
                problem("missing due (when the requirement is due)")
                due = [Due(label: nil, timing: .invalid)]
            }
        }
        let level = parseLevel()
        let evidence = parseEvidence()
        if evidence != nil {
            switch requirement {
            case .prohibitedContent: problem("evidence: does not apply to prohibited_content")
            case .everyMessageContent: problem("evidence: does not apply to every_message_content")
            default: break
            }
        }
        for known in reader.object.keys where !RuleParser.ruleKeys.contains(known) {
            problem("unknown key '\(known)'")
        }
        if invalid { requirement = .invalid }
        return Rule(id: id, title: title ?? id, quote: quote ?? "", appliesWhen: applies,
                    requirement: requirement, by: by, due: due, level: level, evidence: evidence)
    }

    mutating func parseApplies() -> Applicability {
        var a = Applicability(kind: nil, teams: nil, priorities: nil, flags: [:])
        guard reader.has("applies_when") else { return a }
        guard let w = try? reader.object("applies_when") else {
            problem("applies_when: expected a mapping")
            return a
        }
        for (key, value) in w.object.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "kind":
                if let s = value.stringValue, let k = CaseKind(rawValue: s), kinds.contains(k) { a.kind = k } else {
                    // Listed only for cases of the kind it names, and judging nothing.
                    a.kind = value.stringValue.flatMap(CaseKind.init(rawValue:))
                    invalid = true
                    problem("applies_when.kind: unknown case kind \(value.jsonText()) (\(Policy.kindsExpected))")
                }
            case "teams":
                var teams: [Team] = []
                for item in value.arrayValue ?? [value] {
                    if let s = item.stringValue, let t = Team(rawValue: s) { teams.append(t) } else {
                        problem("applies_when.teams: unknown team \(item.jsonText())")
                    }
                }
                a.teams = teams
            default:
                var found: [String] = []
                if !ConditionParser(attributes: attributes).read(key, value, into: &a, field: "applies_when", problems: &found) {
                    found.append("applies_when: unknown condition '\(key)'")
                }
                for p in found { problem(p) }
                // A condition that cannot be read makes the rule judge nothing.
                if !found.isEmpty && (key.hasPrefix("attribute.") || key.hasPrefix("product.")) { invalidCondition = true }
            }
        }
        return a
    }

    mutating func parseRequirement() -> Requirement {
        guard let req = reader.value("requires")?.objectValue, req.count == 1, let (kind, body) = req.first else {
            problem("requires: expected a mapping with exactly one requirement")
            return .invalid
        }
        if kind != "every_message_content", kind != "priority_matrix", body.objectValue == nil {
            problem("requires.\(kind): expected a mapping, got \(body.kindName)")
            return .invalid
        }
        let b = body.objectValue ?? [:]
        func text(_ k: String) -> String? { b[k]?.stringValue }
        switch kind {
        case "notification":
            var channels: [Channel] = []
            for item in b["channels"]?.arrayValue ?? [] {
                if let s = item.stringValue, let c = Channel(rawValue: s), self.channels.contains(c) { channels.append(c) } else {
                    invalid = true
                    problem("requires.notification.channels: unknown channel \(item.jsonText()) (expected \(self.channels.map(\.rawValue).joined(separator: ", ")); declare others in channels:)")
                }
            }
            // Default: every channel the policy knows (Slack, email and the declared ones).
            if channels.isEmpty { channels = self.channels }
            let entries = audienceEntryList(b["audience"], "requires.notification.audience")
            let audience = entries.filter(\.isPlain).map(\.ref)
            let (content, parts) = parseContent(b["content"])
            return .notification(NotificationRequirement(channels: channels, destination: text("destination"),
                                                         audience: audience, content: content, parts: parts,
                                                         entries: entries))
        case "ticket":
            guard let system = text("system") else { problem("requires.ticket: missing system"); return .invalid }
            guard let p = text("purpose"), let purpose = TicketPurpose(rawValue: p) else {
                problem("requires.ticket: missing or unknown purpose"); return .invalid
            }
            return .ticket(TicketRequirement(system: system, purpose: purpose, approvedBy: text("approved_by")))
        case "maintenance_window":
            return .maintenanceWindow(system: text("system") ?? "pagerduty",
                                      coversDowntime: text("covers") == "downtime_window" || b["covers"] == nil)
        case "maintenance_window_verified":
            return .maintenanceWindowVerified(system: text("system") ?? "pagerduty")
        case "escalation":
            guard let to = text("to") else { problem("requires.escalation: missing to"); return .invalid }
            return .escalation(to: to)
        case "milestone":
            guard let k = text("kind"), let m = MilestoneKind(rawValue: k) else {
                problem("requires.milestone: missing or unknown kind"); return .invalid
            }
            return .milestone(m)
        case "prohibited_content":
            return parseProhibited(b)
        case "priority_matrix":
            return parsePriorityMatrix(body)
        case "every_message_content":
            guard let k = body.stringValue, let ck = CaseKind(rawValue: k), kinds.contains(ck) else {
                problem("requires.every_message_content: unknown case kind \(body.jsonText()) (\(Policy.kindsExpected))"); return .invalid
            }
            return .everyMessageContent(ck)
        case "decision":
            return parseDecision(b)
        default:
            problem("requires: unknown requirement '\(kind)'")
            return .invalid
        }
    }

    /// `decision: {decision: affects_us, outcomes: [yes, no]}`. Unquoted
    /// `yes`/`no` (read by YAML as booleans) are the outcomes "yes" and "no".
    mutating func parseDecision(_ b: [String: JSONValue]) -> Requirement {
        for key in b.keys.sorted() where !["decision", "outcomes"].contains(key) {
            problem("requires.decision: unknown key '\(key)'")
            return .invalid
        }
        guard let name = b["decision"]?.stringValue, Identifier.isValid(name) else {
            problem("requires.decision: missing or bad decision name \(b["decision"]?.jsonText() ?? "") (expected a lowercase identifier, \(Identifier.pattern))")
            return .invalid
        }
        var outcomes: [String]?
        if let v = b["outcomes"] {
            var list: [String] = []
            for item in v.arrayValue ?? [v] {
                switch item {
                case .string(let s) where !Blank.isBlank(s, newlines: true): list.append(s)
                case .bool(let yes): list.append(yes ? "yes" : "no")
                case .int(let i): list.append(String(i))
                default:
                    problem("requires.decision.outcomes: expected a list of outcomes (text), got \(item.jsonText())")
                    return .invalid
                }
            }
            guard !list.isEmpty else { problem("requires.decision.outcomes: empty list (leave it out for any outcome)"); return .invalid }
            outcomes = list
        }
        return .decision(DecisionRequirement(decision: name, outcomes: outcomes))
    }

    /// An audience list: plain refs, `{ref, when}` and `{every, when}` entries.
    mutating func audienceEntryList(_ value: JSONValue?, _ field: String) -> [AudienceEntry] {
        guard let value else { return [] }
        guard let items = value.arrayValue else {
            problem("\(field): expected a list of names")
            return []
        }
        var found: [String] = []
        let entries = AudienceEntry.parse(items, field: field, parser: ConditionParser(attributes: attributes), problems: &found)
        for p in found { problem(p) }
        if !found.isEmpty { invalidCondition = true }
        return entries
    }

    mutating func stringList(_ value: JSONValue?, _ field: String) -> [String] {
        guard let value else { return [] }
        guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
            problem("\(field): expected a list of names")
            return []
        }
        return items.compactMap(\.stringValue)
    }

    mutating func parseDue() -> [Due] {
        guard let v = reader.value("due") else { return [] }
        let items = v.arrayValue ?? [v]
        return items.map { parseTiming($0) }
    }

    mutating func duration(_ text: String?, _ field: String) -> TimeInterval? {
        guard let text else { problem("due.\(field): missing duration"); return nil }
        if let s = ISODuration.parse(text) { return s }
        if let p = parameters[text] {
            if let s = ISODuration.parse(p) { return s }
            problem("due.\(field): parameter '\(text)' has bad duration '\(p)'")
            return nil
        }
        problem("due.\(field): bad duration '\(text)' (not ISO 8601 and not a parameter)")
        return nil
    }

    mutating func eventType(_ text: String, _ field: String) -> Bool {
        if RuleParser.caseEventTypes.contains(text) { return true }
        problem("due.\(field): unknown event kind '\(text)'")
        return false
    }

    mutating func parseTiming(_ value: JSONValue) -> Due {
        guard let o = value.objectValue else {
            problem("due: unknown timing form \(value.jsonText())")
            return Due(label: nil, timing: .invalid)
        }
        let label = o["label"]?.stringValue
        func s(_ k: String) -> String? { o[k]?.stringValue }
        let forms = ["within", "before", "day_before", "each", "daily_while_unresolved", "every"].filter { o[$0] != nil }
        let extra = o.keys.filter { !["within", "after", "before", "day_before", "each", "milestone",
                                     "daily_while_unresolved", "every", "while", "label"].contains($0) }
        if !extra.isEmpty {
            problem("due: unknown timing form '\(extra.sorted().joined(separator: ", "))'")
            return Due(label: label, timing: .invalid)
        }
        if o["while"] != nil && forms != ["every"] {
            problem("due.while: only an every timing takes while (\(value.jsonText()))")
            return Due(label: label, timing: .invalid)
        }
        var timing = Timing.invalid
        if forms == ["every"] {
            timing = parseEvery(o)
        } else if forms.contains("each") {
            let within = s("within")
            guard let seconds = duration(within, "within"), let event = s("each") else { return Due(label: label, timing: .invalid) }
            guard eventType(event, "each") else { return Due(label: label, timing: .invalid) }
            var milestone: MilestoneKind?
            if let m = s("milestone") {
                milestone = MilestoneKind(rawValue: m)
                if milestone == nil { problem("due.milestone: unknown milestone kind '\(m)'"); return Due(label: label, timing: .invalid) }
            }
            timing = .each(event: event, milestone: milestone, seconds: seconds, text: within!)
        } else if forms == ["within"] {
            let within = s("within")
            guard let seconds = duration(within, "within") else { return Due(label: label, timing: .invalid) }
            guard let after = s("after") else { problem("due: within needs after: <event kind>"); return Due(label: label, timing: .invalid) }
            guard eventType(after, "after") else { return Due(label: label, timing: .invalid) }
            timing = .within(seconds: seconds, text: within!, after: after)
        } else if forms == ["before"] || forms == ["day_before"] {
            let key = forms[0]
            if key == "before", let event = s(key), WindowEdge(rawValue: event) == nil,
               event == Timing.caseClosed || RuleParser.caseEventTypes.contains(event) {
                return Due(label: label, timing: .beforeEvent(event))
            }
            guard let edge = s(key).flatMap(WindowEdge.init(rawValue:)) else {
                let expected = key == "before" ? "window.start, window.end, case.closed or a case event type"
                                               : "window.start or window.end"
                problem("due.\(key): unknown anchor \(o[key]!.jsonText()) (expected \(expected))")
                return Due(label: label, timing: .invalid)
            }
            timing = key == "before" ? .before(edge) : .dayBefore(edge)
        } else if forms == ["daily_while_unresolved"] {
            timing = .dailyWhileUnresolved
        } else {
            problem("due: unknown timing form \(value.jsonText())")
        }
        return Due(label: label, timing: timing)
    }
}
