import Events
import Foundation
import Ledger
import Testing
import TestSupport

/// The compliance commands end to end: migrate (publishes the default
/// policy), directory publish, the sample scenarios, then compliance.
@Suite("CLI: policy, directory, compliance, status")
struct CLIComplianceTests {
    static let incident = "INC-2026-0142"
    static let downtime = "PD-2026-0007"

    /// A database with the default policy, the sample directory and both scenarios.
    static func loaded() throws -> TestDatabase {
        let db = try TestDatabase.withSamples()
        // migrate published the default policy: it is in the policy stream.
        #expect(try db.store().version(caseID: "policy") == 1)
        return db
    }

    static func verdicts(_ json: JSONValue) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for o in json["obligations"]?.arrayValue ?? [] {
            out[o["rule"]!.stringValue!, default: []].append(o["verdict"]!.stringValue!)
        }
        return out
    }

    @Test("the escalated incident gives the README's verdicts, with provenance")
    func incidentVerdicts() throws {
        let db = try Self.loaded()
        let result = try CLI.run(["compliance", Self.incident, "--format", "json"], database: db.url)
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONValue.parse(result.stdout)
        let v = Self.verdicts(json)
        #expect(v["IR-CONTENT"] == ["met"])
        #expect(v["IR-UF-STEP-ONE"] == ["met"])
        #expect(v["IR-UF-P34-PRIORITY"] == ["met"])
        #expect(v["IR-UF-P12-SLACK"] == ["met"])
        #expect(v["IR-UF-P12-EMAIL"] == ["met"])
        #expect(v["IR-UF-P12-UPDATE-SOLUTION"] == ["met"])
        #expect(v["IR-UF-P12-UPDATE-DAILY"] == ["met", "missed", "not_applicable"])
        #expect(v["IR-UF-P12-UPDATE-RESOLVED"] == ["late"])
        #expect(v["IR-UF-P34-UPDATE-RESOLVED"] == ["not_applicable"])
        let resolved = json["obligations"]!.arrayValue!.first { $0["rule"] == .string("IR-UF-P12-UPDATE-RESOLVED") }!
        #expect(resolved["late_by"] == .int(7200))
        #expect(json["policy"]?["version"] == .string("1"))
        let head = try db.store().digest()
        #expect(json["ledger"]?["position"]?.intValue == head.position)
        #expect(json["ledger"]?["hash"]?.stringValue == head.hash)

        let strict = try CLI.run(["compliance", Self.incident, "--strict"], database: db.url)
        #expect(strict.status == 1)
        #expect(strict.stdout.contains("MISSED"))
        #expect(strict.stdout.contains("late by 2h"))
    }

    @Test("the planned downtime is met throughout; --strict exits 0")
    func downtimeVerdicts() throws {
        let db = try Self.loaded()
        let result = try CLI.run(["compliance", Self.downtime, "--format", "json", "--strict"], database: db.url)
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONValue.parse(result.stdout)
        let all = Self.verdicts(json).values.flatMap { $0 }
        #expect(all.count >= 13)
        #expect(all.allSatisfy { $0 == "met" })
    }

    @Test("a period report gives per-rule and per-team rates in every format")
    func period() throws {
        let db = try Self.loaded()
        let range = ["--from", "2026-01-01T00:00:00-05:00", "--to", "2027-01-01T00:00:00-05:00"]
        let json = try JSONValue.parse(try CLI.run(["compliance"] + range + ["--format", "json"], database: db.url).stdout)
        #expect(json["cases"]?.arrayValue?.count == 2)
        let rules = Dictionary(uniqueKeysWithValues: (json["by_rule"]?.arrayValue ?? []).map {
            ($0["rule"]!.stringValue!, $0["counts"]!)
        })
        #expect(rules["IR-UF-P12-UPDATE-DAILY"]?["rate"]?.doubleValue == 0.5)
        #expect(rules["IR-UF-P12-UPDATE-RESOLVED"]?["rate"]?.doubleValue == 0)
        #expect(rules["PD-API-SLACK"]?["rate"]?.doubleValue == 1)
        #expect(rules["IR-UF-P34-UPDATE-RESOLVED"]?["rate"] == .null)
        let teams = Dictionary(uniqueKeysWithValues: (json["by_team"]?.arrayValue ?? []).map {
            ($0["team"]!.stringValue!, $0["counts"]!)
        })
        #expect(teams["api-platform"]?["rate"]?.doubleValue == 1)
        #expect(teams["user-facing"]?["missed"] == .int(1))
        #expect(json["policy_versions"] == .array([.string("mhv-downtime-notification v1")]))

        let md = try CLI.run(["compliance"] + range + ["--format", "markdown"], database: db.url)
        #expect(md.stdout.contains("| IR-UF-P12-UPDATE-DAILY | 50.0% |"))
        #expect(md.stdout.contains("### Violations"))
        let csv = try CLI.run(["compliance"] + range + ["--format", "csv"], database: db.url)
        let lines = csv.lines
        #expect(lines.first?.hasPrefix("case,kind,team,policy_version,rule") == true)
        #expect(lines.filter { $0.contains(",missed,") }.count == 1)
        #expect(lines.filter { $0.contains(",late,") }.count == 1)
        let table = try CLI.run(["compliance"] + range, database: db.url)
        #expect(table.stdout.contains("By rule"))
        #expect(try CLI.run(["compliance"] + range + ["--strict"], database: db.url).status == 1)
        // A period with no cases.
        let empty = try CLI.run(["compliance", "--from", "2025-01-01T00:00:00Z", "--to", "2025-02-01T00:00:00Z"], database: db.url)
        #expect(empty.status == 0)
        #expect(empty.stdout.contains("0 case(s)"))
    }

    @Test("--as-of in the middle of the incident shows what was pending then")
    func asOf() throws {
        let db = try Self.loaded()
        let r = try CLI.run(["compliance", Self.incident, "--as-of", "2026-04-07T12:00:00-04:00", "--format", "json"], database: db.url)
        let v = Self.verdicts(try JSONValue.parse(r.stdout))
        #expect(v["IR-UF-P34-PRIORITY"] == ["met"])
        #expect(v["IR-UF-P12-UPDATE-RESOLVED"] == ["pending"])
        #expect(v["IR-UF-P12-SLACK"] == ["not_applicable"], "still P3 at noon")
        #expect(!v.values.flatMap { $0 }.contains("late"))
    }

    @Test("status shows what is overdue and due next")
    func status() throws {
        let db = try Self.loaded()
        let r = try CLI.run(["status", Self.incident, "--as-of", "2026-04-09T12:00:00-04:00"], database: db.url)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("OVERDUE (1)"))
        #expect(r.stdout.contains("IR-UF-P12-UPDATE-DAILY [2026-04-08]"))
        #expect(r.stdout.contains("DUE NEXT"))
        #expect(r.stdout.contains("IR-UF-P12-UPDATE-RESOLVED"))
        let unknown = try CLI.run(["status", "NOPE-1"], database: db.url)
        #expect(unknown.status == 65)
        #expect(unknown.stderr.contains("no case 'NOPE-1'"))
    }

    @Test("directory: who held a role at a time")
    func who() throws {
        let db = try Self.loaded()
        let r = try CLI.run(["directory", "who", "isso", "--at", "2026-03-03T12:00:00-05:00"], database: db.url)
        #expect(r.status == 0)
        #expect(r.stdout.contains("ivy-isso"))
        let before = try CLI.run(["directory", "who", "isso", "--at", "2025-03-03T12:00:00-05:00"], database: db.url)
        #expect(before.status == 65)
        #expect(before.stderr.contains("no directory was in force"))
        let again = try CLI.run(["directory", "publish", CLI.scenarios.appendingPathComponent("directory.yaml").path], database: db.url)
        #expect(again.stdout.contains("already published"))
    }

    @Test("policy check names the rule and the problem; publish refuses a broken policy")
    func policyCheck() throws {
        let broken = Self.defaultPolicy()
            .replacingOccurrences(of: "id: IR-UF-P12-EMAIL", with: "id: IR-UF-P12-SLACK")
            .replacingOccurrences(of: "role:contact-center", with: "role:nobody-has-this")
        let file = try Self.write(broken)
        let dir = CLI.scenarios.appendingPathComponent("directory.yaml").path
        let r = try CLI.run(["policy", "check", file, "--directory", dir])
        #expect(r.status == 65)
        #expect(r.stderr.contains("IR-UF-P12-SLACK"))
        #expect(r.stderr.lowercased().contains("duplicate"))
        #expect(r.stderr.contains("nobody-has-this"))
        let ok = try CLI.run(["policy", "check", try Self.write(Self.defaultPolicy()), "--directory", dir])
        #expect(ok.status == 0, "\(ok.stderr)")

        let db = try Self.loaded()
        let before = try db.store().digest()
        let publish = try CLI.run(["policy", "publish", file, "--effective-from", "2026-06-01T00:00:00Z"], database: db.url)
        #expect(publish.status == 65)
        #expect(try db.store().digest() == before)
    }

    @Test("a second policy version judges cases opened after its effective date, and only those")
    func secondVersion() throws {
        let db = try Self.loaded()
        #expect(Self.defaultPolicy().contains("priority_update: PT1H"))
        let v2 = Self.defaultPolicy()
            .replacingOccurrences(of: "version: \"1\"", with: "version: \"2\"")
            .replacingOccurrences(of: "resolved: PT4H", with: "resolved: PT8H")
        let file = try Self.write(v2)
        let publish = try CLI.run(["policy", "publish", file, "--effective-from", "2026-04-01T00:00:00-04:00"], database: db.url)
        #expect(publish.status == 0, "\(publish.stderr)")
        #expect(publish.stderr.contains("warning"))
        // Same version, other content: refused.
        let clash = try CLI.run(["policy", "publish", try Self.write(v2.replacingOccurrences(of: "priority_update: PT1H", with: "priority_update: PT2H")),
                                 "--effective-from", "2026-05-01T00:00:00-04:00"], database: db.url)
        #expect(clash.status == 65)
        #expect(clash.stderr.contains("already published"))

        let inc = try JSONValue.parse(try CLI.run(["compliance", Self.incident, "--format", "json"], database: db.url).stdout)
        #expect(inc["policy"]?["version"] == .string("2"))
        // With 8 hours to send the resolution update, 21:00 is on time (due 23:00).
        #expect(Self.verdicts(inc)["IR-UF-P12-UPDATE-RESOLVED"] == ["met"])
        let pd = try JSONValue.parse(try CLI.run(["compliance", Self.downtime, "--format", "json"], database: db.url).stdout)
        #expect(pd["policy"]?["version"] == .string("1"), "opened in March, before v2")
        let shown = try CLI.run(["policy", "show"], database: db.url)
        #expect(shown.lines.count == 2)
    }

    static func defaultPolicy() -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Policies/default.yaml")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }

    static func write(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID()).yaml")
        try Data(text.utf8).write(to: url)
        return url.path
    }
}
