import Events
import Foundation
@testable import Domain
import Testing

/// Issue 17: requirements on evidence: required parts of message content
/// fields, and `evidence: {source: automated}` (docs/policy.md §2, §3).
@Suite("Required parts of message content")
struct ContentPartTests {
    static let policyYAML = #"""
    name: parts
    version: "1"
    rules:
      - id: C-PARTS
        title: The first Slack message names the number of users and the services
        quote: q
        applies_when: {kind: incident}
        requires:
          notification:
            channels: [slack]
            content:
              - start_time
              - {field: estimated_user_impact, includes: [number]}
              - {field: summary, includes: [services, {pattern: 'VA\.gov', name: va_gov}]}
        due: {within: PT1H, after: incident.opened}
    """#

    static func policy() throws -> Policy {
        let p = try Policy.parse(yaml: policyYAML)
        #expect(p.problems(directory: nil).isEmpty, "\(p.problems(directory: nil))")
        return p
    }

    static func judge(_ s: Scenario) throws -> CaseEvaluation { try Fixtures.judge(s, policy: policy()) }

    static let messages = ["step-one", "p3-edit", "p1-slack", "p1-email", "update-0407", "update-solution", "update-resolved"]
        .map { "INC-2026-0142/\($0)" }

    /// Every message of the sample with `content.<field>` set to `value`.
    static func everyMessage(_ field: String, _ value: String) throws -> Scenario {
        var s = try Scenario.incident()
        for key in messages { s = s.setting(key, "content.\(field)", .string(value)) }
        return s
    }

    @Test("The sample's first message has a number, the case's service and VA.gov: met")
    func met() throws {
        let o = try Self.judge(Scenario.incident()).only("C-PARTS")
        #expect(o.verdict == .met)
        #expect(try Self.policy().rule("C-PARTS").map { r -> [String] in
            guard case .notification(let n) = r.requirement else { return [] }
            return n.content
        } == ["start_time", "estimated_user_impact", "summary"])
    }

    @Test("No number in the user impact: partial, naming the field and the part")
    func noNumber() throws {
        let s = try Self.everyMessage("estimated_user_impact", "Many users; Medications")
        let id = try #require(s.id(ofKey: "INC-2026-0142/step-one"))
        let o = try Self.judge(s).only("C-PARTS")
        #expect(o.verdict == .partial)
        #expect(o.missing.contains("\(id): estimated_user_impact lacks a number"), "\(o.missing)")
    }

    @Test("A service of the case not named, and no pattern match: partial, naming them")
    func servicesAndPattern() throws {
        let s = try Scenario.incident()
            .setting("INC-2026-0142/opened", "estimated_user_impact.services", strs("medications", "secure-messaging"))
        let id = try #require(s.id(ofKey: "INC-2026-0142/step-one"))
        let o = try Self.judge(s).only("C-PARTS")
        #expect(o.verdict == .partial)
        #expect(o.missing.contains("\(id): summary lacks the service secure-messaging"), "\(o.missing)")
        // A later update of the impact counts from its time; names compare case-insensitively.
        let updated = try Scenario.incident()
            .appending("incident.updated", at: "2026-04-07T09:30:00-04:00", key: "impact",
                       data: obj(["estimated_user_impact": obj(["services": strs("MEDICATIONS")])]))
        #expect(try Self.judge(updated).only("C-PARTS").verdict == .met)
        let pattern = try Self.everyMessage("summary", "Medications list fails to load")
        let p = try Self.judge(pattern).only("C-PARTS")
        #expect(p.verdict == .partial)
        #expect(p.missing.contains("\(id): summary lacks va_gov"), "\(p.missing)")
    }

    @Test("A blank field is named as missing content, not as lacking parts")
    func blank() throws {
        let s = try Self.everyMessage("estimated_user_impact", " ")
        let id = try #require(s.id(ofKey: "INC-2026-0142/step-one"))
        let o = try Self.judge(s).only("C-PARTS")
        #expect(o.verdict == .partial)
        #expect(o.missing.contains("\(id): content estimated_user_impact"), "\(o.missing)")
        #expect(!o.missing.contains("\(id): estimated_user_impact lacks a number"))
    }

    @Test("Policy check: unknown part, bad pattern, entry without field")
    func problems() throws {
        func problems(_ entry: String) throws -> [String] {
            let yaml = "name: p\nversion: \"1\"\nrules:\n  - {id: C, quote: q, requires: {notification: {content: [\(entry)]}}, due: {within: PT1H, after: incident.opened}}"
            return try Policy.parse(yaml: yaml).problems(directory: nil)
        }
        #expect(try problems("{field: summary, includes: [words]}")
                == ["rule C: requires.notification.content[0] (summary): includes[0]: unknown part \"words\" (expected number, services or {pattern})"])
        #expect(try problems("{field: summary, includes: [{pattern: '('}]}")
                == ["rule C: requires.notification.content[0] (summary): includes[0]: regex '(': not a valid regular expression"])
        #expect(try problems("{includes: [number]}") == ["rule C: requires.notification.content[0]: expected a name or {field, includes}"])
        #expect(try problems("{field: summary, includes: [number], must: true}")
                == ["rule C: requires.notification.content[0] (summary): unknown key 'must'"])
    }
}

@Suite("Evidence from an automated source")
struct EvidenceRequirementTests {
    static let policyYAML = """
    name: automated
    version: "1"
    rules:
      - id: A-SNOW
        title: The approval ticket, imported from ServiceNow
        quote: q
        applies_when: {kind: planned_downtime}
        requires: {ticket: {system: snow, purpose: downtime_approval}}
        evidence: {source: automated}
        due: {before: window.start}
    """

    static let claim: JSONValue = obj(["signature_verified": .bool(true), "source": "servicenow"])
    static let ticket = pd + "snow"

    static func judge(_ events: [RecordedEvent]) throws -> CaseEvaluation {
        let p = try Policy.parse(yaml: policyYAML)
        #expect(p.problems(directory: nil).isEmpty, "\(p.problems(directory: nil))")
        return evaluate(caseID: "PD-2026-0007", events: events, policy: p, policyVersion: "1",
                        directories: DirectoryHistory([try Bound.directory()]), asOf: Fixtures.later)
    }

    @Test("Imported by the registered importer login with the signature verified: met")
    func automated() throws {
        let s = try Scenario.planned()
        let events = try Bound.events(s, by: [Self.ticket: "snow-importer"], source: [Self.ticket: "servicenow"],
                                      extra: [Self.ticket: ["import": Self.claim]])
        #expect(try Self.judge(events).only("A-SNOW").verdict == .met)
    }

    @Test("Typed by hand: partial, saying so")
    func typed() throws {
        let s = try Scenario.planned()
        let id = try #require(s.id(ofKey: Self.ticket))
        let o = try Self.judge(try Bound.events(s)).only("A-SNOW")
        #expect(o.verdict == .partial)
        #expect(o.reason == "recorded by hand, not by an automated source")
        #expect(o.missing == ["\(id): recorded by hand, not by an automated source"])
        #expect(o.evidence == [id])
    }

    @Test("Imported without a verified signature, or a claim by a person's login: partial")
    func unverified() throws {
        let s = try Scenario.planned()
        let unsigned = try Bound.events(s, by: [Self.ticket: "snow-importer"], source: [Self.ticket: "servicenow"],
                                        extra: [Self.ticket: ["import": obj(["signature_verified": .bool(false)])]])
        let u = try Self.judge(unsigned).only("A-SNOW")
        #expect(u.verdict == .partial)
        #expect(u.reason == "imported from servicenow without a verified signature, not by an automated source")
        let forged = try Bound.events(s, extra: [Self.ticket: ["import": Self.claim]])
        let f = try Self.judge(forged).only("A-SNOW")
        #expect(f.verdict == .partial)
        #expect(f.reason == "not from an automated source: signature_verified claimed by login tara, not a registered importer login")
    }

    @Test("Policy check: unknown source, unknown key, not for prohibitions or content rules")
    func problems() throws {
        func problems(_ evidence: String, requires: String = "{ticket: {system: snow, purpose: downtime_approval}}",
                      due: String = ", due: {before: window.start}") throws -> [String] {
            let yaml = "name: p\nversion: \"1\"\nrules:\n  - {id: A, quote: q, applies_when: {kind: planned_downtime}, requires: \(requires), evidence: \(evidence)\(due)}"
            return try Policy.parse(yaml: yaml).problems(directory: nil)
        }
        #expect(try problems("{source: typed}") == ["rule A: evidence.source: unknown source \"typed\" (expected automated)"])
        #expect(try problems("{source: automated, signed: true}") == ["rule A: evidence: unknown key 'signed'"])
        #expect(try problems("automated") == ["rule A: evidence: expected a mapping such as {source: automated}"])
        #expect(try problems("{source: automated}", requires: "{prohibited_content: {patterns: [{name: x, regex: x}]}}", due: "")
                == ["rule A: evidence: does not apply to prohibited_content"])
    }
}
