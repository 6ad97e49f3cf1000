import Domain
import Events
import Foundation
import Ledger
import Operations
import Postgres
import Reports
import Testing
import TestSupport

/// Actors bound to logins, on a real server with personal logins: the
/// writer login impersonates the System Owner (an approval), the on-call
/// (a maintenance window verification) and the ISSO (a PSETS ticket); the
/// same actions from the bound logins count; a writer's forged
/// `signature_verified` is shown unverified; every report lists it.
@Suite("Actors bound to logins (PostgreSQL, personal logins)")
struct LoginBindingCLITests {
    /// The personal logins of one test, dropped at the end.
    struct Logins {
        let suffix = String(UInt32.random(in: 0...UInt32.max))
        var writer: String { "dtl_writer_\(suffix)" }
        var owner: String { "dtl_so_\(suffix)" }
        var oncall: String { "dtl_oncall_\(suffix)" }
        var isso: String { "dtl_isso_\(suffix)" }
        var importer: String { "dtl_import_\(suffix)" }
        var all: [String] { [writer, owner, oncall, isso, importer] }
    }

    static let downtime = "PD-2026-0007"
    static let bound = "PD-2026-0008"
    static let incident = "INC-2026-0300"
    static let boundIncident = "INC-2026-0301"

    /// A migrated database with the default policy, the logins, and the
    /// sample directory binding sean-good, max-eng, ivy-isso and tara-lead
    /// to their logins and the importer login to servicenow.
    static func setUp() throws -> (TestDatabase, Logins) {
        let db = try TestDatabase.make()
        let ledger = try db.session().open()
        _ = try ledger.migrate(log: { _ in })
        _ = try ledger.publishDefaultPolicyIfNone()
        let l = Logins()
        let owner = try db.connect()
        for login in l.all { try owner.execute("CREATE ROLE \(login) LOGIN IN ROLE dtledger_writer") }
        var yaml = try String(contentsOf: CLI.scenarios.appendingPathComponent("directory.yaml"), encoding: .utf8)
        for (handle, login) in [("sean-good", l.owner), ("max-eng", l.oncall), ("ivy-isso", l.isso), ("tara-lead", l.writer)] {
            let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
                guard line.contains("{handle: \(handle),"), line.hasSuffix("}") else { return String(line) }
                return String(line.dropLast()) + ", logins: [\(login)]}"
            }
            yaml = lines.joined(separator: "\n")
        }
        yaml += "\nservice_logins:\n  - {login: \(l.importer), sources: [servicenow], name: ServiceNow importer}\n"
        #expect(yaml.contains("logins: [\(l.writer)]"))
        let published = try ledger.publishDirectory(yaml: yaml, effectiveFrom: nil, actor: nil,
                                                  retroactiveReason: "test directory, effective before the test ran")
        #expect(published.warnings.isEmpty)
        return (db, l)
    }

    static func drop(_ db: TestDatabase, _ l: Logins) {
        guard let c = try? db.connect() else { return }
        for login in l.all { _ = try? c.execute("DROP OWNED BY \(login); DROP ROLE IF EXISTS \(login)") }
    }

    static func url(_ db: TestDatabase, _ login: String) -> String {
        db.url.replacingOccurrences(of: "user=dtledger", with: "user=\(login)")
    }

    /// Appends `events` (envelope objects without `case`) to `caseID` as `login`, through dtledger.append.
    static func append(_ db: TestDatabase, as login: String?, _ caseID: String, _ events: [JSONValue]) throws {
        let c = try login.map { try Connection(conninfo: url(db, $0)) } ?? db.connect()
        _ = try c.query("SELECT * FROM dtledger.append($1, NULL, $2::jsonb, NULL, 'test')",
                        [caseID, JSONValue.array(events).jsonText()])
    }

    /// The sample planned downtime as `caseID`, its approval and
    /// verification appended by the logins given, the rest by the owner.
    static func plannedDowntime(_ db: TestDatabase, _ caseID: String, approvalBy: String, verifyBy: String) throws {
        let text = try String(contentsOf: CLI.scenarios.appendingPathComponent("planned-downtime-api-platform.jsonl"), encoding: .utf8)
            .replacingOccurrences(of: downtime, with: caseID)
        for line in text.split(separator: "\n") where !line.isEmpty {
            guard case .object(var o) = try JSONValue.parse(String(line)) else { continue }
            o["case"] = nil
            let key = o["key"]?.stringValue ?? ""
            let login = key.hasSuffix("/approval") ? approvalBy : key.hasSuffix("/pd-verify") ? verifyBy : nil
            try append(db, as: login, caseID, [.object(o)])
        }
    }

    /// An API/Platform incident whose PSETS ticket (the ISSO's) is appended by `psetsBy`.
    static func apiIncident(_ db: TestDatabase, _ caseID: String, psetsBy: String) throws {
        func event(_ type: String, _ time: String, _ actor: String, _ key: String, _ data: [String: JSONValue]) -> JSONValue {
            .object(["type": .string(type), "occurred_at": .string(time), "actor": .string(actor), "source": .string("cli"),
                     "key": .string("\(caseID)/\(key)"), "data": .object(data)])
        }
        try append(db, as: nil, caseID, [event("incident.opened", "2026-05-04T09:00:00-04:00", "nia-eng", "opened", [
            "team": .string("api-platform"), "summary": .string("MHV API returns 500s"),
            "estimated_user_impact": .object(["services": .array([.string("mhv-api")])]),
            "started_at": .string("2026-05-04T08:40:00-04:00"), "data_compromise_suspected": .bool(true)])])
        try append(db, as: psetsBy, caseID, [event("ticket.submitted", "2026-05-04T09:50:00-04:00", "ivy-isso", "psets", [
            "system": .string("psets"), "number": .string("PSETS-1"), "purpose": .string("security_incident")])])
    }

    static func verdict(_ json: JSONValue, _ rule: String) -> (verdict: String?, reason: String?, findings: [JSONValue]) {
        let o = json["obligations"]?.arrayValue?.first { $0["rule"] == .string(rule) }
        return (o?["verdict"]?.stringValue, o?["reason"]?.stringValue, o?["findings"]?.arrayValue ?? [])
    }

    static func compliance(_ db: TestDatabase, _ caseID: String, _ format: ComplianceFormat) throws -> String {
        var text = ""
        _ = try db.session().open().compliance(caseID: caseID, asOf: nil, format: format, write: { text += $0 })
        return text
    }

    @Test("impersonating the approver, the verifier and the ISSO from a writer login: partial, named in every report")
    func impersonation() throws {
        let (db, l) = try Self.setUp()
        defer { Self.drop(db, l) }
        try Self.plannedDowntime(db, Self.downtime, approvalBy: l.writer, verifyBy: l.writer)
        try Self.apiIncident(db, Self.incident, psetsBy: l.writer)

        let json = try JSONValue.parse(try Self.compliance(db, Self.downtime, .json))
        let approval = Self.verdict(json, "PD-API-SNOW-APPROVAL")
        #expect(approval.verdict == "partial")
        #expect(approval.reason == "actor sean-good recorded by login \(l.writer)")
        #expect(approval.findings.contains { $0["kind"] == .string("login_mismatch") })
        let verify = Self.verdict(json, "PD-API-PD-VERIFY")
        #expect(verify.verdict == "partial")
        #expect(verify.reason == "actor max-eng recorded by login \(l.writer)")
        let incident = Self.verdict(try JSONValue.parse(try Self.compliance(db, Self.incident, .json)), "IR-API-PSETS")
        #expect(incident.verdict == "partial")
        #expect(incident.reason == "actor ivy-isso recorded by login \(l.writer)")

        let mismatch = "actor sean-good recorded by login \(l.writer)"
        for format in ComplianceFormat.allCases {
            #expect(try Self.compliance(db, Self.downtime, format).contains(mismatch), "compliance \(format)")
        }
        let ledger = try db.session().open()
        for format in ReportFormat.allCases {
            #expect(try ledger.review(caseID: Self.downtime, asOf: nil, format: format).contains(mismatch), "review \(format)")
        }
        let from = try RFC3339.parse("2026-01-01T00:00:00Z"), to = try RFC3339.parse("2027-01-01T00:00:00Z")
        for format in ReportFormat.allCases {
            let audit = try ledger.audit(from: from, to: to, asOf: nil, digest: nil, format: format).text
            #expect(audit.contains(mismatch), "audit \(format)")
            #expect(audit.contains("actor ivy-isso recorded by login \(l.writer)"), "audit \(format)")
            if format == .markdown || format == .html { #expect(audit.contains("Identity and provenance")) }
            if format == .json { #expect(try JSONValue.parse(audit)["identity_and_provenance"]?.arrayValue?.isEmpty == false) }
        }
        for format in ComplianceFormat.allCases {
            var text = ""
            _ = try ledger.compliance(from: from, to: to, asOf: nil, format: format, write: { text += $0 })
            #expect(text.contains(mismatch), "period compliance \(format)")
        }
        #expect(try ledger.status(caseID: Self.downtime, asOf: Date()).contains(mismatch))
    }

    @Test("the same actions from the bound logins are met, without identity findings")
    func boundLogins() throws {
        let (db, l) = try Self.setUp()
        defer { Self.drop(db, l) }
        try Self.plannedDowntime(db, Self.bound, approvalBy: l.owner, verifyBy: l.oncall)
        try Self.apiIncident(db, Self.boundIncident, psetsBy: l.isso)
        let json = try JSONValue.parse(try Self.compliance(db, Self.bound, .json))
        #expect(Self.verdict(json, "PD-API-SNOW-APPROVAL").verdict == "met")
        #expect(Self.verdict(json, "PD-API-PD-VERIFY").verdict == "met")
        let incident = try JSONValue.parse(try Self.compliance(db, Self.boundIncident, .json))
        #expect(Self.verdict(incident, "IR-API-PSETS").verdict == "met")
        let kinds = (json["findings"]?.arrayValue ?? []).compactMap { $0["kind"]?.stringValue }
        #expect(!kinds.contains("login_mismatch") && !kinds.contains("unknown_login") && !kinds.contains("shared_login"))
        // Recorded now for deadlines in 2026: every on-time evidence is flagged, with by how long.
        let late = Self.verdict(json, "PD-API-SNOW-APPROVAL").findings.first { $0["kind"] == .string("recorded_after_deadline") }
        #expect(late?["detail"]?.stringValue?.hasPrefix("recorded ") == true)
        #expect((late?["seconds"]?.intValue ?? 0) > 0)
        #expect(try Self.compliance(db, Self.bound, .table).contains("after the deadline"))
    }

    @Test("a person the directory lists no login for: the sample verdicts stand, each report says so")
    func unboundSamples() throws {
        let db = try TestDatabase.withSamples()
        let json = try JSONValue.parse(try Self.compliance(db, Self.downtime, .json))
        #expect(Self.verdict(json, "PD-API-SNOW-APPROVAL").verdict == "met")
        #expect(Self.verdict(json, "PD-API-SNOW-APPROVAL").findings.contains { $0["kind"] == .string("unbound_login") })
        let table = try Self.compliance(db, Self.downtime, .table)
        #expect(table.contains("unbound_login: "))
        #expect(table.contains("people the directory lists no login for: sean-good"))
        let review = try db.session().open().review(caseID: Self.downtime, asOf: nil, format: .markdown)
        #expect(review.contains("## Findings"))
    }

    @Test("a shared login is reported when published and never trusted")
    func sharedLogin() throws {
        let (db, l) = try Self.setUp()
        defer { Self.drop(db, l) }
        let ledger = try db.session().open()
        let yaml = """
        effective_from: 2026-06-01T00:00:00Z
        roles: [system-owner, uf-oncall]
        people:
          - {handle: sean-good, roles: [system-owner], logins: [\(l.owner)]}
          - {handle: max-eng, roles: [uf-oncall], logins: [\(l.owner)]}
        """
        let published = try ledger.publishDirectory(yaml: yaml, effectiveFrom: nil, actor: nil,
                                                  retroactiveReason: "test directory, effective before the test ran")
        #expect(published.warnings == ["login '\(l.owner)' is shared (listed for sean-good, max-eng): its actions are not trusted"])
        // policy check against the ledger's latest directory reports it too.
        let check = try db.session().checkPolicy(yaml: Policy.defaultPolicyYAML, directory: .ledger)
        #expect(check.problems.contains("login '\(l.owner)' is shared (listed for sean-good, max-eng): its actions are not trusted"))
        // A downtime after June: its approval by the (now shared) System Owner login does not count.
        let events: [JSONValue] = [
            .object(["type": .string("downtime.planned"), "occurred_at": .string("2026-07-01T10:00:00Z"), "actor": .string("sean-good"), "source": .string("cli"),
                     "data": .object(["team": .string("api-platform"), "title": .string("Patch"), "reason": .string("Patch"),
                                      "anticipated_impact": .object(["services": .array([.string("mhv-api")])]),
                                      "window": .object(["start": .string("2026-07-10T02:00:00Z"), "end": .string("2026-07-10T04:00:00Z")]),
                                      "rollback_plan": .string("Restore")])]),
            .object(["type": .string("ticket.submitted"), "occurred_at": .string("2026-07-01T11:00:00Z"), "actor": .string("sean-good"), "source": .string("cli"),
                     "data": .object(["system": .string("snow"), "number": .string("CHG1"), "purpose": .string("downtime_approval")])]),
            .object(["type": .string("approval.recorded"), "occurred_at": .string("2026-07-01T12:00:00Z"), "actor": .string("sean-good"), "source": .string("cli"),
                     "data": .object(["ticket": .string("CHG1"), "approver": .string("sean-good"), "decision": .string("approved")])]),
        ]
        try Self.append(db, as: l.owner, "PD-2026-0900", events)
        let json = try JSONValue.parse(try Self.compliance(db, "PD-2026-0900", .json))
        let approval = Self.verdict(json, "PD-API-SNOW-APPROVAL")
        #expect(approval.verdict == "partial")
        #expect(approval.findings.contains { $0["kind"] == .string("shared_login") })
    }

    @Test("signature_verified in a writer's own metadata is shown unverified; from the registered importer it is verified")
    func forgedProvenance() throws {
        let (db, l) = try Self.setUp()
        defer { Self.drop(db, l) }
        try Self.plannedDowntime(db, Self.downtime, approvalBy: l.owner, verifyBy: l.oncall)
        func note(_ key: String, source: String) -> JSONValue {
            .object(["type": .string("note.added"), "occurred_at": .string("2026-03-05T12:00:00-05:00"), "actor": .string("tara-lead"),
                     "source": .string(source), "key": .string(key), "data": .object(["text": .string("from ServiceNow")]),
                     "metadata": .object(["import": .object(["signature_verified": .bool(true), "source": .string(source)])])])
        }
        try Self.append(db, as: l.writer, Self.downtime, [note("forged", source: "servicenow")])
        try Self.append(db, as: l.importer, Self.downtime, [note("imported", source: "servicenow")])
        let forgedID = try #require(try db.store().events(caseID: Self.downtime).first { $0.key == "forged" }?.id)
        let importedID = try #require(try db.store().events(caseID: Self.downtime).first { $0.key == "imported" }?.id)

        let claim = "signature_verified claimed by login \(l.writer), not a registered importer login"
        let json = try JSONValue.parse(try Self.compliance(db, Self.downtime, .json))
        #expect(json["findings"]?.arrayValue?.contains { $0["kind"] == .string("unverified_provenance") && $0["event"] == .string(forgedID) } == true)
        #expect(json["findings"]?.arrayValue?.contains { $0["kind"] == .string("unverified_provenance") && $0["event"] == .string(importedID) } == false)

        let ledger = try db.session().open()
        let review = try JSONValue.parse(try ledger.review(caseID: Self.downtime, asOf: nil, format: .json))
        let evidence = review["evidence"]?.arrayValue ?? []
        let forged = evidence.first { $0["id"] == .string(forgedID) }
        let imported = evidence.first { $0["id"] == .string(importedID) }
        #expect(forged?["signature_verified"] == .bool(false))
        #expect(forged?["provenance"]?["status"] == .string("unverified"))
        #expect(imported?["signature_verified"] == .bool(true))
        #expect(imported?["provenance"]?["status"] == .string("verified"))
        let markdown = try ledger.review(caseID: Self.downtime, asOf: nil, format: .markdown)
        #expect(markdown.contains("servicenow, signature not verified (claimed by a client)"))
        #expect(markdown.contains("servicenow, signature verified"))
        for format in ReportFormat.allCases {
            #expect(try ledger.review(caseID: Self.downtime, asOf: nil, format: format).contains(claim), "review \(format)")
            let from = try RFC3339.parse("2026-01-01T00:00:00Z"), to = try RFC3339.parse("2027-01-01T00:00:00Z")
            #expect(try ledger.audit(from: from, to: to, asOf: nil, digest: nil, format: format).text.contains(claim), "audit \(format)")
        }
        for format in ComplianceFormat.allCases {
            #expect(try Self.compliance(db, Self.downtime, format).contains(claim), "compliance \(format)")
        }
    }
}
