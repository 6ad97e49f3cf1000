import Events
import Foundation

/// A part a content field of a message must include
/// (`{field, includes: [number | services | {pattern}]}`).
public enum ContentPart: Sendable {
    /// A number: at least one digit somewhere in the text.
    case number
    /// The name of every service of the case's impact (as the case's
    /// opening and update events give them at the message's time).
    case services
    /// A match of the regex.
    case pattern(ContentPattern)
}

/// `{field, includes: [...]}` in `requires.notification.content`.
public struct ContentRequirement: Sendable {
    public var field: String
    public var includes: [ContentPart]
}

/// Rule-level `evidence: {source: automated}`.
public enum EvidenceSource: String, Sendable {
    /// Only events appended by a service login registered for their source,
    /// with the signature verified (`Provenance.verified`), count.
    case automated
}

extension RuleParser {
    /// `requires.notification.content`: field names, and `{field, includes}`
    /// entries (whose field is required too).
    mutating func parseContent(_ value: JSONValue?) -> (fields: [String], parts: [ContentRequirement]) {
        guard let value else { return ([], []) }
        let field = "requires.notification.content"
        guard let items = value.arrayValue else {
            problem("\(field): expected a list of names or {field, includes}")
            return ([], [])
        }
        var fields: [String] = []
        var parts: [ContentRequirement] = []
        for (i, item) in items.enumerated() {
            if let name = item.stringValue { fields.append(name); continue }
            guard let o = item.objectValue, let name = o["field"]?.stringValue else {
                problem("\(field)[\(i)]: expected a name or {field, includes}")
                continue
            }
            for key in o.keys where !["field", "includes"].contains(key) {
                problem("\(field)[\(i)] (\(name)): unknown key '\(key)'")
            }
            fields.append(name)
            guard let includes = o["includes"]?.arrayValue, !includes.isEmpty else {
                problem("\(field)[\(i)] (\(name)): includes: expected a list of number, services or {pattern}")
                continue
            }
            var list: [ContentPart] = []
            for (j, inc) in includes.enumerated() {
                switch inc {
                case .string("number"): list.append(.number)
                case .string("services"): list.append(.services)
                case .object(let p) where p["pattern"]?.stringValue != nil:
                    let regex = p["pattern"]!.stringValue!
                    for key in p.keys where !["pattern", "name"].contains(key) {
                        problem("\(field)[\(i)] (\(name)): includes[\(j)]: unknown key '\(key)'")
                    }
                    if let why = PatternSafety.problem(regex) {
                        problem("\(field)[\(i)] (\(name)): includes[\(j)]: regex '\(regex)': \(why)")
                        continue
                    }
                    list.append(.pattern(ContentPattern(name: p["name"]?.stringValue ?? regex, regex: regex,
                                                        compiled: try? NSRegularExpression(pattern: regex))))
                default:
                    problem("\(field)[\(i)] (\(name)): includes[\(j)]: unknown part \(inc.jsonText()) (expected number, services or {pattern})")
                }
            }
            parts.append(ContentRequirement(field: name, includes: list))
        }
        return (fields, parts)
    }

    /// `evidence: {source: automated}`.
    mutating func parseEvidence() -> EvidenceSource? {
        guard let value = reader.value("evidence") else { return nil }
        guard let o = value.objectValue else {
            problem("evidence: expected a mapping such as {source: automated}")
            return nil
        }
        for key in o.keys where key != "source" { problem("evidence: unknown key '\(key)'") }
        guard let s = o["source"]?.stringValue, let source = EvidenceSource(rawValue: s) else {
            problem("evidence.source: unknown source \(o["source"]?.jsonText() ?? "(missing)") (expected automated)")
            return nil
        }
        return source
    }
}

extension CaseState {
    /// The services of the case's impact at `t`: the latest
    /// `estimated_user_impact` / `anticipated_impact` given by its opening
    /// or update events at or before `t`.
    func impactServices(at t: Date) -> [String] {
        var services: [String] = []
        for e in events {
            guard e.time <= t else { break }
            switch e.event {
            case .incidentOpened(let o): services = o.estimatedUserImpact.services
            case .incidentUpdated(let u): if let i = u.estimatedUserImpact { services = i.services }
            case .downtimePlanned(let d): services = d.anticipatedImpact.services
            case .downtimeUpdated(let u): if let i = u.anticipatedImpact { services = i.services }
            default: break
            }
        }
        return services
    }
}

extension EvidenceFinder {
    /// What a message lacks of the required parts of its content fields:
    /// "e5: estimated_user_impact lacks a number", "e5: summary lacks the
    /// services mhv-api, rx". A blank field is already named as missing.
    func contentPartIssues(_ n: NotificationRequirement, _ m: NotificationSent, _ e: CaseEvent) -> [String] {
        var out: [String] = []
        for req in n.parts {
            let text = m.content[req.field] ?? ""
            if Blank.isBlank(text, newlines: false) { continue }
            for part in req.includes {
                switch part {
                case .number:
                    if !text.unicodeScalars.contains(where: { ("0"..."9").contains($0) }) {
                        out.append("\(e.id): \(req.field) lacks a number")
                    }
                case .services:
                    let lower = text.lowercased()
                    let absent = state.impactServices(at: e.time).filter { !lower.contains($0.lowercased()) }
                    if !absent.isEmpty {
                        out.append("\(e.id): \(req.field) lacks the service\(absent.count == 1 ? "" : "s") \(absent.joined(separator: ", "))")
                    }
                case .pattern(let p):
                    if !p.matches(text) { out.append("\(e.id): \(req.field) lacks \(p.name)") }
                }
            }
        }
        return out
    }

    /// `evidence: {source: automated}`: every event of the candidate must
    /// have been imported by a registered importer login with its signature
    /// verified (`Provenance.verified`, as reports show it); otherwise the
    /// candidate does not count, saying why.
    func checkSource(_ c: inout Candidate) {
        for e in c.events {
            let why: String
            switch Provenance.of(e.recorded, directories: directories) {
            case .verified: continue
            case .typed: why = "recorded by hand, not by an automated source"
            case .unsigned(let source, _): why = "imported from \(source) without a verified signature, not by an automated source"
            case .unverified(let reason): why = "not from an automated source: \(reason)"
            }
            c.issues.append("\(e.id): \(why)")
            if c.loginReason == nil { c.loginReason = why }
        }
    }
}
