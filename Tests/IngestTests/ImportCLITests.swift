import ArgumentParser
@testable import dtledger
import Events
import Foundation
import Ingest
import Operations
import Reports
import Testing
import TestSupport

/// The imports (Operations), and the "same verdicts" check: a case built
/// only from imported payloads against the same case typed by hand with the
/// runbook commands (parsed and run in-process).
@Suite("CLI: import pagerduty, slack, servicenow")
struct ImportCLITests {
    static let inc = "INC-2026-0142"

    static func database() throws -> TestDatabase { try TestDatabase.withSampleDirectory() }

    /// Imports `file` as `import SOURCE FILE --config config.yaml` does; what
    /// it reports on stderr goes to `notices`.
    static func importFile(_ db: TestDatabase, _ source: ImportSource, _ file: String, strict: Bool = false,
                           verifySignature: Bool = false, environment: [String: String] = [:],
                           notices: inout [ImportNotice]) throws -> ImportResult {
        var collected: [ImportNotice] = []
        defer { notices += collected }
        var request = ImportRequest(source: source, file: file)
        (request.config, request.strict, request.verifySignature) = (Fixture.path("config.yaml"), strict, verifySignature)
        return try db.session(environment: environment).importPayloads(request) { collected.append($0) }
    }

    static func importAll(_ db: TestDatabase) throws -> [JSONValue] {
        var summaries: [JSONValue] = []
        var notices: [ImportNotice] = []
        let sources: [(ImportSource, String)] = [(.pagerDuty(defaultTeam: nil), "pagerduty-incident.jsonl"),
                                                 (.slack(defaultPurpose: nil), "slack-incident.jsonl"),
                                                 (.serviceNow, "servicenow-incident.json")]
        for (source, file) in sources {
            summaries.append(try importFile(db, source, Fixture.path(file), notices: &notices).summary)
        }
        return summaries
    }

    static func verdicts(_ db: TestDatabase) throws -> [String: [String]] {
        var text = ""
        _ = try db.session().open().compliance(caseID: inc, asOf: try RFC3339.parse("2026-05-01T00:00:00-04:00"), format: .json) { text += $0 }
        var out: [String: [String]] = [:]
        for o in try JSONValue.parse(text)["obligations"]?.arrayValue ?? [] {
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
        let env = CommandEnvironment(variables: ["DTLEDGER_DATABASE_URL": db.url], defaultActor: "test-runner")
        for c in commands {
            let command = try #require(try DTLedger.parseAsRoot(c) as? any RunbookCommand, "\(c.prefix(2))")
            _ = try command.record(env)
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
        var notices: [ImportNotice] = []
        let strict = Self.exitCode { _ = try Self.importFile(db, .slack(defaultPurpose: nil), Fixture.path("slack-other.jsonl"), strict: true, notices: &notices) }
        #expect(strict == 65)
        #expect(try db.store().digest().position == before)
        notices = []
        let r = try Self.importFile(db, .slack(defaultPurpose: nil), Fixture.path("slack-other.jsonl"), notices: &notices)
        let skipped = notices.filter { if case .skipped = $0 { true } else { false } }
        #expect(skipped.count == 6)
        #expect(r.summary["appended"] == .int(1))
        // A case nobody opened, and a file that is not there.
        let fresh = try Self.database()
        notices = []
        _ = try Self.importFile(fresh, .serviceNow, Fixture.path("servicenow-change.json"), notices: &notices)
        #expect(notices.contains { if case .skipped(let m) = $0 { m.contains("never opened") } else { false } })
        let missing = Self.exitCode {
            _ = try fresh.session().importPayloads(ImportRequest(source: .pagerDuty(defaultTeam: nil), file: "/nonexistent.json"))
        }
        #expect(missing == 66)
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
        var notices: [ImportNotice] = []
        func signed(_ file: URL, _ environment: [String: String]) throws -> ImportResult {
            try Self.importFile(db, .pagerDuty(defaultTeam: nil), file.path, verifySignature: true, environment: environment, notices: &notices)
        }
        var message = ""
        let tampered = Self.exitCode { do { _ = try signed(bad, env) } catch { message = ExitCodes.map(error).message; throw error } }
        #expect(tampered == 65)
        #expect(message.contains("signature"))
        #expect(notices.contains { if case .signatureFailure = $0 { true } else { false } })
        #expect(try db.store().version(caseID: Self.inc) == 0)
        let wrong = Self.exitCode { _ = try signed(good, ["PAGERDUTY_WEBHOOK_SECRET": "other"]) }
        #expect(wrong == 65)
        let missing = Self.exitCode { _ = try signed(good, ["PAGERDUTY_WEBHOOK_SECRET": ""]) }
        #expect(missing == 64)
        let ok = try signed(good, env)
        #expect(ok.summary["signature_verified"] == .int(6))
        let events = try db.store().events(caseID: Self.inc)
        #expect(events.count == 6)
        #expect(events.allSatisfy { $0.metadata["import"]?["signature_verified"] == .bool(true) })
    }

    /// The exit code the CLI gives for what `body` throws (0 when it does not).
    static func exitCode(_ body: () throws -> Void) -> Int32 {
        do { try body(); return 0 } catch { return ExitCodes.map(error).code }
    }
}
