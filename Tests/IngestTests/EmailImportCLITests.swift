import Crypto
import Events
import Foundation
import Mail
import Testing
import TestSupport

/// `dtledger import email` (the real binary) on an mbox, into a ledger
/// holding the sample scenarios without the incident's typed email.
@Suite("CLI: import email")
struct EmailImportCLITests {
    static let inc = "INC-2026-0142"
    static let audience = "mhv-api-platform@example.org, ana.ortiz@example.org, ben.park@example.org, " +
        "octo-health-engineers@example.org,\n greg.kirk@example.org, sean.good@example.org, mhv-horizon@example.org, chante@example.org"

    static func message(id: String, date: String, subject: String, body: String) -> String {
        """
        From: Lou Grant <lou.grant@example.org>
        To: MHV incidents <mhv-incidents@example.org>
        Cc: \(audience)
        Subject: \(subject)
        Date: \(date)
        Message-ID: <\(id)>
        Content-Type: text/plain; charset=utf-8

        \(body)
        """
    }

    static func lf(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
    }

    @Test("an mbox imported twice: the P1 email obligation is met by the imported (DKIM-verified) message; the second import appends nothing")
    func importMbox() throws {
        let db = try TestDatabase.withSampleDirectory()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("email-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // The sample scenarios, without the incident's typed email.
        let incident = try String(contentsOf: CLI.scenarios.appendingPathComponent("incident-user-facing-escalated.jsonl"), encoding: .utf8)
        let withoutEmail = dir.appendingPathComponent("incident.jsonl")
        try incident.split(separator: "\n").filter { !$0.contains("\"INC-2026-0142/p1-email\"") }.joined(separator: "\n")
            .write(to: withoutEmail, atomically: true, encoding: .utf8)
        _ = try db.session().appendFile(CLI.scenarios.appendingPathComponent("planned-downtime-api-platform.jsonl").path, actor: nil, source: .cli)
        _ = try db.session().appendFile(withoutEmail.path, actor: nil, source: .cli)
        #expect(try ImportCLITests.verdicts(db)["IR-UF-P12-EMAIL"] != ["met"])

        let key = Curve25519.Signing.PrivateKey()
        let keys = dir.appendingPathComponent("dkim-keys.txt")
        try "mail2026._domainkey.example.org v=DKIM1; k=ed25519; p=\(key.publicKey.rawRepresentation.base64EncodedString())\n"
            .write(to: keys, atomically: true, encoding: .utf8)
        let p1 = Self.message(id: "p1-email@example.org", date: "Tue, 07 Apr 2026 13:40:00 -0400", subject: "INC-2026-0142: now P1", body: """
            Purpose: priority
            Summary: Medications list fails to load on VA.gov
            Estimated user impact: About 12,000 users; Medications refill and list
            Start time: 2026-04-07 08:55 ET
            Priority: P1
            """)
        let signed = try DKIMSigner(domain: "example.org", selector: "mail2026", key: .ed25519(key))
            .sign(Array(p1.replacingOccurrences(of: "\n", with: "\r\n").utf8))
        let update = Self.message(id: "update-1@example.org", date: "Tue, 07 Apr 2026 18:30:00 -0400", subject: "Update on INC-2026-0142", body: """
            Purpose: update
            Summary: Medications list fails to load on VA.gov
            Status: investigating
            """)
        let noCase = Self.message(id: "nocase@example.org", date: "Tue, 07 Apr 2026 19:00:00 -0400", subject: "Medications", body: """
            Purpose: update
            Summary: still looking
            """)
        var mbox = ""
        for m in [Self.lf(signed), update, noCase] {
            mbox += "From lou.grant@example.org Tue Apr  7 17:40:00 2026\n" + m + "\n\n"
        }
        let file = dir.appendingPathComponent("journal.mbox")
        try mbox.write(to: file, atomically: true, encoding: .utf8)

        let first = try CLI.run(["import", "email", file.path, "--dkim-keys", keys.path, "--json"], database: db.url)
        #expect(first.status == 0, "\(first.stderr)")
        let lines = first.stdout.split(separator: "\n").map { try? JSONValue.parse(Data($0.utf8)) }
        let summary = try #require(lines.last ?? nil)
        #expect(summary["payloads"] == .int(3))
        #expect(summary["appended"] == .int(2))
        #expect(summary["skipped"] == .int(1))
        #expect(summary["signature_verified"] == .int(1))
        #expect(first.stderr.contains("skipped: \(file.path): item 3 (nocase@example.org): no case"))
        let p1Event = try #require(lines.compactMap { $0 }.first { $0["key"] == .string("email/p1-email@example.org") })
        let meta = try #require(p1Event["metadata"]?["import"])
        #expect(meta["signature_verified"] == .bool(true))
        #expect(meta["dkim_domain"] == .string("example.org"))
        #expect(meta["dkim_selector"] == .string("mail2026"))
        #expect(meta["raw_message"]?.stringValue?.contains("DKIM-Signature:") == true)
        #expect(p1Event["data"]?["audience"]?.arrayValue?.count == 9)
        let updateEvent = try #require(lines.compactMap { $0 }.first { $0["key"] == .string("email/update-1@example.org") })
        #expect(updateEvent["metadata"]?["import"]?["signature_verified"] == .bool(false))

        #expect(try ImportCLITests.verdicts(db)["IR-UF-P12-EMAIL"] == ["met"])

        let second = try CLI.run(["import", "email", file.path, "--dkim-keys", keys.path], database: db.url)
        #expect(second.status == 0, "\(second.stderr)")
        let again = try JSONValue.parse(Data(second.stdout.split(separator: "\n").last!.utf8))
        #expect(again["appended"] == .int(0))
        #expect(again["duplicates"] == .int(2))
    }

    /// The incident's notifications to the P1/P2 audience, each as the
    /// email copy a communication owner sends ten minutes after its Slack
    /// message (the P1 email at its own time): (key, occurred_at, purpose, content).
    static func emailCopies() throws -> [(id: String, at: Date, purpose: String, content: [(String, String)])] {
        let incident = try String(contentsOf: CLI.scenarios.appendingPathComponent("incident-user-facing-escalated.jsonl"), encoding: .utf8)
        var out: [(id: String, at: Date, purpose: String, content: [(String, String)])] = []
        for line in incident.split(separator: "\n") {
            let e = try JSONValue.parse(Data(line.utf8))
            guard e["type"] == .string("notification.sent"), let key = e["key"]?.stringValue,
                  ["INC-2026-0142/p1-slack", "INC-2026-0142/p1-email", "INC-2026-0142/update-0407",
                   "INC-2026-0142/update-solution", "INC-2026-0142/update-resolved"].contains(key) else { continue }
            let slack = e["data"]?["channel"] == .string("slack")
            let at = try RFC3339.parse(e["occurred_at"]!.stringValue!).addingTimeInterval(slack ? 600 : 0)
            let content = (e["data"]?["content"]?.objectValue ?? [:]).keys.sorted().map { ($0, e["data"]!["content"]![$0]!.stringValue!) }
            out.append((key.replacingOccurrences(of: "INC-2026-0142/", with: "") + "@mail.example.org", at,
                        e["data"]!["purpose"]!.stringValue!, content))
        }
        return out
    }

    @Test("a P1 incident whose email obligations are met only by imported messages: missed before the import, then every rule\'s verdict equals the one the same emails typed by hand get")
    func p1EmailOnlyImported() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("email-p1-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let incident = try String(contentsOf: CLI.scenarios.appendingPathComponent("incident-user-facing-escalated.jsonl"), encoding: .utf8)
        let withoutEmail = dir.appendingPathComponent("incident.jsonl")
        try incident.split(separator: "\n").filter { !$0.contains("\"channel\": \"email\"") && !$0.contains("\"channel\":\"email\"") }
            .joined(separator: "\n").write(to: withoutEmail, atomically: true, encoding: .utf8)
        let copies = try Self.emailCopies()
        #expect(copies.count == 5)
        let addresses = ["mhv-api-platform@example.org", "ana.ortiz@example.org", "ben.park@example.org", "octo-health-engineers@example.org",
                         "greg.kirk@example.org", "sean.good@example.org", "mhv-horizon@example.org", "chante@example.org"]

        // The oracle: the same emails typed (notify email's envelope).
        let typed = try TestDatabase.withSampleDirectory()
        _ = try typed.session().appendFile(withoutEmail.path, actor: nil, source: .cli)
        var lines: [String] = []
        for c in copies {
            var content: [String: JSONValue] = [:]
            for (k, v) in c.content { content[k] = .string(v) }
            let data: JSONValue = .object(["channel": .string("email"), "destination": .string("mhv-incidents@example.org"),
                                           "audience": .array(addresses.map(JSONValue.string)), "purpose": .string(c.purpose),
                                           "content": .object(content), "message_ref": .string(c.id)])
            let e: JSONValue = .object(["type": .string("notification.sent"), "case": .string(Self.inc), "occurred_at": .string(RFC3339.format(c.at)),
                                        "actor": .string("lou-em"), "source": .string("cli"), "key": .string("typed/\(c.id)"), "data": data])
            lines.append(e.jsonText())
        }
        let typedFile = dir.appendingPathComponent("typed.jsonl")
        try lines.joined(separator: "\n").write(to: typedFile, atomically: true, encoding: .utf8)
        _ = try typed.session().appendFile(typedFile.path, actor: nil, source: .cli)
        let expected = try ImportCLITests.verdicts(typed)

        // The same incident with no email at all, then the emails imported from an mbox.
        let db = try TestDatabase.withSampleDirectory()
        _ = try db.session().appendFile(withoutEmail.path, actor: nil, source: .cli)
        let before = try ImportCLITests.verdicts(db)
        // IR-UF-P12-EMAIL asks for email alone (the update rules take Slack or email: met by Slack already).
        #expect(before["IR-UF-P12-EMAIL"] == ["missed"], "\(before["IR-UF-P12-EMAIL"] ?? [])")
        #expect(expected["IR-UF-P12-EMAIL"] == ["met"])

        let labels = ["summary": "Summary", "estimated_user_impact": "Estimated user impact", "start_time": "Start time",
                      "priority": "Priority", "status": "Status"]
        var mbox = ""
        let date = DateFormatter()
        date.locale = Locale(identifier: "en_US_POSIX")
        date.timeZone = TimeZone(identifier: "America/New_York")
        date.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        for c in copies {
            let body = (["Purpose: \(c.purpose)"] + c.content.map { "\(labels[$0.0] ?? $0.0): \($0.1)" }).joined(separator: "\n")
            let m = Self.message(id: c.id, date: date.string(from: c.at), subject: "INC-2026-0142: \(c.purpose)", body: body)
            mbox += "From lou.grant@example.org Tue Apr  7 17:40:00 2026\n" + m + "\n\n"
        }
        let file = dir.appendingPathComponent("sent.mbox")
        try mbox.write(to: file, atomically: true, encoding: .utf8)
        let run = try CLI.run(["import", "email", file.path, "--no-dns"], database: db.url)
        #expect(run.status == 0, "\(run.stderr)")
        let summary = try JSONValue.parse(Data(run.stdout.split(separator: "\n").last!.utf8))
        #expect(summary["appended"] == .int(5), "\(run.stdout) \(run.stderr)")
        #expect(try ImportCLITests.verdicts(db) == expected)
    }
}
