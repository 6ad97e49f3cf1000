import Events
import Foundation
import Ingest
import Testing
import TestSupport

/// Slack as the Events API sends it, over HTTP: a first message naming the
/// case, replies in its thread, an edit, a deletion, a message no case
/// claims, and a channel whose one open case takes its messages.
@Suite("dtledger serve: Slack messages, threads, edits and deletions (PostgreSQL, HTTP on loopback)")
struct SlackFlowTests {
    static let importYAML = """
        slack:
          workspace_url: https://example.slack.com
          channels: {C0COORD: "#mhv-health-portal-coordination", C0OPEN: "#mhv-open"}
          open_case: {C0OPEN: incident}
        """

    /// Opens an incident typed by the owner (runbook), at `at`.
    static func open(_ h: ServeHarness, _ caseID: String, at: Date) throws {
        let r = try CLI.run(["incident", "open", "--case", caseID, "--at", RFC3339.format(at), "--actor", "max-eng",
                             "--team", "user-facing", "--summary", "Medications list fails to load", "--services", "medications",
                             "--started-at", RFC3339.format(at)], database: h.db.url)
        #expect(r.status == 0, "\(r.stderr)")
    }

    static func ts(_ d: Date) -> String { String(format: "%.6f", d.timeIntervalSince1970) }

    static func changed(eventID: String, channel: String, originalTS: String, text: String, editTS: String, user: String) -> Data {
        SlackBody.wrap(eventID: eventID, event: .object([
            "type": .string("message"), "subtype": .string("message_changed"), "hidden": .bool(true), "channel": .string(channel),
            "ts": .string(editTS), "event_ts": .string(editTS),
            "message": .object(["type": .string("message"), "user": .string(user), "text": .string(text), "ts": .string(originalTS),
                                "edited": .object(["user": .string(user), "ts": .string(editTS)])]),
            "previous_message": .object(["type": .string("message"), "user": .string(user), "text": .string("old"), "ts": .string(originalTS)]),
        ]), time: editTS)
    }

    static func deleted(eventID: String, channel: String, deletedTS: String, at: String, previousText: String, user: String) -> Data {
        SlackBody.wrap(eventID: eventID, event: .object([
            "type": .string("message"), "subtype": .string("message_deleted"), "hidden": .bool(true), "channel": .string(channel),
            "ts": .string(at), "event_ts": .string(at), "deleted_ts": .string(deletedTS),
            "previous_message": .object(["type": .string("message"), "user": .string(user), "text": .string(previousText), "ts": .string(deletedTS)]),
        ]), time: at)
    }

    @Test("a thread's replies, an edit and a deletion land in the first message's case; the deleted message stays evidence")
    func threadEditDelete() async throws {
        let h = try await ServeHarness.start(configYAML: ServeHarness.config(importYAML: Self.importYAML))
        do {
            let t0 = Date().addingTimeInterval(-3600)
            try Self.open(h, "INC-2026-0500", at: t0)
            let firstTS = Self.ts(t0.addingTimeInterval(300))
            let first = "INC-2026-0500: new incident\nSummary: Medications list fails to load\nEstimated user impact: about 1,000 users\nStart time: 09:00 ET\n<!subteam^S0APIPLAT>"
            #expect(try await h.slack(SlackBody.message(eventID: "EvA", text: first, ts: firstTS)).status == 200)
            let replyTS = Self.ts(t0.addingTimeInterval(900))
            let reply = "Update: rollback started\nSummary: Medications list fails to load\n<@U1000001> <@U1000002>"
            #expect(try await h.slack(SlackBody.message(eventID: "EvB", user: "U1000008", text: reply, ts: replyTS, threadTS: firstTS)).status == 200)
            let editTS = Self.ts(t0.addingTimeInterval(960))
            #expect(try await h.slack(Self.changed(eventID: "EvC", channel: "C0COORD", originalTS: firstTS,
                                                   text: first + "\nPriority: P2", editTS: editTS, user: "U1000009")).status == 200)
            let deleteTS = Self.ts(t0.addingTimeInterval(1200))
            #expect(try await h.slack(Self.deleted(eventID: "EvD", channel: "C0COORD", deletedTS: replyTS, at: deleteTS,
                                                   previousText: reply, user: "U1000008")).status == 200)
            try await h.settled()
            let events = try h.caseEvents().filter { $0.caseID == "INC-2026-0500" }
            #expect(events.map(\.type) == ["incident.opened", "notification.sent", "notification.sent", "notification.sent", "note.added"])
            let meta = try events.map { try JSONValue.parse($0.metadataText)["import"] ?? .null }
            #expect(meta[1]["case_inferred_by"]?.stringValue == "case_id")
            #expect(meta[2]["case_inferred_by"]?.stringValue == "thread")
            #expect(meta[1]["purpose_inferred"] != nil, "no Purpose: line: inferred")
            let edit = try JSONValue.parse(events[3].dataText)
            #expect(edit["edits"]?.stringValue?.contains("p\(firstTS.replacingOccurrences(of: ".", with: ""))") == true)
            let note = try JSONValue.parse(events[4].dataText)["text"]?.stringValue ?? ""
            #expect(note.contains("was deleted in Slack"))
            #expect(note.contains("rollback started"), "the ledger keeps what Slack deleted")
            // Every mapped event keeps its raw signed body, covered by its hash.
            for m in meta.dropFirst() { #expect(m["signature"]?["payload_kept"] == .bool(true)) }
            #expect(try CLI.run(["verify", "--signatures", "--secret-env", "TEST_SLACK_SECRET"], database: h.db.url,
                                environment: ["TEST_SLACK_SECRET": ServeHarness.slackSecret]).status == 0)
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }

    @Test("no case: the message waits in the inbox with its reason; a channel's only open case takes its messages, two open cases don't")
    func inboxAndOpenCase() async throws {
        let h = try await ServeHarness.start(configYAML: ServeHarness.config(importYAML: Self.importYAML))
        do {
            let t0 = Date().addingTimeInterval(-3600)
            let text = "Summary: something is slow\n<!subteam^S0APIPLAT>"
            let lost = try await h.slack(SlackBody.message(eventID: "EvX", channel: "C0COORD", text: text, ts: Self.ts(t0)))
            #expect(lost.status == 200)
            try await h.open(caseID: "INC-2026-0600", at: t0.addingTimeInterval(-60))
            let taken = try await h.slack(SlackBody.message(eventID: "EvY", channel: "C0OPEN", text: text, ts: Self.ts(t0.addingTimeInterval(60))))
            try await h.settled()
            let lostID = try #require(lost.json?["receipt"]?.intValue)
            #expect(try h.outcome(lostID)?.outcome == "inbox")
            #expect(try h.outcome(lostID)?.code == "no_case")
            let takenID = try #require(taken.json?["receipt"]?.intValue)
            #expect(try h.outcome(takenID)?.caseID == "INC-2026-0600")

            try await h.open(caseID: "INC-2026-0601", at: t0.addingTimeInterval(-30))
            let ambiguous = try await h.slack(SlackBody.message(eventID: "EvZ", channel: "C0OPEN", text: text, ts: Self.ts(t0.addingTimeInterval(120))))
            try await h.settled()
            let ambiguousID = try #require(ambiguous.json?["receipt"]?.intValue)
            #expect(try h.outcome(ambiguousID)?.outcome == "inbox", "two open incidents: a person decides")

            let chat = try await h.slack(SlackBody.message(eventID: "EvW", channel: "C0COORD", text: "lunch?", ts: Self.ts(t0.addingTimeInterval(130))))
            try await h.settled()
            #expect(try h.outcome(try #require(chat.json?["receipt"]?.intValue))?.outcome == "ignored", "tags nobody: not evidence")
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }
}

extension ServeHarness {
    func open(caseID: String, at: Date) async throws {
        try SlackFlowTests.open(self, caseID, at: at)
    }
}
