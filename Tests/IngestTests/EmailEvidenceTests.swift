import Crypto
import Events
import Foundation
import Ingest
import Ledger
import Mail
import Operations
import Postgres
import Reports
import Testing
import TestSupport

/// Email evidence on a real PostgreSQL with personal logins: a message
/// imported by the directory's registered email importer login is shown
/// "DKIM verified (d=..., s=...)" in every report, an unsigned one "not
/// verified (no DKIM signature)", a signed one imported by a person's login
/// "not verified (claimed by a client)"; `verify --signatures` re-verifies
/// the kept raw message's DKIM signature, says "cannot check" without the
/// key, and FAILS a kept message whose body a superuser changed while
/// recomputing the hash chain (which `verify` alone then passes).
@Suite("Email evidence: verified, unverified, re-verified (PostgreSQL)")
struct EmailEvidenceTests {
    static let inc = "INC-2026-0142"

    /// One test's logins, dropped at the end.
    struct Logins {
        let suffix = String(UInt32.random(in: 0...UInt32.max))
        var importer: String { "dtl_mail_\(suffix)" }
        var person: String { "dtl_lou_\(suffix)" }
        var all: [String] { [importer, person] }
    }

    struct Setup {
        let db: TestDatabase
        let logins: Logins
        let dir: URL
        /// The key file holding the signing key, and one without it.
        let keys: URL
        let otherKeys: URL
        /// Event ids: signed by the importer, unsigned by the importer, signed by the person's login.
        var signed = "", unsigned = "", personSigned = ""

        func cleanUp() {
            try? FileManager.default.removeItem(at: dir)
            guard let c = try? db.connect() else { return }
            for login in logins.all { _ = try? c.execute("DROP OWNED BY \(login); DROP ROLE IF EXISTS \(login)") }
        }
    }

    static func message(id: String, date: String, body: String) -> String {
        EmailImportCLITests.message(id: id, date: date, subject: "INC-2026-0142: now P1", body: body)
            .replacingOccurrences(of: "\n", with: "\r\n")
    }

    static let p1Body = """
        Purpose: priority
        Summary: Medications list fails to load on VA.gov
        Estimated user impact: About 12,000 users; Medications refill and list
        Start time: 2026-04-07 08:55 ET
        Priority: P1
        """

    /// The sample directory with `lou-em` bound to a personal login and the
    /// importer login registered for source `email`; the sample incident
    /// (typed); then three messages imported through `dtledger import
    /// email`: one DKIM-signed and one unsigned by the importer login, one
    /// DKIM-signed by Lou's own login.
    static func setUp() throws -> Setup {
        let db = try TestDatabase.make()
        let ledger = try db.session().open()
        _ = try ledger.migrate(log: { _ in })
        _ = try ledger.publishDefaultPolicyIfNone()
        let l = Logins()
        let owner = try db.connect()
        for login in l.all { try owner.execute("CREATE ROLE \(login) LOGIN IN ROLE dtledger_writer") }
        var yaml = try String(contentsOf: CLI.scenarios.appendingPathComponent("directory.yaml"), encoding: .utf8)
        yaml = yaml.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.contains("{handle: lou-em,"), line.hasSuffix("}") else { return String(line) }
            return String(line.dropLast()) + ", logins: [\(l.person)]}"
        }.joined(separator: "\n")
        yaml += "\nservice_logins:\n  - {login: \(l.importer), sources: [email], name: Mail journal importer}\n"
        #expect(yaml.contains("logins: [\(l.person)]"))
        let published = try ledger.publishDirectory(yaml: yaml, effectiveFrom: nil, actor: nil,
                                                  retroactiveReason: "test directory, effective before the test ran")
        #expect(published.warnings.isEmpty)
        _ = try db.session().appendFile(CLI.scenarios.appendingPathComponent("incident-user-facing-escalated.jsonl").path,
                                        actor: nil, source: .cli)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("email-evidence-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let key = Curve25519.Signing.PrivateKey()
        let keys = dir.appendingPathComponent("dkim-keys.txt")
        try "mail2026._domainkey.example.org v=DKIM1; k=ed25519; p=\(key.publicKey.rawRepresentation.base64EncodedString())\n"
            .write(to: keys, atomically: true, encoding: .utf8)
        let otherKeys = dir.appendingPathComponent("other-keys.txt")
        try "old2025._domainkey.example.org v=DKIM1; k=ed25519; p=\(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString())\n"
            .write(to: otherKeys, atomically: true, encoding: .utf8)
        let signer = DKIMSigner(domain: "example.org", selector: "mail2026", key: .ed25519(key))

        func importAs(_ login: String, _ name: String, _ bytes: [UInt8]) throws {
            let file = dir.appendingPathComponent(name)
            try Data(bytes).write(to: file)
            let r = try CLI.run(["import", "email", file.path, "--dkim-keys", keys.path], database: db.url(login: login))
            #expect(r.status == 0, "\(r.stderr)")
        }
        try importAs(l.importer, "signed.eml", try signer.sign(Array(Self.message(
            id: "p1-signed@example.org", date: "Tue, 07 Apr 2026 13:40:00 -0400", body: p1Body).utf8)))
        try importAs(l.importer, "unsigned.eml", Array(Self.message(
            id: "update-unsigned@example.org", date: "Tue, 07 Apr 2026 18:30:00 -0400",
            body: "Purpose: update\nSummary: Medications list fails to load on VA.gov\nStatus: investigating".replacingOccurrences(of: "\n", with: "\r\n")).utf8))
        try importAs(l.person, "person.eml", try signer.sign(Array(Self.message(
            id: "p1-by-lou@example.org", date: "Tue, 07 Apr 2026 13:45:00 -0400", body: p1Body).utf8)))

        var s = Setup(db: db, logins: l, dir: dir, keys: keys, otherKeys: otherKeys)
        let events = try db.store().events(caseID: inc)
        func id(_ key: String) throws -> String {
            guard let id = events.first(where: { $0.key == key })?.id else { throw TestFailure("no event with key \(key)") }
            return id
        }
        s.signed = try id("email/p1-signed@example.org")
        s.unsigned = try id("email/update-unsigned@example.org")
        s.personSigned = try id("email/p1-by-lou@example.org")
        return s
    }

    struct TestFailure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    static let verifiedLabel = "email, DKIM verified (d=example.org, s=mail2026)"
    static let unsignedLabel = "email, not verified (no DKIM signature)"
    static let claimedLabel = "email, signature not verified (claimed by a client)"

    @Test("verified and unverified email evidence told apart in the review, the timeline, the compliance report and the audit, every format")
    func everyReport() throws {
        let s = try Self.setUp()
        defer { s.cleanUp() }
        let ledger = try s.db.session().open()
        let claim = "signature_verified claimed by login \(s.logins.person), not a registered importer login"

        // Review: the evidence appendix (Markdown, HTML) and its JSON.
        for format in [ReportFormat.markdown, .html] {
            let text = try ledger.review(caseID: Self.inc, asOf: nil, format: format)
            for label in [Self.verifiedLabel, Self.unsignedLabel, Self.claimedLabel] {
                #expect(text.contains(label), "review \(format): \(label)")
            }
            #expect(text.contains(claim), "review \(format)")
        }
        let svg = try ledger.review(caseID: Self.inc, asOf: nil, format: .html)
        #expect(svg.contains("email, not verified</text>"), "the chart's legend marks unverified email")
        let review = try JSONValue.parse(try ledger.review(caseID: Self.inc, asOf: nil, format: .json))
        let evidence = review["evidence"]?.arrayValue ?? []
        func entry(_ id: String) -> JSONValue? { evidence.first { $0["id"] == .string(id) } }
        #expect(entry(s.signed)?["signature_verified"] == .bool(true))
        #expect(entry(s.signed)?["dkim_domain"] == .string("example.org"))
        #expect(entry(s.signed)?["dkim_selector"] == .string("mail2026"))
        #expect(entry(s.signed)?["provenance"]?["status"] == .string("verified"))
        #expect(entry(s.signed)?["provenance"]?["dkim_domain"] == .string("example.org"))
        #expect(entry(s.signed)?["provenance"]?["label"] == .string(Self.verifiedLabel))
        #expect(entry(s.unsigned)?["signature_verified"] == .bool(false))
        #expect(entry(s.unsigned)?["provenance"]?["status"] == .string("unsigned"))
        #expect(entry(s.unsigned)?["provenance"]?["reason"] == .string("no DKIM signature"))
        #expect(entry(s.personSigned)?["signature_verified"] == .bool(false))
        #expect(entry(s.personSigned)?["provenance"]?["status"] == .string("unverified"))
        #expect(entry(s.personSigned)?["dkim_domain"] == nil, "a client's claim of a signer is not repeated as the signer")

        // Timeline: the table, Markdown and JSON.
        for format in [TimelineFormat.table, .markdown] {
            let text = try ledger.timeline(caseID: Self.inc, asOf: nil, format: format)
            for label in [Self.verifiedLabel, Self.unsignedLabel, Self.claimedLabel] {
                #expect(text.contains(label), "timeline \(format): \(label)")
            }
        }
        let timeline = try JSONValue.parse(try ledger.timeline(caseID: Self.inc, asOf: nil, format: .json))
        func line(_ id: String) -> JSONValue? { timeline["entries"]?.arrayValue?.first { $0["event_id"] == .string(id) } }
        #expect(line(s.signed)?["provenance"]?["dkim_domain"] == .string("example.org"))
        #expect(line(s.signed)?["provenance"]?["dkim_selector"] == .string("mail2026"))
        #expect(line(s.signed)?["signature_verified"] == .bool(true))
        #expect(line(s.unsigned)?["provenance"]?["label"] == .string(Self.unsignedLabel))
        #expect(line(s.unsigned)?["signature_verified"] == .bool(false))
        #expect(line(s.personSigned)?["provenance"]?["status"] == .string("unverified"))

        // Compliance (case, every format) and the audit (every format): the unverified ones are findings.
        let unsignedFinding = "email not DKIM-verified (no DKIM signature): it counts as evidence, unverified"
        for format in ComplianceFormat.allCases {
            var text = ""
            _ = try ledger.compliance(caseID: Self.inc, asOf: nil, format: format) { text += $0 }
            #expect(text.contains(unsignedFinding), "compliance \(format)")
            #expect(text.contains(claim), "compliance \(format)")
        }
        var json = ""
        _ = try ledger.compliance(caseID: Self.inc, asOf: nil, format: .json) { json += $0 }
        let findings = try JSONValue.parse(json)["findings"]?.arrayValue ?? []
        #expect(findings.contains { $0["kind"] == .string("unverified_email") && $0["event"] == .string(s.unsigned) })
        #expect(findings.contains { $0["kind"] == .string("unverified_provenance") && $0["event"] == .string(s.personSigned) })
        #expect(!findings.contains { $0["event"] == .string(s.signed) && ["unverified_email", "unverified_provenance"].contains($0["kind"]?.stringValue ?? "") })
        let from = try RFC3339.parse("2026-01-01T00:00:00Z"), to = try RFC3339.parse("2027-01-01T00:00:00Z")
        for format in ReportFormat.allCases {
            let audit = try ledger.audit(from: from, to: to, asOf: nil, digest: nil, format: format).text
            #expect(audit.contains(unsignedFinding), "audit \(format)")
            #expect(audit.contains(claim), "audit \(format)")
        }
    }

    @Test("verify --signatures: the kept messages re-verify with the key file; without the key, or with no DNS, they cannot be checked")
    func reverify() throws {
        let s = try Self.setUp()
        defer { s.cleanUp() }
        let report = try s.db.session().open().verifySignatures(dkim: .keyFile(s.keys.path))
        // The unsigned message never claimed a signature: not listed, not failing.
        #expect(report.entries.map(\.eventID).sorted() == [s.signed, s.personSigned].sorted())
        #expect(report.reverified == 2, "\(report.lines)")
        #expect(report.ok)
        let entry = try #require(report.entries.first { $0.eventID == s.signed })
        #expect((entry.dkimDomain, entry.dkimSelector) == ("example.org", "mail2026"))
        #expect(report.lines.contains { $0.hasPrefix("re-verified: ") && $0.contains("event \(s.signed)") && $0.hasSuffix("with DKIM d=example.org s=mail2026") })

        let cli = try CLI.run(["verify", "--signatures", "--dkim-keys", s.keys.path], database: s.db.url)
        #expect(cli.status == 0, "\(cli.stderr)")
        #expect(cli.lines.first?.hasPrefix("ok: ") == true)
        #expect(cli.lines.last == "signatures: 2 re-verified, 0 FAILED, 0 cannot check (of 2 events claiming a verified signature)")
        let json = try JSONValue.parse(try CLI.run(["verify", "--signatures", "--dkim-keys", s.keys.path, "--json"], database: s.db.url).stdout)
        let item = json["signatures"]?["events"]?.arrayValue?.first { $0["id"] == .string(s.signed) }
        #expect(item?["result"] == .string("re-verified"))
        #expect(item?["dkim_domain"] == .string("example.org"))
        #expect(item?["dkim_selector"] == .string("mail2026"))

        // The key file no longer has the key (rotated away): cannot check, not FAILED.
        let rotated = try CLI.run(["verify", "--signatures", "--dkim-keys", s.otherKeys.path], database: s.db.url)
        #expect(rotated.status == 0, "\(rotated.stdout)")
        #expect(rotated.lines.contains { $0.hasPrefix("cannot check: ") && $0.contains("event \(s.signed)") && $0.contains("key not found at mail2026._domainkey.example.org") })
        #expect(rotated.lines.last == "signatures: 0 re-verified, 0 FAILED, 2 cannot check (of 2 events claiming a verified signature)")
        // No key file and no DNS: nothing to check with.
        let none = try s.db.session().open().verifySignatures(dkim: .none)
        #expect(none.cannotCheck == 2)
        #expect(none.lines.allSatisfy { $0.contains("no DKIM keys to check with") })
        let noDNS = try CLI.run(["verify", "--signatures", "--no-dns"], database: s.db.url)
        #expect(noDNS.status == 0, "\(noDNS.stderr)")
        #expect(noDNS.lines.last == "signatures: 0 re-verified, 0 FAILED, 2 cannot check (of 2 events claiming a verified signature)")
        // A key file that cannot be read: one line naming it, nothing checked.
        let missing = try CLI.run(["verify", "--signatures", "--dkim-keys", s.dir.appendingPathComponent("nope.txt").path], database: s.db.url)
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("nope.txt"))
    }

    /// Runs `sql` with triggers off, as a superuser can.
    static func tamper(_ c: Connection, _ sql: String, _ parameters: [String?] = []) throws {
        try c.execute("SET session_replication_role = replica")
        _ = try c.query(sql, parameters)
        try c.execute("SET session_replication_role = origin")
    }

    /// Recomputes every hash from `position` on and the head, as a careful
    /// tamperer with the hash recipe would: `verify` alone then passes.
    static func rewriteChain(_ store: EventStore, from position: Int64) throws {
        var previous = ChainHash.bytes(hex: try store.connection.query(
            "SELECT encode(hash, 'hex') FROM dtledger.events WHERE position = \(position - 1)").scalar!)!
        var rewritten: [(Int64, String, String)] = []
        try store.forEachEvent(after: position - 1) { e in
            let h = ChainHash.hash(previous: previous, fields: e.hashFields)
            rewritten.append((e.position, ChainHash.hex(previous), ChainHash.hex(h)))
            previous = h
        }
        for (p, prev, hash) in rewritten {
            try tamper(store.connection, "UPDATE dtledger.events SET previous_hash = decode('\(prev)', 'hex'), hash = decode('\(hash)', 'hex') WHERE position = \(p)")
        }
        try tamper(store.connection, "UPDATE dtledger.head SET hash = decode('\(ChainHash.hex(previous))', 'hex')")
    }

    @Test("a superuser changes the kept message's body (and payload_sha256) and recomputes the chain: verify passes, verify --signatures FAILS it")
    func alteredKeptMessage() throws {
        let s = try Self.setUp()
        defer { s.cleanUp() }
        let store = try s.db.store()
        let event = try #require(try store.events(caseID: Self.inc).first { $0.id == s.signed })
        let raw = try #require(event.metadata["import"]?["raw_message"]?.stringValue)
        let changed = raw.replacingOccurrences(of: "About 12,000 users", with: "About 1,200 users")
        #expect(changed != raw)
        let sha = Hex.encode(SHA256.hash(data: Data(changed.utf8)))
        try Self.tamper(store.connection, """
            UPDATE dtledger.events SET metadata = jsonb_set(jsonb_set(metadata, '{import,raw_message}', to_jsonb($1::text)),
                                                            '{import,payload_sha256}', to_jsonb($2::text))
             WHERE id = $3
            """, [changed, sha, s.signed])
        // Caught by the chain, until the tamperer recomputes it.
        #expect(try !store.verify().ok)
        try Self.rewriteChain(store, from: event.position)
        #expect(try store.verify().ok, "a consistent rewrite passes the chain check")

        let report = try s.db.session().open().verifySignatures(dkim: .keyFile(s.keys.path))
        guard case .failed(let why)? = report.entries.first(where: { $0.eventID == s.signed })?.result else {
            Issue.record("expected FAILED: \(report.lines)"); return
        }
        #expect(why == "DKIM d=example.org s=mail2026: body hash mismatch")
        #expect(!report.ok)
        let cli = try CLI.run(["verify", "--signatures", "--dkim-keys", s.keys.path], database: s.db.url)
        #expect(cli.status == 1)
        #expect(cli.lines.first?.hasPrefix("ok: ") == true, "the chain itself verifies")
        #expect(cli.lines.contains { $0.hasPrefix("FAILED: ") && $0.contains("event \(s.signed)") && $0.hasSuffix("body hash mismatch") })
    }

    @Test("a genuinely signed message copied onto another event, or moved in time, FAILS; a claim without a kept message cannot be checked")
    func boundToTheEvent() throws {
        let s = try Self.setUp()
        defer { s.cleanUp() }
        let events = try s.db.store().events(caseID: Self.inc)
        let genuine = try #require(events.first { $0.id == s.signed })
        let imported = try #require(genuine.metadata["import"])
        let verifier = DKIMVerifier(keys: try DKIMKeyFile(path: s.keys.path))
        func check(key: String?, ref: String?, at: Date, meta: JSONValue = imported) -> KeptSignature.Check {
            KeptMessage.check(importMetadata: meta, key: key, messageRef: ref, occurredAt: at, verifier: verifier).check
        }
        #expect(check(key: genuine.key, ref: "p1-signed@example.org", at: genuine.occurredAt) == .verified)
        guard case .failed(let copied) = check(key: "email/other@example.org", ref: "other@example.org", at: genuine.occurredAt) else {
            Issue.record("a copy onto another key must fail"); return
        }
        #expect(copied.contains("not the event's key"))
        guard case .failed(let moved) = check(key: genuine.key, ref: "p1-signed@example.org", at: genuine.occurredAt.addingTimeInterval(-3600)) else {
            Issue.record("a message moved in time must fail"); return
        }
        #expect(moved.contains("is not the event's occurred_at"))
        guard case .failed = check(key: genuine.key, ref: "another@example.org", at: genuine.occurredAt) else {
            Issue.record("another message_ref must fail"); return
        }
        // DNS unreachable, or the key revoked since: cannot check (the message may be genuine).
        for (lookup, expected) in [(DKIMKeyLookup.failed("DNS look-up of mail2026._domainkey.example.org failed temporarily"), "key look-up failed"),
                                   (.records(["v=DKIM1; k=ed25519; p="]), "key revoked")] {
            let r = KeptMessage.check(importMetadata: imported, key: genuine.key, messageRef: "p1-signed@example.org",
                                      occurredAt: genuine.occurredAt, verifier: DKIMVerifier(keys: FixedKeys(answer: lookup)))
            guard case .cannotCheck(let why) = r.check else { Issue.record("\(expected): \(r.check)"); continue }
            #expect(why.hasPrefix("DKIM d=example.org s=mail2026: \(expected)"), "\(why)")
        }
        guard case .object(var o) = imported else { return }
        o["raw_message"] = nil
        o["raw_message_kept"] = nil
        guard case .cannotCheck(let why) = check(key: genuine.key, ref: "p1-signed@example.org", at: genuine.occurredAt, meta: .object(o)) else {
            Issue.record("nothing kept: cannot check"); return
        }
        #expect(why == "no raw message was kept with the event")
        o["raw_message_kept"] = .bool(false)
        guard case .cannotCheck(let large) = check(key: genuine.key, ref: "p1-signed@example.org", at: genuine.occurredAt, meta: .object(o)) else {
            Issue.record("too large: cannot check"); return
        }
        #expect(large.contains("too large"))
    }
}

/// A key provider that gives one answer to every look-up (a resolver that
/// fails, a key revoked since): a fake of DNS, the vendor's API here.
struct FixedKeys: DKIMKeyProvider {
    let answer: DKIMKeyLookup
    func lookup(_ name: String) -> DKIMKeyLookup { answer }
}
