import Events
import Foundation
import Ingest
import Ledger
import Mail

/// One event that claims a verified signature, checked again.
public struct SignatureCheckEntry: Sendable {
    public var position: Int64
    public var eventID: String
    public var caseID: String
    public var type: String
    public var source: String
    /// The secret's environment variable the event names, if it names one.
    public var secretName: String?
    /// Email: the DKIM signer (d=, s=) that re-verified, else the one the event claims.
    public var dkimDomain: String?
    public var dkimSelector: String?
    public var result: KeptSignature.Check

    public init(position: Int64, eventID: String, caseID: String, type: String, source: String, secretName: String?,
                dkimDomain: String? = nil, dkimSelector: String? = nil, result: KeptSignature.Check) {
        (self.position, self.eventID, self.caseID, self.type, self.source) = (position, eventID, caseID, type, source)
        (self.secretName, self.dkimDomain, self.dkimSelector, self.result) = (secretName, dkimDomain, dkimSelector, result)
    }

    /// What it was checked with: the secret's name, or `DKIM d=... s=...`.
    var checkedWith: String {
        if source == EventSource.email.rawValue {
            return "DKIM d=\(printable(dkimDomain ?? "?")) s=\(printable(dkimSelector ?? "?"))"
        }
        return printable(secretName ?? "")
    }
}

/// The outcome of `verify --signatures`.
public struct SignatureReport: Sendable {
    public var entries: [SignatureCheckEntry] = []

    public var reverified: Int { entries.filter { $0.result == .verified }.count }
    public var failed: Int { entries.filter { if case .failed = $0.result { true } else { false } }.count }
    public var cannotCheck: Int { entries.filter { if case .cannotCheck = $0.result { true } else { false } }.count }
    /// No event's signature failed (events that cannot be checked are reported, not failures).
    public var ok: Bool { failed == 0 }

    /// `signatures: 6 re-verified, 1 FAILED, 2 cannot check (of 9 events claiming a verified signature)`.
    public var summaryLine: String {
        "signatures: \(reverified) re-verified, \(failed) FAILED, \(cannotCheck) cannot check (of \(entries.count) event\(entries.count == 1 ? "" : "s") claiming a verified signature)"
    }

    /// One line per event: `re-verified: position 12 (event ID, case C, slack) with SLACK_SIGNING_SECRET`
    /// (email: `with DKIM d=example.gov s=sel2026`).
    public var lines: [String] {
        entries.map { e in
            let what = "position \(e.position) (event \(e.eventID), case \(e.caseID), \(printable(e.type)), source \(printable(e.source)))"
            switch e.result {
            case .verified: return "re-verified: \(what) with \(e.checkedWith)"
            case .failed(let why): return "FAILED: \(what): \(why)"
            case .cannotCheck(let why): return "cannot check: \(what): \(why)"
            }
        }
    }

    public var json: JSONValue {
        .object([
            "ok": .bool(ok), "re_verified": .int(Int64(reverified)), "failed": .int(Int64(failed)),
            "cannot_check": .int(Int64(cannotCheck)),
            "events": .array(entries.map { e in
                var o: [String: JSONValue] = [
                    "position": .int(e.position), "id": .string(e.eventID), "case": .string(e.caseID),
                    "type": .string(e.type), "source": .string(e.source),
                ]
                if let n = e.secretName { o["secret_env"] = .string(n) }
                if let d = e.dkimDomain { o["dkim_domain"] = .string(d) }
                if let s = e.dkimSelector { o["dkim_selector"] = .string(s) }
                switch e.result {
                case .verified: o["result"] = .string("re-verified")
                case .failed(let why): (o["result"], o["reason"]) = (.string("failed"), .string(why))
                case .cannotCheck(let why): (o["result"], o["reason"]) = (.string("cannot_check"), .string(why))
                }
                return .object(o)
            }),
        ])
    }
}

extension OpenLedger {
    /// The environment variables `verify --signatures` reads secrets from
    /// without being told: the importers' defaults.
    public static var defaultSecretVariables: Set<String> {
        [ImportSource.pagerDuty(defaultTeam: nil).secretVariable, ImportSource.slack(defaultPurpose: nil).secretVariable]
            .reduce(into: Set<String>()) { set, name in if let name { set.insert(name) } }
    }

    /// Re-verifies the signature of every event whose `import` metadata
    /// claims `signature_verified`, from the payload and headers kept with
    /// it and the secret in the session's environment under the name the
    /// event gives. Only the importers' default variables and `secretVariables`
    /// are read: the name comes from the event, and a writer who named,
    /// say, HOME could otherwise sign with a value they can guess.
    /// Email events re-verify their kept raw message's DKIM signature
    /// (`KeptMessage.check`) with the keys of `dkim` (a key file, DNS, or none).
    public func verifySignatures(secretVariables: [String] = [], dkim: EmailDKIM = .dns) throws -> SignatureReport {
        let allowed = Self.defaultSecretVariables.union(secretVariables)
        let environment = session.environment
        let verifier = try dkim.verifier()
        var report = SignatureReport()
        var seen = 0
        try store.forEachEvent { event in
            seen += 1
            if seen % 100_000 == 0 { progress.update("checked \(seen) events for signatures") }
            // Cheap filter before parsing: only metadata that mentions the claim.
            guard event.metadataText.contains("signature_verified") else { return }
            let meta = try JSONValue.parse(event.metadataText)
            guard let imported = meta["import"], imported["signature_verified"]?.boolValue == true else { return }
            if event.source == EventSource.email.rawValue {
                let data = try JSONValue.parse(event.dataText)
                let r = KeptMessage.check(importMetadata: imported, key: event.key, messageRef: data["message_ref"]?.stringValue,
                                          occurredAt: RFC3339.date(microseconds: event.occurredMicros), verifier: verifier)
                report.entries.append(SignatureCheckEntry(position: event.position, eventID: event.id, caseID: event.caseID,
                                                          type: event.type, source: event.source, secretName: nil,
                                                          dkimDomain: r.domain, dkimSelector: r.selector, result: r.check))
                return
            }
            let name = imported["signature"]?["secret_env"]?.stringValue
            let result = KeptSignature.check(importMetadata: imported, source: event.source, key: event.key) { name in
                guard allowed.contains(name) else {
                    return .unavailable("the event names secret \(printable(name)), which is not one the verifier reads (add --secret-env \(printable(name)))")
                }
                guard let value = environment[name], !value.isEmpty else {
                    return .unavailable("secret \(printable(name)) is not in the environment")
                }
                return .value(value)
            }
            report.entries.append(SignatureCheckEntry(position: event.position, eventID: event.id, caseID: event.caseID,
                                                      type: event.type, source: event.source, secretName: name,
                                                      result: result))
        }
        progress.done()
        return report
    }
}
