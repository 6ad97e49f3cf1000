import Events
import Foundation
import Testing
import Compliance
import Domain

/// Issue 17: `PolicyDiff.compare`, the pure function behind `dtledger policy diff`.
@Suite struct PolicyDiffTests {
    static let old = """
        name: p
        version: "1"
        timezone: America/New_York
        parameters: {planning: PT24H, gone: PT1H}
        audiences: {ops: [role:uf-oncall]}
        content: {incident: [summary]}
        rules:
          - id: KEEP
            title: Same
            quote: "q"
            applies_when: {kind: incident}
            requires: {milestone: {kind: group_chat_convened}}
            due: {within: PT1H, after: incident.opened}
          - id: CHANGE
            title: Old title
            quote: "q"
            applies_when: {kind: incident}
            requires: {escalation: {to: csoc-dbrs}}
            by: [isso]
            due: {within: PT1H, after: incident.opened}
          - id: DROP
            title: Dropped
            quote: "q"
            applies_when: {kind: incident}
            requires: {escalation: {to: csoc-dbrs}}
            due: {within: PT1H, after: incident.opened}
        """

    static let new = """
        name: p
        version: "2"
        timezone: America/Chicago
        scope: {kinds: [incident]}
        parameters: {planning: PT12H, added: PT2H}
        audiences: {ops: [role:uf-oncall, role:horizon], more: [role:isso]}
        content: {incident: [summary]}
        rules:
          - id: KEEP
            title: Same
            quote: "q"
            applies_when: {kind: incident}
            requires: {milestone: {kind: group_chat_convened}}
            due: {within: PT1H, after: incident.opened}
            level: must
          - id: CHANGE
            title: New title
            quote: "q"
            applies_when: {kind: incident, priority: [P1]}
            requires: {escalation: {to: csoc-dbrs}}
            due: {within: PT2H, after: incident.opened}
            level: should
            extra_key: 1
          - id: ADD
            title: Added
            quote: "q"
            applies_when: {kind: incident}
            requires: {escalation: {to: csoc-dbrs}}
            due: {within: PT1H, after: incident.opened}
        """

    @Test func everyKindOfChange() throws {
        let diff = PolicyDiff.compare(try Policy.parse(yaml: Self.old).document, try Policy.parse(yaml: Self.new).document)
        #expect(diff.old.name == "p" && diff.old.version == "1" && diff.new.version == "2")
        #expect(diff.rulesAdded == ["ADD"])
        #expect(diff.rulesRemoved == ["DROP"])
        // KEEP: `level: must` is the default, so it did not change.
        #expect(diff.rulesChanged.map(\.id) == ["CHANGE"])
        #expect(diff.rulesChanged.first?.keys == ["title", "applies_when", "by", "due", "level", "extra_key"])
        let by = diff.rulesChanged.first?.changes.first { $0.key == "by" }
        #expect(by?.new == nil && by?.old == .array([.string("isso")]))
        #expect(diff.parameters.map(\.key) == ["added", "gone", "planning"])
        #expect(diff.parameters.first { $0.key == "planning" }?.line == "planning: \"PT24H\" → \"PT12H\"")
        #expect(diff.audiences.map(\.key) == ["more", "ops"])
        #expect(diff.content.isEmpty)
        #expect(diff.topLevel.map(\.key) == ["version", "scope", "timezone"])
        let text = diff.text
        #expect(text.hasPrefix("policy p v1 → p v2\n"))
        #expect(text.contains("rules added (1): ADD\n"))
        #expect(text.contains("rules removed (1): DROP\n"))
        #expect(text.contains("  CHANGE: title, applies_when, by, due, level, extra_key\n"))
        #expect(text.contains("    level: \"must\" → \"should\"\n"))
        #expect(text.contains("parameters changed (3):\n"))
        #expect(text.contains("  gone: removed (was \"PT1H\")\n"))
        #expect(text.contains("  added: added \"PT2H\"\n"))
        let json = diff.json
        #expect(json["identical"] == .bool(false))
        #expect(json["rules"]?["changed"]?.arrayValue?.first?["changes"]?.arrayValue?.count == 6)
        #expect(json["top_level"]?.arrayValue?.first?["change"]?.stringValue == "changed")
    }

    @Test func identicalDocuments() throws {
        let doc = try Policy.parse(yaml: Self.old).document
        let diff = PolicyDiff.compare(doc, doc)
        #expect(diff.isEmpty)
        #expect(diff.text == "policy p v1 → p v1\nno differences\n")
        #expect(PolicyDiff.compare(Policy.defaultPolicy().document, Policy.defaultPolicy().document).isEmpty)
    }
}
