import Events
import Foundation
@testable import Domain
import Testing

/// Issue 17: case attributes and product attributes as while-conditions,
/// conditional audience entries and `every` (docs/policy.md §1, §2, §4, §5).
@Suite("Case attributes and product attributes")
struct PolicyConditionsTests {
    static let policyYAML = """
    name: conditions
    version: "1"
    attributes:
      users_affected: {type: number}
      attack_vector_suspected: {type: boolean}
      vector: {type: text, values: [phishing, credential_stuffing, other]}
      customer_facing: {type: boolean}
    rules:
      - id: A-OPEN
        title: Large incident notice
        quote: q
        applies_when: {kind: incident, attribute.users_affected: {at_least: 1000}}
        requires: {notification: {channels: [slack]}}
        due: {within: PT1H, after: incident.opened}
      - id: A-RESOLVED
        title: Large incident resolution notice
        quote: q
        applies_when: {kind: incident, attribute.users_affected: {above: 999}}
        requires: {notification: {channels: [slack]}}
        due: {within: PT8H, after: incident.resolved}
      - id: A-VECTOR
        title: Attack notice
        quote: q
        applies_when: {kind: incident, attribute.vector: [phishing, credential_stuffing], attribute.attack_vector_suspected: true}
        requires: {notification: {channels: [slack]}}
        due: {within: PT1H, after: incident.opened}
      - id: A-BEFORE
        title: Approval before a customer-facing window
        quote: q
        applies_when: {kind: planned_downtime, attribute.customer_facing: true}
        requires: {ticket: {system: snow, purpose: downtime_approval}}
        due: {before: window.start}
      - id: A-DAY-BEFORE
        title: Customer-facing notice the day before
        quote: q
        applies_when: {kind: planned_downtime, attribute.customer_facing: true}
        requires: {notification: {channels: [slack]}}
        due: {day_before: window.start}
      - id: P-TIER
        title: Tier 1/2 product notice
        quote: q
        applies_when: {kind: incident, product.tier: [1, 2]}
        requires: {notification: {channels: [slack]}}
        due: {within: PT1H, after: incident.opened}
    """

    static func policy(_ yaml: String = policyYAML) throws -> Policy {
        let p = try Policy.parse(yaml: yaml)
        #expect(p.problems(directory: try Fixtures.directory()).isEmpty, "\(p.problems(directory: nil))")
        return p
    }

    static let opened = "INC-2026-0142/opened"
    static let planned = "PD-2026-0007/planned"

    /// The sample incident (opened 2026-04-07 09:20 New York, Slack at 09:35,
    /// 10:05, 13:30; resolved 04-09 15:00, Slack at 21:00) with these attributes.
    static func incident(_ attributes: KeyValuePairs<String, JSONValue>) throws -> Scenario {
        try Scenario.incident().setting(opened, "attributes", obj(attributes))
    }

    static func update(_ s: Scenario, at time: String, _ attributes: KeyValuePairs<String, JSONValue>,
                       type: String = "incident.updated") -> Scenario {
        s.appending(type, at: time, key: "attrs-\(time)", data: obj(["attributes": obj(attributes)]))
    }

    /// The sample directory with the medications product's `tier` (nil: none) from `from`.
    static func directory(tier: Int?, from: String = "2026-01-01T00:00:00-05:00") throws -> Directory {
        var text = try Fixtures.text("directory.yaml")
        let product = #"{id: medications, name: VA.gov Medications, pm: kim-pm, oncall: "@mhv-uf-oncall"}"#
        #expect(text.contains(product))
        if let tier {
            text = text.replacingOccurrences(of: product, with: #"{id: medications, name: VA.gov Medications, pm: kim-pm, oncall: "@mhv-uf-oncall", attributes: {tier: \#(tier), name_text: meds}}"#)
        }
        text = text.replacingOccurrences(of: #"effective_from: "2026-01-01T00:00:00-05:00""#, with: "effective_from: \"\(from)\"")
        return try Directory.parse(yaml: text)
    }

    static func judge(_ s: Scenario, directories: DirectoryHistory? = nil, asOf: Date = Fixtures.later) throws -> CaseEvaluation {
        try Fixtures.judge(s, asOf: asOf, directories: directories, policy: policy())
    }

    // MARK: attribute conditions, within after the opening event

    @Test("within: an attribute that holds from the opening: met")
    func withinMet() throws {
        let o = try Self.judge(Self.incident(["users_affected": .int(1500)])).only("A-OPEN")
        #expect(o.verdict == .met)
    }

    @Test("within: an attribute below the threshold: not applicable; never set: says so")
    func withinMissesCondition() throws {
        let o = try Self.judge(Self.incident(["users_affected": .int(500)])).only("A-OPEN")
        #expect(o.verdict == .notApplicable)
        #expect(o.reason == "the case has not met the condition (users_affected is at least 1000)")
        let unset = try Self.judge(Scenario.incident()).only("A-OPEN")
        #expect(unset.verdict == .notApplicable)
        #expect(unset.reason == "the case has not met the condition (users_affected is at least 1000; users_affected is not set)")
    }

    @Test("within: the attribute rises later: the clock starts then (late), and a message before it does not count")
    func withinStartsLate() throws {
        let s = Self.update(try Self.incident(["users_affected": .int(500)]), at: "2026-04-07T12:00:00-04:00",
                            ["users_affected": .int(2000)])
        let o = try Self.judge(s).only("A-OPEN")
        #expect(o.verdict == .late)
        #expect(o.deadline == Fixtures.time("2026-04-07T13:00:00-04:00"))
        #expect(o.lateBy == 1800)
    }

    @Test("within after resolution: the attribute fell before it: not applicable, saying so")
    func withinEndsEarly() throws {
        let met = try Self.judge(Self.incident(["users_affected": .int(1500)])).only("A-RESOLVED")
        #expect(met.verdict == .met)
        let s = Self.update(try Self.incident(["users_affected": .int(1500)]), at: "2026-04-09T12:00:00-04:00",
                            ["users_affected": .int(100)])
        let o = try Self.judge(s).only("A-RESOLVED")
        #expect(o.verdict == .notApplicable)
        #expect(o.reason == "the condition (users_affected is above 999) did not hold at incident.resolved: users_affected 100")
    }

    @Test("Text and boolean attributes: one of a list, all conditions must hold; an update keeps the other attributes")
    func textAndBoolean() throws {
        let both = try Self.incident(["vector": "phishing", "attack_vector_suspected": .bool(true)])
        #expect(try Self.judge(both).only("A-VECTOR").verdict == .met)
        let other = try Self.incident(["vector": "other", "attack_vector_suspected": .bool(true)])
        #expect(try Self.judge(other).only("A-VECTOR").verdict == .notApplicable)
        // The update names only the flag: vector keeps its value.
        let later = Self.update(try Self.incident(["vector": "phishing", "attack_vector_suspected": .bool(false)]),
                                at: "2026-04-07T09:30:00-04:00", ["attack_vector_suspected": .bool(true)])
        let o = try Self.judge(later).only("A-VECTOR")
        #expect(o.verdict == .met)
        #expect(o.deadline == Fixtures.time("2026-04-07T10:30:00-04:00"))
    }

    // MARK: before and day_before (planned downtime: window 2026-03-14 22:00 New York)

    static func downtime(customerFacing: Bool) throws -> Scenario {
        try Scenario.planned().setting(planned, "attributes", obj(["customer_facing": .bool(customerFacing)]))
    }

    @Test("before: holds throughout: met; never holds: not applicable")
    func beforeMetAndMissed() throws {
        #expect(try Self.judge(Self.downtime(customerFacing: true)).only("A-BEFORE").verdict == .met)
        let o = try Self.judge(Self.downtime(customerFacing: false)).only("A-BEFORE")
        #expect(o.verdict == .notApplicable)
        #expect(o.reason == "the case has not met the condition (customer_facing is true)")
    }

    @Test("before: became true only after the window started: not applicable, saying when")
    func beforeStartsLate() throws {
        let s = Self.update(try Self.downtime(customerFacing: false), at: "2026-03-14T23:00:00-04:00",
                            ["customer_facing": .bool(true)], type: "downtime.updated")
        let o = try Self.judge(s).only("A-BEFORE")
        #expect(o.verdict == .notApplicable)
        #expect(o.reason == "customer_facing became true at 2026-03-15T03:00:00Z, after window.start (2026-03-15T02:00:00Z)")
    }

    @Test("before: became true after the ticket: the ticket filed before does not count (missed)")
    func beforeStartsAfterTheTicket() throws {
        let s = Self.update(try Self.downtime(customerFacing: false), at: "2026-03-10T12:00:00-04:00",
                            ["customer_facing": .bool(true)], type: "downtime.updated")
        let o = try Self.judge(s).only("A-BEFORE")
        #expect(o.verdict == .missed)
        #expect(o.missing == ["ticket.submitted (snow, downtime_approval)"])
    }

    @Test("before: stopped holding before the window: not applicable, saying when")
    func beforeEndsEarly() throws {
        let s = Self.update(try Self.downtime(customerFacing: true), at: "2026-03-10T12:00:00-04:00",
                            ["customer_facing": .bool(false)], type: "downtime.updated")
        let o = try Self.judge(s).only("A-BEFORE")
        #expect(o.verdict == .notApplicable)
        #expect(o.reason == "customer_facing became false at 2026-03-10T16:00:00Z, before window.start (2026-03-15T02:00:00Z)")
    }

    @Test("day_before: holds: met; became true on the window's day: not applicable")
    func dayBefore() throws {
        #expect(try Self.judge(Self.downtime(customerFacing: true)).only("A-DAY-BEFORE").verdict == .met)
        let s = Self.update(try Self.downtime(customerFacing: false), at: "2026-03-14T09:00:00-04:00",
                            ["customer_facing": .bool(true)], type: "downtime.updated")
        let o = try Self.judge(s).only("A-DAY-BEFORE")
        #expect(o.verdict == .notApplicable)
        #expect(o.reason == "customer_facing became true on 2026-03-14, after the day before the window (2026-03-13)")
    }

    // MARK: product attributes

    @Test("product.tier: the case's product carries it in the directory: met; another tier or none: not applicable")
    func productTier() throws {
        let s = try Scenario.incident()
        #expect(try Self.judge(s, directories: DirectoryHistory([Self.directory(tier: 1)])).only("P-TIER").verdict == .met)
        let three = try Self.judge(s, directories: DirectoryHistory([Self.directory(tier: 3)])).only("P-TIER")
        #expect(three.verdict == .notApplicable)
        #expect(three.reason == "the case has not met the condition (product.tier is one of 1/2)")
        let none = try Self.judge(s, directories: DirectoryHistory([Self.directory(tier: nil)])).only("P-TIER")
        #expect(none.reason == "the case has not met the condition (product.tier is one of 1/2; product.tier is not set)")
    }

    @Test("product.tier: read from the directory in force at the occasion (a later directory raises the tier)")
    func productTierFromTheDirectoryThen() throws {
        let dirs = DirectoryHistory([try Self.directory(tier: 3),
                                     try Self.directory(tier: 1, from: "2026-04-07T12:00:00-04:00")])
        let o = try Self.judge(Scenario.incident(), directories: dirs).only("P-TIER")
        #expect(o.verdict == .late)
        #expect(o.deadline == Fixtures.time("2026-04-07T13:00:00-04:00"))
        // A product set by an update: the tier of the new product counts from then.
        let other = try Scenario.incident().setting(Self.opened, "product", "secure-messaging")
        let moved = other.appending("incident.updated", at: "2026-04-07T09:30:00-04:00", key: "product",
                                    data: obj(["product": "medications"]))
        let m = try Self.judge(moved, directories: DirectoryHistory([Self.directory(tier: 1)])).only("P-TIER")
        #expect(m.verdict == .met)
        #expect(m.deadline == Fixtures.time("2026-04-07T10:30:00-04:00"))
    }

    // MARK: catalog and directory

    @Test("Events accept an attributes object; bad names and values are refused, naming the field")
    func catalog() throws {
        let base = try Scenario.incident().lines[0]["data"]!
        var data = base.objectValue!
        data["attributes"] = obj(["users_affected": .int(1200), "vector": "phishing", "suspected": .bool(true)])
        let opened = try IncidentOpened(data: .object(data))
        #expect(opened.attributes?["users_affected"] == .number(1200))
        #expect(try IncidentOpened(data: opened.json) == opened)
        #expect(opened.json["attributes"]?["users_affected"] == .int(1200))
        data["attributes"] = obj(["Users": .int(1)])
        #expect(throws: ValidationError.self) { try IncidentOpened(data: .object(data)) }
        data["attributes"] = obj(["users": .array([])])
        do {
            _ = try IncidentOpened(data: .object(data))
            Issue.record("accepted a list value")
        } catch {
            #expect(error.field == "data.attributes.users")
        }
        let update = try IncidentUpdated(data: obj(["attributes": obj(["users_affected": .int(5)])]))
        #expect(update.attributes == ["users_affected": .number(5)])
        #expect(throws: ValidationError.self) { try IncidentUpdated(data: obj(["attributes": obj([:])])) }
        #expect(try DowntimeUpdated(data: obj(["attributes": obj(["customer_facing": .bool(true)])])).attributes
                == ["customer_facing": .bool(true)])
        // Without attributes, none are written.
        #expect(try IncidentOpened(data: base).json["attributes"] == nil)
    }

    @Test("Products carry attributes in the directory (and keep them through the JSON)")
    func directoryAttributes() throws {
        let d = try Self.directory(tier: 1)
        #expect(d.product(id: "medications")?.attributes == ["tier": .number(1), "name_text": .text("meds")])
        #expect(try Directory(json: d.json) == d)
        #expect(try Fixtures.directory().json["products"]?.arrayValue?.first?["attributes"] == nil)
        let bad = try Fixtures.text("directory.yaml").replacingOccurrences(of: "pm: kim-pm, oncall: \"@mhv-uf-oncall\"}",
                                                                             with: "pm: kim-pm, oncall: \"@mhv-uf-oncall\", attributes: {tier: [1]}}")
        #expect(throws: ValidationError.self) { try Directory.parse(yaml: bad) }
    }

    // MARK: policy check

    @Test("policy check: undeclared attributes, wrong comparisons and bad declarations, one problem each; such a rule judges nothing")
    func problems() throws {
        let yaml = """
        name: bad
        version: "1"
        attributes:
          users_affected: {type: number}
          flag: {type: boolean}
          vector: {type: text, values: [phishing, other]}
          colour: {type: color}
          tier: {type: number, values: [a]}
        rules:
          - {id: X-UNDECLARED, title: t, quote: q, applies_when: {attribute.nope: true}, requires: {notification: {}}, due: {within: PT1H, after: incident.opened}}
          - {id: X-RANGE, title: t, quote: q, applies_when: {attribute.flag: {at_least: 3}}, requires: {notification: {}}, due: {within: PT1H, after: incident.opened}}
          - {id: X-TYPE, title: t, quote: q, applies_when: {attribute.users_affected: many}, requires: {notification: {}}, due: {within: PT1H, after: incident.opened}}
          - {id: X-VALUE, title: t, quote: q, applies_when: {attribute.vector: smishing}, requires: {notification: {}}, due: {within: PT1H, after: incident.opened}}
          - {id: X-COMPARE, title: t, quote: q, applies_when: {attribute.users_affected: {more_than: 3}}, requires: {notification: {}}, due: {within: PT1H, after: incident.opened}}
          - {id: X-BOUND, title: t, quote: q, applies_when: {product.tier: {at_least: high}}, requires: {notification: {}}, due: {within: PT1H, after: incident.opened}}
          - {id: X-KEY, title: t, quote: q, applies_when: {attributes.users: 3}, requires: {notification: {}}, due: {within: PT1H, after: incident.opened}}
        """
        let p = try Policy.parse(yaml: yaml)
        let problems = p.problems(directory: nil)
        let expected = [
            "attribute colour: expected {type: boolean|number|text}",
            "attribute tier: values are only for text attributes",
            "rule X-UNDECLARED: applies_when.attribute.nope: attribute 'nope' is not declared in the policy's attributes",
            "rule X-RANGE: applies_when.attribute.flag: at_least compares numbers, but the attribute is boolean",
            "rule X-TYPE: applies_when.attribute.users_affected: \"many\" is text, but the attribute is number",
            "rule X-VALUE: applies_when.attribute.vector: 'smishing' is not one of the declared values (phishing, other)",
            "rule X-COMPARE: applies_when.attribute.users_affected: unknown comparison 'more_than' (expected at_least, at_most, above, below)",
            "rule X-BOUND: applies_when.product.tier.at_least: expected a number, got a string",
            "rule X-KEY: applies_when: unknown condition 'attributes.users'",
        ]
        for e in expected { #expect(problems.contains(e), "missing \(e) in \(problems)") }
        #expect(problems.count == expected.count, "\(problems)")
        let eval = try Fixtures.judge(Scenario.incident(), policy: p)
        for id in ["X-UNDECLARED", "X-RANGE", "X-TYPE", "X-VALUE", "X-COMPARE", "X-BOUND"] {
            let o = try eval.only(id)
            #expect(o.verdict == .notApplicable)
            #expect(o.reason == "the rule is invalid; see the policy check")
        }
    }
}

@Suite("Conditional audience entries and every holder of a role")
struct AudienceEntryTests {
    static let policyYAML = """
    name: audiences
    version: "1"
    audiences:
      mobile-extra: [role:horizon, {ref: person:chante, when: {impacts_mobile: true}}]
    rules:
      - id: C-DIRECT
        title: Notice, with Chante when mobile
        quote: q
        applies_when: {kind: incident}
        requires: {notification: {channels: [slack], audience: [role:horizon, {ref: person:chante, when: {impacts_mobile: true}}]}}
        due: {within: PT1H, after: incident.opened}
      - id: C-NAMED
        title: Notice to a named audience with a conditional entry
        quote: q
        applies_when: {kind: incident}
        requires: {notification: {channels: [slack], audience: [mobile-extra]}}
        due: {within: PT1H, after: incident.opened}
      - id: E-EVERY
        title: Every OCTO PO
        quote: q
        applies_when: {kind: incident}
        requires: {notification: {channels: [slack], audience: [{every: role:octo-po}]}}
        due: {within: PT1H, after: incident.opened}
      - id: E-ANY
        title: Any OCTO PO
        quote: q
        applies_when: {kind: incident}
        requires: {notification: {channels: [slack], audience: [role:octo-po]}}
        due: {within: PT1H, after: incident.opened}
      - id: E-WHEN
        title: Every OCTO PO when P1/P2
        quote: q
        applies_when: {kind: incident}
        requires: {notification: {channels: [slack], audience: [role:horizon, {every: role:octo-po, when: {priority: [P1, P2]}}]}}
        due: {within: PT1H, after: incident.opened}
    """

    static func policy() throws -> Policy {
        let p = try Policy.parse(yaml: policyYAML)
        #expect(p.problems(directory: try Fixtures.directory()).isEmpty, "\(p.problems(directory: nil))")
        return p
    }

    static let opened = "INC-2026-0142/opened"
    static let priorityEdit = "INC-2026-0142/p3-edit"   // Slack 10:05: ana-po, ben-po, kim-pm, @mhv-horizon
    /// Before the 13:30 message that reaches everyone: the 10:20 deadline has passed.
    static let noon = Fixtures.time("2026-04-07T12:00:00-04:00")

    static func judge(_ s: Scenario, asOf: Date = Fixtures.later) throws -> CaseEvaluation {
        try Fixtures.judge(s, asOf: asOf, policy: policy())
    }

    static func mobile(_ s: Scenario, _ value: Bool, at time: String) -> Scenario {
        s.appending("incident.updated", at: time, key: "mobile-\(time)", data: obj(["impacts_mobile": .bool(value)]))
    }

    @Test("A conditional entry not in force: not required (met); in force at the deadline: required (partial, naming it)")
    func conditional() throws {
        let s = try Scenario.incident()
        #expect(try Self.judge(s).only("C-DIRECT").verdict == .met)
        #expect(try Self.judge(s).only("C-NAMED").verdict == .met)
        let mobile = s.setting(Self.opened, "impacts_mobile", .bool(true))
        for rule in ["C-DIRECT", "C-NAMED"] {
            let o = try Self.judge(mobile, asOf: Self.noon).only(rule)
            #expect(o.verdict == .partial)
            #expect(o.missing == ["person:chante"])
            // Chante is tagged at 13:30: late.
            #expect(try Self.judge(mobile).only(rule).verdict == .late)
        }
    }

    @Test("A conditional entry that starts after the deadline, or ends before it, is not required")
    func conditionalStartsLateEndsEarly() throws {
        let s = try Scenario.incident()
        let late = Self.mobile(s, true, at: "2026-04-07T11:00:00-04:00")
        #expect(try Self.judge(late, asOf: Self.noon).only("C-DIRECT").verdict == .met)
        let early = Self.mobile(Self.mobile(s, true, at: "2026-04-07T09:40:00-04:00"), false, at: "2026-04-07T10:10:00-04:00")
        #expect(try Self.judge(early, asOf: Self.noon).only("C-DIRECT").verdict == .met)
        // Started before the deadline: required.
        let during = Self.mobile(s, true, at: "2026-04-07T10:10:00-04:00")
        #expect(try Self.judge(during, asOf: Self.noon).only("C-DIRECT").missing == ["person:chante"])
    }

    @Test("every role: each holder must be reached; missing names the holders not reached")
    func every() throws {
        let s = try Scenario.incident()
        #expect(try Self.judge(s).only("E-EVERY").verdict == .met)
        let oneMissing = s.setting(Self.priorityEdit, "audience", strs("ana-po", "kim-pm", "@mhv-horizon"))
        let o = try Self.judge(oneMissing, asOf: Self.noon).only("E-EVERY")
        #expect(o.verdict == .partial)
        #expect(o.missing == ["every role:octo-po (person:ben-po)"])
        // A plain role stays any one holder.
        #expect(try Self.judge(oneMissing, asOf: Self.noon).only("E-ANY").verdict == .met)
        let none = s.setting(Self.priorityEdit, "audience", strs("kim-pm", "@mhv-horizon"))
        #expect(try Self.judge(none, asOf: Self.noon).only("E-EVERY").missing
                == ["every role:octo-po (person:ana-po, person:ben-po)"])
        // Naming the role as a whole reaches every holder.
        let whole = s.setting(Self.priorityEdit, "audience", strs("role:octo-po"))
        #expect(try Self.judge(whole, asOf: Self.noon).only("E-EVERY").verdict == .met)
    }

    @Test("every with when: required only while the condition holds at the deadline")
    func everyWhen() throws {
        let s = try Scenario.incident().setting(Self.priorityEdit, "audience", strs("ana-po", "@mhv-horizon"))
        // P3 at the deadline: only Horizon.
        #expect(try Self.judge(s, asOf: Self.noon).only("E-WHEN").verdict == .met)
        let p1 = s.setting("INC-2026-0142/p3", "priority", "P1")
        let o = try Self.judge(p1, asOf: Self.noon).only("E-WHEN")
        #expect(o.verdict == .partial)
        #expect(o.missing == ["every role:octo-po (person:ben-po)"])
    }

    @Test("The holders are those of the directory in force at the deadline")
    func everyDirectoryThen() throws {
        let d1 = try Fixtures.directory()
        var people = d1.people
        people.append(Person(handle: "zoe-po", name: "Zoe", roles: ["octo-po"]))
        let d2 = try Directory(effectiveFrom: Fixtures.time("2026-04-07T10:00:00-04:00"), roles: d1.roles, people: people,
                               groups: d1.groups, products: d1.products)
        let o = try Fixtures.judge(Scenario.incident(), asOf: Self.noon, directories: DirectoryHistory([d1, d2]),
                                   policy: Self.policy()).only("E-EVERY")
        #expect(o.missing == ["every role:octo-po (person:zoe-po)"])
    }

    @Test("policy check: unknown refs in entries are named; malformed entries and conditions are problems")
    func problems() throws {
        let yaml = """
        name: bad
        version: "1"
        audiences:
          extra: [{ref: person:nobody, when: {impacts_mobile: true}}, {every: role:no-such-role}]
          broken: [{every: person:kim-pm}, {ref: role:horizon, when: {colour: red}}, {ref: role:horizon, every: role:octo}, 7]
        rules:
          - {id: X-REFS, title: t, quote: q, requires: {notification: {audience: [extra, {ref: group:nope, when: {priority: P1}}, {every: role:ghost}]}}, due: {within: PT1H, after: incident.opened}}
          - {id: X-SYNTAX, title: t, quote: q, requires: {notification: {audience: [{who: role:octo}]}}, due: {within: PT1H, after: incident.opened}}
        """
        let p = try Policy.parse(yaml: yaml)
        let problems = p.problems(directory: try Fixtures.directory())
        let expected = [
            "audience broken: audiences.broken[0].every: expected role:<role> (every holder of a role), got \"person:kim-pm\"",
            "audience broken: audiences.broken[1].when: unknown condition 'colour' (expected priority, data_compromise_suspected, impacts_mobile, attribute.<name>, product.<name>)",
            "audience broken: audiences.broken[2]: give ref or every, not both",
            "audience broken: audiences.broken[3]: expected an audience ref, {ref: REF, when: {...}} or {every: role:ROLE}, got a number",
            "rule X-SYNTAX: requires.notification.audience[0]: unknown key 'who' (expected ref or every, and when)",
            "audience extra: unknown person 'nobody'",
            "audience extra: unknown role 'no-such-role'",
            "rule X-REFS: unknown person 'nobody'",
            "rule X-REFS: unknown role 'no-such-role'",
            "rule X-REFS: unknown group 'nope'",
            "rule X-REFS: unknown role 'ghost'",
        ]
        for e in expected { #expect(problems.contains(e), "missing \(e) in \(problems)") }
        #expect(problems.count == expected.count, "\(problems)")
        #expect(try Fixtures.judge(Scenario.incident(), policy: p).only("X-SYNTAX").verdict == .notApplicable)
    }

    @Test("A missed obligation names the conditional and every entries it required")
    func missingText() throws {
        let p = try Self.policy()
        guard case .notification(let n) = p.rule("E-WHEN")!.requirement else { Issue.record("not a notification"); return }
        #expect(Requirement.notification(n).missingText
                == "notification.sent on slack reaching role:horizon, every role:octo-po when priority in P1/P2")
        // The plain refs stay in `audience` and `audiences`.
        #expect(n.audience == ["role:horizon"])
        #expect(p.audiences["mobile-extra"] == ["role:horizon"])
        #expect(p.audienceEntries["mobile-extra"]?.count == 2)
    }
}
