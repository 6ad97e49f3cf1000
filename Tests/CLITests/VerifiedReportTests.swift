@testable import dtledger
import Events
import Foundation
import Ledger
import Operations
import Postgres
import Reports
import Testing
import TestSupport

/// Every compliance, review and audit report carries the verification of
/// the chain it was computed from (issue 15, section 2), an audit of a
/// tampered ledger is written but marked UNVERIFIED in every format (exit
/// 1), and an event a direct writer stored that the readers cannot decode
/// is skipped and listed while the rest is judged.
@Suite("Reports carry what verify checked")
struct VerifiedReportTests {
    static let incident = "INC-2026-0142"
    static let (from, to) = (try! RFC3339.parse("2026-01-01T00:00:00-05:00"), try! RFC3339.parse("2027-01-01T00:00:00-05:00"))

    @Test("compliance (case and period, every format) and the review (every format) carry the chain check")
    func everyFormatCarriesTheCheck() throws {
        let db = try CLIComplianceTests.loaded()
        let ledger = try db.session().open()
        let tip = try db.store().digest()
        for format in ComplianceFormat.allCases {
            var text = ""
            _ = try ledger.compliance(caseID: Self.incident, asOf: nil, format: format) { text += $0 }
            var period = ""
            _ = try ledger.compliance(from: Self.from, to: Self.to, asOf: nil, format: format) { period += $0 }
            for output in [text, period] {
                switch format {
                case .table, .markdown:
                    #expect(output.contains("Chain verified: \(tip.position) events, tip at position \(tip.position), hash \(tip.hash)"), "\(format)")
                case .json:
                    let check = try JSONValue.parse(output)["chain_check"]
                    #expect(check?["verified"] == .bool(true), "\(format)")
                    #expect(check?["last_position"] == .int(tip.position))
                    #expect(check?["last_hash"] == .string(tip.hash))
                    #expect(check?["problem"] == .null)
                case .csv:
                    let lines = output.split(separator: "\n")
                    #expect(lines.first?.hasSuffix("chain_verified,chain_events_checked,chain_tip_position,chain_tip_hash,chain_problem") == true)
                    #expect(lines.count > 1)
                    #expect(lines.dropFirst().allSatisfy { $0.hasSuffix(",true,\(tip.position),\(tip.position),\(tip.hash),") }, "\(format)")
                }
            }
        }
        for format in ReportFormat.allCases {
            let review = try ledger.review(caseID: Self.incident, asOf: nil, format: format)
            switch format {
            case .markdown, .html: #expect(review.contains("Chain verified: \(tip.position) events"), "\(format)")
            case .json: #expect(try JSONValue.parse(review)["chain_check"]?["verified"] == .bool(true))
            case .csv: #expect(review.split(separator: "\n").dropFirst().allSatisfy { $0.contains(",true,\(tip.position),") })
            }
        }
    }

    @Test("a tampered ledger: compliance and review say CHAIN NOT VERIFIED; the audit is written, marked UNVERIFIED in all four formats, exit 1")
    func tamperedLedger() throws {
        let db = try CLIComplianceTests.loaded()
        let store = try db.store()
        try store.connection.execute("SET session_replication_role = replica; UPDATE dtledger.streams SET version = 1 WHERE case_id = '\(Self.incident)'")
        let ledger = try db.session().open()
        var text = ""
        _ = try ledger.compliance(caseID: "PD-2026-0007", asOf: nil, format: .table) { text += $0 }
        #expect(text.contains("CHAIN NOT VERIFIED: case \(Self.incident): the streams table records version 1"))
        let review = try ledger.review(caseID: "PD-2026-0007", asOf: nil, format: .json)
        #expect(try JSONValue.parse(review)["chain_check"]?["verified"] == .bool(false))

        for format in ReportFormat.allCases {
            let audit = try ledger.audit(from: Self.from, to: Self.to, asOf: nil, digest: nil, format: format)
            #expect(!audit.verified, "\(format): exit 1")
            #expect(!audit.text.isEmpty, "\(format): the report is still written")
            switch format {
            case .markdown:
                #expect(audit.text.contains("> **UNVERIFIED: the ledger's chain did not verify"))
                #expect(audit.text.contains("## Cases"), "judged all the same")
            case .html:
                #expect(audit.text.contains("<p class=\"bad\"><strong>UNVERIFIED"))
            case .json:
                let json = try JSONValue.parse(audit.text)
                #expect(json["verified"] == .bool(false))
                #expect(json["chain_check"]?["verified"] == .bool(false))
                #expect(json["chain_check"]?["problem"]?.stringValue?.contains("case \(Self.incident)") == true)
            case .csv:
                let rows = audit.text.split(separator: "\n").dropFirst()
                #expect(!rows.isEmpty)
                #expect(rows.allSatisfy { $0.contains(",false,") && $0.contains("case \(Self.incident)") })
            }
        }
        // Through the CLI: exit 1, the report written.
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString).md")
        defer { try? FileManager.default.removeItem(at: out) }
        let run = try CLI.run(["report", "audit", "--from", "2026-01-01T00:00:00Z", "--to", "2027-01-01T00:00:00Z", "--output", out.path], database: db.url)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(try String(contentsOf: out, encoding: .utf8).contains("UNVERIFIED"))
    }

    @Test("an undecodable event stored by a direct writer is skipped and listed; the rest is judged")
    func undecodableEvent() throws {
        let db = try CLIComplianceTests.loaded()
        let owner = try db.connect()
        let before = try db.session().open().compliance(caseID: Self.incident, asOf: nil, format: .json) { _ in }.violations
        // Nesting deeper than the readers parse (jsonb stores it), appended
        // as the owner straight into the table, hashed with the ledger's own
        // function so the chain stays intact.
        let deep = String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)
        try owner.execute("""
            WITH h AS (SELECT position + 1 AS p, hash FROM dtledger.head),
                 s AS (SELECT version + 1 AS v FROM dtledger.streams WHERE case_id = '\(Self.incident)'),
                 e AS (SELECT gen_random_uuid() AS id, clock_timestamp() AS at, '{"text": \(deep)}'::jsonb AS data,
                              '{"db_role": "dtledger"}'::jsonb AS metadata)
            INSERT INTO dtledger.events (position, id, case_id, version, type, occurred_at, recorded_at, actor, source,
                                         idempotency_key, data, metadata, previous_hash, hash)
            SELECT h.p, e.id, '\(Self.incident)', s.v, 'note.added', e.at, e.at, 'mallory', 'cli', NULL, e.data, e.metadata,
                   h.hash, dtledger.event_hash(h.hash, e.id, h.p, '\(Self.incident)', s.v, 'note.added', e.at, e.at, 'mallory',
                                               'cli', NULL, e.data, e.metadata)
              FROM h, s, e;
            UPDATE dtledger.head SET position = position + 1,
                   hash = (SELECT hash FROM dtledger.events ORDER BY position DESC LIMIT 1);
            UPDATE dtledger.streams SET version = version + 1, last_position = (SELECT position FROM dtledger.head)
             WHERE case_id = '\(Self.incident)';
            """)
        let tip = try db.store().digest()
        #expect(try db.store().verify().ok, "the chain is intact: the event was stored, only unreadable")
        let ledger = try db.session().open()
        var json = ""
        let output = try ledger.compliance(caseID: Self.incident, asOf: nil, format: .json) { json += $0 }
        #expect(output.violations == before, "the rest judged as before")
        let listed = try JSONValue.parse(json)["undecodable_events"]?.arrayValue
        #expect(listed?.count == 1)
        #expect(listed?.first?["position"] == .int(tip.position))
        #expect(listed?.first?["case"] == .string(Self.incident))
        #expect(listed?.first?["reason"]?.stringValue?.contains("cannot be read") == true)
        var table = ""
        _ = try ledger.compliance(caseID: Self.incident, asOf: nil, format: .table) { table += $0 }
        #expect(table.contains("Undecodable events (skipped)"))
        #expect(table.contains("position \(tip.position)"))
        var period = ""
        _ = try ledger.compliance(from: Self.from, to: Self.to, asOf: nil, format: .markdown) { period += $0 }
        #expect(period.contains("### Undecodable events (skipped)"))
        let audit = try ledger.audit(from: Self.from, to: Self.to, asOf: nil, digest: nil, format: .markdown)
        #expect(audit.verified)
        #expect(audit.text.contains("## Undecodable events (skipped)"))
        let review = try ledger.review(caseID: Self.incident, asOf: nil, format: .markdown)
        #expect(review.contains("## Undecodable events (skipped)"))
        // CSV: a row of kind undecodable_event, in the case's and the audit's CSV.
        var csv = ""
        _ = try ledger.compliance(caseID: Self.incident, asOf: nil, format: .csv) { csv += $0 }
        let auditCSV = try ledger.audit(from: Self.from, to: Self.to, asOf: nil, digest: nil, format: .csv).text
        for text in [csv, auditCSV] {
            let row = text.split(separator: "\n").first { $0.hasPrefix("\(Self.incident),undecodable_event,") }
            #expect(row?.contains(",\(tip.position),") == true, "\(text.suffix(400))")
            #expect(row?.contains("note.added: ") == true)
        }
        // The projector passes over it too.
        _ = try db.session().rebuildProjections()
    }
}

@Suite("Reports name publications and retroactive re-judging")
struct PublicationReportTests {
    @Test("a retroactive policy publication is named in compliance, review and audit; the audit lists every publication with who, when and what changed")
    func retroactivePolicy() throws {
        let db = try CLIComplianceTests.loaded()
        let store = try db.store()
        let published = try #require(try store.events(caseID: "policy").last { $0.type == "policy.published" })
        var document = try #require(published.data["policy"]?.objectValue)
        var rules = try #require(document["rules"]?.arrayValue)
        let removed = try #require(rules.removeLast()["id"]?.stringValue)
        document["rules"] = .array(rules)
        document["version"] = .string("99")
        let data: JSONValue = .object([
            "effective_from": .string("2026-01-01T00:00:00Z"), "policy": .object(document),
            "retroactive_reason": .string("sample data: published after the fact"),
        ])
        _ = try store.append(caseID: "policy", events: [Envelope(type: "policy.published", caseID: "policy",
                                                                   occurredAt: Date(), actor: "isso-delegate",
                                                                   source: .cli, key: nil, data: data)])
        let ledger = try db.session().open()
        var text = ""
        _ = try ledger.compliance(caseID: VerifiedReportTests.incident, asOf: nil, format: .table) { text += $0 }
        #expect(text.contains("Re-judged by a retroactive publication: policy v99"))
        #expect(text.contains("sample data: published after the fact"))
        var json = ""
        _ = try ledger.compliance(caseID: VerifiedReportTests.incident, asOf: nil, format: .json) { json += $0 }
        #expect(try JSONValue.parse(json)["retroactive_publications"]?.arrayValue?.first?["version"] == .string("99"))
        #expect(try ledger.review(caseID: VerifiedReportTests.incident, asOf: nil, format: .markdown)
            .contains("Re-judged by a retroactive publication: policy v99"))
        var period = ""
        _ = try ledger.compliance(from: VerifiedReportTests.from, to: VerifiedReportTests.to, asOf: nil, format: .markdown) { period += $0 }
        #expect(period.contains("### Re-judged by retroactive publications"))
        #expect(period.contains("- \(VerifiedReportTests.incident): publication"))

        let md = try ledger.audit(from: VerifiedReportTests.from, to: VerifiedReportTests.to, asOf: nil, digest: nil, format: .markdown).text
        #expect(md.contains("## Policy and directory publications and retractions"))
        #expect(md.contains("yes: sample data: published after the fact"))
        #expect(md.contains("rules removed: \(removed)"))
        #expect(md.contains("## Cases re-judged by retroactive publications"))
        let html = try ledger.audit(from: VerifiedReportTests.from, to: VerifiedReportTests.to, asOf: nil, digest: nil, format: .html).text
        #expect(html.contains("Policy and directory publications and retractions"))
        let auditJSON = try JSONValue.parse(try ledger.audit(from: VerifiedReportTests.from, to: VerifiedReportTests.to, asOf: nil,
                                                              digest: nil, format: .json).text)
        let records = try #require(auditJSON["publications"]?.arrayValue)
        let record = try #require(records.first { $0["version"] == .string("99") })
        #expect(record["retroactive"] == .bool(true))
        #expect(record["login"] == .string("dtledger"))
        #expect(record["actor"] == .string("isso-delegate"))
        #expect(record["changes"]?.arrayValue?.contains(.string("rules removed: \(removed)")) == true)
        // CSV: the publication (case = the stream) and the re-judged case, after the obligation rows.
        let csv = try ledger.audit(from: VerifiedReportTests.from, to: VerifiedReportTests.to, asOf: nil, digest: nil,
                                   format: .csv).text.split(separator: "\n")
        let publication = try #require(csv.first { $0.hasPrefix("policy,publication,,99,") })
        #expect(publication.contains("rules removed: \(removed)"))
        #expect(publication.contains("by login dtledger (actor isso-delegate)"))
        #expect(publication.contains("retroactive: sample data: published after the fact"))
        #expect(csv.contains { $0.hasPrefix("\(VerifiedReportTests.incident),retroactive_rejudged,") })
        #expect(csv.dropFirst().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count >= 21 })
        var caseCSV = ""
        _ = try ledger.compliance(caseID: VerifiedReportTests.incident, asOf: nil, format: .csv) { caseCSV += $0 }
        #expect(caseCSV.contains("\(VerifiedReportTests.incident),retroactive_rejudged,"))
    }
}

@Suite("verify --json carries each check")
struct VerifyJSONTests {
    @Test("each check is in --json with its problems; the exit is 1 naming what differs")
    func checksInJSON() throws {
        let db = try CLIComplianceTests.loaded()
        let owner = try db.connect()
        try owner.execute("ALTER TABLE dtledger.events DISABLE TRIGGER events_no_truncate")
        let report = try db.session().open().verify(digest: nil)
        let json = VerifyCommand.json(report)
        let checks = try #require(json["checks"]?.arrayValue)
        #expect(checks.map { $0["name"]?.stringValue ?? "" } == ["chain", "positions", "head", "recorded_at", "streams",
                                                                 "functions", "triggers", "grants"])
        let triggers = try #require(checks.first { $0["name"] == .string("triggers") })
        #expect(triggers["ok"] == .bool(false))
        #expect(triggers["problems"]?.arrayValue?.first?.stringValue?.contains("events_no_truncate") == true)
        let run = try CLI.run(["verify"], database: db.url)
        #expect(run.status == 1)
        #expect(run.stdout.contains("events_no_truncate"))
    }
}
