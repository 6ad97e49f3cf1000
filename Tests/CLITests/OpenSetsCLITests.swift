@testable import dtledger
import Events
import Foundation
import Operations
import Testing
import TestSupport

/// Issue 17, open sets: the runbook commands for a case of a declared kind
/// (`case open`, `case close`), a decision (`decision record`) and a message
/// on a declared channel (`notify send --channel`), refused until a published
/// policy declares the kind or channel; `append` takes the new events as JSON.
@Suite("CLI: declared case kinds, channels and decisions (issue 17)")
struct OpenSetsCLITests {
    static let policy = """
    name: vendor-outages
    version: "1"
    effective_from: "2026-05-01T00:00:00-04:00"
    channels: [phone_bridge]
    case_kinds:
      vendor_outage_evaluation: {title: "Evaluate another team's outage"}
    rules:
      - id: VOE-DECIDE
        title: Decide whether the outage affects us
        quote: evaluate whether another team's outage affects us
        applies_when: {kind: vendor_outage_evaluation}
        requires: {decision: {decision: affects_us, outcomes: [yes, no]}}
        by: [engineering-manager]
        due: {within: PT2H, after: case.opened}
      - id: VOE-BRIDGE
        title: Announce on the phone bridge
        quote: announce on the bridge
        applies_when: {kind: vendor_outage_evaluation}
        requires: {notification: {channels: [phone_bridge], audience: [role:octo-po]}}
        due: {within: PT1H, after: decision.recorded}
    """

    static let open = ["case", "open", "--kind", "vendor_outage_evaluation", "--title", "VA.gov login outage: does it affect MHV?",
                       "--team", "user-facing", "--at", "2026-05-04T10:00:00-04:00", "--actor", "lou-em", "--json"]

    static func bridge(_ caseID: String) -> [String] {
        ["notify", "send", "--case", caseID, "--channel", "phone_bridge", "--destination", "IR bridge", "--audience", "ana-po",
         "--purpose", "update", "--content", "summary=does not affect MHV", "--at", "2026-05-04T10:45:00-04:00", "--actor", "lou-em"]
    }

    @Test("case open / decision record / notify send --channel / case close, judged by the policy that declares them")
    func runbook() throws {
        let db = try TestDatabase.withSampleDirectory()
        // Nothing declares the kind or the channel yet: refused (65), nothing written.
        let before = try db.store().digest()
        let early = InProcess.run(Self.open, database: db)
        #expect(early.status == 65, "\(early.stderr)")
        #expect(early.stderr.contains("case kind 'vendor_outage_evaluation' is not declared by any published policy"), "\(early.stderr)")
        #expect(try db.store().digest() == before)
        // Built-in kinds and bad names are usage errors.
        #expect(InProcess.run(Self.with(Self.open, "--kind", "incident"), database: db).status == 64)
        #expect(InProcess.run(Self.with(Self.open, "--kind", "Vendor Outage"), database: db).status == 64)

        _ = try db.session().open().publishPolicy(yaml: Self.policy, effectiveFrom: nil, actor: nil,
                                                  retroactiveReason: TestDatabase.sampleReason)
        let opened = InProcess.run(Self.open, database: db)
        #expect(opened.status == 0, "\(opened.stderr)")
        let event = try JSONValue.parse(opened.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let caseID = try #require(event["case"]?.stringValue)
        #expect(caseID == "CASE-2026-0001")
        #expect(event["type"] == .string("case.opened"))

        let decided = InProcess.run(["decision", "record", "--case", caseID, "--decision", "affects_us", "--outcome", "no",
                                     "--rationale", "MHV uses another login path", "--at", "2026-05-04T10:30:00-04:00",
                                     "--actor", "lou-em"], database: db)
        #expect(decided.status == 0, "\(decided.stderr)")
        #expect(InProcess.run(["decision", "record", "--case", caseID, "--decision", "Affects Us", "--outcome", "no"], database: db).status == 64)
        // An undeclared channel is refused; the declared one is recorded.
        let pigeon = InProcess.run(Self.with(Self.bridge(caseID), "--channel", "carrier_pigeon"), database: db)
        #expect(pigeon.status == 65 && pigeon.stderr.contains("channel 'carrier_pigeon' is not declared"), "\(pigeon.stderr)")
        #expect(InProcess.run(Self.with(Self.bridge(caseID), "--channel", "Phone-Bridge"), database: db).status == 64)
        let sent = InProcess.run(Self.bridge(caseID), database: db)
        #expect(sent.status == 0, "\(sent.stderr)")
        let closed = InProcess.run(["case", "close", "--case", caseID, "--outcome", "no impact", "--at", "2026-05-04T11:00:00-04:00",
                                    "--actor", "lou-em"], database: db)
        #expect(closed.status == 0, "\(closed.stderr)")

        let json = try JSONValue.parse(try CLIComplianceTests.compliance(db, caseID).text)
        let verdicts = CLIComplianceTests.verdicts(json)
        #expect(verdicts["VOE-DECIDE"] == ["met"], "\(json.jsonText())")
        #expect(verdicts["VOE-BRIDGE"] == ["met"], "\(json.jsonText())")
    }

    @Test("append takes case.opened, decision.recorded and case.closed as JSON, and refuses a built-in kind in case.opened")
    func append() throws {
        let db = try TestDatabase.withSampleDirectory()
        let caseID = "CASE-2026-0100"
        func append(_ type: String, _ data: String, _ at: String) -> CLIResult {
            InProcess.run(["append", "--case", caseID, "--type", type, "--data", data, "--occurred-at", at], database: db)
        }
        let builtIn = append("case.opened", #"{"kind":"incident","title":"t"}"#, "2026-05-04T10:00:00-04:00")
        #expect(builtIn.status == 65 && builtIn.stderr.contains("an incident case is opened by incident.opened, not case.opened"),
                "\(builtIn.stderr)")
        #expect(append("decision.recorded", #"{"decision":"affects_us","outcome":"no"}"#, "2026-05-04T10:00:00-04:00").status == 65)
        #expect(append("case.opened", #"{"kind":"vendor_outage_evaluation","title":"t"}"#, "2026-05-04T10:00:00-04:00").status == 0)
        #expect(append("decision.recorded", #"{"decision":"affects_us","outcome":"no"}"#, "2026-05-04T10:30:00-04:00").status == 0)
        #expect(append("notification.sent", #"{"channel":"status_page","destination":"status.va.gov","audience":["ana-po"],"purpose":"update","content":{"summary":"s"}}"#,
                       "2026-05-04T10:40:00-04:00").status == 0)
        #expect(append("case.closed", #"{}"#, "2026-05-04T11:00:00-04:00").status == 0)
        let read = InProcess.run(["read", "--case", caseID], database: db)
        #expect(read.lines.count == 4)
    }

    static func with(_ args: [String], _ flag: String, _ value: String) -> [String] {
        var out = args
        if let i = out.firstIndex(of: flag) { out[i + 1] = value } else { out += [flag, value] }
        return out
    }
}
