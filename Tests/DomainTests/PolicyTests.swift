import Events
import Foundation
@testable import Domain
import Testing

@Suite("Policy documents, checks and history")
struct PolicyTests {
    @Test("The default policy has exactly the DOMAIN.md §4 rule ids and no problems")
    func defaultPolicy() throws {
        let p = Fixtures.policy
        #expect(p.name == "mhv-downtime-notification")
        #expect(p.timeZone.identifier == "America/New_York")
        #expect(p.rules.map(\.id) == [
            "PD-CONTENT", "PD-NOTIFY-PLANNING", "PD-NOTIFY-DAY-BEFORE", "PD-NOTIFY-CONCLUDED",
            "PD-API-SLACK", "PD-API-EMAIL", "PD-API-SNOW-APPROVAL", "PD-API-PD-WINDOW", "PD-API-PD-VERIFY",
            "PD-UF-SLACK", "PD-UF-EMAIL", "PD-UF-PD-WINDOW",
            "IR-CONTENT", "IR-API-NOTIFY", "IR-API-GROUP-CHAT", "IR-API-PSETS", "IR-API-DBRS", "IR-API-STAKEHOLDERS",
            "IR-UF-STEP-ONE", "IR-UF-P12-SLACK", "IR-UF-P12-EMAIL", "IR-UF-P12-UPDATE-SOLUTION",
            "IR-UF-P12-UPDATE-DAILY", "IR-UF-P12-UPDATE-RESOLVED", "IR-UF-P34-PRIORITY", "IR-UF-P34-UPDATE-RESOLVED",
        ])
        #expect(p.problems(directory: try Fixtures.directory()) == [])
        #expect(p.parameters["planning"] == "PT24H")
        #expect(p.parameters["detection"] == "PT1H")
        #expect(p.effectiveFrom == Fixtures.time("2026-01-01T00:00:00-05:00"))
        let seed = try String(contentsOf: Fixtures.scenarios.deletingLastPathComponent()
            .appending(path: "seed/downtime-notification-process.md"), encoding: .utf8)
        // Bullets flattened: "a:\n  - b\n  - c" reads "a: b c"; quotes join list
        // items with "; " and mark skipped text with " … ".
        func normalize(_ text: String) -> String {
            text.split(whereSeparator: { $0.isWhitespace }).filter { $0 != "-" }.joined(separator: " ")
        }
        let flat = normalize(seed)
        for rule in p.rules {
            #expect(!rule.quote.isEmpty, "\(rule.id) quotes nothing")
            for part in rule.quote.split(whereSeparator: { $0 == ";" || $0 == "…" }) {
                let text = normalize(String(part))
                let found = flat.contains(text)
                #expect(found, "\(rule.id): '\(text)' is not in the seed process")
            }
        }
    }

    @Test("A policy round-trips through policy.published JSON")
    func roundTrip() throws {
        let published = PolicyPublished(effectiveFrom: Fixtures.time("2026-01-01T00:00:00-05:00"), policy: Fixtures.policy)
        let back = try PolicyPublished(data: try JSONValue.parse(published.json.jsonText()))
        #expect(back.policy.rules.map(\.id) == Fixtures.policy.rules.map(\.id))
        #expect(back.policy.version == "1")
        #expect(back.effectiveFrom == published.effectiveFrom)
        let env = Envelope(type: "policy.published", caseID: "policy", occurredAt: Date(), actor: "admin", data: published.json)
        try Catalog.validate(env)
    }

    static let broken = """
    name: broken
    version: 9
    timezone: Mars/Olympus
    parameters:
      fast: PT1H
      slow: sometime
    audiences:
      team: [role:isso, role:wizard, person:nobody]
    rules:
      - id: R-DUP
        quote: "a"
        applies_when: {kind: incident}
        requires: {notification: {channels: [slack], audience: [everyone]}}
        due: {within: fast, after: incident.opened}
      - id: R-DUP
        quote: "b"
        applies_when: {kind: incident}
        requires: {milestone: {kind: contained}}
        due: {within: PT1H, after: incident.exploded}
      - id: R-TIMING
        quote: "c"
        applies_when: {kind: incident}
        requires: {escalation: {to: csoc}}
        due: {whenever: incident.opened}
      - id: R-DURATION
        quote: "d"
        applies_when: {kind: incident}
        requires: {escalation: {to: csoc}}
        due: {within: slow, after: incident.opened}
      - id: R-LITERAL
        quote: "e"
        applies_when: {kind: incident}
        requires: {escalation: {to: csoc}}
        by: [sorcerer]
        due: {within: P1M, after: incident.opened}
      - id: R-WINDOW
        quote: "f"
        applies_when: {kind: incident}
        requires: {escalation: {to: csoc}}
        due: {before: window.middle}
    """

    @Test("A broken policy: every problem names its rule and what is wrong")
    func problems() throws {
        let p = try Policy.parse(yaml: Self.broken)
        let problems = p.problems(directory: try Fixtures.directory())
        func has(_ fragments: String...) -> Bool {
            problems.contains { m in fragments.allSatisfy { m.contains($0) } }
        }
        #expect(has("rule R-DUP", "duplicate rule id"))
        #expect(has("rule R-DUP", "unknown audience 'everyone'"))
        #expect(has("rule R-DUP", "unknown event kind 'incident.exploded'"))
        #expect(has("rule R-TIMING", "unknown timing form"))
        #expect(has("rule R-DURATION", "bad duration 'sometime'"))
        #expect(has("parameter slow", "bad duration"))
        #expect(has("rule R-LITERAL", "bad duration 'P1M'"))
        #expect(has("rule R-LITERAL", "unknown role 'sorcerer'"))
        #expect(has("rule R-WINDOW", "window.middle"))
        #expect(has("audience team", "unknown role 'wizard'"))
        #expect(has("audience team", "unknown person 'nobody'"))
        #expect(has("timezone", "Mars/Olympus"))
        // Without a directory, roles cannot be checked, the rest still is.
        let alone = p.problems(directory: nil)
        #expect(!alone.contains { $0.contains("sorcerer") })
        #expect(alone.contains { $0.contains("duplicate rule id") })
        #expect(throws: ValidationError.self) { try Policy.parseChecked(yaml: Self.broken, directory: nil) }
    }

    @Test("A document that cannot be a policy is refused with the field", arguments: [
        ("version: 1\nrules: []", "name"),
        ("name: x\nrules: []", "version"),
        ("name: x\nversion: 1", "rules"),
        ("name: x\nversion: 1\nrules: [{quote: q}]", "rules[0].id"),
        ("- just\n- a list", nil),
        ("name: [unclosed", nil),
    ] as [(String, String?)])
    func refused(_ yaml: String, _ field: String?) {
        #expect {
            _ = try Policy.parse(yaml: yaml)
        } throws: { error in
            (error as? ValidationError)?.field == field
        }
    }

    @Test("An invalid rule judges nothing and says why")
    func invalidRuleNotApplicable() throws {
        let p = try Policy.parse(yaml: Self.broken)
        let e = try Fixtures.judge(Scenario.incident(), policy: p)
        let timing = try e.only("R-TIMING")
        #expect(timing.verdict == .notApplicable)
        #expect(timing.reason?.contains("invalid") == true)
    }

    @Test("A second policy version judges the cases opened after it took effect, and only those")
    func secondVersion() throws {
        let v2yaml = Policy.defaultPolicyYAML
            .replacingOccurrences(of: "version: \"1\"", with: "version: \"2\"")
            .replacingOccurrences(of: "detection: PT1H", with: "detection: PT10M")
        let v2 = try Policy.parse(yaml: v2yaml)
        #expect(v2.version == "2")
        let history = PolicyHistory([
            PolicyPublished(effectiveFrom: Fixtures.time("2026-04-01T00:00:00-04:00"), policy: v2),
            PolicyPublished(effectiveFrom: Fixtures.time("2026-01-01T00:00:00-05:00"), policy: Fixtures.policy),
        ])
        #expect(history.inForce(at: Fixtures.time("2026-03-02T10:00:00-05:00"))?.version == "1")
        #expect(history.inForce(at: Fixtures.time("2026-04-07T09:20:00-04:00"))?.version == "2")
        #expect(history.inForce(at: Fixtures.time("2025-06-01T00:00:00Z")) == nil)

        let dirs = try Fixtures.directories()
        let incident = try Scenario.incident()
        let ie = try #require(evaluate(caseID: incident.caseID, events: incident.events(), policies: history,
                                       directories: dirs, asOf: Fixtures.later))
        #expect(ie.policyVersion == "2")
        let stepOne = try ie.only("IR-UF-STEP-ONE")
        #expect(stepOne.verdict == .late)  // 15 minutes after detection; v2 allows 10
        #expect(stepOne.lateBy == TimeInterval(5 * 60))

        let planned = try Scenario.planned()
        let pe = try #require(evaluate(caseID: planned.caseID, events: planned.events(), policies: history,
                                       directories: dirs, asOf: Fixtures.later))
        #expect(pe.policyVersion == "1")
        #expect(pe.obligations.allSatisfy { $0.verdict == .met })
    }

    @Test("ISO 8601 durations", arguments: [
        ("PT1H", 3600.0), ("PT24H", 86_400), ("P1D", 86_400), ("PT30M", 1800), ("P1DT12H", 129_600), ("P2W", 1_209_600),
        ("PT1.5H", 5400),
    ] as [(String, Double)])
    func durations(_ text: String, _ seconds: Double) {
        #expect(ISODuration.parse(text) == seconds)
    }

    @Test("Bad durations are refused", arguments: ["1H", "P", "PT", "P1M", "P1Y", "PT1D", "PTH", "P1H", "soon"])
    func badDurations(_ text: String) {
        #expect(ISODuration.parse(text) == nil)
    }
}
