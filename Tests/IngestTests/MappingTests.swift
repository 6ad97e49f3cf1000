import Events
import Foundation
import Ingest
import Domain
import Testing

enum Fixture {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    static func data(_ name: String) throws -> Data { try Data(contentsOf: dir.appendingPathComponent(name)) }
    static func config() throws -> IngestConfig { try IngestConfig.parse(String(decoding: try data("config.yaml"), as: UTF8.self)) }
    static func directory() throws -> DirectoryHistory {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/scenarios/directory.yaml")
        return DirectoryHistory([try Directory.parse(yaml: String(decoding: try Data(contentsOf: url), as: UTF8.self))])
    }
    static func context(known: [String: CaseKind] = [:], secret: String? = nil, now: Date = Date()) throws -> ImportContext {
        ImportContext(config: try config(), directories: try directory(), defaultActor: "importer",
                      knownCases: known, secret: secret, now: now)
    }
    static func payloads(_ name: String) throws -> [RawPayload] { PayloadFile.read(try data(name)).payloads }
}

@Suite("Ingest: PagerDuty, Slack and ServiceNow mapping")
struct MappingTests {
    static let incident = "INC-2026-0142"

    @Test("PagerDuty webhook v3: every supported incident event maps, with the payload hash and source id")
    func pagerDutyIncident() throws {
        let out = PagerDutyImporter.map(try Fixture.payloads("pagerduty-incident.jsonl"), context: try Fixture.context())
        #expect(out.unmapped.isEmpty, "\(out.unmapped)")
        #expect(out.events.map(\.envelope.type) == ["incident.opened", "note.added", "incident.priority_set",
                                                     "incident.priority_set", "incident.milestone", "incident.resolved"])
        let opened = out.events[0].envelope
        #expect(opened.caseID == Self.incident)
        #expect(opened.actor == "max-eng")
        #expect(opened.source == .pagerduty)
        #expect(opened.key == "pagerduty/01DEN1Q8YJ0F6KQ3Q9X1T0AAAA")
        #expect(opened.data["team"] == .string("user-facing"))
        #expect(opened.data["product"] == .string("medications"))
        #expect(out.events[2].envelope.data["priority"] == .string("P3"))
        #expect(out.events[2].envelope.actor == "lou-em")
        #expect(out.events[3].envelope.data["priority"] == .string("P1"))
        #expect(out.events[4].envelope.data["kind"] == .string("solution_determined"))
        #expect(out.events[4].envelope.data["note"] == .string("Stale cache entries; purge and fix TTL"))
        let meta = try #require(out.events[0].metadata["import"])
        #expect(meta["source"] == .string("pagerduty"))
        #expect(meta["source_event_id"] == .string("01DEN1Q8YJ0F6KQ3Q9X1T0AAAA"))
        #expect(meta["signature_verified"] == .bool(false))
        let raw = try Fixture.payloads("pagerduty-incident.jsonl")[0]
        #expect(meta["payload_sha256"] == .string(raw.sha256))
        #expect(raw.sha256.count == 64)
    }

    @Test("PagerDuty: reopened and plain notes map; unsupported, unknown priority, unmapped service and malformed lines are reported")
    func pagerDutyOther() throws {
        let read = PayloadFile.read(try Fixture.data("pagerduty-other.jsonl"))
        #expect(read.unreadable.map(\.item) == [6])
        let out = PagerDutyImporter.map(read.payloads, context: try Fixture.context(known: [Self.incident: .incident]))
        #expect(out.events.map(\.envelope.type) == ["incident.reopened", "note.added"])
        let reasons = out.unmapped.map(\.description)
        #expect(reasons.count == 4)
        #expect(reasons.contains { $0.contains("incident.delegated is not imported") })
        #expect(reasons.contains { $0.contains("'SEV-9' is not P1..P4") })
        #expect(reasons.contains { $0.contains("no team for service PUNKNOWN") })
        #expect(reasons.contains { $0.contains("not a PagerDuty webhook") })
        #expect(out.unmapped.allSatisfy { $0.code == .notMapped })
        #expect(read.unreadable.map(\.code) == [.unreadable])
    }

    @Test("PagerDuty maintenance windows: list and single, mapped to the case the description names")
    func pagerDutyWindows() throws {
        let ctx = try Fixture.context(known: ["PD-2026-0007": .plannedDowntime])
        let list = PagerDutyImporter.map(try Fixture.payloads("pagerduty-windows.json"), context: ctx)
        #expect(list.events.count == 1)
        #expect(list.unmapped.count == 1)
        #expect(list.unmapped[0].sourceID == "PW67890")
        let w = list.events[0].envelope
        #expect(w.type == "maintenance_window.set")
        #expect(w.caseID == "PD-2026-0007")
        #expect(w.actor == "nia-eng")
        #expect(w.data["window_id"] == .string("PW12345"))
        #expect(w.data["services"] == .array([.string("mhv-api")]))
        #expect(try RFC3339.parse(w.data["start"]!.stringValue!) == RFC3339.parse("2026-03-14T21:45:00-04:00"))
        let single = PagerDutyImporter.map(try Fixture.payloads("pagerduty-window.json"), context: ctx)
        #expect(single.events.map(\.envelope.key) == list.events.map(\.envelope.key))
    }

    @Test("Slack: messages and an edit become notifications with resolved audience, permalink and labelled content")
    func slackIncident() throws {
        let out = SlackImporter.map(try Fixture.payloads("slack-incident.jsonl"), context: try Fixture.context(known: [Self.incident: .incident]))
        #expect(out.unmapped.isEmpty, "\(out.unmapped)")
        #expect(out.events.count == 6)
        let first = out.events[0].envelope
        #expect(first.type == "notification.sent")
        #expect(first.actor == "max-eng")
        #expect(first.data["destination"] == .string("#mhv-health-portal-coordination"))
        #expect(first.data["audience"] == .array([.string("@mhv-api-platform")]))
        #expect(first.data["purpose"] == .string("initial"))
        #expect(first.data["message_ref"] == .string("https://example.slack.com/archives/C04DRS3L9NV/p1775568900000200"))
        #expect(first.data["content"]?["summary"] == .string("Medications list fails to load on VA.gov"))
        #expect(first.data["content"]?["start_time"] == .string("2026-04-07 08:55 ET"))
        #expect(first.data["content"]?["case"] == nil)
        let edit = out.events[1].envelope
        #expect(edit.actor == "lou-em")
        #expect(edit.data["edits"] == first.data["message_ref"])
        #expect(edit.data["message_ref"] == nil)
        #expect(edit.data["content"]?["priority"] == .string("P3"))
        #expect(edit.key == "slack/Ev0P3EDIT001")
        let p1 = out.events[2].envelope
        #expect(p1.data["audience"]?.arrayValue?.count == 8)
        #expect(p1.data["audience"]?.arrayValue?.contains(.string("greg-kirk")) == true)
        // Bullets and bold labels.
        #expect(out.events[3].envelope.data["content"]?["status"] != nil)
        #expect(out.events[4].envelope.data["purpose"] == .string("milestone"))
    }

    @Test("Slack: chatter, no case, bad purpose, other subtypes, url_verification and bad JSON are reported; unknown mentions are kept")
    func slackOther() throws {
        let read = PayloadFile.read(try Fixture.data("slack-other.jsonl"))
        let out = SlackImporter.map(read.payloads, context: try Fixture.context(known: [Self.incident: .incident]))
        #expect(read.unreadable.count == 1)
        #expect(out.unmapped.count == 5)
        let reasons = out.unmapped.map(\.reason).joined(separator: "\n")
        #expect(reasons.contains("no labelled content lines"))
        #expect(reasons.contains("no case"))
        #expect(reasons.contains("'gossip'"))
        #expect(reasons.contains("channel_join"))
        #expect(reasons.contains("url_verification"))
        #expect(out.events.count == 1)
        #expect(out.events[0].metadata["import"]?["unresolved_mentions"] == .array([.string("U9NOTINDIR")]))
        #expect(out.unmapped.filter { $0.reason.contains("no case") }.map(\.code) == [.noCase])
    }

    @Test("Slack: a case never opened is reported, not guessed")
    func slackUnopened() throws {
        let out = SlackImporter.map(try Fixture.payloads("slack-incident.jsonl"), context: try Fixture.context())
        #expect(out.events.isEmpty)
        #expect(out.unmapped.count == 6)
        #expect(out.unmapped.allSatisfy { $0.reason.contains("never opened") })
        #expect(out.unmapped.allSatisfy { $0.code == .caseNotOpened })
    }

    @Test("ServiceNow: incident and change request as tickets, approved approval as approval; pending and other tables reported")
    func serviceNow() throws {
        let ctx = try Fixture.context(known: [Self.incident: .incident, "PD-2026-0007": .plannedDowntime])
        let inc = ServiceNowImporter.map(try Fixture.payloads("servicenow-incident.json"), context: ctx)
        #expect(inc.unmapped.isEmpty)
        let t = try #require(inc.events.first?.envelope)
        #expect(t.type == "ticket.submitted")
        #expect(t.caseID == Self.incident)
        #expect(t.actor == "max-eng")
        #expect(t.data["number"] == .string("INC0045678"))
        #expect(t.data["purpose"] == .string("other"))
        #expect(t.occurredAt == (try RFC3339.parse("2026-04-07T13:40:00Z")))
        #expect(t.data["resolved_at"] == .string(RFC3339.format(try RFC3339.parse("2026-04-09T19:05:00Z"))))

        let chg = ServiceNowImporter.map(try Fixture.payloads("servicenow-change.json"), context: ctx)
        #expect(chg.events.map(\.envelope.type) == ["ticket.submitted", "approval.recorded"])
        #expect(chg.events[0].envelope.data["purpose"] == .string("downtime_approval"))
        #expect(chg.events[0].envelope.actor == "tara-lead")
        let a = chg.events[1].envelope
        #expect(a.caseID == "PD-2026-0007")
        #expect(a.actor == "sean-good")
        #expect(a.data["approver"] == .string("sean-good"))
        #expect(a.data["decision"] == .string("approved"))
        #expect(a.occurredAt == (try RFC3339.parse("2026-03-04T21:10:00Z")))
        #expect(chg.unmapped.count == 2)
        #expect(chg.unmapped.contains { $0.reason.contains("nothing decided yet") })
        #expect(chg.unmapped.contains { $0.reason.contains("table problem is not imported") })
    }

    @Test("malformed inputs: bad JSON, wrong shapes, saved payloads with bad bodies")
    func malformed() throws {
        let ctx = try Fixture.context()
        for (text, expected) in [("{\"result\": 3}", "not a ServiceNow"), ("[1, 2]", "not a ServiceNow")] {
            let out = ServiceNowImporter.map(PayloadFile.read(Data(text.utf8)).payloads, context: ctx)
            #expect(out.events.isEmpty)
            #expect(out.unmapped.first?.reason.contains(expected) == true)
        }
        let saved = #"{"headers": {"X-PagerDuty-Signature": "v1=00"}, "body": "{not json"}"#
        let out = PagerDutyImporter.map(PayloadFile.read(Data(saved.utf8)).payloads, context: ctx)
        #expect(out.unmapped.first?.reason.contains("malformed JSON") == true)
        #expect(out.unmapped.first?.code == .unreadable)
        let bad = PayloadFile.read(Data(#"{"headers": {}, "body": 5}"#.utf8))
        #expect(bad.unreadable.first?.reason.contains("raw body as a string") == true)
        #expect(bad.unreadable.first?.code == .unreadable)
    }

    @Test("a mapped event the catalog refuses is reported with the catalog's message")
    func invalidEvent() throws {
        let body = #"{"event": {"id": "E1", "event_type": "incident.triggered", "occurred_at": "2026-04-07T13:20:00Z", "data": {"id": "Q1", "title": "  "}}}"#
        let ctx = ImportContext(defaultActor: "importer", caseOverride: Self.incident, defaultTeam: .userFacing)
        let out = PagerDutyImporter.map(PayloadFile.read(Data(body.utf8)).payloads, context: ctx)
        #expect(out.events.isEmpty)
        #expect(out.unmapped.map(\.description) == ["item 1 (E1): not a valid incident.opened event: data.summary: must not be empty"])
        #expect(out.unmapped.map(\.code) == [.invalidEvent])
    }

    @Test("labelled lines: bold, bullets, quotes and case ids")
    func labels() {
        let lines = Labels.lines("*Reason:* upgrade\n• Anticipated impact: 40,000 users\n> Rollback plan: restore\nno label here\nhttps://x")
        #expect(lines.map(\.label) == ["reason", "anticipated_impact", "rollback_plan"])
        #expect(lines[0].value == "upgrade")
        #expect(Labels.caseID(in: "see PD-2026-0007 for details") == "PD-2026-0007")
        #expect(Labels.caseID(in: "nothing") == nil)
    }
}

/// Every fixture through its importer, with and without the config: each
/// mapped event (type, case, time, actor, key, data, metadata) and each
/// unmapped reason, as JSON lines, must be exactly `Fixtures/mapped.golden`
/// (recorded from the importers when they built `data` by key, before they
/// built catalog payloads).
@Suite("Ingest: mapped output is byte-identical")
struct MappedGoldenTests {
    static let now = Date(timeIntervalSince1970: 1_775_000_000)

    static func lines() throws -> [String] {
        let known: [String: CaseKind] = [MappingTests.incident: .incident, "PD-2026-0007": .plannedDowntime]
        let configured = try Fixture.context(known: known, now: now)
        let bare = ImportContext(directories: try Fixture.directory(), defaultActor: "importer", caseOverride: MappingTests.incident,
                                 knownCases: known, now: now, defaultTeam: .userFacing, defaultPurpose: .update)
        let runs: [(String, ([RawPayload], ImportContext) -> ImportOutcome, [String])] = [
            ("pagerduty", PagerDutyImporter.map,
             ["pagerduty-incident.jsonl", "pagerduty-other.jsonl", "pagerduty-window.json", "pagerduty-windows.json"]),
            ("slack", SlackImporter.map, ["slack-incident.jsonl", "slack-other.jsonl"]),
            ("servicenow", ServiceNowImporter.map, ["servicenow-change.json", "servicenow-incident.json"]),
        ]
        var out: [String] = []
        for (importer, map, files) in runs {
            for file in files {
                for (label, context) in [("config", configured), ("bare", bare)] {
                    let result = map(PayloadFile.read(try Fixture.data(file)).payloads, context)
                    let head = "\(importer) \(file) \(label)"
                    for e in result.events {
                        let v = e.envelope
                        let line: JSONValue = .object([
                            "item": .int(Int64(e.item)), "type": .string(v.type), "case": .string(v.caseID),
                            "occurred_at": .string(RFC3339.format(v.occurredAt)), "actor": .string(v.actor),
                            "source": .string(v.source.rawValue), "key": v.key.map(JSONValue.string) ?? .null,
                            "data": v.data, "metadata": e.metadata,
                        ])
                        out.append("\(head) event \(line.jsonText())")
                    }
                    for u in result.unmapped { out.append("\(head) unmapped \(u)") }
                    for u in result.signatureFailures { out.append("\(head) signature \(u)") }
                }
            }
        }
        return out
    }

    @Test("every fixture, with the config and without")
    func golden() throws {
        let got = try Self.lines()
        let want = String(decoding: try Fixture.data("mapped.golden"), as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        #expect(got.count == want.count)
        for (g, w) in zip(got, want) { #expect(g == w) }
    }
}
