import Events
import Foundation
import Ingest
import Testing
import TestSupport

/// The import commands end to end, and the "same verdicts" check: a case
/// built only from imported payloads against the same case typed by hand.
@Suite("CLI: import pagerduty, slack, servicenow")
struct ImportCLITests {
    static let inc = "INC-2026-0142"

    static func database() throws -> TestDatabase { try TestDatabase.withSampleDirectory() }

    static func importAll(_ db: TestDatabase) throws -> [JSONValue] {
        var summaries: [JSONValue] = []
        for (source, file) in [("pagerduty", "pagerduty-incident.jsonl"), ("slack", "slack-incident.jsonl"), ("servicenow", "servicenow-incident.json")] {
            let r = try CLI.run(["import", source, Fixture.path(file), "--config", Fixture.path("config.yaml")], database: db.url)
            #expect(r.status == 0, "\(source): \(r.stderr)")
            summaries.append(try JSONValue.parse(r.lines.last ?? ""))
        }
        return summaries
    }

    static func verdicts(_ db: TestDatabase) throws -> [String: [String]] {
        let r = try CLI.run(["compliance", inc, "--format", "json", "--as-of", "2026-05-01T00:00:00-04:00"], database: db.url)
        #expect(r.status == 0, "\(r.stderr)")
        var out: [String: [String]] = [:]
        for o in try JSONValue.parse(r.stdout)["obligations"]?.arrayValue ?? [] {
            out[o["rule"]!.stringValue!, default: []].append(o["verdict"]!.stringValue!)
        }
        return out
    }

    static let fullAudience = "@mhv-api-platform,ana-po,ben-po,@octo-health-engineers,greg-kirk,sean-good,@mhv-horizon,chante"
    static let content = ["--content", "summary=Medications list fails to load on VA.gov", "--content", "start_time=2026-04-07 08:55 ET"]

    /// The same case, typed by hand with the runbook commands.
    static func typeByHand(_ db: TestDatabase) throws {
        let slack = ["notify", "slack", "--case", inc, "--destination", "#mhv-health-portal-coordination"]
        let ref = "https://example.slack.com/archives/C04DRS3L9NV/p1775568900000200"
        let commands: [[String]] = [
            ["incident", "open", "--case", inc, "--team", "user-facing", "--summary", "Medications list fails to load on VA.gov",
             "--services", "medications", "--started-at", "2026-04-07T13:20:00Z", "--product", "medications", "--at", "2026-04-07T13:20:00Z", "--actor", "max-eng"],
            ["note", "--case", inc, "--text", "Acknowledged", "--at", "2026-04-07T13:22:10Z", "--actor", "max-eng"],
            slack + ["--audience", "@mhv-api-platform", "--purpose", "initial", "--message-ref", ref, "--at", "2026-04-07T13:35:00Z", "--actor", "max-eng",
                     "--content", "estimated_user_impact=About 1,500 users so far; Medications"] + content,
            ["ticket", "submit", "--case", inc, "--number", "INC0045678", "--purpose", "other", "--at", "2026-04-07T13:40:00Z", "--actor", "max-eng"],
            ["incident", "priority", "--case", inc, "--priority", "P3", "--at", "2026-04-07T13:50:00Z", "--actor", "lou-em"],
            slack + ["--audience", "@mhv-api-platform,ana-po,ben-po,kim-pm,@mhv-horizon", "--purpose", "priority", "--edits", ref,
                     "--at", "2026-04-07T14:05:00Z", "--actor", "lou-em", "--content", "priority=P3",
                     "--content", "estimated_user_impact=About 1,500 users so far; Medications"] + content,
            ["incident", "priority", "--case", inc, "--priority", "P1", "--at", "2026-04-07T17:10:00Z", "--actor", "lou-em"],
            slack + ["--audience", fullAudience, "--purpose", "priority", "--at", "2026-04-07T17:30:00Z", "--actor", "lou-em",
                     "--content", "priority=P1", "--content", "estimated_user_impact=About 12,000 users"] + content,
            slack + ["--audience", fullAudience, "--purpose", "update", "--at", "2026-04-07T22:30:00Z", "--actor", "lou-em",
                     "--content", "status=investigating", "--content", "estimated_user_impact=About 12,000 users"] + content,
            ["incident", "milestone", "--case", inc, "--kind", "solution_determined", "--at", "2026-04-09T14:00:00Z", "--actor", "max-eng"],
            slack + ["--audience", fullAudience, "--purpose", "milestone", "--at", "2026-04-09T15:00:00Z", "--actor", "lou-em",
                     "--content", "status=solution determined", "--content", "estimated_user_impact=About 12,000 users"] + content,
            ["incident", "resolve", "--case", inc, "--resolution", "Resolved", "--at", "2026-04-09T19:00:00Z", "--actor", "max-eng"],
            slack + ["--audience", fullAudience, "--purpose", "resolved", "--at", "2026-04-10T01:00:00Z", "--actor", "lou-em",
                     "--content", "status=resolved", "--content", "estimated_user_impact=About 12,000 users"] + content,
        ]
        for c in commands {
            let r = try CLI.run(c, database: db.url)
            #expect(r.status == 0, "\(c.prefix(2)): \(r.stderr)")
        }
    }

    @Test("a case built only from PagerDuty, Slack and ServiceNow payloads gets the verdicts of the same case typed by hand")
    func sameVerdicts() throws {
        let imported = try Self.database()
        _ = try Self.importAll(imported)
        let typed = try Self.database()
        try Self.typeByHand(typed)
        let a = try Self.verdicts(imported), b = try Self.verdicts(typed)
        #expect(a == b)
        #expect(a["IR-UF-STEP-ONE"] == ["met"])
        #expect(a["IR-UF-P34-PRIORITY"] == ["met"])
        #expect(a["IR-UF-P12-SLACK"] == ["met"])
        #expect(a["IR-UF-P12-EMAIL"] == ["missed"])  // email is not imported: nobody sent one here
        #expect(a["IR-UF-P12-UPDATE-DAILY"] == ["met", "missed", "not_applicable"])
        #expect(a["IR-UF-P12-UPDATE-SOLUTION"] == ["met"])
        #expect(a["IR-UF-P12-UPDATE-RESOLVED"] == ["late"])
        #expect(a["IR-UF-P34-UPDATE-RESOLVED"] == ["not_applicable"])
    }

    @Test("importing the same payloads twice duplicates nothing")
    func twice() throws {
        let db = try Self.database()
        let first = try Self.importAll(db)
        #expect(first.map { $0["appended"] } == [.int(6), .int(6), .int(1)])
        let version = try db.store().version(caseID: Self.inc)
        let second = try Self.importAll(db)
        #expect(second.map { $0["appended"] } == [.int(0), .int(0), .int(0)])
        #expect(second.map { $0["duplicates"] } == [.int(6), .int(6), .int(1)])
        #expect(try db.store().version(caseID: Self.inc) == version)
        let events = try db.store().events(caseID: Self.inc)
        #expect(events.allSatisfy { $0.metadata["import"]?["payload_sha256"]?.stringValue?.count == 64 })
    }

    @Test("unmappable payloads: reported one per line, the rest imported; --strict writes nothing")
    func unmappable() throws {
        let db = try Self.database()
        _ = try Self.importAll(db)
        let before = try db.store().digest().position
        let strict = try CLI.run(["import", "slack", Fixture.path("slack-other.jsonl"), "--config", Fixture.path("config.yaml"), "--strict"], database: db.url)
        #expect(strict.status == 65)
        #expect(try db.store().digest().position == before)
        let r = try CLI.run(["import", "slack", Fixture.path("slack-other.jsonl"), "--config", Fixture.path("config.yaml")], database: db.url)
        #expect(r.status == 0, "\(r.stderr)")
        let skipped = r.stderr.split(separator: "\n").filter { $0.contains("skipped:") }
        #expect(skipped.count == 6)
        #expect(try JSONValue.parse(r.lines.last!)["appended"] == .int(1))
        // A case nobody opened, and a file that is not there.
        let fresh = try Self.database()
        let none = try CLI.run(["import", "servicenow", Fixture.path("servicenow-change.json"), "--config", Fixture.path("config.yaml")], database: fresh.url)
        #expect(none.status == 0)
        #expect(none.stderr.contains("never opened"))
        #expect(try CLI.run(["import", "pagerduty", "/nonexistent.json"], database: fresh.url).status == 66)
    }

    @Test("--verify-signature: verified imports are marked; a wrong secret or changed body writes nothing")
    func signatures() throws {
        let db = try Self.database()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dtl-sig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("pd.jsonl"), bad = dir.appendingPathComponent("pd-bad.jsonl")
        try SignatureTests.pagerDutyFile().write(to: good)
        try SignatureTests.pagerDutyFile(tamper: true).write(to: bad)
        let env = ["PAGERDUTY_WEBHOOK_SECRET": SignatureTests.secret]
        let args = ["import", "pagerduty", "--config", Fixture.path("config.yaml"), "--verify-signature"]
        let tampered = try CLI.run(args + [bad.path], database: db.url, environment: env)
        #expect(tampered.status == 65)
        #expect(tampered.stderr.contains("signature"))
        #expect(try db.store().version(caseID: Self.inc) == 0)
        let wrong = try CLI.run(args + [good.path], database: db.url, environment: ["PAGERDUTY_WEBHOOK_SECRET": "other"])
        #expect(wrong.status == 65)
        let missing = try CLI.run(args + [good.path], database: db.url, environment: ["PAGERDUTY_WEBHOOK_SECRET": ""])
        #expect(missing.status == 64)
        let ok = try CLI.run(args + [good.path], database: db.url, environment: env)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try JSONValue.parse(ok.lines.last!)["signature_verified"] == .int(6))
        let events = try db.store().events(caseID: Self.inc)
        #expect(events.count == 6)
        #expect(events.allSatisfy { $0.metadata["import"]?["signature_verified"] == .bool(true) })
    }
}
