import Events
import Foundation
@testable import Domain
import Testing

/// Issue 17: roles within a case (`case.role_assigned`, `case:<role>` in
/// `by:` and audiences, `product:pm` in `by:`) and the priority matrix.
@Suite("Case roles")
struct CaseRoleTests {
    static let policyYAML = """
    name: case-roles
    version: "1"
    rules:
      - id: R-BY
        title: Notice by the incident commander
        quote: q
        applies_when: {kind: incident}
        requires: {notification: {channels: [slack]}}
        by: [case:incident_commander]
        due: {within: PT1H, after: incident.opened}
      - id: R-AUDIENCE
        title: Notice to the incident commander
        quote: q
        applies_when: {kind: incident}
        requires: {notification: {channels: [slack], audience: [case:incident_commander]}}
        due: {within: PT1H, after: incident.opened}
      - id: R-PM
        title: Priority notice by the product's PM
        quote: q
        applies_when: {kind: incident}
        requires: {notification: {channels: [slack]}}
        by: [product:pm]
        due: {within: PT1H, after: incident.priority_set}
    """

    static func policy() throws -> Policy {
        let p = try Policy.parse(yaml: policyYAML)
        #expect(p.problems(directory: try Fixtures.directory()).isEmpty, "\(p.problems(directory: nil))")
        return p
    }

    static let noon = Fixtures.time("2026-04-07T12:00:00-04:00")

    static func assign(_ s: Scenario, _ person: String, at time: String, role: String = "incident_commander") -> Scenario {
        s.appending("case.role_assigned", at: time, actor: "lou-em", key: "role-\(person)-\(time)",
                    data: obj(["role": .string(role), "person": .string(person)]))
    }

    static func judge(_ s: Scenario, asOf: Date = Fixtures.later) throws -> CaseEvaluation {
        try Fixtures.judge(s, asOf: asOf, policy: policy())
    }

    @Test("case.role_assigned validates; a role that is not a lowercase name is refused, naming the field")
    func catalog() throws {
        let r = try CaseRoleAssigned(data: obj(["role": "incident_commander", "person": "max-eng", "note": "on call"]))
        #expect(r == CaseRoleAssigned(role: "incident_commander", person: "max-eng", note: "on call"))
        #expect(try CaseRoleAssigned(data: r.json) == r)
        #expect(Catalog.caseKind(ofType: EventType.caseRoleAssigned) == nil)
        do {
            _ = try CaseRoleAssigned(data: obj(["role": "Incident Commander", "person": "max-eng"]))
            Issue.record("accepted a bad role name")
        } catch {
            #expect(error.field == "data.role")
        }
        #expect(throws: ValidationError.self) { try CaseRoleAssigned(data: obj(["role": "ic"])) }
    }

    @Test("by: case:<role>: the assigned person's message counts; another's is named")
    func by() throws {
        let s = try Scenario.incident()
        // 09:35 Slack by max-eng, 10:05 by lou-em.
        #expect(try Self.judge(Self.assign(s, "max-eng", at: "2026-04-07T09:25:00-04:00")).only("R-BY").verdict == .met)
        let o = try Self.judge(Self.assign(s, "tara-lead", at: "2026-04-07T09:25:00-04:00"), asOf: Self.noon).only("R-BY")
        #expect(o.verdict == .partial)
        #expect(o.missing.contains("actor max-eng is not the case's incident_commander"))
        // A later assignment replaces the holder.
        let replaced = Self.assign(Self.assign(s, "tara-lead", at: "2026-04-07T09:25:00-04:00"), "max-eng",
                                   at: "2026-04-07T09:30:00-04:00")
        #expect(try Self.judge(replaced).only("R-BY").verdict == .met)
        // Nobody assigned: nobody may do it.
        #expect(try Self.judge(s, asOf: Self.noon).only("R-BY").verdict == .partial)
    }

    @Test("audience case:<role>: reached by naming the assigned person; missing names who it was")
    func audience() throws {
        let s = try Scenario.incident()
        // 10:05 Slack tags ana-po; 13:30 tags greg-kirk.
        #expect(try Self.judge(Self.assign(s, "ana-po", at: "2026-04-07T09:25:00-04:00")).only("R-AUDIENCE").verdict == .met)
        let greg = Self.assign(s, "greg-kirk", at: "2026-04-07T09:25:00-04:00")
        let o = try Self.judge(greg, asOf: Self.noon).only("R-AUDIENCE")
        #expect(o.verdict == .partial)
        #expect(o.missing == ["case:incident_commander (person:greg-kirk)"])
        #expect(try Self.judge(greg).only("R-AUDIENCE").verdict == .late)
        #expect(try Self.judge(s, asOf: Self.noon).only("R-AUDIENCE").missing == ["case:incident_commander (not assigned)"])
    }

    @Test("by: product:pm: the PM of the case's product in the directory")
    func productPM() throws {
        let s = try Scenario.incident()
        let o = try Self.judge(s).only("R-PM")
        #expect(o.verdict == .partial)
        #expect(o.missing.contains("actor lou-em is not the product's PM"))
        let byKim = s.envelope("INC-2026-0142/p3-edit", "actor", "kim-pm")
        #expect(try Self.judge(byKim).only("R-PM").verdict == .met)
    }

    @Test("policy check: case refs must be role names; by: product: only product:pm")
    func problems() throws {
        let yaml = """
        name: bad
        version: "1"
        rules:
          - {id: X-CASE, title: t, quote: q, requires: {notification: {audience: ["case:Bad Role"]}}, by: ["case:Also Bad", product:oncall], due: {within: PT1H, after: incident.opened}}
        """
        let problems = try Policy.parse(yaml: yaml).problems(directory: nil)
        #expect(problems == [
            "rule X-CASE: 'case:Bad Role' is not a case role (case:<role>, lowercase)",
            "rule X-CASE: by: 'case:Also Bad' is not a case role (case:<role>, lowercase)",
            "rule X-CASE: by: unknown 'product:oncall' (expected product:pm)",
        ])
    }
}

@Suite("Priority matrix")
struct PriorityMatrixTests {
    static let policyYAML = """
    name: matrix
    version: "1"
    attributes:
      users_affected: {type: number}
    rules:
      - id: MX
        title: The priority agrees with the matrix
        quote: q
        applies_when: {kind: incident}
        requires:
          priority_matrix:
            - {when: {product.tier: 1, attribute.users_affected: {at_least: 10000}}, priority: P1}
            - {when: {product.tier: 1}, priority: P3}
            - {priority: P4}
        due: {within: PT1H, after: incident.opened}
      - id: MX-NO-DEFAULT
        title: Only tier 1
        quote: q
        applies_when: {kind: incident}
        requires:
          priority_matrix:
            - {when: {product.tier: 1}, priority: P2}
        due: {within: PT1H, after: incident.opened}
    """

    static func policy() throws -> Policy {
        let p = try Policy.parse(yaml: policyYAML)
        #expect(p.problems(directory: try Fixtures.directory()).isEmpty, "\(p.problems(directory: nil))")
        return p
    }

    /// The sample incident (opened 09:20, P3 at 09:50 = e3, P1 at 13:10 = e5; deadline 10:20).
    static func incident(users: Int64) throws -> Scenario {
        try Scenario.incident().setting("INC-2026-0142/opened", "attributes", obj(["users_affected": .int(users)]))
    }

    static func judge(_ s: Scenario, tier: Int? = 1) throws -> CaseEvaluation {
        try Fixtures.judge(s, directories: DirectoryHistory([PolicyConditionsTests.directory(tier: tier)]), policy: policy())
    }

    @Test("The priority at the deadline is the expected one: met, with expected and given")
    func met() throws {
        let o = try Self.judge(Self.incident(users: 1500)).only("MX")
        #expect(o.verdict == .met)
        #expect(o.expected == "P3")
        #expect(o.given == "P3")
        #expect(o.evidence == ["e3"])
        #expect(o.json["expected"] == "P3")
    }

    @Test("Set right only after the deadline: late")
    func late() throws {
        let o = try Self.judge(Self.incident(users: 12000)).only("MX")
        #expect(o.verdict == .late)
        #expect(o.expected == "P1")
        #expect(o.lateBy == 10200)
        #expect(o.evidence == ["e5"])
        #expect(o.reason == "at the deadline: priority P3, expected P1")
    }

    @Test("A different priority: partial 'priority P3, expected P1'; none: missed")
    func partialAndMissed() throws {
        let wrong = try Self.incident(users: 12000).removing("INC-2026-0142/p1")
        let o = try Self.judge(wrong).only("MX")
        #expect(o.verdict == .partial)
        #expect(o.missing == ["priority P3, expected P1"])
        #expect(o.expected == "P1")
        #expect(o.given == "P3")
        let none = try Self.incident(users: 1500).removing("INC-2026-0142/p3", "INC-2026-0142/p1")
        let m = try Self.judge(none).only("MX")
        #expect(m.verdict == .missed)
        #expect(m.missing == ["incident.priority_set P3"])
        #expect(m.given == nil)
    }

    @Test("Rows are conditions at the deadline: another tier takes the default row; no row: not applicable")
    func rows() throws {
        let o = try Self.judge(Self.incident(users: 1500), tier: 3).only("MX")
        #expect(o.verdict == .partial)   // P4 expected; P3, then P1: never P4
        #expect(o.expected == "P4")
        #expect(o.missing == ["priority P3, expected P4"])
        let n = try Self.judge(Self.incident(users: 1500), tier: 3).only("MX-NO-DEFAULT")
        #expect(n.verdict == .notApplicable)
        #expect(n.reason?.hasPrefix("no row of the priority matrix applies") == true)
        // The attribute raised before the deadline: the P1 row applies.
        let raised = try Self.incident(users: 1500).appending("incident.updated", at: "2026-04-07T10:00:00-04:00", key: "users",
                                                            data: obj(["attributes": obj(["users_affected": .int(20000)])]))
        #expect(try Self.judge(raised).only("MX").expected == "P1")
    }

    @Test("policy check: rows need a priority, know their keys, and are reachable")
    func problems() throws {
        let yaml = """
        name: bad
        version: "1"
        rules:
          - id: X-MX
            title: t
            quote: q
            requires: {priority_matrix: [{priority: P3}, {when: {attribute.nope: 1}, priority: P1}, {priority: P9}, {priority: P2, extra: 1}]}
            due: {within: PT1H, after: incident.opened}
          - {id: X-EMPTY, title: t, quote: q, requires: {priority_matrix: []}, due: {within: PT1H, after: incident.opened}}
        """
        let p = try Policy.parse(yaml: yaml)
        let problems = p.problems(directory: nil)
        let expected = [
            "rule X-MX: requires.priority_matrix[1].when.attribute.nope: attribute 'nope' is not declared in the policy's attributes",
            "rule X-MX: requires.priority_matrix[2].priority: expected P1..P4",
            "rule X-MX: requires.priority_matrix[3]: unknown key 'extra'",
            "rule X-MX: requires.priority_matrix[3]: never used (an earlier row has no when)",
            "rule X-EMPTY: requires.priority_matrix: expected a list of rows {when: {...}, priority: P1..P4}",
        ]
        for e in expected { #expect(problems.contains(e), "missing \(e) in \(problems)") }
        #expect(problems.count == expected.count, "\(problems)")
        #expect(try Fixtures.judge(Scenario.incident(), policy: p).only("X-MX").verdict == .notApplicable)
    }
}
