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

        var content: [CaseKind: [String]] = [:]
        if let c = try r.optionalObject("content") {
            for key in c.object.keys {
                guard let kind = CaseKind(rawValue: key) else {
                    problems.append("content: unknown case kind '\(key)' (expected planned_downtime or incident)")
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
            var parser = RuleParser(id: id, reader: rr, parameters: parameters)
            parser.attributes = attributes
            parser.audienceEntries = audienceEntries
            rules.append(parser.parse())
            problems += parser.problems
        }
        self.init(name: name, version: version, timezoneName: tzName, timeZone: zone!, effectiveFrom: effectiveFrom,
                  parameters: parameters, audiences: audiences, content: content, rules: rules,
                  document: json, parseProblems: problems, attributes: attributes, audienceEntries: audienceEntries)
    }
}

/// Reads one rule, collecting problems as "rule ID: ..." messages.
struct RuleParser {
    let id: String
    let reader: FieldReader
    let parameters: [String: String]
    var problems: [String] = []
    /// The policy's case attributes (conditions may only name these).
    var attributes: [String: AttributeDeclaration] = [:]
    /// The named audiences' entries (rule audiences may name them).
    var audienceEntries: [String: [AudienceEntry]] = [:]
    /// A value condition could not be read: the rule is invalid.
    var invalidCondition = false

    static let caseEventTypes = Catalog.knownTypes.filter { Catalog.caseKind(ofType: $0) != nil }

    init(id: String, reader: FieldReader, parameters: [String: String]) {
        self.id = id
        self.reader = reader
        self.parameters = parameters
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
        if due.isEmpty {
            if case .everyMessageContent = requirement {
                due = [Due(label: nil, timing: .always)]
            } else {
                problem("missing due (when the requirement is due)")
                due = [Due(label: nil, timing: .invalid)]
            }
        }
        for known in reader.object.keys where !["id", "title", "quote", "applies_when", "requires", "by", "due"].contains(known) {
            problem("unknown key '\(known)'")
        }
        return Rule(id: id, title: title ?? id, quote: quote ?? "", appliesWhen: applies,
                    requirement: requirement, by: by, due: due)
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
                if let s = value.stringValue, let k = CaseKind(rawValue: s) { a.kind = k } else {
                    problem("applies_when.kind: unknown case kind \(value.jsonText()) (expected planned_downtime or incident)")
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
                if let s = item.stringValue, let c = Channel(rawValue: s) { channels.append(c) } else {
                    problem("requires.notification.channels: unknown channel \(item.jsonText())")
                }
            }
            if channels.isEmpty { channels = Channel.allCases }
            let entries = audienceEntryList(b["audience"], "requires.notification.audience")
            let audience = entries.filter(\.isPlain).map(\.ref)
            let content = stringList(b["content"], "requires.notification.content")
            return .notification(NotificationRequirement(channels: channels, destination: text("destination"),
                                                         audience: audience, content: content, entries: entries))
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
        case "priority_matrix":
            return parsePriorityMatrix(body)
        case "every_message_content":
            guard let k = body.stringValue, let ck = CaseKind(rawValue: k) else {
                problem("requires.every_message_content: expected planned_downtime or incident"); return .invalid
            }
            return .everyMessageContent(ck)
        default:
            problem("requires: unknown requirement '\(kind)'")
            return .invalid
        }
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
        let forms = ["within", "before", "day_before", "each", "daily_while_unresolved"].filter { o[$0] != nil }
        let extra = o.keys.filter { !["within", "after", "before", "day_before", "each", "milestone",
                                     "daily_while_unresolved", "label"].contains($0) }
        if !extra.isEmpty {
            problem("due: unknown timing form '\(extra.sorted().joined(separator: ", "))'")
            return Due(label: label, timing: .invalid)
        }
        var timing = Timing.invalid
        if forms.contains("each") {
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
            guard let edge = s(key).flatMap(WindowEdge.init(rawValue:)) else {
                problem("due.\(key): unknown anchor \(o[key]!.jsonText()) (expected window.start or window.end)")
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
