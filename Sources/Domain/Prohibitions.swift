import Events
import Foundation

/// A named regular expression a policy matches message text with (a
/// prohibited pattern, or a required part of a content field).
public struct ContentPattern: Sendable {
    public var name: String
    public var regex: String
    /// Compiled once when the policy is read (NSRegularExpression is
    /// immutable and safe to share between threads); nil when invalid.
    let compiled: NSRegularExpression?

    /// Whether `text` contains a match.
    func matches(_ text: String) -> Bool {
        guard let compiled else { return false }
        return compiled.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}

/// `requires: {prohibited_content: {channels?, patterns: [{name, regex}]}}`:
/// no message on those channels may carry content matching a pattern.
public struct ProhibitedContent: Sendable {
    /// Channel names (nil: every channel).
    public var channels: [String]?
    public var patterns: [ContentPattern]
}

/// Regexes written by policy authors are matched by a backtracking engine
/// (ICU, through NSRegularExpression), so policy check refuses the shapes
/// that can take exponential time on a short input, and patterns longer
/// than `maxLength` (docs/policy.md §5).
enum PatternSafety {
    static let maxLength = 500

    /// Why the pattern is refused, or nil when it compiles and is safe.
    static func problem(_ regex: String) -> String? {
        guard regex.count <= maxLength else { return "longer than \(maxLength) characters" }
        let compiled: NSRegularExpression
        do { compiled = try NSRegularExpression(pattern: regex) } catch { return "not a valid regular expression" }
        if compiled.firstMatch(in: "", range: NSRange(location: 0, length: 0)) != nil {
            return "matches empty text (it would match every message)"
        }
        if hasNestedQuantifier(regex) {
            return "a repeated group contains a repetition (such as (a+)+), which can take exponential time"
        }
        return nil
    }

    /// A group quantified by `*`, `+` or `{n,}` whose body has an
    /// unbounded repetition (`*`, `+`, `{n,}`): nested repetition, the
    /// common shape of catastrophic backtracking ((a+)+, (\w*)*, ([a-z]+\s?)*).
    static func hasNestedQuantifier(_ regex: String) -> Bool {
        let c = Array(regex)
        var stack: [Bool] = []   // per open group: its body has an unbounded repetition
        var i = 0
        func unboundedQuantifier(at j: Int) -> Bool {
            guard j < c.count else { return false }
            if c[j] == "*" || c[j] == "+" { return true }
            if c[j] == "{" {
                var k = j + 1
                while k < c.count, c[k].isNumber { k += 1 }
                return k < c.count && c[k] == "," && k + 1 < c.count && c[k + 1] == "}"
            }
            return false
        }
        while i < c.count {
            switch c[i] {
            case "\\":
                i += 2
                if unboundedQuantifier(at: i), !stack.isEmpty { stack[stack.count - 1] = true }
                continue
            case "[":
                // Skip the class (a `]` first in it, or escaped, is literal).
                var k = i + 1
                if k < c.count, c[k] == "^" { k += 1 }
                if k < c.count, c[k] == "]" { k += 1 }
                while k < c.count, c[k] != "]" { k += c[k] == "\\" ? 2 : 1 }
                i = k + 1
                if unboundedQuantifier(at: i), !stack.isEmpty { stack[stack.count - 1] = true }
                continue
            case "(":
                stack.append(false)
            case ")":
                let risky = stack.popLast() ?? false
                if risky && unboundedQuantifier(at: i + 1) { return true }
                // A repeated group makes its enclosing group repeat too.
                if (risky || unboundedQuantifier(at: i + 1)), !stack.isEmpty { stack[stack.count - 1] = true }
            default:
                if unboundedQuantifier(at: i + 1), !stack.isEmpty { stack[stack.count - 1] = true }
            }
            i += 1
        }
        return false
    }
}

extension RuleParser {
    /// `[{name, regex}]` at `field`; problems name the pattern.
    mutating func parsePatterns(_ value: JSONValue?, _ field: String) -> [ContentPattern]? {
        guard let items = value?.arrayValue, !items.isEmpty else {
            problem("\(field): expected a list of {name, regex}")
            return nil
        }
        var out: [ContentPattern] = []
        var ok = true
        for (i, item) in items.enumerated() {
            guard let o = item.objectValue, let regex = o["regex"]?.stringValue else {
                problem("\(field)[\(i)]: expected {name, regex}")
                ok = false
                continue
            }
            let name = o["name"]?.stringValue ?? regex
            for key in o.keys where !["name", "regex"].contains(key) {
                problem("\(field)[\(i)] (\(name)): unknown key '\(key)'")
                ok = false
            }
            if let p = PatternSafety.problem(regex) {
                problem("\(field)[\(i)] (\(name)): regex '\(regex)': \(p)")
                ok = false
                continue
            }
            out.append(ContentPattern(name: name, regex: regex, compiled: try? NSRegularExpression(pattern: regex)))
        }
        return ok ? out : nil
    }

    mutating func parseProhibited(_ b: [String: JSONValue]) -> Requirement {
        var valid = true
        for key in b.keys where !["channels", "patterns"].contains(key) {
            problem("requires.prohibited_content: unknown key '\(key)'")
            valid = false
        }
        var channels: [String]?
        if let list = b["channels"] {
            var names: [String] = []
            for item in list.arrayValue ?? [list] {
                if let s = item.stringValue, let c = Channel(rawValue: s), self.channels.contains(c) { names.append(s) } else {
                    problem("requires.prohibited_content.channels: unknown channel \(item.jsonText()) (expected \(self.channels.map(\.rawValue).joined(separator: ", ")); declare others in channels:)")
                    valid = false
                }
            }
            channels = names
        }
        guard let patterns = parsePatterns(b["patterns"], "requires.prohibited_content.patterns"), valid else {
            return .invalid
        }
        return .prohibitedContent(ProhibitedContent(channels: channels, patterns: patterns))
    }
}

extension RuleEvaluator {
    /// A prohibition, over the whole case: `violated` when a message on its
    /// channels (sent while the rule's while-condition held) carries a
    /// content field matching a pattern, naming each "<event>: <pattern>
    /// in content.<field>"; `met` otherwise, including when nothing was sent.
    func prohibited(_ rule: Rule, _ p: ProhibitedContent, base: Obligation) -> Obligation {
        let cond = rule.appliesWhen
        if cond.hasCondition, let opened = state.openedAt, state.entry(into: cond, from: opened) == nil {
            return notApplicable(base, nil, "the case has not met the condition (\(state.conditionText(cond)))")
        }
        var o = base
        var offending: [CaseEvent] = []
        for message in messages {
            let e = message.event, m = message.sent
            if let channels = p.channels, !channels.contains(m.channel.rawValue) { continue }
            if cond.hasCondition && !state.holds(cond, at: e.time) { continue }
            var found = false
            for field in m.content.keys.sorted() {
                let text = m.content[field] ?? ""
                for pattern in p.patterns where pattern.matches(text) {
                    o.missing.append("\(e.id): \(pattern.name) in content.\(field)")
                    found = true
                }
            }
            if found { offending.append(e) }
        }
        o.evidence = offending.map(\.id)
        o.attestedLate = offending.contains { $0.recorded.recordedAt.timeIntervalSince($0.time) > Judge.attestationLimit }
        if offending.isEmpty {
            o.verdict = .met
        } else {
            o.verdict = .violated
            o.reason = "prohibited content sent: " + o.missing.joined(separator: "; ")
        }
        return o
    }
}
