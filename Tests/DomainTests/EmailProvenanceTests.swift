import Domain
import Events
import Foundation
import Testing

/// How reports show an imported email (`Provenance`): DKIM-verified with its
/// signer only from the directory's registered email importer login; an
/// unsigned, failing or unchecked message not verified, saying why, and a
/// finding; a claim from any other login unverified.
@Suite("Provenance of email")
struct EmailProvenanceTests {
    static func directory() throws -> Directory {
        try Bound.directory(services: [ServiceLogin(login: "mail-importer", sources: ["email"]),
                                       ServiceLogin(login: "snow-importer", sources: ["servicenow"])])
    }

    static func email(login: String, _ imported: [String: JSONValue]) -> RecordedEvent {
        var meta = imported
        meta["source"] = "email"
        let t = Date(timeIntervalSince1970: 1_775_583_600)
        return RecordedEvent(id: "e1", position: 1, caseID: "INC-2026-0142", version: 1, type: "notification.sent",
                             occurredAt: t, recordedAt: t, actor: "lou-em", source: "email", key: "email/m1@example.gov",
                             data: .object([:]), metadata: .object(["db_role": .string(login), "import": .object(meta)]),
                             hash: "", previousHash: "")
    }

    static let signed: [String: JSONValue] = [
        "signature_verified": .bool(true), "dkim_domain": "example.gov", "dkim_selector": "sel2026",
        "dkim": .array(["verified d=example.gov s=sel2026 a=ed25519-sha256"]),
    ]

    @Test("verified from the registered email importer, with the signer, in the label and the JSON")
    func verified() throws {
        let p = Provenance.of(Self.email(login: "mail-importer", Self.signed), directory: try Self.directory())
        #expect(p == .verified(source: "email", secretName: nil, signer: Provenance.Signer(domain: "example.gov", selector: "sel2026")))
        #expect(p.label(source: "email") == "email, DKIM verified (d=example.gov, s=sel2026)")
        #expect(p.json(source: "email")["dkim_domain"] == "example.gov")
        #expect(p.json(source: "email")["dkim_selector"] == "sel2026")
        #expect(p.signatureVerified == true)
        #expect(p.finding(eventID: "e1") == nil)
    }

    @Test("the same claim from a person's login, or an importer registered for another source, is unverified")
    func claimedByAClient() throws {
        for login in ["sean", "snow-importer"] {
            let p = Provenance.of(Self.email(login: login, Self.signed), directory: try Self.directory())
            #expect(p == .unverified(reason: "signature_verified claimed by login \(login), not a registered importer login"))
            #expect(p.label(source: "email") == "email, signature not verified (claimed by a client)")
            #expect(p.json(source: "email")["dkim_domain"] == nil)
            #expect(p.finding(eventID: "e1")?.kind == .unverifiedProvenance)
        }
    }

    @Test("unsigned, failing and unchecked messages: not verified, saying why, each a finding")
    func notVerified() throws {
        let cases: [([String: JSONValue], String)] = [
            (["signature_verified": .bool(false), "dkim": .array([])], "no DKIM signature"),
            (["signature_verified": .bool(false),
              "dkim": .array(["failed d=example.gov s=sel2026 a=rsa-sha256: body hash mismatch",
                              "failed d=relay.example.net s=r1 a=rsa-sha256: signature mismatch"])], "DKIM: body hash mismatch"),
            (["signature_verified": .bool(false)], "DKIM not checked"),
        ]
        for (meta, reason) in cases {
            let p = Provenance.of(Self.email(login: "mail-importer", meta), directory: try Self.directory())
            #expect(p == .unsigned(source: "email", reason: reason))
            #expect(p.label(source: "email") == "email, not verified (\(reason))")
            #expect(p.json(source: "email")["reason"] == .string(reason))
            #expect(p.signatureVerified == false)
            #expect(p.finding(eventID: "e1") == Finding(kind: .unverifiedEmail, eventID: "e1",
                                                        detail: "email not DKIM-verified (\(reason)): it counts as evidence, unverified"))
        }
        // Other sources keep their labels, and an unsigned import of theirs is no finding.
        #expect(Provenance.unsigned(source: "pagerduty").label(source: "pagerduty") == "pagerduty, not verified")
        #expect(Provenance.unsigned(source: "pagerduty").finding(eventID: "e1") == nil)
        #expect(Provenance.verified(source: "slack", secretName: "SLACK_SIGNING_SECRET").label(source: "slack") == "slack, signature verified")
    }
}
