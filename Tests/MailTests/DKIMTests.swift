import Crypto
import Foundation
import Testing
import _CryptoExtras

@testable import Mail

/// Keys made once for the suite (RSA generation is slow).
enum TestKeys {
    static let rsa = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    static let edSeed = Curve25519.Signing.PrivateKey().rawRepresentation
    static var ed: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: edSeed) }
    static var records: [String: [String]] {
        [
            "rsa._domainkey.example.com": ["v=DKIM1; k=rsa; p=\(rsa.publicKey.derRepresentation.base64EncodedString())"],
            "ed._domainkey.example.com": ["v=DKIM1; k=ed25519; p=\(ed.publicKey.rawRepresentation.base64EncodedString())"],
            "gone._domainkey.example.com": ["v=DKIM1; k=rsa; p="],
        ]
    }
    static var keys: DKIMKeyFile { DKIMKeyFile(records: records) }
}

let sample = crlf("""
    From: Incident Bot <bot@example.com>
    To: Ops <ops@example.com>, pm@example.com
    Subject: [P1] INC0012 Login down
    Date: Tue, 7 Apr 2026 14:00:00 +0000
    Message-ID: <inc0012-1@example.com>

    Users affected: 300
    Services:  Login,  Search

    """)

@Suite struct DKIMTests {
    let now = utc("2026-04-07T15:00:00Z")

    /// RFC 8463 Appendix A: the message, both signatures and both keys as the RFC publishes them.
    static let rfc8463Keys = """
        # RFC 8463 Appendix A.2 (the ed25519 key is RFC 8032's test 1 key)
        brisbane._domainkey.football.example.com. IN TXT ( "v=DKIM1; k=ed25519; "
            "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=" )
        test._domainkey.football.example.com v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB
        """
    static let rfc8463Message = crlf("""
        DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;
         d=football.example.com; i=@football.example.com;
         q=dns/txt; s=brisbane; t=1528637909; h=from : to :
         subject : date : message-id : from : subject : date;
         bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
         b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus
         Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==
        DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;
         d=football.example.com; i=@football.example.com;
         q=dns/txt; s=test; t=1528637909; h=from : to : subject :
         date : message-id : from : subject : date;
         bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
         b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3
         DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz
         dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=
        From: Joe SixPack <joe@football.example.com>
        To: Suzie Q <suzie@shopping.example.net>
        Subject: Is dinner ready?
        Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)
        Message-ID: <20030712040037.46341.5F8J@football.example.com>

        Hi.

        We lost the game.  Are you hungry yet?

        Joe.

        """)

    @Test func rfc8463ExampleVerifies() throws {
        let keys = try DKIMKeyFile(text: Self.rfc8463Keys)
        // The RFC's ed25519 key is RFC 8032's first test key: its seed gives it.
        let seed = Data(base64Encoded: "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=")!
        #expect(try Curve25519.Signing.PrivateKey(rawRepresentation: seed).publicKey.rawRepresentation.base64EncodedString()
            == "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
        let m = try MailMessage.parse(Self.rfc8463Message)
        let results = DKIMVerifier(keys: keys).verify(m, at: now)
        #expect(results.map(\.summary) == [
            "verified d=football.example.com s=brisbane a=ed25519-sha256",
            "verified d=football.example.com s=test a=rsa-sha256",
        ])
        // The same message stored with LF line endings (as in an mbox) verifies too.
        let lf = Array(String(decoding: Self.rfc8463Message, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n").utf8)
        #expect(DKIMVerifier(keys: keys).verify(raw: lf, at: now).allSatisfy { $0.verified })
        // One changed character in the body breaks both.
        var changed = Self.rfc8463Message
        changed[changed.count - 3] = UInt8(ascii: "!")
        #expect(DKIMVerifier(keys: keys).verify(raw: changed, at: now).map(\.failure) == [.bodyHashMismatch, .bodyHashMismatch])
    }

    static let canonicalizations: [(DKIMCanonicalization, DKIMCanonicalization)] = [
        (.simple, .simple), (.relaxed, .relaxed), (.simple, .relaxed), (.relaxed, .simple),
    ]

    func signer(_ alg: String, _ c: (DKIMCanonicalization, DKIMCanonicalization)) -> DKIMSigner {
        DKIMSigner(
            domain: "example.com", selector: alg, key: alg == "rsa" ? .rsa(TestKeys.rsa) : .ed25519(TestKeys.ed),
            headerCanonicalization: c.0, bodyCanonicalization: c.1, timestamp: utc("2026-04-07T14:00:01Z"))
    }

    func verify(_ raw: [UInt8]) -> [DKIMResult] { DKIMVerifier(keys: TestKeys.keys).verify(raw: raw, at: now) }

    static func replacing(_ raw: [UInt8], _ a: String, _ b: String) -> [UInt8] {
        Array(String(decoding: raw, as: UTF8.self).replacingOccurrences(of: a, with: b).utf8)
    }

    @Test(arguments: ["rsa", "ed"], [0, 1, 2, 3])
    func signedInTestThenAltered(alg: String, c: Int) throws {
        let canon = Self.canonicalizations[c]
        let signed = try signer(alg, canon).sign(sample)
        let algName = alg == "rsa" ? "rsa-sha256" : "ed25519-sha256"
        #expect(verify(signed).map(\.summary) == ["verified d=example.com s=\(alg) a=\(algName)"])

        // A signed header changed: signature mismatch, whatever the canonicalisation.
        let header = Self.replacing(signed, "Subject: [P1]", "Subject: [P3]")
        #expect(verify(header).map(\.failure) == [.signatureMismatch])
        // The body changed.
        let body = Self.replacing(signed, "Users affected: 300", "Users affected: 3000")
        #expect(verify(body).map(\.failure) == [.bodyHashMismatch])
        // Whitespace changes: relaxed accepts them, simple does not.
        let headerSpace = Self.replacing(signed, "Subject: [P1] INC0012", "Subject:  [P1]   INC0012 ")
        #expect(verify(headerSpace).map(\.failure) == [canon.0 == .relaxed ? nil : .signatureMismatch])
        let headerFold = Self.replacing(signed, "Subject: [P1] INC0012", "Subject: [P1]\r\n\tINC0012")
        #expect(verify(headerFold).map(\.failure) == [canon.0 == .relaxed ? nil : .signatureMismatch])
        let headerCase = Self.replacing(signed, "Subject: [P1]", "SUBJECT: [P1]")
        #expect(verify(headerCase).map(\.failure) == [canon.0 == .relaxed ? nil : .signatureMismatch])
        let bodySpace = Self.replacing(signed, "Services:  Login,  Search", "Services: Login,\tSearch   ")
        #expect(verify(bodySpace).map(\.failure) == [canon.1 == .relaxed ? nil : .bodyHashMismatch])
        // Trailing empty lines are ignored by both.
        #expect(verify(signed + crlf("\n\n\n")).map(\.failure) == [nil])
        // An unsigned header added: still verified.
        #expect(verify(crlf("X-Spam: no\n") + signed).map(\.failure) == [nil])
    }

    @Test func expiredSignature() throws {
        var s = signer("ed", (.relaxed, .relaxed))
        s.expiration = utc("2026-04-07T14:30:00Z")
        let signed = try s.sign(sample)
        #expect(DKIMVerifier(keys: TestKeys.keys).verify(raw: signed, at: utc("2026-04-07T14:29:59Z")).first?.verified == true)
        let late = DKIMVerifier(keys: TestKeys.keys).verify(raw: signed, at: now)
        #expect(late.map(\.failure) == [.expired(utc("2026-04-07T14:30:00Z"))])
        #expect(late.first?.summary == "failed d=example.com s=ed a=ed25519-sha256: signature expired at 2026-04-07T14:30:00Z")
    }

    @Test(arguments: [DKIMCanonicalization.simple, .relaxed])
    func bodyLengthWithAppendedText(body: DKIMCanonicalization) throws {
        var s = signer("rsa", (.relaxed, body))
        s.bodyLength = 20
        let signed = try s.sign(sample)
        #expect(verify(signed).first?.bodyLength == 20)
        #expect(verify(signed).first?.summary.hasSuffix("(l=20: only part of the body is signed)") == true)
        // Text appended after the signed length: still verified (that is what l= means).
        #expect(verify(signed + crlf("Appended by a list: unsubscribe here\n")).map(\.failure) == [nil])
        // A change inside the signed length is not.
        #expect(verify(Self.replacing(signed, "Users affected: 300", "Users affected: 900")).map(\.failure) == [.bodyHashMismatch])
        // l= longer than the body.
        var long = signer("ed", (.relaxed, body))
        long.bodyLength = 20
        let cut = try long.sign(crlf("From: a@example.com\n\nshort\n"))
        #expect(verify(cut).map(\.failure) == [nil])
        let forged = Self.replacing(cut, "l=7;", "l=400;")
        #expect(verify(forged).first?.failure == .bodyLengthExceeded(400, 7))
    }

    @Test func overSignedAndMissingHeaders() throws {
        var s = signer("ed", (.relaxed, .relaxed))
        // Subject over-signed (listed twice), Cc and Reply-To absent at signing.
        s.headers = ["from", "subject", "subject", "cc", "reply-to", "date"]
        let signed = try s.sign(sample)
        #expect(verify(signed).map(\.failure) == [nil])
        // A second Subject added later breaks it (over-signing), so does an added Cc.
        #expect(verify(Self.replacing(signed, "Date: ", "Subject: free money\r\nDate: ")).map(\.failure) == [.signatureMismatch])
        #expect(verify(Self.replacing(signed, "Date: ", "Cc: attacker@evil.example\r\nDate: ")).map(\.failure) == [.signatureMismatch])
        var plain = signer("ed", (.relaxed, .relaxed))
        plain.headers = ["from", "subject"]
        let p = try plain.sign(sample)
        // A new Subject below the original is the one verifiers take: mismatch.
        #expect(verify(Self.replacing(p, "Message-ID:", "Subject: other\r\nMessage-ID:")).map(\.failure) == [.signatureMismatch])
    }

    @Test func severalSignaturesOneGood() throws {
        let first = try signer("rsa", (.relaxed, .relaxed)).sign(sample)
        var bad = signer("ed", (.simple, .simple))
        bad.selector = "gone"
        var other = signer("ed", (.relaxed, .relaxed))
        other.domain = "elsewhere.example"
        let three = try other.sign(try bad.sign(first))
        let results = verify(three)
        #expect(results.map(\.summary) == [
            "failed d=elsewhere.example s=ed a=ed25519-sha256: key not found at ed._domainkey.elsewhere.example",
            "failed d=example.com s=gone a=ed25519-sha256: key revoked (empty p=)",
            "verified d=example.com s=rsa a=rsa-sha256",
        ])
        #expect(results.contains { $0.verified })
        // Unsigned: no results.
        #expect(verify(sample).isEmpty)
    }

    @Test func signatureTagProblems() throws {
        let signed = try signer("ed", (.relaxed, .relaxed)).sign(sample)
        let cases: [(String, String, DKIMFailure)] = [
            ("a=ed25519-sha256", "a=rsa-sha1", .unsupportedAlgorithm("rsa-sha1")),
            ("v=1;", "v=2;", .malformed("v=2 is not 1")),
            ("h=from:", "h=", .malformed("h= does not sign From")),
            ("d=example.com;", "d=example.com; i=joe@other.example;", .malformed("i= domain other.example is not within d=example.com")),
            ("d=example.com;", "d=example.com; d=x.example;", .malformed("tag d= appears twice")),
            ("c=relaxed/relaxed", "c=loose/relaxed", .malformed("unknown canonicalization c=loose/relaxed")),
            ("s=ed;", "s=rsa;", .keyUnusable("k=rsa does not match a=ed25519-sha256")),
        ]
        for (a, b, failure) in cases {
            let r = verify(Self.replacing(signed, a, b))
            #expect(r.map(\.failure) == [failure], "\(b)")
        }
        #expect(DKIMFailure.keyNotFound("s._domainkey.d").reason == "key not found at s._domainkey.d")
        #expect(DKIMFailure.signatureMismatch.reason == "signature mismatch")
        #expect(DKIMFailure.bodyHashMismatch.reason == "body hash mismatch")
    }

    @Test func keyFileFormats() throws {
        let text = """
            # a comment
            a._domainkey.example.com v=DKIM1; k=ed25519; p=AAAA

            b._domainkey.example.com. 3600 IN TXT "v=DKIM1; " "k=rsa; p=BB"
            c._domainkey.example.com IN TXT ( "v=DKIM1; h=sha256; k=rsa; "
                  "p=CC" )  ; ----- DKIM key c for example.com
            """
        let k = try DKIMKeyFile(text: text)
        #expect(k.lookup("A._domainkey.example.com") == .records(["v=DKIM1; k=ed25519; p=AAAA"]))
        #expect(k.lookup("b._domainkey.example.com") == .records(["v=DKIM1; k=rsa; p=BB"]))
        #expect(k.lookup("c._domainkey.example.com.") == .records(["v=DKIM1; h=sha256; k=rsa; p=CC"]))
        #expect(k.lookup("d._domainkey.example.com") == .notFound)
        #expect(throws: MailError("key file:1: example.com is not selector._domainkey.domain")) {
            try DKIMKeyFile(text: "example.com v=DKIM1; p=AA")
        }
        #expect(throws: MailError("key file:1: \"(\" is never closed")) {
            try DKIMKeyFile(text: "a._domainkey.x TXT ( \"v=DKIM1\"")
        }
        // A directory of key files.
        let dir = try tempDir("keys")
        try Data("a._domainkey.example.com v=DKIM1; p=A1\n".utf8).write(to: URL(fileURLWithPath: dir + "/one.txt"))
        try Data("b._domainkey.example.com v=DKIM1; p=B1\n".utf8).write(to: URL(fileURLWithPath: dir + "/two.txt"))
        let d = try DKIMKeyFile(path: dir)
        #expect(d.lookup("b._domainkey.example.com") == .records(["v=DKIM1; p=B1"]))
        #expect(d.lookup("a._domainkey.example.com") == .records(["v=DKIM1; p=A1"]))
    }

    @Test func dnsAnswerParsing() {
        // A response for TXT brisbane._domainkey.example.com with one record in two strings,
        // the answer's name compressed to the question's.
        var m: [UInt8] = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]
        for label in ["brisbane", "_domainkey", "example", "com"] { m += [UInt8(label.count)] + Array(label.utf8) }
        m += [0, 0, 16, 0, 1]
        let s1 = Array("v=DKIM1; k=ed25519; ".utf8), s2 = Array("p=11qY".utf8)
        let rdata = [UInt8(s1.count)] + s1 + [UInt8(s2.count)] + s2
        m += [0xC0, 12, 0, 16, 0, 1, 0, 0, 0x0E, 0x10, 0, UInt8(rdata.count)] + rdata
        #expect(DNSAnswer.txtRecords(m) == ["v=DKIM1; k=ed25519; p=11qY"])
        #expect(DNSAnswer.txtRecords(Array(m.prefix(m.count - 3))) == nil)
        #expect(DNSAnswer.txtRecords([1, 2, 3]) == nil)
    }

    /// The system resolver through the C shim, end to end, without depending on
    /// the network: a name under .invalid (RFC 6761) never exists, so the
    /// answer is "not found" (a resolver answered) or "failed" (none reachable).
    @Test func dnsProviderThroughTheSystemResolver() throws {
        let r = DKIMDNSKeys().lookup("sel._domainkey.dtledger-test.invalid")
        #expect(r != .records([]))
        if case .records = r { Issue.record("records for a name under .invalid: \(r)") }
        var s = signer("ed", (.relaxed, .relaxed))
        s.domain = "dtledger-test.invalid"
        let failure = DKIMVerifier(keys: DKIMDNSKeys()).verify(raw: try s.sign(sample), at: now).first?.failure
        switch failure {
        case .keyNotFound("ed._domainkey.dtledger-test.invalid"), .keyLookupFailed: break
        default: Issue.record("unexpected: \(String(describing: failure))")
        }
    }

    @Test func canonicalizationVectors() {
        // RFC 6376 §3.4.5's example.
        let h1 = Array("A: X\r\n".utf8), h2 = Array("B : Y\t\r\n\tZ  \r\n".utf8)
        #expect(DKIMCanonicalization.relaxed.header(h1[...]) == Array("a:X\r\n".utf8))
        #expect(DKIMCanonicalization.relaxed.header(h2[...]) == Array("b:Y Z\r\n".utf8))
        let body = Array(" C \r\nD \t E\r\n\r\n\r\n".utf8)
        #expect(DKIMCanonicalization.relaxed.body(body[...]) == Array(" C\r\nD E\r\n".utf8))
        #expect(DKIMCanonicalization.simple.body(body[...]) == Array(" C \r\nD \t E\r\n".utf8))
        #expect(DKIMCanonicalization.simple.body([][...]) == Array("\r\n".utf8))
        #expect(DKIMCanonicalization.relaxed.body([][...]) == [])
    }
}
