import Compliance
import Events
import Foundation
import Ingest
import Domain
import Ledger
import Reports
import Synchronization
import Testing

/// What `dtledger serve` needs of the importers (docs/importers.md, "Case
/// and purpose inference (dtledger serve)"): case and purpose inference with
/// lookups, deletions, refs. Without lookups nothing changes (MappingTests).
@Suite("Ingest: case and purpose inference for dtledger serve")
struct ServeMappingTests {
    static let channel = "C04DRS3L9NV"
    static let incident = "INC-2026-0142"
    static let other = "INC-2026-0150"
    static let downtime = "PD-2026-0007"
    static let declared = "CASE-2026-0003"
    static let known: [String: CaseKind] = [incident: .incident, other: .incident, downtime: .plannedDowntime,
                                            declared: CaseKind(rawValue: "vendor_outage_evaluation")!]
    static let tagged = "<!subteam^S0APIPLAT|@mhv-api-platform> <@U1000001>"
    static let template = "Summary: Medications list fails to load\nEstimated user impact: 1,500 users\nStart time: 08:55 ET"

    // MARK: Builders

    /// A Slack Events API message payload.
    static func slack(_ eventID: String, _ text: String, ts: String = "1775568900.000200", channel: String = channel,
                      threadTS: String? = nil, user: String = "U1000006") -> RawPayload {
        var event: [String: JSONValue] = ["type": "message", "channel": .string(channel), "user": .string(user),
                                          "text": .string(text), "ts": .string(ts), "event_ts": .string(ts)]
        if let threadTS { event["thread_ts"] = .string(threadTS) }
        return raw(["type": "event_callback", "event_id": .string(eventID), "event": .object(event)])
    }

    static func edit(_ eventID: String, originalTS: String, editTS: String, before: String, after: String,
                     channel: String = channel) -> RawPayload {
        raw(["type": "event_callback", "event_id": .string(eventID), "event": .object([
            "type": "message", "subtype": "message_changed", "channel": .string(channel), "ts": .string(editTS),
            "message": .object(["type": "message", "user": "U1000006", "text": .string(after), "ts": .string(originalTS),
                                "edited": .object(["user": "U1000006", "ts": .string(editTS)])]),
            "previous_message": .object(["type": "message", "user": "U1000006", "text": .string(before), "ts": .string(originalTS)]),
        ])])
    }

    static func deletion(_ eventID: String, deletedTS: String, at ts: String, text: String?, channel: String = channel) -> RawPayload {
        var event: [String: JSONValue] = ["type": "message", "subtype": "message_deleted", "hidden": .bool(true),
                                          "channel": .string(channel), "ts": .string(ts), "event_ts": .string(ts),
                                          "deleted_ts": .string(deletedTS)]
        if let text {
            event["previous_message"] = .object(["type": "message", "user": "U1000006", "text": .string(text), "ts": .string(deletedTS)])
        }
        return raw(["type": "event_callback", "event_id": .string(eventID), "event": .object(event)])
    }

    static func raw(_ o: [String: JSONValue], item: Int = 1) -> RawPayload {
        RawPayload(item: item, body: Data(JSONValue.object(o).jsonText().utf8))
    }

    /// Lookups from fixed answers. inferPurpose answers `update` with the
    /// time it was asked about as the rule, so tests can see the sent time.
    static func lookups(refs: [String: String] = [:], open: [String: CaseKind] = [:],
                        purpose: Bool = true) -> CaseLookups {
        CaseLookups(caseForRef: { refs[$0] }, openCases: { _ in open },
                    inferPurpose: { caseID, at in purpose ? (.update, "asked:\(caseID)@\(RFC3339.format(at))") : nil })
    }

    static func context(_ lookups: CaseLookups?, config edit: (inout IngestConfig) -> Void = { _ in },
                        caseOverride: String? = nil) throws -> ImportContext {
        var config = try Fixture.config()
        edit(&config)
        return ImportContext(config: config, directories: try Fixture.directory(), defaultActor: "dtledger-serve",
                             caseOverride: caseOverride, knownCases: known, lookups: lookups)
    }

    static func one(_ payload: RawPayload, _ context: ImportContext) throws -> ImportedEvent {
        let out = SlackImporter.map([payload], context: context)
        #expect(out.unmapped.isEmpty, "\(out.unmapped)")
        return try #require(out.events.first)
    }

    static func importMeta(_ e: ImportedEvent, _ key: String) -> JSONValue? { e.metadata["import"]?[key] }

    // MARK: Case inference

    @Test("A Case: line names the case (case_line), and the Purpose: line wins over inference")
    func caseLine() throws {
        let ctx = try Self.context(Self.lookups(refs: ["slack:\(Self.channel)/1775568000.000100": Self.other]))
        let e = try Self.one(Self.slack("Ev1", "\(Self.tagged)\nCase: \(Self.incident)\nPurpose: initial\n\(Self.template)",
                                        threadTS: "1775568000.000100"), ctx)
        #expect(e.envelope.caseID == Self.incident)
        #expect(Self.importMeta(e, "case_inferred_by") == .string("case_line"))
        #expect(e.envelope.data["purpose"] == .string("initial"))
        #expect(Self.importMeta(e, "purpose_inferred") == nil)
    }

    @Test("A thread reply takes the case of the thread's first message (thread); the purpose is inferred at the reply's time")
    func threadReply() throws {
        let parent = "1775568000.000100"
        let ctx = try Self.context(Self.lookups(refs: ["slack:\(Self.channel)/\(parent)": Self.incident]))
        let e = try Self.one(Self.slack("Ev2", "\(Self.tagged) still failing, cache purge under way",
                                        ts: "1775569000.000300", threadTS: parent), ctx)
        #expect(e.envelope.caseID == Self.incident)
        #expect(Self.importMeta(e, "case_inferred_by") == .string("thread"))
        #expect(e.envelope.data["purpose"] == .string("update"))
        let sent = RFC3339.format(Date(timeIntervalSince1970: 1775569000.0003))
        #expect(Self.importMeta(e, "purpose_inferred") == .string("asked:\(Self.incident)@\(sent)"))
        // No labelled lines: the message's text is its content.
        #expect(e.envelope.data["content"]?["message"] == .string("@mhv-api-platform @ana-po still failing, cache purge under way"))
    }

    @Test("A thread reply to an unknown parent waits (no_case), even in a channel with exactly one open case")
    func threadReplyUnknownParent() throws {
        let ctx = try Self.context(Self.lookups(open: [Self.incident: .incident])) { $0.slackOpenCase[Self.channel] = .incident }
        let out = SlackImporter.map([Self.slack("Ev3", "\(Self.tagged) any news?", ts: "1775569000.000300",
                                                threadTS: "1775568000.000100")], context: ctx)
        #expect(out.events.isEmpty)
        #expect(out.unmapped.map(\.code) == [.noCase])
        #expect(out.unmapped[0].code.waitsForResolution)
        // The same text as a top-level message takes the open case.
        let top = try Self.one(Self.slack("Ev3b", "\(Self.tagged) any news?", ts: "1775569000.000300"), ctx)
        #expect(top.envelope.caseID == Self.incident)
        #expect(Self.importMeta(top, "case_inferred_by") == .string("channel"))
    }

    @Test("A case id named in the text (case_id)")
    func caseIDInText() throws {
        let e = try Self.one(Self.slack("Ev4", "\(Self.tagged) *Incident \(Self.other)* the portal is slow"),
                             try Self.context(Self.lookups()))
        #expect(e.envelope.caseID == Self.other)
        #expect(Self.importMeta(e, "case_inferred_by") == .string("case_id"))
        // A case of a kind a policy declares (`dtledger case open` ids).
        let declared = try Self.one(Self.slack("Ev4b", "\(Self.tagged) about \(Self.declared): not our outage"),
                                    try Self.context(Self.lookups()))
        #expect(declared.envelope.caseID == Self.declared)
        #expect(Self.importMeta(declared, "case_inferred_by") == .string("case_id"))
    }

    @Test("PagerDuty incident numbers in the documented forms, and incident URLs, find the incident's case")
    func pagerDutyNumbers() throws {
        let refs = ["pagerduty:number:4211": Self.incident, "pagerduty:incident:Q2MEDS0142XYZ": Self.other,
                    "pagerduty:number:77": Self.other]
        let ctx = try Self.context(Self.lookups(refs: refs))
        for (i, text) in ["see PagerDuty #4211", "PagerDuty incident 4211 triggered", "pagerduty INCIDENT #4211",
                          "PD incident #4211", "pd incident 4211", "PD #4211.", "(incident #4211)", "Incident #4211: meds"].enumerated() {
            let e = try Self.one(Self.slack("EvN\(i)", "\(Self.tagged) \(text)"), ctx)
            #expect(e.envelope.caseID == Self.incident, "\(text)")
            #expect(Self.importMeta(e, "case_inferred_by") == .string("pagerduty_number"), "\(text)")
        }
        // Not numbers of an incident: a bare number, other words, longer tokens.
        for (i, text) in ["incident 4211", "PagerDuty 4211", "#4211", "PD-4211", "incident #4211x", "xincident #4211",
                          "PD incident #42110"].enumerated() {
            let out = SlackImporter.map([Self.slack("EvX\(i)", "\(Self.tagged) \(text)")], context: ctx)
            #expect(out.unmapped.map(\.code) == [.noCase], "\(text)")
        }
        // A linked incident URL (Slack shows the label; the URL is in the markup).
        let linked = try Self.one(Self.slack("EvU1", "\(Self.tagged) <https://example.pagerduty.com/incidents/Q2MEDS0142XYZ|the incident>"), ctx)
        #expect(linked.envelope.caseID == Self.other)
        #expect(Self.importMeta(linked, "case_inferred_by") == .string("pagerduty_number"))
        let bare = try Self.one(Self.slack("EvU2", "\(Self.tagged) https://example.pagerduty.com/incidents/Q2MEDS0142XYZ"), ctx)
        #expect(bare.envelope.caseID == Self.other)
        // Not PagerDuty's host: nothing.
        let out = SlackImporter.map([Self.slack("EvU3", "\(Self.tagged) <https://pagerduty.example.com/incidents/Q2MEDS0142XYZ>")], context: ctx)
        #expect(out.unmapped.map(\.code) == [.noCase])
        // An unknown number is skipped for a later known one.
        let second = try Self.one(Self.slack("EvU4", "\(Self.tagged) PD #999 was a dup of PD #77"), ctx)
        #expect(second.envelope.caseID == Self.other)
    }

    @Test("The config's cases by channel (config)")
    func configChannel() throws {
        let ctx = try Self.context(Self.lookups()) { $0.cases["C0DEDICATED"] = Self.other }
        let e = try Self.one(Self.slack("Ev5", "\(Self.tagged) status?", channel: "C0DEDICATED"), ctx)
        #expect(e.envelope.caseID == Self.other)
        #expect(Self.importMeta(e, "case_inferred_by") == .string("config"))
    }

    @Test("open_case: exactly one open case of the kind takes the message; two, none or another kind wait (no_case); any takes either kind")
    func openCase() throws {
        func run(_ rule: OpenCaseRule?, _ open: [String: CaseKind]) throws -> ImportOutcome {
            let ctx = try Self.context(Self.lookups(open: open)) { if let rule { $0.slackOpenCase[Self.channel] = rule } }
            return SlackImporter.map([Self.slack("Ev6", "\(Self.tagged) the portal is down again")], context: ctx)
        }
        #expect(try run(.incident, [Self.incident: .incident]).events.first?.envelope.caseID == Self.incident)
        #expect(try run(.incident, [Self.incident: .incident, Self.downtime: .plannedDowntime]).events.first?.envelope.caseID == Self.incident)
        #expect(try run(.incident, [Self.incident: .incident, Self.other: .incident]).unmapped.map(\.code) == [.noCase])
        #expect(try run(.incident, [:]).unmapped.map(\.code) == [.noCase])
        #expect(try run(.incident, [Self.downtime: .plannedDowntime]).unmapped.map(\.code) == [.noCase])
        #expect(try run(.plannedDowntime, [Self.incident: .incident, Self.downtime: .plannedDowntime]).events.first?.envelope.caseID == Self.downtime)
        #expect(try run(.any, [Self.downtime: .plannedDowntime]).events.first?.envelope.caseID == Self.downtime)
        #expect(try run(.any, [Self.incident: .incident, Self.downtime: .plannedDowntime]).unmapped.map(\.code) == [.noCase])
        // A channel without open_case never takes an open case.
        #expect(try run(nil, [Self.incident: .incident]).unmapped.map(\.code) == [.noCase])
    }

    @Test("Precedence: Case: line, thread, case id, PagerDuty number, config, open case; override beats all")
    func precedence() throws {
        let parent = "1775568000.000100"
        let refs = ["slack:\(Self.channel)/\(parent)": "INC-2026-0002", "pagerduty:number:4211": "INC-2026-0004"]
        let ctx = try Self.context(Self.lookups(refs: refs, open: ["INC-2026-0006": .incident])) {
            $0.cases[Self.channel] = "INC-2026-0005"
            $0.slackOpenCase[Self.channel] = .incident
        }
        func caseOf(_ text: String, thread: Bool = true, override: String? = nil) throws -> (String?, JSONValue?) {
            var c = ctx
            c.caseOverride = override
            c.knownCases = [:]  // opening checks aside: only the case matters here
            let out = SlackImporter.map([Self.slack("Ev7", text, ts: "1775569000.000300", threadTS: thread ? parent : nil)], context: c)
            if let u = out.unmapped.first, u.code != .caseNotOpened { Issue.record("\(u)") }
            // caseNotOpened reasons name the case they chose.
            if let u = out.unmapped.first { return (Labels.caseID(in: u.reason), nil) }
            return (out.events.first?.envelope.caseID, out.events.first.flatMap { Self.importMeta($0, "case_inferred_by") })
        }
        let all = "\(Self.tagged)\nCase: INC-2026-0001\nINC-2026-0003 PD #4211"
        #expect(try caseOf(all, override: "INC-2026-0009").0 == "INC-2026-0009")
        #expect(try caseOf(all).0 == "INC-2026-0001")
        #expect(try caseOf("\(Self.tagged) INC-2026-0003 PD #4211").0 == "INC-2026-0002")
        #expect(try caseOf("\(Self.tagged) INC-2026-0003 PD #4211", thread: false).0 == "INC-2026-0003")
        #expect(try caseOf("\(Self.tagged) PD #4211", thread: false).0 == "INC-2026-0004")
        #expect(try caseOf("\(Self.tagged) hello", thread: false).0 == "INC-2026-0005")
        var noConfig = ctx
        noConfig.config.cases = [:]
        noConfig.knownCases = ["INC-2026-0006": .incident]
        let e = try Self.one(Self.slack("Ev7b", "\(Self.tagged) hello"), noConfig)
        #expect(e.envelope.caseID == "INC-2026-0006")
        // With the override, the pipeline's own case wins and is recorded as such.
        var o = ctx
        o.caseOverride = Self.incident
        o.knownCases = Self.known
        #expect(Self.importMeta(try Self.one(Self.slack("Ev7c", "\(Self.tagged) hello"), o), "case_inferred_by") == .string("override"))
    }

    @Test("A thread_broadcast reply is a reply; an edit of an unknown reply takes its thread's case; a named case not in the ledger waits")
    func repliesAndUnopened() throws {
        let parent = "1775568000.000100"
        let ctx = try Self.context(Self.lookups(refs: ["slack:\(Self.channel)/\(parent)": Self.incident]))
        var broadcast = Self.slack("Ev20", "\(Self.tagged) also in channel", ts: "1775569000.000300", threadTS: parent)
        var o = try JSONValue.parse(broadcast.body)
        if case .object(var top) = o, case .object(var event)? = top["event"] {
            event["subtype"] = "thread_broadcast"
            top["event"] = .object(event)
            o = .object(top)
        }
        broadcast = RawPayload(item: 1, body: Data(o.jsonText().utf8))
        let b = try Self.one(broadcast, ctx)
        #expect(b.envelope.caseID == Self.incident)
        #expect(Self.importMeta(b, "case_inferred_by") == .string("thread"))
        // Without lookups thread_broadcast stays an unmapped subtype.
        var plain = ctx
        plain.lookups = nil
        #expect(SlackImporter.map([broadcast], context: plain).unmapped.first?.reason.contains("thread_broadcast is not imported") == true)
        // A message with a file is a message too.
        let file = RawPayload(item: 1, body: Data(String(decoding: broadcast.body, as: UTF8.self)
            .replacingOccurrences(of: "thread_broadcast", with: "file_share").utf8))
        #expect(try Self.one(file, ctx).envelope.caseID == Self.incident)
        #expect(SlackImporter.map([file], context: plain).unmapped.first?.reason.contains("file_share is not imported") == true)

        let editOfReply = RawPayload(item: 1, body: Data(JSONValue.object([
            "type": "event_callback", "event_id": "Ev21", "event": .object([
                "type": "message", "subtype": "message_changed", "channel": .string(Self.channel), "ts": "1775570000.000400",
                "message": .object(["user": "U1000006", "text": .string("\(Self.tagged) fixed typo"), "ts": "1775569000.000300",
                                    "thread_ts": .string(parent), "edited": .object(["user": "U1000006", "ts": "1775570000.000400"])]),
            ]),
        ]).jsonText().utf8))
        #expect(try Self.one(editOfReply, ctx).envelope.caseID == Self.incident)

        let unopened = SlackImporter.map([Self.slack("Ev22", "\(Self.tagged) Case: INC-2026-0999")], context: ctx)
        #expect(unopened.unmapped.map(\.code) == [.caseNotOpened])
        #expect(unopened.unmapped[0].code.waitsForResolution)
    }

    @Test("A message naming many PagerDuty incidents costs at most 10 lookups")
    func boundedLookups() throws {
        let asked = Counter()
        let lookups = CaseLookups(caseForRef: { ref in asked.add(); return ref == "pagerduty:number:11" ? Self.incident : nil },
                                  openCases: { _ in [:] }, inferPurpose: { _, _ in (.update, "x") })
        let many = (1...500).map { "PD #\($0)" }.joined(separator: " ")
        let out = SlackImporter.map([Self.slack("Ev23", "\(Self.tagged) \(many)")], context: try Self.context(lookups))
        #expect(out.unmapped.map(\.code) == [.noCase])  // #11 is past the first 10
        #expect(asked.value <= 10)
    }

    // MARK: Edits and deletions

    @Test("An edit keeps the case of the message it edits, and only a changed text is an edit")
    func editKeepsCase() throws {
        let original = "1775568900.000200"
        let ctx = try Self.context(Self.lookups(refs: ["slack:\(Self.channel)/\(original)": Self.other],
                                                open: [Self.incident: .incident])) { $0.slackOpenCase[Self.channel] = .incident }
        let e = try Self.one(Self.edit("Ev8", originalTS: original, editTS: "1775570000.000400",
                                       before: "\(Self.tagged) portal down", after: "\(Self.tagged) portal down (P2 now)"), ctx)
        #expect(e.envelope.caseID == Self.other)
        #expect(Self.importMeta(e, "case_inferred_by") == .string("thread"))
        #expect(e.envelope.data["edits"] == .string("https://example.slack.com/archives/\(Self.channel)/p1775568900000200"))
        #expect(e.envelope.occurredAt == Date(timeIntervalSince1970: 1775570000.0004))
        // An edit of a message the receiver never placed is not guessed into the open case.
        let unknown = SlackImporter.map([Self.edit("Ev8b", originalTS: "1775560000.000100", editTS: "1775570000.000400",
                                                   before: "\(Self.tagged) a", after: "\(Self.tagged) b")], context: ctx)
        #expect(unknown.unmapped.map(\.code) == [.noCase])
        // Slack's message_changed for an unfurl: the same text, not evidence.
        let unfurl = SlackImporter.map([Self.edit("Ev8c", originalTS: original, editTS: "1775570000.000400",
                                                  before: "\(Self.tagged) x", after: "\(Self.tagged) x")], context: ctx)
        #expect(unfurl.events.isEmpty)
        #expect(unfurl.unmapped.map(\.code) == [.notMapped])
        // Without lookups an unfurl maps as an edit, as before.
        var config = try Fixture.config()
        config.cases[Self.channel] = Self.incident
        let plain = ImportContext(config: config, directories: try Fixture.directory(), defaultActor: "x",
                                  knownCases: Self.known, defaultPurpose: .update)
        let same = "\(Self.tagged) x\n\(Self.template)"
        #expect(SlackImporter.map([Self.edit("Ev8d", originalTS: original, editTS: "1775570000.000400", before: same, after: same)],
                                  context: plain).events.count == 1)
    }

    @Test("A deletion becomes a note in the deleted message's case; the notification stays evidence")
    func deletion() throws {
        let deleted = "1775568900.000200"
        let ctx = try Self.context(Self.lookups(refs: ["slack:\(Self.channel)/\(deleted)": Self.incident]))
        let message = Self.slack("Ev9a", "\(Self.tagged) portal down\nCase: \(Self.incident)", ts: deleted)
        let sent = try Self.one(message, ctx)
        let out = SlackImporter.map([message,
                                     Self.deletion("Ev9b", deletedTS: deleted, at: "1775571000.000500", text: "\(Self.tagged) portal down")],
                                    context: ctx)
        #expect(out.unmapped.isEmpty, "\(out.unmapped)")
        #expect(out.events.map(\.envelope.type) == ["notification.sent", "note.added"])
        #expect(out.events[0] == sent)
        let note = out.events[1]
        let permalink = "https://example.slack.com/archives/\(Self.channel)/p1775568900000200"
        #expect(note.envelope.caseID == Self.incident)
        #expect(note.envelope.key == "slack/Ev9b")
        #expect(note.envelope.actor == "dtledger-serve")
        #expect(note.envelope.occurredAt == Date(timeIntervalSince1970: 1775571000.0005))
        let text = try #require(note.envelope.data["text"]?.stringValue)
        #expect(text.hasPrefix("Slack message \(permalink) was deleted in Slack at \(RFC3339.format(note.envelope.occurredAt))"))
        #expect(text.hasSuffix("@mhv-api-platform @ana-po portal down"))
        #expect(Self.importMeta(note, "deleted_message_ref") == .string(permalink))
        #expect(Self.importMeta(note, "source_actor") == .string("U1000006"))

        // A deleted message nobody placed: waits when it tagged someone, ignored when it was chatter.
        let unknown = SlackImporter.map([Self.deletion("Ev9c", deletedTS: "1775560000.000100", at: "1775571000.000500", text: "\(Self.tagged) hi"),
                                         Self.deletion("Ev9d", deletedTS: "1775560000.000200", at: "1775571000.000500", text: "lunch?"),
                                         Self.deletion("Ev9e", deletedTS: "1775560000.000300", at: "1775571000.000500", text: nil)],
                                        context: try Self.context(Self.lookups()))
        #expect(unknown.unmapped.map(\.code) == [.noCase, .notMapped, .notMapped])
        // Without lookups: skipped as before.
        var plain = ctx
        plain.lookups = nil
        let skipped = SlackImporter.map([Self.deletion("Ev9b", deletedTS: deleted, at: "1775571000.000500", text: "x")], context: plain)
        #expect(skipped.events.isEmpty)
        #expect(skipped.unmapped.map(\.reason) == ["message subtype message_deleted is not imported (only new messages and message_changed)"])
    }

    // MARK: Purpose and content

    @Test("No Purpose: line: the inferred purpose and its rule are recorded; a bad Purpose: line is inferred too and kept")
    func inferredPurpose() throws {
        let ctx = try Self.context(Self.lookups())
        let e = try Self.one(Self.slack("Ev10", "\(Self.tagged)\nCase: \(Self.incident)\n\(Self.template)"), ctx)
        #expect(e.envelope.data["purpose"] == .string("update"))
        #expect(Self.importMeta(e, "purpose_inferred")?.stringValue?.hasPrefix("asked:\(Self.incident)@") == true)
        #expect(e.envelope.data["content"]?["summary"] == .string("Medications list fails to load"))
        #expect(e.envelope.data["content"]?["message"] == nil)
        let bad = try Self.one(Self.slack("Ev11", "\(Self.tagged)\nCase: \(Self.incident)\nPurpose: kickoff\n\(Self.template)"), ctx)
        #expect(bad.envelope.data["purpose"] == .string("update"))
        #expect(Self.importMeta(bad, "purpose_line") == .string("kickoff"))
        // The case not open when it was sent: the message came first.
        let early = try Self.one(Self.slack("Ev12", "\(Self.tagged) Case: \(Self.downtime)"), try Self.context(Self.lookups(purpose: false)))
        #expect(early.envelope.data["purpose"] == .string("planning"))
        #expect(Self.importMeta(early, "purpose_inferred") == .string("before_case_opened"))
        let earlyIncident = try Self.one(Self.slack("Ev13", "\(Self.tagged) Case: \(Self.incident)"), try Self.context(Self.lookups(purpose: false)))
        #expect(earlyIncident.envelope.data["purpose"] == .string("initial"))
    }

    @Test("A message tagging nobody is not evidence (not_mapped), with or without labelled lines")
    func tagsNobody() throws {
        let ctx = try Self.context(Self.lookups(open: [Self.incident: .incident])) { $0.slackOpenCase[Self.channel] = .incident }
        let out = SlackImporter.map([Self.slack("Ev14", "anyone up for lunch?"),
                                     Self.slack("Ev15", "Case: \(Self.incident)\n\(Self.template)")], context: ctx)
        #expect(out.events.isEmpty)
        #expect(out.unmapped.map(\.code) == [.notMapped, .notMapped])
        #expect(out.unmapped.allSatisfy { $0.reason.contains("tags nobody") && !$0.code.waitsForResolution })
        let waiting: [Unmapped.Code] = [.noCase, .caseNotOpened, .needsConfig, .invalidEvent, .unreadable, .signature,
                                        Unmapped.Code(rawValue: "a_new_importers_code")]
        #expect(waiting.allSatisfy { $0.waitsForResolution })
    }

    @Test("Without lookups nothing is inferred: the same messages are skipped as before")
    func withoutLookups() throws {
        let parent = "1775568000.000100"
        let ctx = try Self.context(nil) { $0.slackOpenCase[Self.channel] = .incident }
        let out = SlackImporter.map([Self.slack("Ev16", "\(Self.tagged) still failing", ts: "1775569000.000300", threadTS: parent),
                                     Self.slack("Ev17", "\(Self.tagged)\nCase: \(Self.incident)\n\(Self.template)"),
                                     Self.slack("Ev18", "\(Self.tagged) \(Self.other) PD #4211\nSummary: x")], context: ctx)
        #expect(out.events.isEmpty)
        #expect(out.unmapped.map(\.reason) == [
            "no labelled content lines (Summary:, Impact:, ...): not a notification of the template",
            "no Purpose: line and no --purpose", "no Purpose: line and no --purpose",
        ])
    }

    // MARK: PagerDuty and ServiceNow

    /// The fixture incident with no config mapping of its id to a case.
    static func pagerDutyContext(_ lookups: CaseLookups?, caseOverride: String? = nil) throws -> ImportContext {
        try context(lookups, config: { $0.cases = [:] }, caseOverride: caseOverride)
    }

    @Test("PagerDuty: later events of an incident find its case by incident id; a new triggered waits until caseOverride places it")
    func pagerDutyLookups() throws {
        let payloads = try Fixture.payloads("pagerduty-incident.jsonl")
        let refs = ["pagerduty:incident:Q2MEDS0142XYZ": Self.incident]
        // The trigger of a new incident: no case yet.
        let first = PagerDutyImporter.map([payloads[0]], context: try Self.pagerDutyContext(Self.lookups()))
        #expect(first.events.isEmpty)
        #expect(first.unmapped.map(\.code) == [.noCase])
        // The receiver allocates a case and maps the same payload again.
        let placed = PagerDutyImporter.map([payloads[0]], context: try Self.pagerDutyContext(Self.lookups(), caseOverride: "INC-2026-0777"))
        #expect(placed.unmapped.isEmpty, "\(placed.unmapped)")
        #expect(placed.events.map(\.envelope.type) == ["incident.opened"])
        #expect(placed.events[0].envelope.caseID == "INC-2026-0777")
        // Every later event finds the case through the incident's ref.
        let rest = PagerDutyImporter.map(Array(payloads.dropFirst()), context: try Self.pagerDutyContext(Self.lookups(refs: refs)))
        #expect(rest.unmapped.isEmpty, "\(rest.unmapped)")
        #expect(rest.events.count == payloads.count - 1)
        #expect(rest.events.allSatisfy { $0.envelope.caseID == Self.incident })
        #expect(rest.events.allSatisfy { $0.metadata["import"]?["case_inferred_by"] == .string("pagerduty_incident") })
        // Without lookups they have no case, as before.
        let none = PagerDutyImporter.map(Array(payloads.dropFirst()), context: try Self.pagerDutyContext(nil))
        #expect(none.unmapped.allSatisfy { $0.code == .noCase })
    }

    @Test("PagerDuty with lookups: a skip the config would fix is needs_config, and waits")
    func pagerDutyNeedsConfig() throws {
        let read = PayloadFile.read(try Fixture.data("pagerduty-other.jsonl"))
        let with = PagerDutyImporter.map(read.payloads, context: try Self.context(Self.lookups()))
        let codes = Dictionary(with.unmapped.map { ($0.reason, $0.code) }, uniquingKeysWith: { a, _ in a })
        #expect(codes.first { $0.key.contains("no team for service PUNKNOWN") }?.value == .needsConfig)
        #expect(codes.first { $0.key.contains("'SEV-9' is not P1..P4") }?.value == .needsConfig)
        #expect(codes.first { $0.key.contains("incident.delegated is not imported") }?.value == .notMapped)
        #expect(Unmapped.Code.needsConfig.waitsForResolution)
    }

    @Test("ServiceNow: an approval finds the case its ticket was mapped to, by number or sys_id")
    func serviceNowApproval() throws {
        let approval: JSONValue = .object(["result": .array([.object([
            "sys_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "sys_class_name": "sysapproval_approver", "state": "approved",
            "approver": .object(["value": "U04JDKU8ZM5", "display_value": "Sean Good"]),
            "sysapproval": .object(["value": "a9e30c7dc61122760116894de7bcc7bd", "display_value": "CHG0099999"]),
            "sys_updated_on": "2026-03-05 15:00:00",
        ])])])
        let body = RawPayload(item: 1, body: Data(approval.jsonText().utf8))
        let ctx = try Self.context(Self.lookups(refs: ["servicenow:a9e30c7dc61122760116894de7bcc7bd": Self.downtime]))
        let out = ServiceNowImporter.map([body], context: ctx)
        #expect(out.unmapped.isEmpty, "\(out.unmapped)")
        #expect(out.events.first?.envelope.caseID == Self.downtime)
        #expect(out.events.first?.envelope.data["approver"] == .string("sean-good"))
        #expect(out.events.first?.metadata["import"]?["case_inferred_by"] == .string("servicenow_ticket"))
        #expect(ServiceNowImporter.map([body], context: try Self.context(nil)).unmapped.map(\.code) == [.noCase])
    }

    // MARK: Refs

    @Test("Refs and delivery ids of each source; unreadable bodies give none")
    func refs() throws {
        let message = Self.slack("EvR1", "hi", ts: "1775568900.000200", threadTS: "1775568000.000100")
        #expect(Refs.of(source: .slack, body: message.body) == ["slack:\(Self.channel)/1775568900.000200"])
        #expect(Refs.deliveryID(source: .slack, body: message.body) == "EvR1")
        let edit = Self.edit("EvR2", originalTS: "1775568900.000200", editTS: "1775570000.000400", before: "a", after: "b")
        #expect(Refs.of(source: .slack, body: edit.body) == ["slack:\(Self.channel)/1775568900.000200"])
        let del = Self.deletion("EvR3", deletedTS: "1775568900.000200", at: "1775571000.000500", text: nil)
        #expect(Refs.of(source: .slack, body: del.body) == ["slack:\(Self.channel)/1775568900.000200"])
        let verification = Data(#"{"type": "url_verification", "challenge": "abc"}"#.utf8)
        #expect(Refs.of(source: .slack, body: verification) == [])
        #expect(Refs.deliveryID(source: .slack, body: verification) == nil)

        let pd = try Fixture.payloads("pagerduty-incident.jsonl")
        #expect(Refs.of(source: .pagerduty, body: pd[0].body) == ["pagerduty:incident:Q2MEDS0142XYZ", "pagerduty:number:4211"])
        #expect(Refs.deliveryID(source: .pagerduty, body: pd[0].body) == "01DEN1Q8YJ0F6KQ3Q9X1T0AAAA")
        let annotated: JSONValue = .object(["event": .object([
            "id": "E1", "event_type": "incident.annotated",
            "data": .object(["type": "incident_note", "content": "x", "incident": .object(["id": "QABC", "type": "incident_reference"])]),
        ])])
        #expect(Refs.of(source: .pagerduty, body: Data(annotated.jsonText().utf8)) == ["pagerduty:incident:QABC"])

        let sn = try Fixture.data("servicenow-change.json")
        let snRefs = Refs.of(source: .servicenow, body: sn)
        #expect(snRefs.contains("servicenow:CHG0031337"))
        #expect(snRefs.contains("servicenow:a9e30c7dc61122760116894de7bcc7bd"))
        let one = Data(#"{"sys_id": "abc", "number": "CHG1", "sys_mod_count": 3}"#.utf8)
        #expect(Refs.deliveryID(source: .servicenow, body: one) == "abc/3")
        let updated = Data(#"{"sys_id": "abc", "sys_updated_on": "2026-03-05 15:00:00", "sys_mod_count": "3"}"#.utf8)
        #expect(Refs.deliveryID(source: .servicenow, body: updated) == "abc/2026-03-05 15:00:00")
        #expect(Refs.deliveryID(source: .servicenow, body: Data(#"{"sys_id": "abc"}"#.utf8)) == nil)

        for garbage in [Data(), Data("not json".utf8), Data("[1,2]".utf8), Data(#"{"event": 5}"#.utf8), Data([0xFF, 0xFE])] {
            for source in EventSource.allCases {
                #expect(Refs.of(source: source, body: garbage) == [])
                #expect(Refs.deliveryID(source: source, body: garbage) == nil)
            }
        }
    }

    // MARK: Config

    @Test("slack.open_case parses; a bad value is a clear error naming the channel")
    func openCaseConfig() throws {
        let c = try IngestConfig.parse("slack:\n  open_case: {C123: incident, C456: planned_downtime, C789: any}\n")
        #expect(c.slackOpenCase == ["C123": .incident, "C456": .plannedDowntime, "C789": .any])
        #expect(try IngestConfig.parse("slack: {}\n").slackOpenCase.isEmpty)
        #expect(throws: ValidationError(field: "slack.open_case.C123", "'incidents' is not one of incident, planned_downtime, any")) {
            try IngestConfig.parse("slack:\n  open_case: {C123: incidents}\n")
        }
        #expect(throws: ValidationError(field: "slack.open_case.C123", "expected text, got an array")) {
            try IngestConfig.parse("slack:\n  open_case: {C123: [incident]}\n")
        }
        #expect(throws: ValidationError(field: "slack.open_case", "expected a mapping")) {
            try IngestConfig.parse("slack:\n  open_case: incident\n")
        }
    }

    // MARK: The timeline shows inferred purposes

    @Test("The timeline marks a notification whose purpose was inferred, in every format")
    func timelineMarksInferred() throws {
        let opened = IncidentOpened(team: .userFacing, summary: "Medications list fails to load",
                                    estimatedUserImpact: Impact(services: ["medications"]),
                                    startedAt: Date(timeIntervalSince1970: 1775568000))
        let ctx = try Self.context(Self.lookups())
        let out = SlackImporter.map([Self.slack("EvT1", "\(Self.tagged)\nCase: \(Self.incident)\n\(Self.template)", ts: "1775568900.000200"),
                                     Self.slack("EvT2", "\(Self.tagged)\nCase: \(Self.incident)\nPurpose: update\n\(Self.template)", ts: "1775569900.000200")],
                                    context: ctx)
        #expect(out.events.count == 2)
        var events = [RecordedEvent(id: "ev-0", position: 1, caseID: Self.incident, version: 1, type: "incident.opened",
                                    occurredAt: Date(timeIntervalSince1970: 1775568100), recordedAt: Date(timeIntervalSince1970: 1775568100),
                                    actor: "max-eng", source: "pagerduty", key: "k0", data: opened.json)]
        for (i, e) in out.events.enumerated() {
            events.append(RecordedEvent(id: "ev-\(i + 1)", position: Int64(i + 2), caseID: Self.incident, version: Int64(i + 2),
                                        type: e.envelope.type, occurredAt: e.envelope.occurredAt, recordedAt: e.envelope.occurredAt,
                                        actor: e.envelope.actor, source: "slack", key: e.envelope.key, data: e.envelope.data,
                                        metadata: e.metadata))
        }
        let directories = try Fixture.directory()
        let evaluation = evaluate(caseID: Self.incident, events: events, policy: Policy.defaultPolicy(), policyVersion: "1",
                                  directories: directories, asOf: Date(timeIntervalSince1970: 1775580000))
        let report = CaseReport(evaluation: evaluation, events: events, digest: Digest(position: 3, hash: "00", recordedAt: "x"),
                                policyTimeZone: TimeZone(identifier: "America/New_York")!)
        let review = Review.build(report: report, directories: directories)
        let marker = "(purpose inferred: asked:\(Self.incident)@\(RFC3339.format(out.events[0].envelope.occurredAt)))"
        for format in [TimelineFormat.table, .markdown] {
            let text = TimelineRenderer.render(review, as: format)
            #expect(text.contains("purpose inferred: asked:"), "\(format)")
            #expect(text.components(separatedBy: "purpose inferred").count == 2, "only the inferred one: \(format)")
        }
        #expect(TimelineRenderer.markdown(review).contains(marker))
        // The review report's timeline too (Markdown and HTML).
        #expect(ReviewRenderer.markdown(review).contains(marker))
        #expect(ReviewRenderer.html(review).contains("purpose inferred: asked:"))
        let json = try JSONValue.parse(Data(TimelineRenderer.render(review, as: .json).utf8))
        let entries = try #require(json["entries"]?.arrayValue)
        #expect(entries.first { $0["event_id"] == .string("ev-1") }?["purpose_inferred"]?.stringValue?.hasPrefix("asked:") == true)
        #expect(entries.first { $0["event_id"] == .string("ev-2") }?["purpose_inferred"] == nil)
    }
}

/// Counts calls from @Sendable closures.
final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

extension JSONValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}
