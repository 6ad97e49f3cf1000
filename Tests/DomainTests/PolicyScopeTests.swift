import Events
import Foundation
import Testing
@testable import Domain

/// Issue 17: a policy's `scope`, and which policies are in force for a case.
@Suite struct PolicyScopeTests {
    static func scoped(_ name: String, version: String, scope: String) throws -> Policy {
        try Policy.parse(yaml: """
            name: \(name)
            version: "\(version)"
            \(scope)
            rules:
              - id: R
                title: t
                quote: "q"
                applies_when: {kind: incident}
                requires: {escalation: {to: csoc-dbrs}}
                due: {within: PT1H, after: incident.opened}
            """)
    }

    @Test func scopeIsReadAndChecked() throws {
        let p = try Self.scoped("fed", version: "1", scope: "scope: {kinds: [incident], teams: [user-facing]}")
        #expect(p.scope == PolicyScope(kinds: ["incident"], teams: ["user-facing"]))
        #expect(p.problems(directory: nil).isEmpty)
        #expect(p.scope?.covers(kind: "incident", team: "user-facing") == true)
        #expect(p.scope?.covers(kind: "incident", team: "api-platform") == false)
        #expect(p.scope?.covers(kind: "planned_downtime", team: "user-facing") == false)
        #expect(PolicyScope(kinds: nil, teams: nil).covers(kind: "incident", team: nil))
        #expect(Policy.defaultPolicy().scope == nil)
        let bad = try Self.scoped("fed", version: "1", scope: "scope: {kinds: incident, teams: [nobody], when: 1}")
        let problems = bad.problems(directory: nil)
        #expect(problems.contains("scope: unknown key 'when' (expected kinds, teams)"), "\(problems)")
        #expect(problems.contains("scope: kinds: expected a list of text"), "\(problems)")
        #expect(problems.contains { $0.hasPrefix("scope: teams: unknown team 'nobody'") }, "\(problems)")
        let notMapping = try Self.scoped("fed", version: "1", scope: "scope: [incident]")
        #expect(notMapping.problems(directory: nil) == ["scope: expected a mapping with kinds and/or teams, got an array"])
        // A kind the policy declares in case_kinds is accepted.
        let declared = try Self.scoped("fed", version: "1", scope: "scope: {kinds: [vendor_outage_evaluation]}\ncase_kinds: {vendor_outage_evaluation: {title: x}}")
        #expect(!declared.problems(directory: nil).contains { $0.hasPrefix("scope:") })
    }

    @Test func scopedPoliciesAreInForceSideBySide() throws {
        let jan = Fixtures.time("2026-01-01T00:00:00-05:00"), apr = Fixtures.time("2026-04-01T00:00:00-04:00")
        let fed1 = try Self.scoped("fed", version: "1", scope: "scope: {kinds: [incident]}")
        let fed2 = try Self.scoped("fed", version: "2", scope: "scope: {kinds: [incident]}")
        let state = try Self.scoped("state", version: "7", scope: "scope: {teams: [api-platform]}")
        let history = PolicyHistory([
            PolicyPublished(effectiveFrom: jan, policy: Fixtures.policy),
            PolicyPublished(effectiveFrom: jan, policy: fed1),
            PolicyPublished(effectiveFrom: apr, policy: fed2),
            PolicyPublished(effectiveFrom: apr, policy: state),
        ])
        #expect(history.hasScoped)
        // The primary policy is the latest unscoped one: a scoped policy published later does not replace it.
        #expect(history.inForce(at: Fixtures.time("2026-05-01T00:00:00-04:00"))?.policy.name == "mhv-downtime-notification")
        let march = history.scopedInForce(at: Fixtures.time("2026-03-01T00:00:00-05:00"))
        #expect(march.map { "\($0.policy.name)@\($0.version)" } == ["fed@1"])
        let may = history.scopedInForce(at: Fixtures.time("2026-05-01T00:00:00-04:00"))
        #expect(may.map { "\($0.policy.name)@\($0.version)" } == ["fed@2", "state@7"])
        #expect(PolicyHistory([PolicyPublished(effectiveFrom: jan, policy: Fixtures.policy)]).scopedInForce(at: apr).isEmpty)
        // Only scoped policies: no primary one.
        #expect(PolicyHistory([PolicyPublished(effectiveFrom: jan, policy: fed1)]).inForce(at: apr) == nil)
    }
}
