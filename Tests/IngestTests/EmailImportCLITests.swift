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
}
