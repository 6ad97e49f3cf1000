import Events
import Foundation
@testable import Domain
import Testing

/// Issue 17: prohibitions (`requires: {prohibited_content: ...}`), judged
/// `violated` with the offending messages (docs/policy.md §2 and §3).
@Suite("Prohibited content")
struct ProhibitionTests {
    static let policyYAML = #"""
    name: prohibitions
    version: "1"
    rules:
      - id: X-SSN-SLACK
        title: No Social Security number in a Slack message
        quote: q
        applies_when: {kind: incident}
        requires:
          prohibited_content:
            channels: [slack]
            patterns:
              - {name: ssn, regex: '\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b'}
      - id: X-ANY
        title: No SSN or claim number anywhere
        quote: q
        level: should
        requires:
          prohibited_content:
            patterns:
              - {name: ssn, regex: '\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b'}
              - {name: claim_number, regex: 'claim #?[0-9]{8}'}
      - id: X-MOBILE
        title: No SSN while the case impacts mobile
        quote: q
        applies_when: {kind: incident, impacts_mobile: true}
        requires:
          prohibited_content:
            patterns: [{name: ssn, regex: '\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b'}]
    """#

    static func policy() throws -> Policy {
        let p = try Policy.parse(yaml: policyYAML)
        #expect(p.problems(directory: nil).isEmpty, "\(p.problems(directory: nil))")
        return p
    }

    static func judge(_ s: Scenario) throws -> CaseEvaluation { try Fixtures.judge(s, policy: policy()) }

    static let slack = "INC-2026-0142/p1-slack"
    static let email = "INC-2026-0142/p1-email"

    @Test("No message carries a pattern: met, with no evidence")
    func met() throws {
        let e = try Self.judge(Scenario.incident())
        let o = try e.only("X-SSN-SLACK")
        #expect(o.verdict == .met)
        #expect(o.evidence.isEmpty)
        #expect(o.deadline == nil)
        #expect(try e.only("X-ANY").verdict == .met)
        #expect(try e.only("X-ANY").level == .should)
    }

    @Test("An SSN in a Slack message: violated, naming the message, the pattern and the field")
    func violated() throws {
        let s = try Scenario.incident().setting(Self.slack, "content.status", "Caller 123-45-6789 cannot see refills")
        let id = try #require(s.id(ofKey: Self.slack))
        let o = try Self.judge(s).only("X-SSN-SLACK")
        #expect(o.verdict == .violated)
        #expect(o.evidence == [id])
        #expect(o.missing == ["\(id): ssn in content.status"])
        #expect(o.reason == "prohibited content sent: \(id): ssn in content.status")
        #expect(o.json["verdict"] == "violated")
    }

    @Test("Channels limit it: an SSN by email breaks only the rule for every channel")
    func channels() throws {
        let s = try Scenario.incident()
            .setting(Self.email, "content.summary", "SSN 123-45-6789; claim #12345678")
        let id = try #require(s.id(ofKey: Self.email))
        let e = try Self.judge(s)
        #expect(try e.only("X-SSN-SLACK").verdict == .met)
        let any = try e.only("X-ANY")
        #expect(any.verdict == .violated)
        #expect(any.missing == ["\(id): ssn in content.summary", "\(id): claim_number in content.summary"])
        // A retracted message no longer counts.
        let retracted = s.appending("event.retracted", at: "2026-04-07T14:00:00-04:00", key: "retract",
                                    data: obj(["event_id": .string(id), "reason": "PII"]))
        #expect(try Self.judge(retracted).only("X-ANY").verdict == .met)
    }

    @Test("Near misses do not match (word boundaries, other shapes)")
    func nearMiss() throws {
        let s = try Scenario.incident().setting(Self.slack, "content.status", "ticket 9123-45-67890 and 123456789")
        #expect(try Self.judge(s).only("X-SSN-SLACK").verdict == .met)
    }

    @Test("While-condition: only messages sent while it held count; it never held: not applicable")
    func condition() throws {
        let s = try Scenario.incident().setting(Self.slack, "content.status", "Caller 123-45-6789")
        // Not mobile at all: not applicable.
        let never = try Self.judge(s).only("X-MOBILE")
        #expect(never.verdict == .notApplicable)
        #expect(never.reason == "the case has not met the condition (impacts_mobile is true)")
        // Mobile only from 14:00 (starts late, after the message at 13:30): met.
        let late = s.appending("incident.updated", at: "2026-04-07T14:00:00-04:00", key: "mobile",
                               data: obj(["impacts_mobile": .bool(true)]))
        #expect(try Self.judge(late).only("X-MOBILE").verdict == .met)
        // Mobile from the opening until 13:00 (ends early, before the message): met.
        let early = s.setting("INC-2026-0142/opened", "impacts_mobile", .bool(true))
            .appending("incident.updated", at: "2026-04-07T13:00:00-04:00", key: "mobile",
                       data: obj(["impacts_mobile": .bool(false)]))
        #expect(try Self.judge(early).only("X-MOBILE").verdict == .met)
        // Mobile when the message was sent: violated.
        let during = s.setting("INC-2026-0142/opened", "impacts_mobile", .bool(true))
        #expect(try Self.judge(during).only("X-MOBILE").verdict == .violated)
    }

    @Test("Policy check: bad, empty-matching and catastrophic regexes, unknown channel, due, by")
    func problems() throws {
        func problems(_ body: String, extra: String = "") throws -> [String] {
            let yaml = """
            name: p
            version: "1"
            rules:
              - id: X
                quote: q
                requires: {prohibited_content: \(body)}
            \(extra)
            """
            return try Policy.parse(yaml: yaml).problems(directory: nil)
        }
        #expect(try problems("{patterns: [{name: bad, regex: '[0-9'}]}")
                == ["rule X: requires.prohibited_content.patterns[0] (bad): regex '[0-9': not a valid regular expression"])
        #expect(try problems("{patterns: [{name: any, regex: 'x*'}]}")
                == ["rule X: requires.prohibited_content.patterns[0] (any): regex 'x*': matches empty text (it would match every message)"])
        #expect(try problems("{patterns: [{name: slow, regex: '(a+)+b'}]}")
                == ["rule X: requires.prohibited_content.patterns[0] (slow): regex '(a+)+b': a repeated group contains a repetition (such as (a+)+), which can take exponential time"])
        #expect(try problems("{patterns: [{name: slow, regex: '([a-z]+ ?)*x'}]}").count == 1)
        #expect(try problems("{patterns: [{name: fine, regex: '(ab|cd)+x'}, {name: ssn, regex: '(\\d{3})-\\d{2}'}]}").isEmpty)
        #expect(try problems("{channels: [pager], patterns: [{name: ssn, regex: 'x'}]}")
                == ["rule X: requires.prohibited_content.channels: unknown channel \"pager\" (expected slack, email; declare others in channels:)"])
        #expect(try problems("{patterns: []}") == ["rule X: requires.prohibited_content.patterns: expected a list of {name, regex}"])
        #expect(try problems("{patterns: [{name: ssn, regex: 'x'}]}", extra: "    due: {within: PT1H, after: incident.opened}")
                == ["rule X: prohibited_content takes no due (it is checked over the whole case)"])
        #expect(try problems("{patterns: [{name: ssn, regex: 'x'}]}", extra: "    by: [uf-oncall]")
                == ["rule X: by: does not apply to prohibited_content"])
        // An invalid prohibition judges nothing.
        let p = try Policy.parse(yaml: "name: p\nversion: \"1\"\nrules:\n  - {id: X, quote: q, requires: {prohibited_content: {patterns: [{name: b, regex: '['}]}}}")
        #expect(try Fixtures.judge(Scenario.incident(), policy: p).only("X").verdict == .notApplicable)
    }

    @Test("The nested-repetition guard")
    func guardShapes() {
        #expect(PatternSafety.hasNestedQuantifier("(a+)+"))
        #expect(PatternSafety.hasNestedQuantifier("(\\w*)*"))
        #expect(PatternSafety.hasNestedQuantifier("((ab)+c)*"))
        #expect(PatternSafety.hasNestedQuantifier("(x[0-9]+){2,}"))
        #expect(!PatternSafety.hasNestedQuantifier("\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\b"))
        #expect(!PatternSafety.hasNestedQuantifier("(a+)b(c+)"))
        #expect(!PatternSafety.hasNestedQuantifier("(ab){3}"))
        #expect(!PatternSafety.hasNestedQuantifier("[(a+)]+"))
        #expect(!PatternSafety.hasNestedQuantifier("\\(a+\\)+"))
    }
}
