import Crypto
import Foundation
import Testing
import _CryptoExtras

@testable import Mail

/// RFC 6376 Appendix A: the example message (A.1), the message as signed
/// (A.3: the DKIM-Signature of A.2 prepended) and the key pair of
/// Appendix C, transcribed from the RFC as printed (the Received field's two
/// spaces included).
///
/// What is true of the published example (errata have been filed against
/// it, so it was checked rather than assumed): transcribed as printed, its
/// `bh=` is exactly our simple-canonical body hash of the printed body, and
/// its `b=` verifies with the Appendix C public key, for us and for dkimpy
/// (the oracle). Tested besides: the example altered (body, a signed
/// header) fails for both; with its body removed it fails with "body hash
/// mismatch"; and the A.1 message signed by us with the Appendix C private
/// key and A.2's tags gets the published `bh=` and verifies with the
/// Appendix C public key, for us and for dkimpy.
enum RFC6376 {
    /// Appendix A.3, with CRLF line endings.
    static let signedMessage = crlf("""
        DKIM-Signature: v=1; a=rsa-sha256; s=brisbane; d=example.com;
              c=simple/simple; q=dns/txt; i=joe@football.example.com;
              h=Received : From : To : Subject : Date : Message-ID;
              bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
              b=AuUoFEfDxTDkHlLXSZEpZj79LICEps6eda7W3deTVFOk4yAUoqOB
                4nujc7YopdG5dWLSdNg6xNAZpOPr+kHxt1IrE+NahM6L/LbvaHut
                KVdkLLkpVaVVQPzeRDI009SO2Il5Lu7rDNH6mZckBdrIx0orEtZV
                4bmp/YzhwvcubU4=;
        \(unsignedText)
        """)

    /// Appendix A.1, the message before signing (text, LF line endings).
    static let unsignedText = """
        Received: from client1.football.example.com  [192.0.2.1]
              by submitserver.example.com with SUBMISSION;
              Fri, 11 Jul 2003 21:01:54 -0700 (PDT)
        From: Joe SixPack <joe@football.example.com>
        To: Suzie Q <suzie@shopping.example.net>
        Subject: Is dinner ready?
        Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)
        Message-ID: <20030712040037.46341.5F8J@football.example.com>

        Hi.

        We lost the game. Are you hungry yet?

        Joe.

        """

    static var unsignedMessage: [UInt8] { crlf(unsignedText) }

    /// The published bh= (and what simple canonicalisation makes of an empty body: one CRLF).
    static let publishedBodyHash = "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8="

    /// Appendix C: the public key record at brisbane._domainkey.example.com.
    static let publicKeyRecord = "v=DKIM1; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYtIxN2SnFCjxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v/RtdC2UzJ1lWT947qR+Rcac2gbto/NMqJ0fzfVjH4OuKhitdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB"

    static var keys: DKIMKeyFile { DKIMKeyFile(records: ["brisbane._domainkey.example.com": [publicKeyRecord]]) }

    /// Appendix C: the private key (PKCS#1, 1024 bits: loaded with the
    /// `unsafe` initialiser, as RFC 8301 still makes verifiers accept such keys).
    static let privateKeyPEM = """
        -----BEGIN RSA PRIVATE KEY-----
        MIICXwIBAAKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYtIxN2SnFC
        jxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v/RtdC2UzJ1lWT947qR+Rcac2gb
        to/NMqJ0fzfVjH4OuKhitdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB
        AoGBALmn+XwWk7akvkUlqb+dOxyLB9i5VBVfje89Teolwc9YJT36BGN/l4e0l6QX
        /1//6DWUTB3KI6wFcm7TWJcxbS0tcKZX7FsJvUz1SbQnkS54DJck1EZO/BLa5ckJ
        gAYIaqlA9C0ZwM6i58lLlPadX/rtHb7pWzeNcZHjKrjM461ZAkEA+itss2nRlmyO
        n1/5yDyCluST4dQfO8kAB3toSEVc7DeFeDhnC1mZdjASZNvdHS4gbLIA1hUGEF9m
        3hKsGUMMPwJBAPW5v/U+AWTADFCS22t72NUurgzeAbzb1HWMqO4y4+9Hpjk5wvL/
        eVYizyuce3/fGke7aRYw/ADKygMJdW8H/OcCQQDz5OQb4j2QDpPZc0Nc4QlbvMsj
        7p7otWRO5xRa6SzXqqV3+F0VpqvDmshEBkoCydaYwc2o6WQ5EBmExeV8124XAkEA
        qZzGsIxVP+sEVRWZmW6KNFSdVUpk3qzK0Tz/WjQMe5z0UunY9Ax9/4PVhp/j61bf
        eAYXunajbBSOLlx4D+TunwJBANkPI5S9iylsbLs6NkaMHV6k5ioHBBmgCak95JGX
        GMot/L2x0IYyMLAz6oLWh2hm7zwtb0CgOrPo1ke44hFYnfc=
        -----END RSA PRIVATE KEY-----
        """

    static func privateKey() throws -> _RSA.Signing.PrivateKey {
        try _RSA.Signing.PrivateKey(unsafePEMRepresentation: privateKeyPEM)
    }

    /// The message with its body replaced by nothing (the header section and the empty line only).
    static func withEmptyBody(_ message: [UInt8]) -> [UInt8] {
        let sep: [UInt8] = [ASCII.cr, ASCII.lf, ASCII.cr, ASCII.lf]
        for i in 0...(message.count - sep.count) where Array(message[i..<(i + sep.count)]) == sep {
            return Array(message[..<(i + sep.count)])
        }
        return message
    }

    /// A signer with the tags of A.2 (simple/simple, the six header fields, i=).
    static func signer() throws -> DKIMSigner {
        DKIMSigner(domain: "example.com", selector: "brisbane", key: .rsa(try privateKey()),
                   headers: ["received", "from", "to", "subject", "date", "message-id"],
                   headerCanonicalization: .simple, bodyCanonicalization: .simple, identity: "joe@football.example.com")
    }

    /// The time the example is judged at (it has no x=).
    static let now = utc("2003-07-12T04:01:54Z")
}

@Suite("RFC 6376 Appendix A example (Appendix C keys)")
struct RFC6376Tests {
    @Test("the published bh= is our simple-canonical hash of the printed body (not of an empty body)")
    func publishedBodyHash() throws {
        let message = try MailMessage.parse(RFC6376.signedMessage)
        let printed = Data(SHA256.hash(data: DKIMCanonicalization.simple.body(message.body[...]))).base64EncodedString()
        #expect(printed == RFC6376.publishedBodyHash)
        #expect(printed == Data(SHA256.hash(data: Array("Hi.\r\n\r\nWe lost the game. Are you hungry yet?\r\n\r\nJoe.\r\n".utf8))).base64EncodedString())
        let empty = DKIMCanonicalization.simple.body(ArraySlice<UInt8>())
        #expect(empty == [ASCII.cr, ASCII.lf])
        #expect(Data(SHA256.hash(data: empty)).base64EncodedString() != RFC6376.publishedBodyHash)
    }

    @Test("the published message verifies with the Appendix C public key; altered (body, Subject) or emptied, it fails")
    func publishedMessageVerifies() throws {
        let verifier = DKIMVerifier(keys: RFC6376.keys)
        let results = verifier.verify(raw: RFC6376.signedMessage, at: RFC6376.now)
        #expect(results.count == 1)
        let r = try #require(results.first)
        #expect(r.domain == "example.com")
        #expect(r.selector == "brisbane")
        #expect(r.identity == "joe@football.example.com")
        #expect(r.verified, "\(r.summary)")
        let body = DKIMTests.replacing(RFC6376.signedMessage, "Are you hungry yet?", "Are you hungry now?")
        #expect(verifier.verify(raw: body, at: RFC6376.now).first?.failure == .bodyHashMismatch)
        let subject = DKIMTests.replacing(RFC6376.signedMessage, "Subject: Is dinner ready?", "Subject: Is lunch ready?")
        #expect(verifier.verify(raw: subject, at: RFC6376.now).first?.failure == .signatureMismatch)
        let empty = RFC6376.withEmptyBody(RFC6376.signedMessage)
        #expect(verifier.verify(raw: empty, at: RFC6376.now).first?.failure == .bodyHashMismatch)
        // Simple canonicalisation: the Received field's two spaces are signed as they are.
        let spaced = DKIMTests.replacing(RFC6376.signedMessage, "example.com  [192.0.2.1]", "example.com [192.0.2.1]")
        #expect(verifier.verify(raw: spaced, at: RFC6376.now).first?.failure == .signatureMismatch)
    }

    @Test("the A.1 message signed with the Appendix C private key (A.2's tags) gets the published bh= and verifies with the Appendix C public key")
    func signedWithAppendixCKey() throws {
        let signed = try RFC6376.signer().sign(RFC6376.unsignedMessage)
        let results = DKIMVerifier(keys: RFC6376.keys).verify(raw: signed, at: RFC6376.now)
        #expect(results.count == 1)
        #expect(results.first?.verified == true, "\(results.first?.summary ?? "none")")
        let field = try #require(try MailMessage.parse(signed).header("DKIM-Signature"))
        #expect(field.contains("bh=\(RFC6376.publishedBodyHash);"))
        let altered = DKIMTests.replacing(signed, "Are you hungry yet?", "Are you hungry now?")
        #expect(DKIMVerifier(keys: RFC6376.keys).verify(raw: altered, at: RFC6376.now).first?.failure == .bodyHashMismatch)
    }
}

/// The same example judged by dkimpy (the oracle): its verdicts and ours agree.
@Suite(.serialized, .enabled(if: Dkimpy.unavailable == nil, "dkimpy (pip install dkimpy) is not available here"))
struct RFC6376OracleTests {
    func keyFile() throws -> String {
        let path = try tempDir("rfc6376-keys") + "/keys.txt"
        try Data("brisbane._domainkey.example.com \(RFC6376.publicKeyRecord)\n".utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func dkimpy(_ message: [UInt8]) throws -> String {
        let r = Dkimpy.run(["verify", try keyFile()], input: message)
        #expect(r.status == 0, "\(r.err)")
        return String(decoding: r.out, as: UTF8.self)
    }

    func ours(_ message: [UInt8]) -> String {
        DKIMVerifier(keys: RFC6376.keys).verify(raw: message, at: RFC6376.now).first?.verified == true ? "pass" : "fail"
    }

    @Test("the published message: dkimpy passes it as we do; altered or emptied, both fail")
    func published() throws {
        #expect(try dkimpy(RFC6376.signedMessage) == "pass\n")
        #expect(ours(RFC6376.signedMessage) == "pass")
        for changed in [DKIMTests.replacing(RFC6376.signedMessage, "Are you hungry yet?", "Are you hungry now?"),
                        DKIMTests.replacing(RFC6376.signedMessage, "Subject: Is dinner ready?", "Subject: Is lunch ready?"),
                        RFC6376.withEmptyBody(RFC6376.signedMessage)] {
            let verdict = try dkimpy(changed)
            #expect(verdict.hasPrefix("fail"), "\(verdict)")
            #expect(ours(changed) == "fail")
        }
    }

    @Test("the A.1 message signed by us with the Appendix C private key verifies with dkimpy")
    func signedByUs() throws {
        let signed = try RFC6376.signer().sign(RFC6376.unsignedMessage)
        #expect(try dkimpy(signed) == "pass\n")
    }
}
