import Events
import Foundation
import Ledger
import Postgres
import Testing
import TestSupport

/// `dtledger import email` threads across imports, as a writer-only login,
/// through dtledger.email_thread_cases (Migrations/functions/0014_email_thread_cases.sql).
@Suite("CLI: import email threads across imports")
struct EmailThreadCLITests {
    static let inc = "INC-2026-0142"

    static func message(id: String, subject: String, inReplyTo: String? = nil, minute: Int) -> String {
        """
        From: Lou Grant <lou.grant@example.org>
        To: ana.ortiz@example.org
        Subject: \(subject)
        Date: Tue, 07 Apr 2026 18:\(String(format: "%02d", minute)):00 -0400
        \(inReplyTo.map { "In-Reply-To: <\($0)>\nReferences: <\($0)>\n" } ?? "")Message-ID: <\(id)>

        Purpose: update
        Summary: Medications list fails to load on VA.gov
        Status: investigating
        """
    }

    /// A ledger with the sample scenarios and a writer-only login (dropped by the caller).
    static func ledger() throws -> (TestDatabase, Connection, String) {
        let db = try TestDatabase.withSampleDirectory()
        _ = try db.session().appendFile(CLI.scenarios.appendingPathComponent("incident-user-facing-escalated.jsonl").path, actor: nil, source: .cli)
        let owner = try db.connect()
        let login = "dtl_writer_\(UInt32.random(in: 0...UInt32.max))"
        try owner.execute("CREATE ROLE \(login) LOGIN IN ROLE dtledger_writer")
        return (db, owner, login)
    }

    static func write(_ text: String, _ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).eml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test("a reply imported later, as a writer, finds the case of the message it answers in the ledger (thread_case_from in_reply_to)")
    func replyAcrossImports() throws {
        let (db, owner, login) = try Self.ledger()
        defer { _ = try? owner.execute("DROP OWNED BY \(login); DROP ROLE IF EXISTS \(login)") }
        let parent = try Self.write(Self.message(id: "parent@example.org", subject: "INC-2026-0142 update", minute: 30), "parent")
        let reply = try Self.write(Self.message(id: "reply@example.org", subject: "Re: update", inReplyTo: "parent@example.org", minute: 45), "reply")
        defer { try? FileManager.default.removeItem(at: parent); try? FileManager.default.removeItem(at: reply) }
        let first = try CLI.run(["import", "email", parent.path, "--no-dns", "--actor", "lou-em"], database: db.url(login: login))
        #expect(first.status == 0, "\(first.stderr)")
        let second = try CLI.run(["import", "email", reply.path, "--no-dns", "--actor", "lou-em", "--json"], database: db.url(login: login))
        #expect(second.status == 0, "\(second.stderr)")
        let lines = second.stdout.split(separator: "\n").compactMap { try? JSONValue.parse(Data($0.utf8)) }
        let event = try #require(lines.first { $0["key"] == .string("email/reply@example.org") }, "\(second.stdout)")
        #expect(event["case"] == .string(Self.inc))
        #expect(event["metadata"]?["import"]?["thread_case_from"] == .string("in_reply_to"))
        #expect(event["metadata"]?["import"]?["thread_parent"] == .string("parent@example.org"))
        #expect(lines.last?["appended"] == .int(1))
        // A reply to a message the ledger does not have: skipped, no case.
        let orphan = try Self.write(Self.message(id: "orphan@example.org", subject: "Re: what", inReplyTo: "nowhere@example.org", minute: 50), "orphan")
        defer { try? FileManager.default.removeItem(at: orphan) }
        let third = try CLI.run(["import", "email", orphan.path, "--no-dns", "--actor", "lou-em"], database: db.url(login: login))
        #expect(third.status == 0, "\(third.stderr)")
        #expect(third.stderr.contains("(orphan@example.org): no case"), "\(third.stderr)")
    }

    @Test("attacker (writer): a notification typed first, into another case, with the real message's Message-ID does not take its thread's replies: the imported message is the parent")
    func typedRefCannotHijack() throws {
        let (db, owner, login) = try Self.ledger()
        defer { _ = try? owner.execute("DROP OWNED BY \(login); DROP ROLE IF EXISTS \(login)") }
        let other = "INC-2026-0777"
        let open = try CLI.run(["incident", "open", "--case", other, "--at", "2026-04-07T10:00:00-04:00", "--actor", "max-eng",
                                "--team", "user-facing", "--summary", "Another incident", "--services", "medications",
                                "--started-at", "2026-04-07T10:00:00-04:00"], database: db.url(login: login))
        #expect(open.status == 0, "\(open.stderr)")
        let typed = try CLI.run(["notify", "email", "--case", other, "--destination", "ana.ortiz@example.org", "--audience", "ana.ortiz@example.org",
                                 "--purpose", "update", "--content", "summary=s", "--message-ref", "real-parent@example.org",
                                 "--at", "2026-04-07T18:00:00-04:00", "--actor", "lou-em"], database: db.url(login: login))
        #expect(typed.status == 0, "\(typed.stderr)")
        let parent = try Self.write(Self.message(id: "real-parent@example.org", subject: "INC-2026-0142 update", minute: 30), "parent")
        let reply = try Self.write(Self.message(id: "real-reply@example.org", subject: "Re: update", inReplyTo: "real-parent@example.org", minute: 45), "reply")
        defer { try? FileManager.default.removeItem(at: parent); try? FileManager.default.removeItem(at: reply) }
        #expect(try CLI.run(["import", "email", parent.path, "--no-dns", "--actor", "lou-em"], database: db.url(login: login)).status == 0)
        let second = try CLI.run(["import", "email", reply.path, "--no-dns", "--actor", "lou-em", "--json"], database: db.url(login: login))
        #expect(second.status == 0, "\(second.stderr)")
        let lines = second.stdout.split(separator: "\n").compactMap { try? JSONValue.parse(Data($0.utf8)) }
        let event = try #require(lines.first { $0["key"] == .string("email/real-reply@example.org") }, "\(second.stdout)")
        #expect(event["case"] == .string(Self.inc), "the imported parent's case, not the typed one's")
    }

    @Test("attacker (writer): no SELECT on events; email_thread_cases gives only the case of the email ids asked, exactly; the reader cannot call it")
    func writerCannotRead() throws {
        let (db, owner, login) = try Self.ledger()
        defer { _ = try? owner.execute("DROP OWNED BY \(login); DROP ROLE IF EXISTS \(login)") }
        let parent = try Self.write(Self.message(id: "secret-thread@example.org", subject: "INC-2026-0142 update", minute: 30), "parent")
        defer { try? FileManager.default.removeItem(at: parent) }
        let imported = try CLI.run(["import", "email", parent.path, "--no-dns", "--actor", "lou-em"], database: db.url)
        #expect(imported.status == 0, "\(imported.stderr)")

        let writer = try Connection(conninfo: db.url(login: login))
        #expect(throws: (any Error).self) { _ = try writer.query("SELECT data FROM dtledger.events LIMIT 1") }
        let hit = try writer.query("SELECT * FROM dtledger.email_thread_cases($1::text[])", ["{secret-thread@example.org}"])
        #expect(hit.rows.map { [$0[0], $0[1]] } == [["secret-thread@example.org", Self.inc]])
        #expect(hit.columnCount == 2)
        // Patterns, near misses and other channels' refs find nothing.
        for probe in ["{%}", "{secret-thread@example.org%}", "{SECRET-THREAD@EXAMPLE.ORG}", "{secret-thread}", "{}"] {
            #expect(try writer.query("SELECT * FROM dtledger.email_thread_cases($1::text[])", [probe]).rows.isEmpty, "\(probe)")
        }
        let slackRef = try owner.query("SELECT data->>'message_ref' FROM dtledger.events WHERE type = 'notification.sent' AND data->>'channel' <> 'email' AND data ? 'message_ref' LIMIT 1").rows.first?[0]
        if let slackRef {
            #expect(try writer.query("SELECT * FROM dtledger.email_thread_cases(ARRAY[$1])", [slackRef]).rows.isEmpty)
        }
        // A retracted message no longer places replies.
        let id = try #require(try owner.query("SELECT id::text FROM dtledger.events WHERE idempotency_key = 'email/secret-thread@example.org'").scalar)
        let retract = try CLI.run(["retract", "--case", Self.inc, id, "--reason", "sent to the wrong case", "--actor", "lou-em"], database: db.url)
        #expect(retract.status == 0, "\(retract.stderr)")
        #expect(try writer.query("SELECT * FROM dtledger.email_thread_cases($1::text[])", ["{secret-thread@example.org}"]).rows.isEmpty)
        // A reader login may not call it (granted to the writer only); nor may a login without a role.
        let reader = "dtl_reader_\(UInt32.random(in: 0...UInt32.max))"
        try owner.execute("CREATE ROLE \(reader) LOGIN IN ROLE dtledger_reader")
        defer { _ = try? owner.execute("DROP OWNED BY \(reader); DROP ROLE IF EXISTS \(reader)") }
        let r = try Connection(conninfo: db.url(login: reader))
        #expect(throws: (any Error).self) { _ = try r.query("SELECT * FROM dtledger.email_thread_cases(ARRAY['secret-thread@example.org'])") }
    }
}
