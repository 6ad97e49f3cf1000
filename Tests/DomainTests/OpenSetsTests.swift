import Events
import Foundation
@testable import Domain
import Testing

/// Issue 17, "open sets of channels and case kinds": channels beyond Slack
/// and email (`channels:`), case kinds beyond planned downtime and incident
/// (`case_kinds:`, opened by `case.opened`, closed by `case.closed`), and the
/// decision a step may require (`decision.recorded`, `requires.decision`).
@Suite("Open sets: channels, case kinds, decisions")
struct OpenSetsTests {
    static let policyYAML = """
    name: federal-incident-communications
    version: "1"
    channels: [phone_bridge, status_page, ticket_comment, reporting_portal]
    case_kinds:
      vendor_outage_evaluation: {title: "Evaluate another team's outage"}
    content:
      vendor_outage_evaluation: [summary]
    rules:
      - id: VOE-DECIDE
        title: Decide whether the outage affects us
        quote: evaluate whether another team's outage affects us
        applies_when: {kind: vendor_outage_evaluation}
        requires: {decision: {decision: affects_us, outcomes: [yes, no]}}
        by: [engineering-manager, communication_owner]
        due: {within: PT2H, after: case.opened}
      - id: VOE-BRIDGE
        title: Announce on the phone bridge
        quote: announce on the bridge
        applies_when: {kind: vendor_outage_evaluation}
        requires: {notification: {channels: [phone_bridge], audience: [role:octo-po]}}
        due: {within: PT1H, after: decision.recorded}
      - id: VOE-ANY
        title: Tell someone, on any known channel
        quote: tell someone
        applies_when: {kind: vendor_outage_evaluation}
        requires: {notification: {audience: [role:octo-po]}}
        due: {within: PT4H, after: case.opened}
      - id: VOE-CONTENT
        title: Every message carries a summary
        quote: summary
        requires: {every_message_content: vendor_outage_evaluation}
      - id: IR-PORTAL
        title: Incident reported on the portal
        quote: report it
        applies_when: {kind: incident}
        requires: {notification: {channels: [reporting_portal]}}
        due: {within: PT1H, after: incident.opened}
    """

    static func policy() throws -> Policy {
        let p = try Policy.parse(yaml: policyYAML)
        #expect(p.problems(directory: try Fixtures.directory()).isEmpty, "\(p.problems(directory: nil))")
        return p
    }

    static let caseID = "CASE-2026-0001"

    static func line(_ type: String, _ time: String, actor: String = "lou-em", key: String, _ data: JSONValue) -> JSONValue {
        obj(["type": .string(type), "case": .string(caseID), "occurred_at": .string(time), "actor": .string(actor),
             "key": .string(key), "data": data])
    }

    /// A vendor-outage evaluation opened at 10:00, decided at 10:30, announced on the bridge at 10:45, closed at 11:00.
    static func evaluation(outcome: String = "no", decidedAt: String = "2026-05-04T10:30:00-04:00",
                           decider: String = "lou-em") -> Scenario {
        Scenario(lines: [
            line("case.opened", "2026-05-04T10:00:00-04:00", key: "voe/opened",
                 obj(["kind": "vendor_outage_evaluation", "title": "VA.gov login outage: does it affect MHV?",
                      "team": "user-facing", "communication_owner": "kim-pm"])),
            line("decision.recorded", decidedAt, actor: decider, key: "voe/decision",
                 obj(["decision": "affects_us", "outcome": .string(outcome), "rationale": "MHV login uses another IdP path"])),
            line("notification.sent", "2026-05-04T10:45:00-04:00", key: "voe/bridge",
                 obj(["channel": "phone_bridge", "destination": "IR bridge", "audience": strs("ana-po"), "purpose": "update",
                      "content": obj(["summary": "VA.gov login outage does not affect MHV"])])),
            line("case.closed", "2026-05-04T11:00:00-04:00", key: "voe/closed", obj(["outcome": "no impact"])),
        ])
    }

    static let asOf = Fixtures.time("2026-05-05T00:00:00-04:00")

    // MARK: Catalog

    @Test("notification.sent takes any lowercase identifier as its channel, and refuses others clearly")
    func channelCatalog() throws {
        func sent(_ channel: JSONValue) -> JSONValue {
            obj(["channel": channel, "destination": "d", "audience": strs("ana-po"), "purpose": "other",
                 "content": obj(["summary": "s"])])
        }
        guard case .notificationSent(let n) = try Catalog.decode(type: .notificationSent, data: sent("phone_bridge")) else {
            Issue.record("not a notification"); return
        }
        #expect(n.channel == Channel(rawValue: "phone_bridge") && !n.channel.isBuiltIn)
        #expect(n.json["channel"] == "phone_bridge")
        #expect(Channel.slack.isBuiltIn && Channel.allCases == [.slack, .email])
        #expect(Channel(rawValue: "status_page")?.displayName == "Status page")
        for bad: JSONValue in ["Phone Bridge", "phone-bridge", "9bridge", .string(String(repeating: "a", count: 33))] {
            #expect {
                _ = try Catalog.decode(type: .notificationSent, data: sent(bad))
            } throws: { error in
                let e = error as? ValidationError
                return e?.field == "data.channel" && e?.message.contains("lowercase identifier") == true
            }
        }
        #expect(Channel(rawValue: String(repeating: "a", count: 32)) != nil)
    }

    @Test("case.opened opens a declared kind; the built-in kinds are refused naming their event; case.closed and decision.recorded")
    func caseCatalog() throws {
        let opened = obj(["kind": "vendor_outage_evaluation", "title": "t", "team": "user-facing"])
        guard case .caseOpened(let o) = try Catalog.decode(type: .caseOpened, data: opened) else { Issue.record("not case.opened"); return }
        #expect(o.kind.rawValue == "vendor_outage_evaluation" && o.team == .userFacing && o.json == opened)
        #expect(Catalog.opensCase(.caseOpened) && Catalog.streamOpeningTypes.contains(.caseOpened))
        #expect(Catalog.caseKind(forOpeningType: "case.opened", data: opened) == o.kind)
        #expect(Catalog.openingType(of: o.kind) == .caseOpened)
        #expect(Catalog.caseKind(ofType: EventType.caseClosed) == nil && Catalog.caseKind(ofType: EventType.decisionRecorded) == nil)
        for (kind, event) in [("incident", "incident.opened"), ("planned_downtime", "downtime.planned")] {
            #expect {
                _ = try Catalog.decode(type: .caseOpened, data: obj(["kind": .string(kind), "title": "t"]))
            } throws: { error in
                let e = error as? ValidationError
                return e?.field == "data.kind" && e?.message == "\(kind == "incident" ? "an" : "a") \(kind) case is opened by \(event), not case.opened"
            }
        }
        #expect(throws: ValidationError.self) { try Catalog.decode(type: .caseOpened, data: obj(["kind": "Vendor Outage", "title": "t"])) }
        #expect(throws: ValidationError.self) { try Catalog.decode(type: .caseOpened, data: obj(["kind": "x"])) }
        _ = try Catalog.decode(type: .caseClosed, data: obj([:]))
        guard case .decisionRecorded(let d) = try Catalog.decode(type: .decisionRecorded, data: obj(["decision": "affects_us", "outcome": "no"])) else {
            Issue.record("not decision.recorded"); return
        }
        #expect(d.decision == "affects_us" && d.outcome == "no" && d.rationale == nil)
        #expect {
            _ = try Catalog.decode(type: .decisionRecorded, data: obj(["decision": "Affects us", "outcome": "no"]))
        } throws: { error in (error as? ValidationError)?.field == "data.decision" }
        #expect {
            _ = try Catalog.decode(type: .decisionRecorded, data: obj(["decision": "affects_us"]))
        } throws: { error in (error as? ValidationError)?.field == "data.outcome" }
    }

    // MARK: Judging

    @Test("A case of a declared kind: decision met in time, bridge message meets the rule naming phone_bridge, closed")
    func declaredKindMet() throws {
        let e = try Fixtures.judge(Self.evaluation(), asOf: Self.asOf, policy: Self.policy())
        #expect(e.kind == CaseKind(rawValue: "vendor_outage_evaluation"))
        #expect(e.team == .userFacing && e.closedAt == Fixtures.time("2026-05-04T11:00:00-04:00"))
        #expect(e.json["closed_at"] == "2026-05-04T15:00:00Z")
        let decide = try e.only("VOE-DECIDE")
        #expect(decide.verdict == .met && decide.evidence == ["e2"])
        #expect(decide.deadline == Fixtures.time("2026-05-04T12:00:00-04:00"))
        let bridge = try e.only("VOE-BRIDGE")
        #expect(bridge.verdict == .met && bridge.evidence == ["e3"])
        // With no channels, every channel the policy knows counts (here phone_bridge).
        #expect(try e.only("VOE-ANY").verdict == .met)
        #expect(try e.only("VOE-CONTENT").verdict == .met)
        // Rules of the built-in kinds are not listed for it.
        #expect(e.obligations(rule: "IR-PORTAL").isEmpty)
    }

    @Test("A decision rule missed, late, with an outcome outside the list, and by someone who may not decide")
    func declaredKindMissed() throws {
        let policy = try Self.policy()
        let none = try Fixtures.judge(Self.evaluation().removing("voe/decision"), asOf: Self.asOf, policy: policy)
        let missed = try none.only("VOE-DECIDE")
        #expect(missed.verdict == .missed)
        #expect(missed.missing == ["decision.recorded affects_us with outcome yes or no"])
        // No decision, so the bridge rule anchored on it has nothing to wait for once closed.
        #expect(try none.only("VOE-BRIDGE").verdict == .notApplicable)

        let late = try Fixtures.judge(Self.evaluation(decidedAt: "2026-05-04T12:30:00-04:00"), asOf: Self.asOf, policy: policy)
        #expect(try late.only("VOE-DECIDE").verdict == .late)

        let maybe = try Fixtures.judge(Self.evaluation(outcome: "maybe"), asOf: Self.asOf, policy: policy)
        let partial = try maybe.only("VOE-DECIDE")
        #expect(partial.verdict == .partial)
        #expect(partial.missing == ["decision affects_us outcome 'maybe' (expected yes or no)"])
        // Outcomes compare without case.
        #expect(try Fixtures.judge(Self.evaluation(outcome: "No"), asOf: Self.asOf, policy: policy).only("VOE-DECIDE").verdict == .met)

        let wrong = try Fixtures.judge(Self.evaluation(decider: "max-eng"), asOf: Self.asOf, policy: policy)
        let byWrong = try wrong.only("VOE-DECIDE")
        #expect(byWrong.verdict == .partial)
        #expect(byWrong.missing.contains { $0.contains("actor max-eng is not role engineering-manager or the communication owner") })
        // The communication owner of the case may decide.
        #expect(try Fixtures.judge(Self.evaluation(decider: "kim-pm"), asOf: Self.asOf, policy: policy).only("VOE-DECIDE").verdict == .met)

        let open = try Fixtures.judge(Self.evaluation().removing("voe/decision", "voe/closed"),
                                      asOf: Fixtures.time("2026-05-04T11:00:00-04:00"), policy: policy)
        #expect(try open.only("VOE-DECIDE").verdict == .pending && open.closedAt == nil)
    }

    @Test("A message on an undeclared or other channel does not meet a rule naming phone_bridge")
    func otherChannel() throws {
        let policy = try Self.policy()
        let slack = Self.evaluation().setting("voe/bridge", "channel", "slack")
        let e = try Fixtures.judge(slack, asOf: Self.asOf, policy: policy)
        #expect(try e.only("VOE-BRIDGE").verdict == .missed)
        #expect(try e.only("VOE-BRIDGE").missing == ["role:octo-po"])
        let undeclared = Self.evaluation().setting("voe/bridge", "channel", "carrier_pigeon")
        let u = try Fixtures.judge(undeclared, asOf: Self.asOf, policy: policy)
        #expect(try u.only("VOE-BRIDGE").verdict == .missed)
        #expect(try u.only("VOE-ANY").verdict == .missed)
    }

    @Test("An incident reported on a declared channel; case.closed does not close an incident")
    func incidentOnDeclaredChannel() throws {
        let policy = try Self.policy()
        let base = try Scenario.incident()
        let opened = base.lines.first!["occurred_at"]!.stringValue!
        let portal = base.appending("notification.sent", at: "2026-04-07T09:50:00-04:00", key: "portal",
                                    data: obj(["channel": "reporting_portal", "destination": "VA-CERT", "audience": strs("ana-po"),
                                               "purpose": "initial", "content": obj(["summary": "s"])]))
        #expect(opened == "2026-04-07T09:20:00-04:00")
        #expect(try Fixtures.judge(portal, policy: policy).only("IR-PORTAL").verdict == .met)
        #expect(try Fixtures.judge(base, policy: policy).only("IR-PORTAL").verdict == .missed)
        // The default policy's notification rules (slack or email) ignore it.
        let d = try Fixtures.judge(portal)
        #expect(d.obligations.allSatisfy { !$0.evidence.contains("e\(portal.lines.count)") || $0.ruleID == "IR-CONTENT" })
        let closedOnlyByItsEvents = try Fixtures.judge(Scenario.incident().removing("INC-2026-0142/resolved")
            .appending("case.closed", at: "2026-04-09T15:00:00-04:00", key: "cc", data: obj([:])), policy: policy)
        #expect(closedOnlyByItsEvents.closedAt == nil && closedOnlyByItsEvents.resolvedAt == nil)
    }

    @Test("Purpose inference for a case of a declared kind: initial, update, concluded once closed")
    func purposes() throws {
        let events = try Self.evaluation().events()
        func purpose(_ t: String) -> String? {
            PurposeInference.infer(caseID: Self.caseID, events: events, at: Fixtures.time(t)).map { "\($0.purpose.rawValue)/\($0.rule)" }
        }
        #expect(purpose("2026-05-04T10:40:00-04:00") == "initial/first_message")
        #expect(purpose("2026-05-04T10:50:00-04:00") == "update/case_open")
        #expect(purpose("2026-05-04T11:10:00-04:00") == "concluded/case_closed")
        #expect(PurposeInference.openKind(caseID: Self.caseID, events: events, at: Fixtures.time("2026-05-04T10:50:00-04:00"))
            == CaseKind(rawValue: "vendor_outage_evaluation"))
    }

    // MARK: Policy check

    @Test("policy check: undeclared channels and kinds, bad declarations, bad decision requirements")
    func problems() throws {
        let yaml = """
        name: p
        version: "1"
        channels: [phone_bridge, "Status Page"]
        case_kinds:
          incident: {title: built in}
          Vendor: {}
          vendor_outage_evaluation: {title: ok, color: red}
        content:
          outage_review: [summary]
        rules:
          - id: R-CHANNEL
            quote: q
            requires: {notification: {channels: [status_page]}}
            due: {within: PT1H, after: incident.opened}
          - id: R-KIND
            quote: q
            applies_when: {kind: outage_review}
            requires: {decision: {decision: affects_us}}
            due: {within: PT1H, after: case.opened}
          - id: R-DECISION
            quote: q
            applies_when: {kind: vendor_outage_evaluation}
            requires: {decision: {decision: "Affects Us", outcomes: [yes]}}
            due: {within: PT1H, after: case.opened}
          - id: R-OPENED-INCIDENT
            quote: q
            applies_when: {kind: incident}
            requires: {escalation: {to: csoc}}
            due: {within: PT1H, after: case.opened}
          - id: R-CONTENT
            quote: q
            requires: {every_message_content: outage_review}
        """
        let p = try Policy.parse(yaml: yaml)
        let problems = p.problems(directory: nil)
        let expected = [
            #"channels: "Status Page" is not a channel name (expected a lowercase identifier, [a-z][a-z0-9_]{0,31})"#,
            "case_kinds: 'Vendor' is not a case kind name (expected a lowercase identifier, [a-z][a-z0-9_]{0,31})",
            "case_kinds: incident is built in (opened by incident.opened); declare only other kinds",
            "case_kinds.vendor_outage_evaluation: unknown key 'color'",
            "content: unknown case kind 'outage_review' (expected planned_downtime, incident or a kind declared in case_kinds:)",
            "rule R-CHANNEL: requires.notification.channels: unknown channel \"status_page\" (expected slack, email, phone_bridge; declare others in channels:)",
            "rule R-KIND: applies_when.kind: unknown case kind \"outage_review\" (expected planned_downtime, incident or a kind declared in case_kinds:)",
            "rule R-DECISION: requires.decision: missing or bad decision name \"Affects Us\" (expected a lowercase identifier, [a-z][a-z0-9_]{0,31})",
            "rule R-CONTENT: requires.every_message_content: unknown case kind \"outage_review\" (expected planned_downtime, incident or a kind declared in case_kinds:)",
            "rule R-OPENED-INCIDENT: case.opened does not happen in incident cases (case.opened and case.closed belong to cases of kinds declared in case_kinds:)",
        ]
        for text in expected { #expect(problems.contains(text), "missing: \(text)\nin: \(problems)") }
        #expect(problems.count == expected.count, "\(problems)")
        #expect(p.channels == [Channel(rawValue: "phone_bridge")!])
        #expect(Array(p.caseKinds.keys) == [CaseKind(rawValue: "vendor_outage_evaluation")!])
        // Invalid rules judge nothing.
        if case .invalid = p.rule("R-CHANNEL")!.requirement {} else { Issue.record("R-CHANNEL should be invalid") }
        if case .invalid = p.rule("R-KIND")!.requirement {} else { Issue.record("R-KIND should be invalid") }
        #expect(p.rule("R-KIND")!.appliesWhen.kind == CaseKind(rawValue: "outage_review"))
        let e = try Fixtures.judge(Scenario.incident(), policy: p)
        let channel = try e.only("R-CHANNEL")
        #expect(channel.verdict == .notApplicable && channel.reason == "the rule is invalid; see the policy check")
    }

    @Test("A valid policy declaring the open sets, and the default policy, have no problems; unquoted yes/no are outcomes")
    func declaredSetsParse() throws {
        let p = try Self.policy()
        #expect(p.knownChannels.map(\.rawValue) == ["slack", "email", "phone_bridge", "status_page", "ticket_comment", "reporting_portal"])
        #expect(p.caseKinds[CaseKind(rawValue: "vendor_outage_evaluation")!]?.title == "Evaluate another team's outage")
        guard case .decision(let d) = p.rule("VOE-DECIDE")!.requirement else { Issue.record("not a decision"); return }
        #expect(d.decision == "affects_us" && d.outcomes == ["yes", "no"])
        guard case .notification(let n) = p.rule("VOE-ANY")!.requirement else { Issue.record("not a notification"); return }
        #expect(n.channels == p.knownChannels)
        let defaults = Policy.defaultPolicy()
        #expect(defaults.channels.isEmpty && defaults.caseKinds.isEmpty)
        #expect(defaults.problems(directory: try Fixtures.directory()).isEmpty)
        #expect(Requirement.notification(NotificationRequirement(channels: Channel.builtIn, destination: nil, audience: [], content: []))
            .missingText == "notification.sent on slack or email")
    }
}
