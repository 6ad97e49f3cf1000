import Events
import Foundation
import Ledger
import Operations
import Reports
import Testing
import TestSupport

/// The compliance use cases (Operations): migrate (publishes the default
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

    /// A case's compliance report in `format`, and its violations (--strict exits 1 when > 0).
    static func compliance(_ db: TestDatabase, _ caseID: String, asOf: String? = nil,
                           format: ComplianceFormat = .json) throws -> (text: String, violations: Int) {
        var text = ""
        let output = try db.session().open().compliance(caseID: caseID, asOf: try asOf.map { try RFC3339.parse($0) },
                                                        format: format, write: { text += $0 })
        return (text, output.violations)
    }

    /// A period's compliance report in `format`, and its violations.
    static func period(_ db: TestDatabase, from: String, to: String, format: ComplianceFormat) throws -> (text: String, violations: Int) {
        var text = ""
        let output = try db.session().open().compliance(from: try RFC3339.parse(from), to: try RFC3339.parse(to), asOf: nil,
                                                        format: format, write: { text += $0 })
        return (text, output.violations)
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
        let json = try JSONValue.parse(try Self.compliance(db, Self.incident).text)
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

        let strict = try Self.compliance(db, Self.incident, format: .table)
        #expect(strict.violations > 0, "--strict exits 1")
        #expect(strict.text.contains("MISSED"))
        #expect(strict.text.contains("late by 2h"))
    }

    @Test("the planned downtime is met throughout; --strict exits 0")
    func downtimeVerdicts() throws {
        let db = try Self.loaded()
        let result = try Self.compliance(db, Self.downtime)
        #expect(result.violations == 0, "--strict exits 0")
        let json = try JSONValue.parse(result.text)
        let all = Self.verdicts(json).values.flatMap { $0 }
        #expect(all.count >= 13)
        #expect(all.allSatisfy { $0 == "met" })
    }

    @Test("a period report gives per-rule and per-team rates in every format")
    func period() throws {
        let db = try Self.loaded()
        let (from, to) = ("2026-01-01T00:00:00-05:00", "2027-01-01T00:00:00-05:00")
        let json = try JSONValue.parse(try Self.period(db, from: from, to: to, format: .json).text)
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

        let md = try Self.period(db, from: from, to: to, format: .markdown).text
        #expect(md.contains("| IR-UF-P12-UPDATE-DAILY | 50.0% |"))
        #expect(md.contains("### Violations"))
        let csv = try Self.period(db, from: from, to: to, format: .csv).text
        let lines = csv.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("case,kind,team,policy_version,rule") == true)
        #expect(lines.filter { $0.contains(",missed,") }.count == 1)
        #expect(lines.filter { $0.contains(",late,") }.count == 1)
        let table = try Self.period(db, from: from, to: to, format: .table)
        #expect(table.text.contains("By rule"))
        #expect(table.violations > 0, "--strict exits 1")
        // A period with no cases.
        let empty = try Self.period(db, from: "2025-01-01T00:00:00Z", to: "2025-02-01T00:00:00Z", format: .table)
        #expect(empty.violations == 0)
        #expect(empty.text.contains("0 case(s)"))
    }

    @Test("--as-of in the middle of the incident shows what was pending then")
    func asOf() throws {
        let db = try Self.loaded()
        let r = try Self.compliance(db, Self.incident, asOf: "2026-04-07T12:00:00-04:00")
        let v = Self.verdicts(try JSONValue.parse(r.text))
        #expect(v["IR-UF-P34-PRIORITY"] == ["met"])
        #expect(v["IR-UF-P12-UPDATE-RESOLVED"] == ["pending"])
        #expect(v["IR-UF-P12-SLACK"] == ["not_applicable"], "still P3 at noon")
        #expect(!v.values.flatMap { $0 }.contains("late"))
    }

    @Test("status shows what is overdue and due next")
    func status() throws {
        let db = try Self.loaded()
        let r = try db.session().open().status(caseID: Self.incident, asOf: try RFC3339.parse("2026-04-09T12:00:00-04:00"))
        #expect(r.contains("OVERDUE (1)"))
        #expect(r.contains("IR-UF-P12-UPDATE-DAILY [2026-04-08]"))
        #expect(r.contains("DUE NEXT"))
        #expect(r.contains("IR-UF-P12-UPDATE-RESOLVED"))
        let unknown = InProcess.outcome { _ = try db.session().open().status(caseID: "NOPE-1", asOf: Date()) }
        #expect(unknown.status == 65)
        #expect(unknown.stderr.contains("no case 'NOPE-1'"))
    }

    @Test("directory: who held a role at a time")
    func who() throws {
        let db = try Self.loaded()
        let ledger = try db.session().open()
        let r = try ledger.holders(of: "isso", at: try RFC3339.parse("2026-03-03T12:00:00-05:00"))
        #expect(r.people.map(\.handle).contains("ivy-isso"))
        let before = InProcess.outcome { _ = try ledger.holders(of: "isso", at: try RFC3339.parse("2025-03-03T12:00:00-05:00")) }
        #expect(before.status == 65)
        #expect(before.stderr.contains("no directory was in force"))
        let yaml = try String(contentsOf: CLI.scenarios.appendingPathComponent("directory.yaml"), encoding: .utf8)
        let again = try ledger.publishDirectory(yaml: yaml, effectiveFrom: nil, actor: nil, retroactiveReason: TestDatabase.sampleReason)
        #expect(again.result.duplicate, "already published")
    }

    @Test("policy check names the rule and the problem; publish refuses a broken policy")
    func policyCheck() throws {
        let broken = Self.defaultPolicy()
            .replacingOccurrences(of: "id: IR-UF-P12-EMAIL", with: "id: IR-UF-P12-SLACK")
            .replacingOccurrences(of: "role:contact-center", with: "role:nobody-has-this")
        let dir = CLI.scenarios.appendingPathComponent("directory.yaml").path
        let session = Session(settings: .resolve(explicit: nil, environment: [:]))
        let r = try session.checkPolicy(yaml: broken, directory: .file(dir))
        #expect(!r.problems.isEmpty, "policy check exits 65")
        let problems = r.problems.joined(separator: "\n")
        #expect(problems.contains("IR-UF-P12-SLACK"))
        #expect(problems.lowercased().contains("duplicate"))
        #expect(problems.contains("nobody-has-this"))
        let ok = try session.checkPolicy(yaml: Self.defaultPolicy(), directory: .file(dir))
        #expect(ok.problems.isEmpty, "\(ok.problems)")

        let db = try Self.loaded()
        let before = try db.store().digest()
        let publish = InProcess.outcome {
            _ = try db.session().open().publishPolicy(yaml: broken, effectiveFrom: try RFC3339.parse("2026-06-01T00:00:00Z"), actor: nil,
                                                      retroactiveReason: TestDatabase.sampleReason)
        }
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
        let ledger = try db.session().open()
        let publish = try ledger.publishPolicy(yaml: v2, effectiveFrom: try RFC3339.parse("2026-04-01T00:00:00-04:00"), actor: nil,
                                               retroactiveReason: TestDatabase.sampleReason)
        #expect(!publish.warnings.isEmpty, "publish warns")
        // Same version, other content: refused.
        let clash = InProcess.outcome {
            _ = try ledger.publishPolicy(yaml: v2.replacingOccurrences(of: "priority_update: PT1H", with: "priority_update: PT2H"),
                                         effectiveFrom: try RFC3339.parse("2026-05-01T00:00:00-04:00"), actor: nil,
                                         retroactiveReason: TestDatabase.sampleReason)
        }
        #expect(clash.status == 65)
        #expect(clash.stderr.contains("already published"))

        let inc = try JSONValue.parse(try Self.compliance(db, Self.incident).text)
        #expect(inc["policy"]?["version"] == .string("2"))
        // With 8 hours to send the resolution update, 21:00 is on time (due 23:00).
        #expect(Self.verdicts(inc)["IR-UF-P12-UPDATE-RESOLVED"] == ["met"])
        let pd = try JSONValue.parse(try Self.compliance(db, Self.downtime).text)
        #expect(pd["policy"]?["version"] == .string("1"), "opened in March, before v2")
        #expect(try ledger.policies().publications.count == 2, "policy show lists two versions")
    }

    static func defaultPolicy() -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Policies/default.yaml")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }
}
