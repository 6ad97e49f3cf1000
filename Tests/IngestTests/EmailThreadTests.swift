import Crypto
import Events
import Foundation
import Ingest
import Domain
import Mail
import Testing

/// Threads (In-Reply-To, References) and journal reports (envelope
/// recipients): docs/importers.md, "Threads" and "Journal reports".
@Suite("Ingest: email threads and journal reports")
struct EmailThreadTests {
    static let inc = "INC-2026-0142"
    static let other = "INC-2026-0150"

    static func context(lookups: CaseLookups? = nil) throws -> ImportContext {
        var c = try Fixture.context(known: [inc: .incident, other: .incident])
        c.defaultPurpose = .update
        c.lookups = lookups
        return c
    }

    /// A ledger (or receiver) that knows these message ids' cases.
    static func lookups(_ known: [String: String]) -> CaseLookups {
        CaseLookups(caseForRef: { known[$0] }, openCases: { _ in [:] }, inferPurpose: { _, _ in nil })
    }

    static func message(id: String, subject: String, inReplyTo: String? = nil, references: [String] = [],
                        minute: Int = 0, body: String = "Summary: Medications list fails to load") -> String {
        var m = """
            From: Lou Grant <lou.grant@example.org>
            To: ana.ortiz@example.org
            Subject: \(subject)
            Date: Tue, 07 Apr 2026 14:\(String(format: "%02d", minute % 60)):00 -0400
            Message-ID: <\(id)>

            """
        if let inReplyTo { m = m.replacingOccurrences(of: "Message-ID:", with: "In-Reply-To: <\(inReplyTo)>\nMessage-ID:") }
        if !references.isEmpty {
            m = m.replacingOccurrences(of: "Message-ID:", with: "References: \(references.map { "<\($0)>" }.joined(separator: " "))\nMessage-ID:")
        }
        return m + "\n" + body + "\n"
    }

    static func map(_ messages: [String], context: ImportContext, verifier: DKIMVerifier? = nil) -> ImportOutcome {
        EmailMappingTests.map(messages, context: context, verifier: verifier)
    }

    static func event(_ out: ImportOutcome, key: String) throws -> ImportedEvent {
        try #require(out.events.first { $0.envelope.key == key }, "\(key) not among \(out.events.map(\.envelope.key)); skipped: \(out.unmapped)")
    }

    @Test("a reply in the same mailbox takes its parent's case, also when the parent comes later; metadata says so")
    func sameBatch() throws {
        let parent = Self.message(id: "root@example.org", subject: "INC-2026-0142 update")
        let reply = Self.message(id: "reply@example.org", subject: "Re: update", inReplyTo: "root@example.org",
                                 references: ["root@example.org"], minute: 5)
        for order in [[parent, reply], [reply, parent]] {
            let out = Self.map(order, context: try Self.context())
            #expect(out.unmapped.isEmpty, "\(out.unmapped)")
            let e = try Self.event(out, key: "email/reply@example.org")
            #expect(e.envelope.caseID == Self.inc)
            let meta = try #require(e.metadata["import"])
            #expect(meta["thread_case_from"] == .string("batch"))
            #expect(meta["thread_parent"] == .string("root@example.org"))
            #expect(meta["in_reply_to"] == .array([.string("root@example.org")]))
            #expect(meta["references"] == .array([.string("root@example.org")]))
            #expect(try Self.event(out, key: "email/root@example.org").metadata["import"]?["thread_case_from"] == nil)
        }
    }

    @Test("a chain in one mailbox, newest first: each reply finds the case through its parent")
    func chainInBatch() throws {
        let a = Self.message(id: "a@example.org", subject: "INC-2026-0150 started")
        let b = Self.message(id: "b@example.org", subject: "Re: started", inReplyTo: "a@example.org", minute: 1)
        let c = Self.message(id: "c@example.org", subject: "Re: Re: started", inReplyTo: "b@example.org", minute: 2)
        let out = Self.map([c, b, a], context: try Self.context())
        #expect(out.unmapped.isEmpty, "\(out.unmapped)")
        #expect(out.events.map(\.envelope.caseID) == [Self.other, Self.other, Self.other])
        #expect(try Self.event(out, key: "email/c@example.org").metadata["import"]?["thread_parent"] == .string("b@example.org"))
    }

    @Test("a reply whose parent was imported earlier: the ledger's (or receiver's) case of email:<id>, In-Reply-To first")
    func earlierImport() throws {
        let reply = Self.message(id: "late@example.org", subject: "Re: update", inReplyTo: "old@example.org",
                                 references: ["older@example.org", "old@example.org"])
        let lookups = Self.lookups(["email:old@example.org": Self.inc, "email:older@example.org": Self.other])
        let out = Self.map([reply], context: try Self.context(lookups: lookups))
        let e = try Self.event(out, key: "email/late@example.org")
        #expect(e.envelope.caseID == Self.inc)
        #expect(e.metadata["import"]?["thread_case_from"] == .string("in_reply_to"))
    }

    @Test("References: newest first; a reply without In-Reply-To finds the case of the newest known id")
    func referencesChain() throws {
        let reply = Self.message(id: "r@example.org", subject: "Re: update",
                                 references: ["first@example.org", "second@example.org", "unknown@example.org"])
        let lookups = Self.lookups(["email:first@example.org": Self.other, "email:second@example.org": Self.inc])
        let out = Self.map([reply], context: try Self.context(lookups: lookups))
        let e = try Self.event(out, key: "email/r@example.org")
        #expect(e.envelope.caseID == Self.inc)
        #expect(e.metadata["import"]?["thread_case_from"] == .string("references"))
        #expect(e.metadata["import"]?["thread_parent"] == .string("second@example.org"))
    }

    @Test("an explicit case id (subject, Case: line, --case) wins over the thread")
    func explicitWins() throws {
        let parent = Self.message(id: "p@example.org", subject: "INC-2026-0142 update")
        let subject = Self.message(id: "s@example.org", subject: "Re: INC-2026-0150", inReplyTo: "p@example.org")
        let line = Self.message(id: "l@example.org", subject: "Re: update", inReplyTo: "p@example.org",
                                body: "Case: INC-2026-0150\nSummary: moved")
        let out = Self.map([parent, subject, line], context: try Self.context(lookups: Self.lookups(["email:p@example.org": Self.inc])))
        for key in ["email/s@example.org", "email/l@example.org"] {
            let e = try Self.event(out, key: key)
            #expect(e.envelope.caseID == Self.other)
            #expect(e.metadata["import"]?["thread_case_from"] == nil)
        }
        var forced = try Self.context()
        forced.caseOverride = Self.other
        let all = Self.map([parent, Self.message(id: "x@example.org", subject: "Re: update", inReplyTo: "p@example.org")], context: forced)
        #expect(all.events.map(\.envelope.caseID) == [Self.other, Self.other])
    }

    @Test("a reply to a message nobody knows is skipped with the no-case reason; a reference cycle ends")
    func unknownParent() throws {
        let reply = Self.message(id: "orphan@example.org", subject: "Re: something", inReplyTo: "nobody@example.org")
        let out = Self.map([reply], context: try Self.context(lookups: Self.lookups([:])))
        #expect(out.events.isEmpty)
        #expect(out.unmapped.map(\.code) == [.noCase])
        #expect(out.unmapped.first?.reason.contains("no case") == true)
        let x = Self.message(id: "x@example.org", subject: "Re: loop", inReplyTo: "y@example.org")
        let y = Self.message(id: "y@example.org", subject: "Re: loop", inReplyTo: "x@example.org")
        let loop = Self.map([x, y], context: try Self.context())
        #expect(loop.unmapped.map(\.code) == [.noCase, .noCase])
    }

    @Test("Refs: email:<Message-ID>; the delivery id is the Message-ID; a journal report's ref is its original's; never throws")
    func refs() throws {
        let m = mailBytes(Self.message(id: "root@example.org", subject: "x"))
        #expect(Refs.of(source: .email, body: m) == ["email:root@example.org"])
        #expect(Refs.deliveryID(source: .email, body: m) == "root@example.org")
        let report = mailBytes(Self.exchangeReport(original: Self.message(id: "orig@example.org", subject: "INC-2026-0142 update"),
                                                   id: "orig@example.org", lines: ["Bcc: ben.park@example.org"]))
        #expect(Refs.of(source: .email, body: report) == ["email:orig@example.org"])
        #expect(Refs.deliveryID(source: .email, body: report) == "report-orig@example.org@journal.example.org")
        for junk in [Data(), Data("no colon here\n\nbody".utf8), Data([0xff, 0xfe, 0x00])] {
            #expect(Refs.of(source: .email, body: junk) == [])
            #expect(Refs.deliveryID(source: .email, body: junk) == nil)
        }
        #expect(Refs.of(source: .email, body: mailBytes("From: a@b.example\nSubject: no id\n\nhi\n")) == [])
        // An ordinary delivered message with an attachment (Delivered-To, multipart) is no journal copy: its own id.
        let delivered = mailBytes(Self.genericCopy(text: "FYI").replacingOccurrences(of: "X-Envelope-To: ana.ortiz@example.org, ben.park@example.org\nEnvelope-To: occ@example.org\n", with: ""))
        #expect(Refs.of(source: .email, body: delivered) == ["email:copy-1@archiver.example.org"])
        #expect(EmailImporter.parents(mailBytes(Self.message(id: "k@example.org", subject: "x", inReplyTo: "j@example.org", references: ["h@example.org", "j@example.org"])))
                == ["j@example.org", "h@example.org"])
    }

    // MARK: Journal reports

    /// An Exchange envelope journal report as Exchange Online writes it:
    /// the report's text lists the envelope, the original is attached.
    static func exchangeReport(original: String?, id: String, lines: [String]) -> String {
        var r = """
            From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@example.org>
            To: journal@journal.example.org
            Subject: INC-2026-0142 update
            Date: Tue, 07 Apr 2026 18:01:00 +0000
            Message-ID: <report-\(id)@journal.example.org>
            X-MS-Journal-Report:
            Content-Identifier: ExJournalReport
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="jr-boundary"

            --jr-boundary
            Content-Type: text/plain; charset="us-ascii"
            Content-Transfer-Encoding: 7bit

            Sender: lou.grant@example.org
            Subject: INC-2026-0142 update
            Message-Id: <\(id)>
            \(lines.joined(separator: "\n"))

            """
        if let original {
            r += "--jr-boundary\nContent-Type: message/rfc822\nContent-Disposition: attachment\n\n" + original + "\n"
        }
        return r + "--jr-boundary--\n"
    }

    @Test("an Exchange journal report: the attached original is mapped; its Bcc'd list (envelope) joins the audience; DKIM on the original")
    func exchangeJournal() throws {
        let key = Curve25519.Signing.PrivateKey()
        let keys = try DKIMKeyFile(text: "mail._domainkey.example.org v=DKIM1; k=ed25519; p=\(key.publicKey.rawRepresentation.base64EncodedString())\n")
        let original = Self.message(id: "orig@example.org", subject: "INC-2026-0142 update",
                                    body: "Purpose: update\nSummary: Medications list fails to load\nStatus: investigating")
        let signed = String(decoding: try DKIMSigner(domain: "example.org", selector: "mail", key: .ed25519(key))
            .sign([UInt8](mailBytes(original))), as: UTF8.self)
        let report = Self.exchangeReport(original: signed, id: "orig@example.org", lines: [
            "To: ana.ortiz@example.org",
            "Bcc: ben.park@example.org, Expanded: occ@example.org",
            "Bcc: lurker@elsewhere.example",
            "Recipient: greg.kirk@example.org, Forwarded: sean.good@example.org",
        ])
        let out = Self.map([report], context: try Self.context(), verifier: DKIMVerifier(keys: keys))
        #expect(out.unmapped.isEmpty, "\(out.unmapped)")
        let e = try Self.event(out, key: "email/orig@example.org")
        #expect(e.envelope.caseID == Self.inc)
        #expect(e.envelope.actor == "lou-em")
        #expect(e.envelope.data["message_ref"] == .string("orig@example.org"))
        let audience = (e.envelope.data["audience"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(audience.contains("@mhv-occ"), "the Bcc'd list: \(audience)")
        #expect(audience.contains("ben-po") && audience.contains("ana-po"))
        #expect(audience.contains("lurker@elsewhere.example"))
        #expect(!audience.contains { $0.contains("journal") })
        #expect(e.envelope.data["destination"] == .string("ana.ortiz@example.org"))
        let meta = try #require(e.metadata["import"])
        #expect(meta["journal_report"] == .bool(true))
        #expect(meta["journal_kind"] == .string("exchange"))
        #expect(meta["unresolved_recipients"]?.arrayValue?.contains(.string("lurker@elsewhere.example")) == true)
        let envelope = try #require(meta["envelope_recipients"]?.arrayValue)
        #expect(envelope.count == 4)
        #expect(envelope[1] == .object(["field": .string("bcc"), "address": .string("ben.park@example.org"), "expanded": .string("occ@example.org")]))
        #expect(envelope[3]["forwarded"] == .string("sean.good@example.org"))
        #expect(meta["signature_verified"] == .bool(true), "\(meta["dkim"] ?? .null)")
        #expect(meta["dkim_domain"] == .string("example.org"))
        #expect(meta["raw_message"]?.stringValue?.contains("X-MS-Journal-Report") == true)
        #expect(meta["payload_sha256"] == .string(RawPayload(item: 1, body: mailBytes(report)).sha256))
        #expect(meta["journal_report_message_id"] == .string("report-orig@example.org@journal.example.org"))

        // verify --signatures re-checks the original inside the kept report.
        let again = KeptMessage.check(importMetadata: meta, key: e.envelope.key, messageRef: "orig@example.org",
                                      occurredAt: e.envelope.occurredAt, verifier: DKIMVerifier(keys: keys))
        #expect(again.check == .verified, "\(again)")
        #expect(again.domain == "example.org")
        guard case .object(var o) = meta else { return }
        o["original_sha256"] = .string(String(repeating: "0", count: 64))
        guard case .failed(let why) = KeptMessage.check(importMetadata: .object(o), key: e.envelope.key, messageRef: "orig@example.org",
                                                         occurredAt: e.envelope.occurredAt, verifier: DKIMVerifier(keys: keys)).check else {
            Issue.record("a report whose original_sha256 names no attachment must fail"); return
        }
        #expect(why.contains("no attached message of original_sha256"))
    }

    @Test("a journal report naming envelope recipients with no attached message is skipped, saying so; a mismatched attachment too")
    func journalWithoutAttachment() throws {
        let report = Self.exchangeReport(original: nil, id: "gone@example.org", lines: ["Bcc: ben.park@example.org"])
        let out = Self.map([report], context: try Self.context())
        #expect(out.events.isEmpty)
        #expect(out.unmapped.first?.reason == "a journal report naming 1 envelope recipient(s) without an attached message (message/rfc822): nothing to map")
        #expect(out.unmapped.first?.sourceID == "gone@example.org")
        let wrong = Self.exchangeReport(original: Self.message(id: "other@example.org", subject: "INC-2026-0142 x"),
                                        id: "named@example.org", lines: ["To: ana.ortiz@example.org"])
        let mismatch = Self.map([wrong], context: try Self.context())
        #expect(mismatch.events.isEmpty)
        #expect(mismatch.unmapped.first?.reason.contains("names Message-Id <named@example.org> but its attached message is <other@example.org>") == true)
    }

    @Test("two journal reports of one message in a mailbox: one event, with both reports' envelope recipients")
    func bifurcatedReports() throws {
        let original = Self.message(id: "split@example.org", subject: "INC-2026-0142 update")
        let a = Self.exchangeReport(original: original, id: "split@example.org", lines: ["To: ana.ortiz@example.org"])
            .replacingOccurrences(of: "report-split", with: "report-a-split")
        let b = Self.exchangeReport(original: original, id: "split@example.org", lines: ["Bcc: ben.park@example.org, Expanded: occ@example.org"])
        let out = Self.map([a, b], context: try Self.context())
        #expect(out.events.count == 1)
        let audience = out.events.first?.envelope.data["audience"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(Set(audience) == ["ana-po", "ben-po", "@mhv-occ"])
    }

    static func genericCopy(text: String = "") -> String {
        let original = Self.message(id: "gen@example.org", subject: "INC-2026-0142 update")
        return """
            From: archiver@example.org
            To: journal@example.org
            Subject: Journal copy
            Date: Tue, 07 Apr 2026 18:02:00 +0000
            Message-ID: <copy-1@archiver.example.org>
            X-Envelope-To: ana.ortiz@example.org, ben.park@example.org
            Envelope-To: occ@example.org
            Delivered-To: journal@example.org
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="gc"

            --gc
            Content-Type: text/plain

            \(text)
            --gc
            Content-Type: message/rfc822

            \(original)
            --gc--

            """
    }

    @Test("a generic journaling copy: the attached message with X-Envelope-To/Envelope-To recipients; the journal mailbox is not audience")
    func genericJournal() throws {
        let out = Self.map([Self.genericCopy()], context: try Self.context())
        #expect(out.unmapped.isEmpty, "\(out.unmapped)")
        let e = try Self.event(out, key: "email/gen@example.org")
        #expect(e.envelope.data["audience"] == .array(["ana-po", "ben-po", "@mhv-occ"].map(JSONValue.string)))
        #expect(e.metadata["import"]?["journal_kind"] == .string("generic"))
        #expect(e.metadata["import"]?["envelope_recipients"]?.arrayValue?.count == 3)
        #expect(Refs.of(source: .email, body: mailBytes(Self.genericCopy())) == ["email:gen@example.org"])
        // A person forwarding a message as an attachment (with text of their own) is not a journal copy.
        let forward = Self.map([Self.genericCopy(text: "FYI, see below")], context: try Self.context())
        #expect(forward.events.isEmpty)
        #expect(forward.unmapped.first?.reason.contains("no labelled content lines") == true)
    }

    @Test("an mbox of 400 messages in 100 threads, shuffled: every reply finds its thread's case")
    func bigMbox() throws {
        var messages: [(String, String)] = []  // (id, expected case)
        var texts: [String] = []
        for t in 0..<100 {
            let c = t % 2 == 0 ? Self.inc : Self.other
            var chain: [String] = []
            for n in 0..<4 {
                let id = "t\(t)-m\(n)@example.org"
                let m = n == 0
                    ? Self.message(id: id, subject: "\(c) thread \(t)", minute: t)
                    : Self.message(id: id, subject: "Re: thread \(t)", inReplyTo: chain.last, references: chain, minute: t + n)
                chain.append(id)
                messages.append((id, c))
                texts.append(m)
            }
        }
        var rng = SystemRandomNumberGenerator()
        let order = Array(texts.indices).shuffled(using: &rng)
        var mbox = ""
        for i in order { mbox += "From lou.grant@example.org Tue Apr  7 18:00:00 2026\n" + texts[i] + "\n" }
        let raws = try Mailbox.read(bytes: Array(mbox.utf8), name: "threads.mbox")
        #expect(raws.count == 400)
        let payloads = raws.enumerated().map { RawPayload(item: $0.offset + 1, body: Data($0.element.bytes)) }
        let out = EmailImporter.map(payloads, context: try Self.context(), verifier: nil)
        #expect(out.unmapped.isEmpty, "\(out.unmapped.prefix(3))")
        #expect(out.events.count == 400)
        let byKey = Dictionary(uniqueKeysWithValues: out.events.map { ($0.envelope.key ?? "", $0.envelope.caseID) })
        for (id, c) in messages { #expect(byKey["email/\(id)"] == c, "\(id)") }
        #expect(out.events.filter { $0.metadata["import"]?["thread_case_from"] == .string("batch") }.count == 300)
    }
}
