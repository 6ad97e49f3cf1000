import Crypto
import Events
import Foundation
import Ingest
import Domain
import Mail
import Testing

/// A message written in a test: lines joined with CRLF.
func mailBytes(_ s: String) -> Data {
    Data(s.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8)
}

@Suite("Ingest: email messages as notifications")
struct EmailMappingTests {
    static let inc = "INC-2026-0142"

    static func context(purpose: NotificationPurpose? = nil, caseOverride: String? = nil) throws -> ImportContext {
        var c = try Fixture.context(known: [inc: .incident])
        c.defaultPurpose = purpose
        c.caseOverride = caseOverride
        return c
    }

    static func map(_ messages: [String], context: ImportContext, verifier: DKIMVerifier? = nil) -> ImportOutcome {
        let payloads = messages.enumerated().map { RawPayload(item: $0.offset + 1, body: mailBytes($0.element)) }
        return EmailImporter.map(payloads, context: context, verifier: verifier)
    }

    static let p1 = """
        From: Lou Grant <Lou.Grant@example.org>
        To: MHV API/Platform <mhv-api-platform@example.org>, "Ortiz, Ana" <ana.ortiz@example.org>
        Cc: stranger@elsewhere.example, Ops: occ@example.org, ben.park@example.org;
        Subject: INC-2026-0142 raised to P1
        Date: Tue, 07 Apr 2026 13:40:00 -0400
        Message-ID: <p1-email@example.org>
        Content-Type: text/plain; charset=utf-8

        Purpose: priority
        Summary: Medications list fails to load on VA.gov
        Impact: About 12,000 users
        Start time: 2026-04-07 08:55 ET
        Priority: P1
        """

    @Test("people, lists and unknown addresses: recipients resolved through the directory, the rest kept as addresses")
    func recipients() throws {
        let out = Self.map([Self.p1], context: try Self.context())
        #expect(out.unmapped.isEmpty, "\(out.unmapped)")
        let e = try #require(out.events.first)
        #expect(e.envelope.type == "notification.sent")
        #expect(e.envelope.source == .email)
        #expect(e.envelope.caseID == Self.inc)
        #expect(e.envelope.actor == "lou-em")
        #expect(e.envelope.key == "email/p1-email@example.org")
        let sentAt = try RFC3339.parse("2026-04-07T17:40:00Z")
        #expect(e.envelope.occurredAt == sentAt)
        let d = e.envelope.data
        #expect(d["channel"] == .string("email"))
        #expect(d["purpose"] == .string("priority"))
        #expect(d["message_ref"] == .string("p1-email@example.org"))
        #expect(d["destination"] == .string("mhv-api-platform@example.org"))
        #expect(d["audience"] == .array(["@mhv-api-platform", "ana-po", "stranger@elsewhere.example", "@mhv-occ", "ben-po"].map(JSONValue.string)))
        #expect(d["content"]?["estimated_user_impact"] == .string("About 12,000 users"))
        #expect(d["content"]?["start_time"] == .string("2026-04-07 08:55 ET"))
        #expect(d["content"]?["purpose"] == nil)
        let meta = try #require(e.metadata["import"])
        #expect(meta["source"] == .string("email"))
        #expect(meta["unresolved_recipients"] == .array([.string("stranger@elsewhere.example")]))
        #expect(meta["signature_verified"] == .bool(false))
        #expect(meta["raw_message"] == .string(String(decoding: mailBytes(Self.p1), as: UTF8.self)))
        #expect(meta["payload_sha256"] == .string(RawPayload(item: 1, body: mailBytes(Self.p1)).sha256))
    }

    @Test("encoded-word headers, a base64 body, the case from the subject; an unknown sender is its address")
    func encoded() throws {
        let body = Data("Purpose: update\nSummary: Résumé of the outage\nStatus: investigating\n".utf8).base64EncodedString()
        let m = """
            From: =?utf-8?q?Ren=C3=A9e?= <renee@partner.example>
            To: =?utf-8?b?QW5hIE9ydGl6?= <ana.ortiz@example.org>
            Subject: =?utf-8?q?Mise_=C3=A0_jour_INC-2026-0142?=
            Date: Tue, 7 Apr 2026 18:30:00 -0400
            Message-ID: <enc@partner.example>
            MIME-Version: 1.0
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: base64

            \(body)
            """
        let out = Self.map([m], context: try Self.context())
        #expect(out.unmapped.isEmpty, "\(out.unmapped)")
        let e = try #require(out.events.first)
        #expect(e.envelope.caseID == Self.inc)
        #expect(e.envelope.actor == "renee@partner.example")
        #expect(e.envelope.data["audience"] == .array([.string("ana-po")]))
        #expect(e.envelope.data["content"]?["summary"] == .string("Résumé of the outage"))
        #expect(e.metadata["import"]?["email_subject"] == .string("Mise à jour INC-2026-0142"))
    }

    @Test("a message with no case is reported with its reason; --case places it; no Message-ID: keyed by its hash")
    func missingCase() throws {
        let m = """
            From: lou.grant@example.org
            To: ana.ortiz@example.org
            Subject: Medications update
            Date: Tue, 07 Apr 2026 19:00:00 -0400

            Purpose: update
            Summary: Still investigating
            """
        let out = Self.map([m], context: try Self.context())
        #expect(out.events.isEmpty)
        #expect(out.unmapped.map(\.code) == [.noCase])
        #expect(out.unmapped[0].reason.contains("no case"))
        let placed = Self.map([m], context: try Self.context(caseOverride: Self.inc))
        let e = try #require(placed.events.first)
        let hash = RawPayload(item: 1, body: mailBytes(m)).sha256
        #expect(e.envelope.key == "email/sha256/\(hash)")
        #expect(e.envelope.data["message_ref"] == nil)
    }

    @Test("purpose: the Purpose: line, else --purpose, else skipped; a bad one is skipped with the reason; chatter is skipped")
    func purpose() throws {
        func message(_ purposeLine: String, id: String) -> String {
            """
            From: lou.grant@example.org
            To: ana.ortiz@example.org
            Subject: Re: INC-2026-0142
            Date: Tue, 07 Apr 2026 19:00:00 -0400
            Message-ID: <\(id)@example.org>

            \(purposeLine)
            Summary: Still investigating
            """
        }
        let none = Self.map([message("", id: "a")], context: try Self.context())
        #expect(none.unmapped.first?.reason == "no Purpose: line and no --purpose")
        let given = Self.map([message("", id: "b")], context: try Self.context(purpose: .update))
        #expect(given.events.first?.envelope.data["purpose"] == .string("update"))
        let line = Self.map([message("Purpose: resolved", id: "c")], context: try Self.context(purpose: .update))
        #expect(line.events.first?.envelope.data["purpose"] == .string("resolved"))
        let bad = Self.map([message("Purpose: soon", id: "d")], context: try Self.context())
        #expect(bad.unmapped.first?.reason.contains("'soon' is not one of") == true)
        let chatter = Self.map(["From: a@b.example\nTo: ana.ortiz@example.org\nSubject: INC-2026-0142\nDate: Tue, 07 Apr 2026 19:00:00 -0400\n\nthanks!\n"],
                               context: try Self.context(purpose: .update))
        #expect(chatter.unmapped.first?.reason.contains("no labelled content lines") == true)
        let unreadable = Self.map(["not a header line\n\nbody\n"], context: try Self.context())
        #expect(unreadable.unmapped.first?.code == .unreadable)
    }

    @Test("DKIM: a message signed with a key of the key file is verified, with its domain and selector; altered, it is unverified")
    func dkim() throws {
        let key = Curve25519.Signing.PrivateKey()
        let keys = try DKIMKeyFile(text: "mail._domainkey.example.org v=DKIM1; k=ed25519; p=\(key.publicKey.rawRepresentation.base64EncodedString())\n")
        let signer = DKIMSigner(domain: "example.org", selector: "mail", key: .ed25519(key))
        let signed = try signer.sign([UInt8](mailBytes(Self.p1)))
        let verifier = DKIMVerifier(keys: keys)
        let good = EmailImporter.map([RawPayload(item: 1, body: Data(signed))], context: try Self.context(), verifier: verifier)
        let meta = try #require(good.events.first?.metadata["import"])
        #expect(meta["signature_verified"] == .bool(true))
        #expect(meta["dkim_domain"] == .string("example.org"))
        #expect(meta["dkim_selector"] == .string("mail"))
        var altered = signed
        let i = try #require(altered.lastIndex(of: UInt8(ascii: "1")))
        altered[i] = UInt8(ascii: "9")
        let bad = EmailImporter.map([RawPayload(item: 1, body: Data(altered))], context: try Self.context(), verifier: verifier)
        let badMeta = try #require(bad.events.first?.metadata["import"])
        #expect(badMeta["signature_verified"] == .bool(false))
        #expect(badMeta["dkim"]?.arrayValue?.first?.stringValue?.contains("body hash mismatch") == true)
    }
}
