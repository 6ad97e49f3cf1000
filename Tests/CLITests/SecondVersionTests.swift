import Events
import Foundation
import Operations
import Testing
import TestSupport

/// Issue 17's "done when": a second version of the process written with the
/// new language forms (Policies/examples/mhv-downtime-notification-v2.yaml)
/// and a federal procedure judged beside it
/// (Policies/examples/federal-incident-communications.yaml), published with
/// a later effective date, while the cases opened before keep version 1
/// (docs/policy.md, "A worked example: the second version").
@Suite("CLI: the second version of the process and a federal procedure (issue 17)")
struct SecondVersionTests {
    static let examples = URL(fileURLWithPath: DedicatedServer.repositoryRoot).appendingPathComponent("Policies/examples")
    static let v2 = examples.appendingPathComponent("mhv-downtime-notification-v2.yaml")
    static let federal = examples.appendingPathComponent("federal-incident-communications.yaml")
    static let incident = "INC-2026-90001"
    static let misrated = "INC-2026-90002"

    /// A P1 incident of November 2026 judged by version 2: 12,000 users, an incident
    /// commander, an SSN pasted into Slack, escalated to MIM, no status page.
    static func events() -> String {
        let c = incident
        let everyone = #"["@mhv-api-platform", "ana-po", "ben-po", "@octo-health-engineers", "greg-kirk", "sean-good", "@mhv-horizon", "chante", "ivy-isso"]"#
        let content = #"{"summary": "Secure messaging fails to send on VA.gov", "estimated_user_impact": "About 12,000 users of secure-messaging", "start_time": "2026-11-03 08:45 ET"}"#
        let lines = [
            ##"{"type": "incident.opened", "case": "\##(c)", "occurred_at": "2026-11-03T09:00:00-05:00", "actor": "max-eng", "source": "cli", "key": "\##(c)/opened", "data": {"team": "user-facing", "summary": "Secure messaging fails to send on VA.gov", "estimated_user_impact": {"users": 12000, "services": ["secure-messaging"]}, "started_at": "2026-11-03T08:45:00-05:00", "product": "secure-messaging", "attributes": {"users_affected": 12000}}}"##,
            ##"{"type": "case.role_assigned", "case": "\##(c)", "occurred_at": "2026-11-03T09:05:00-05:00", "actor": "lou-em", "source": "cli", "key": "\##(c)/ic", "data": {"role": "incident_commander", "person": "lou-em"}}"##,
            ##"{"type": "notification.sent", "case": "\##(c)", "occurred_at": "2026-11-03T09:10:00-05:00", "actor": "max-eng", "source": "cli", "key": "\##(c)/step-one", "data": {"channel": "slack", "destination": "#mhv-health-portal-coordination", "audience": ["@mhv-api-platform"], "purpose": "initial", "content": \##(content)}}"##,
            ##"{"type": "incident.priority_set", "case": "\##(c)", "occurred_at": "2026-11-03T09:15:00-05:00", "actor": "lou-em", "source": "cli", "key": "\##(c)/p1", "data": {"priority": "P1"}}"##,
            ##"{"type": "notification.sent", "case": "\##(c)", "occurred_at": "2026-11-03T09:30:00-05:00", "actor": "lou-em", "source": "cli", "key": "\##(c)/p1-slack", "data": {"channel": "slack", "destination": "#mhv-health-portal-coordination", "audience": \##(everyone), "purpose": "priority", "content": \##(content)}}"##,
            ##"{"type": "notification.sent", "case": "\##(c)", "occurred_at": "2026-11-03T09:35:00-05:00", "actor": "lou-em", "source": "cli", "key": "\##(c)/p1-email", "data": {"channel": "email", "destination": "mhv-incidents@example.org", "audience": \##(everyone), "purpose": "priority", "content": \##(content)}}"##,
            ##"{"type": "notification.sent", "case": "\##(c)", "occurred_at": "2026-11-03T10:00:00-05:00", "actor": "max-eng", "source": "cli", "key": "\##(c)/pii", "data": {"channel": "slack", "destination": "#mhv-health-portal-coordination", "audience": ["@mhv-uf-oncall"], "purpose": "other", "content": {"summary": "Caller gave SSN 123-45-6789 to reproduce", "estimated_user_impact": "About 12,000 users", "start_time": "08:45 ET"}}}"##,
            ##"{"type": "escalation.requested", "case": "\##(c)", "occurred_at": "2026-11-03T11:00:00-05:00", "actor": "lou-em", "source": "cli", "key": "\##(c)/mim", "data": {"to": "mim"}}"##,
            ##"{"type": "notification.sent", "case": "\##(c)", "occurred_at": "2026-11-03T13:30:00-05:00", "actor": "lou-em", "source": "cli", "key": "\##(c)/update", "data": {"channel": "slack", "destination": "#mhv-health-portal-coordination", "audience": \##(everyone), "purpose": "update", "content": \##(content)}}"##,
            ##"{"type": "incident.resolved", "case": "\##(c)", "occurred_at": "2026-11-03T18:00:00-05:00", "actor": "lou-em", "source": "cli", "key": "\##(c)/resolved", "data": {"resolution": "Queue worker restarted"}}"##,
            ##"{"type": "notification.sent", "case": "\##(c)", "occurred_at": "2026-11-03T18:30:00-05:00", "actor": "lou-em", "source": "cli", "key": "\##(c)/resolved-msg", "data": {"channel": "slack", "destination": "#mhv-health-portal-coordination", "audience": \##(everyone), "purpose": "resolved", "content": \##(content)}}"##,
            // A second incident rated P2 although 12,000 users are affected.
            ##"{"type": "incident.opened", "case": "\##(misrated)", "occurred_at": "2026-11-06T09:00:00-05:00", "actor": "max-eng", "source": "cli", "key": "\##(misrated)/opened", "data": {"team": "user-facing", "summary": "Medications slow", "estimated_user_impact": {"users": 12000, "services": ["medications"]}, "started_at": "2026-11-06T08:30:00-05:00", "product": "medications", "attributes": {"users_affected": 12000}}}"##,
            ##"{"type": "incident.priority_set", "case": "\##(misrated)", "occurred_at": "2026-11-06T09:20:00-05:00", "actor": "lou-em", "source": "cli", "key": "\##(misrated)/p2", "data": {"priority": "P2"}}"##,
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    static func obligations(_ json: JSONValue, _ rule: String) -> [JSONValue] {
        (json["obligations"]?.arrayValue ?? []).filter { $0["rule"]?.stringValue == rule }
    }

    static func verdicts(_ json: JSONValue, _ rule: String) -> [String] {
        obligations(json, rule).compactMap { $0["verdict"]?.stringValue }
    }

    @Test("both example policies pass policy check against the sample directory")
    func examplesCheck() throws {
        for file in [Self.v2, Self.federal] {
            let result = try CLI.run(["policy", "check", file.path, "--directory", CLI.scenarios.appendingPathComponent("directory.yaml").path])
            #expect(result.status == 0, "\(file.lastPathComponent): \(result.stdout) \(result.stderr)")
        }
    }

    @Test("version 2 and the federal procedure, effective October 2026: the April sample keeps version 1; a November incident is judged by both")
    func secondVersion() throws {
        let db = try CLIComplianceTests.loaded()
        let before = try JSONValue.parse(try CLIComplianceTests.compliance(db, CLIComplianceTests.incident).text)

        // Published with the files' own effective dates. A team publishes
        // ahead of that date; the test records cases that already happened
        // (an event may not be in the future), so its publication is
        // retroactive and says why.
        for file in [Self.v2, Self.federal] {
            let result = try CLI.run(["policy", "publish", file.path, "--retroactive-reason", "the worked example's cases are in the past"],
                                     database: db.url)
            #expect(result.status == 0, "\(result.stderr)")
        }
        let shown = try CLI.run(["policy", "show"], database: db.url)
        #expect(shown.stdout.contains("mhv-downtime-notification v2"), "\(shown.stdout)")
        #expect(shown.stdout.contains("federal-incident-communications v1"), "\(shown.stdout)")

        // The April case: still version 1, every verdict as before, no federal section.
        let old = try JSONValue.parse(try CLIComplianceTests.compliance(db, CLIComplianceTests.incident).text)
        #expect(old["policy"]?["version"]?.stringValue == "1")
        #expect(old["obligations"] == before["obligations"])
        #expect(old["other_policies"] == nil)

        // The November incidents.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dtl-v2-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("incidents.jsonl")
        try Self.events().write(to: file, atomically: true, encoding: .utf8)
        _ = try db.session().appendFile(file.path, actor: nil, source: .cli)

        let asOf = "2026-11-10T12:00:00-05:00"
        let json = try JSONValue.parse(try CLIComplianceTests.compliance(db, Self.incident, asOf: asOf).text)
        #expect(json["policy"]?["name"]?.stringValue == "mhv-downtime-notification")
        #expect(json["policy"]?["version"]?.stringValue == "2")
        // Users affected, rated P1 within the hour: the matrix agrees.
        let matrix = Self.obligations(json, "IR-PRIORITY-MATRIX")
        #expect(matrix.map { $0["verdict"]?.stringValue } == ["met"])
        #expect(matrix.first?["expected"]?.stringValue == "P1" && matrix.first?["given"]?.stringValue == "P1")
        // The P1/P2 message tagged MHV leadership (Greg Kirk), required at 12,000 users, and said how many and what.
        #expect(Self.verdicts(json, "IR-UF-P12-SLACK") == ["met"], "\(Self.obligations(json, "IR-UF-P12-SLACK"))")
        #expect(Self.verdicts(json, "IR-UF-P12-EMAIL") == ["met"])
        // Escalated to MIM before the resolution.
        #expect(Self.verdicts(json, "IR-UF-P1-MIM") == ["met"])
        // The SSN in Slack: violated, naming the message.
        let pii = Self.obligations(json, "NO-PII-IN-MESSAGES")
        #expect(pii.map { $0["verdict"]?.stringValue } == ["violated"])
        #expect((pii.first?["missing"]?.arrayValue ?? []).contains { $0.stringValue?.contains("ssn in content.summary") == true })
        // No status page notice: missed, but a `should`, so outside the rate.
        let status = Self.obligations(json, "IR-UF-P12-STATUS-PAGE")
        #expect(status.map { $0["verdict"]?.stringValue } == ["missed"])
        #expect(status.first?["level"]?.stringValue == "should")
        // Four-hourly updates from the incident commander: the first interval
        // (from 09:15, when it became P1) has the 09:30 message, the second
        // (13:15) the 13:30 one; the third (17:15) holds the resolution at
        // 18:00, so it is not due.
        let updates = Self.obligations(json, "IR-UF-P12-UPDATE-4H")
        #expect(updates.map { $0["verdict"]?.stringValue } == ["met", "met", "not_applicable"], "\(updates)")
        #expect(updates.map { $0["occurrence"]?.stringValue } == ["2026-11-03T09:15:00-05:00", "2026-11-03T13:15:00-05:00",
                                                                   "2026-11-03T17:15:00-05:00"])
        // The end-of-day update is a `should` now.
        #expect(Self.obligations(json, "IR-UF-P12-UPDATE-DAILY").allSatisfy { $0["level"]?.stringValue == "should" })
        // The federal procedure, judged beside it with its own rates.
        let others = json["other_policies"]?.arrayValue ?? []
        #expect(others.count == 1)
        let fed = try #require(others.first)
        #expect(fed["policy"]?["name"]?.stringValue == "federal-incident-communications")
        #expect(Self.verdicts(fed, "FED-NO-SSN") == ["violated"])
        #expect(Self.verdicts(fed, "FED-ISSO-INFORMED") == ["met"])
        #expect(Self.verdicts(fed, "FED-REPORT-SUSPECTED-COMPROMISE") == ["not_applicable"])

        // The misrated incident: partial, expected P1, given P2.
        let misrated = try JSONValue.parse(try CLIComplianceTests.compliance(db, Self.misrated, asOf: asOf).text)
        let wrong = Self.obligations(misrated, "IR-PRIORITY-MATRIX")
        #expect(wrong.map { $0["verdict"]?.stringValue } == ["partial"])
        #expect(wrong.first?["expected"]?.stringValue == "P1" && wrong.first?["given"]?.stringValue == "P2")
        let table = try CLIComplianceTests.compliance(db, Self.misrated, asOf: asOf, format: .table).text
        #expect(table.contains("expected P1, given P2"), "\(table)")

        // What changed between the two versions, from the ledger.
        let diff = try CLI.run(["policy", "diff", "mhv-downtime-notification@1", "mhv-downtime-notification@2"], database: db.url)
        #expect(diff.status == 0, "\(diff.stderr)")
        #expect(diff.stdout.contains("IR-PRIORITY-MATRIX") && diff.stdout.contains("NO-PII-IN-MESSAGES"), "\(diff.stdout)")
        #expect(diff.stdout.contains("IR-UF-P12-UPDATE-DAILY: level"), "\(diff.stdout)")
        #expect(diff.stdout.contains("audiences"), "\(diff.stdout)")
    }
}
