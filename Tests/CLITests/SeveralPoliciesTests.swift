import Events
import Foundation
import Ledger
import Operations
import Reports
import Testing
import TestSupport

/// Issue 17: several policies at once (`scope`), `policy diff`, `policy show` naming the policy.
@Suite("CLI: several policies, policy diff, policy show (issue 17)")
struct SeveralPoliciesTests {
    /// A federal procedure scoped to user-facing incidents (or `teams`).
    static func federal(version: String = "1", teams: String = "[user-facing]", effectiveFrom: String = "2026-01-01T00:00:00-05:00",
                        within: String = "PT1H") -> String {
        """
        name: federal-incident-communications
        version: "\(version)"
        timezone: America/New_York
        effective_from: "\(effectiveFrom)"
        scope: {kinds: [incident], teams: \(teams)}
        rules:
          - id: FED-NOTIFY
            title: Notify within the hour
            quote: "notify within the hour"
            applies_when: {kind: incident}
            requires: {notification: {channels: [slack, email]}}
            due: {within: \(within), after: incident.opened}
        """
    }

    static func publish(_ db: TestDatabase, _ yaml: String) throws {
        _ = try db.session().open().publishPolicy(yaml: yaml, effectiveFrom: nil, actor: nil,
                                                  retroactiveReason: TestDatabase.sampleReason)
    }

    @Test("a scoped policy judges the cases it covers beside the primary one, which keeps its verdicts")
    func scopedBesidePrimary() throws {
        let db = try CLIComplianceTests.loaded()
        let before = try JSONValue.parse(try CLIComplianceTests.compliance(db, CLIComplianceTests.incident).text)
        try Self.publish(db, Self.federal())
        let (text, violations) = try CLIComplianceTests.compliance(db, CLIComplianceTests.incident)
        let json = try JSONValue.parse(text)
        #expect(json["obligations"] == before["obligations"], "the primary policy's verdicts are unchanged")
        #expect(json["policy"]?["name"]?.stringValue == "mhv-downtime-notification")
        let others = json["other_policies"]?.arrayValue ?? []
        #expect(others.count == 1)
        #expect(others.first?["policy"]?["name"]?.stringValue == "federal-incident-communications")
        #expect(others.first?["policy"]?["version"]?.stringValue == "1")
        #expect(others.first?["obligations"]?.arrayValue?.map { $0["rule"]?.stringValue } == ["FED-NOTIFY"])
        #expect(others.first?["summary"]?["judged"]?.intValue == 1)
        #expect(violations >= before["summary"]?["violations"]?.intValue.map(Int.init) ?? 0)
        // The table names it in a section of its own.
        let table = try CLIComplianceTests.compliance(db, CLIComplianceTests.incident, format: .table).text
        #expect(table.contains("Also judged by policy federal-incident-communications v1"))
        // The downtime (api-platform, planned downtime) is outside the scope.
        let downtime = try JSONValue.parse(try CLIComplianceTests.compliance(db, CLIComplianceTests.downtime).text)
        #expect(downtime["other_policies"] == nil)
        // The period: totals per policy.
        let period = try CLIComplianceTests.period(db, from: "2026-01-01T00:00:00Z", to: "2027-01-01T00:00:00Z", format: .json)
        let byPolicy = try JSONValue.parse(period.text)["by_policy"]?.arrayValue ?? []
        #expect(byPolicy.compactMap { $0["policy"]?.stringValue } == ["federal-incident-communications", "mhv-downtime-notification"])
        let periodText = try CLIComplianceTests.period(db, from: "2026-01-01T00:00:00Z", to: "2027-01-01T00:00:00Z", format: .table).text
        #expect(periodText.contains("By policy") && periodText.contains("federal-incident-communications v1"))
        // The read model keeps every evaluation's obligations, by policy name.
        #expect(try CLI.run(["projections", "run"], database: db.url).status == 0)
        let c = try db.store().connection
        #expect(try c.query("SELECT count(*) FROM dtledger_read.obligations WHERE case_id = $1 AND policy_name = 'federal-incident-communications'",
                            [CLIComplianceTests.incident]).scalar == "1")
        #expect(try c.query("SELECT policies::text FROM dtledger_read.cases WHERE case_id = $1", [CLIComplianceTests.incident]).scalar
                == "{\"mhv-downtime-notification v1\",\"federal-incident-communications v1\"}")
        #expect(try c.query("SELECT policy_name FROM dtledger_read.cases WHERE case_id = $1", [CLIComplianceTests.incident]).scalar
                == "mhv-downtime-notification")
    }

    @Test("a scoped policy whose scope does not cover the case, or not yet in force, does not judge it")
    func outOfScope() throws {
        let db = try CLIComplianceTests.loaded()
        try Self.publish(db, Self.federal(teams: "[api-platform]"))
        try Self.publish(db, Self.federal(version: "2", teams: "[user-facing]", effectiveFrom: "2026-06-01T00:00:00-04:00"))
        let json = try JSONValue.parse(try CLIComplianceTests.compliance(db, CLIComplianceTests.incident).text)
        #expect(json["other_policies"] == nil, "v1 covers api-platform only; v2 takes effect after the case opened")
    }

    @Test("policy check reports a bad scope")
    func badScope() throws {
        let yaml = Self.federal().replacingOccurrences(of: "scope: {kinds: [incident], teams: [user-facing]}",
                                                      with: "scope: {kinds: [outage], teams: [nobody], products: [x]}")
        let session = Session(settings: .resolve(explicit: nil, environment: [:]))
        let problems = try session.checkPolicy(yaml: yaml, directory: .none).problems
        #expect(problems.contains { $0.hasPrefix("scope: unknown key 'products'") }, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("scope: kinds: unknown case kind 'outage'") }, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("scope: teams: unknown team 'nobody'") }, "\(problems)")
    }

    @Test("policy diff FILE FILE and NAME@VERSION FILE, text and json; policy show names the policy")
    func diffAndShow() throws {
        let db = try CLIComplianceTests.loaded()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dtl-diff-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let one = dir.appendingPathComponent("v1.yaml"), two = dir.appendingPathComponent("v2.yaml")
        try Self.federal().write(to: one, atomically: true, encoding: .utf8)
        let changed = Self.federal(version: "2", within: "PT30M") + """

              - id: FED-ESCALATE
                title: Escalate
                quote: "escalate"
                applies_when: {kind: incident}
                requires: {escalation: {to: csoc-dbrs}}
                due: {within: PT1H, after: incident.opened}
                level: should
            """
        try changed.write(to: two, atomically: true, encoding: .utf8)
        let text = try CLI.run(["policy", "diff", one.path, two.path])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("policy federal-incident-communications v1 → federal-incident-communications v2"), "\(text.stdout)")
        #expect(text.stdout.contains("rules added (1): FED-ESCALATE"), "\(text.stdout)")
        #expect(text.stdout.contains("FED-NOTIFY: due"), "\(text.stdout)")
        #expect(text.stdout.contains("version: \"1\" → \"2\""), "\(text.stdout)")
        // From the ledger: the default policy against itself as a file.
        try Self.publish(db, Self.federal())
        let json = try CLI.run(["policy", "diff", "federal-incident-communications@1", two.path, "--format", "json"], database: db.url)
        #expect(json.status == 0, "\(json.stderr)")
        let parsed = try JSONValue.parse(json.stdout)
        #expect(parsed["rules"]?["added"]?.arrayValue == [.string("FED-ESCALATE")])
        #expect(parsed["rules"]?["changed"]?.arrayValue?.first?["keys"]?.arrayValue == [.string("due")])
        let same = try CLI.run(["policy", "diff", "federal-incident-communications@1", one.path], database: db.url)
        #expect(same.status == 0 && same.stdout.contains("no differences"), "\(same.stdout)\(same.stderr)")
        let unknown = try CLI.run(["policy", "diff", "federal-incident-communications@9", one.path], database: db.url)
        #expect(unknown.status == 65)
        #expect(unknown.stderr.contains("policy federal-incident-communications version 9 is not published"), "\(unknown.stderr)")
        let missing = try CLI.run(["policy", "diff", dir.appendingPathComponent("none.yaml").path, one.path])
        #expect(missing.status == 66, "\(missing.stderr)")
        let format = try CLI.run(["policy", "diff", one.path, two.path, "--format", "html"])
        #expect(format.status == 64)
        // policy show names each policy.
        let show = try CLI.run(["policy", "show"], database: db.url)
        #expect(show.status == 0)
        #expect(show.stdout.contains("mhv-downtime-notification v1  effective"), "\(show.stdout)")
        #expect(show.stdout.contains("federal-incident-communications v1  effective"), "\(show.stdout)")
        let at = try JSONValue.parse(try CLI.run(["policy", "show", "--at", "2026-04-07T12:00:00-04:00"], database: db.url).stdout)
        #expect(at["name"]?.stringValue == "mhv-downtime-notification")
        #expect(at["scoped"]?.arrayValue?.first?["name"]?.stringValue == "federal-incident-communications")
    }
}
