import Crypto
import Events
import Foundation
import Mail

/// Webhook signature checks over the raw body (docs/importers.md).
public enum Signatures {
    /// How far a Slack request timestamp may be from the time it was
    /// received (Slack's own recommendation: five minutes).
    public static let slackTolerance: TimeInterval = 300

    /// PagerDuty webhooks v3: `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...]`,
    /// HMAC-SHA256 of the raw body with the subscription's secret. Several
    /// signatures appear while a secret is being rotated: any one may match.
    public static func verifyPagerDuty(body: Data, header: String?, secret: String) -> String? {
        guard let header, !header.isEmpty else { return "no X-PagerDuty-Signature header" }
        let key = SymmetricKey(data: Data(secret.utf8))
        var sawV1 = false
        for part in header.split(separator: ",") {
            let text = part.trimmingCharacters(in: .whitespaces)
            guard text.hasPrefix("v1=") else { continue }
            sawV1 = true
            if let mac = hexBytes(String(text.dropFirst(3))),
               HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: key) {
                return nil
            }
        }
        return sawV1 ? "X-PagerDuty-Signature does not match the body (wrong secret or changed body)"
                     : "X-PagerDuty-Signature has no v1 signature"
    }

    /// Slack: `X-Slack-Signature: v0=<hex>` = HMAC-SHA256 of
    /// `v0:<X-Slack-Request-Timestamp>:<raw body>` with the signing secret;
    /// the timestamp must be within five minutes of `receivedAt`.
    public static func verifySlack(body: Data, timestamp: String?, signature: String?, secret: String,
                                   receivedAt: Date, tolerance: TimeInterval = slackTolerance) -> String? {
        guard let timestamp, let seconds = Int64(timestamp.trimmingCharacters(in: .whitespaces)) else {
            return "no valid X-Slack-Request-Timestamp header"
        }
        guard let signature, signature.hasPrefix("v0="), let mac = hexBytes(String(signature.dropFirst(3))) else {
            return "no v0 X-Slack-Signature header"
        }
        let age = receivedAt.timeIntervalSince1970 - Double(seconds)
        guard abs(age) <= tolerance else {
            return "X-Slack-Request-Timestamp is \(Int(abs(age)))s away from when it was received (limit \(Int(tolerance))s): a replayed or stale request"
        }
        var base = Data("v0:\(seconds):".utf8)
        base.append(body)
        let key = SymmetricKey(data: Data(secret.utf8))
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: base, using: key) else {
            return "X-Slack-Signature does not match the body (wrong secret or changed body)"
        }
        return nil
    }

    /// Signs like PagerDuty (for fixtures and tests).
    public static func pagerDutySignature(body: Data, secret: String) -> String {
        "v1=" + hex(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8))))
    }

    /// Signs like Slack (for fixtures and tests).
    public static func slackSignature(body: Data, timestamp: Int64, secret: String) -> String {
        var base = Data("v0:\(timestamp):".utf8)
        base.append(body)
        return "v0=" + hex(HMAC<SHA256>.authenticationCode(for: base, using: SymmetricKey(data: Data(secret.utf8))))
    }

    static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 { Hex.encode(bytes) }

    static func hexBytes(_ text: String) -> Data? {
        guard !text.isEmpty, let bytes = Hex.decode(text) else { return nil }
        return Data(bytes)
    }
}

/// The webhook signature schemes the importers verify.
public enum SignatureScheme: String, Sendable, CaseIterable {
    /// PagerDuty webhooks v3: HMAC-SHA256 of the body (`X-PagerDuty-Signature: v1=...`).
    case pagerDutyV1 = "pagerduty-v1"
    /// Slack: HMAC-SHA256 of `v0:<timestamp>:<body>` (`X-Slack-Signature: v0=...`).
    case slackV0 = "slack-v0"

    /// The headers (lowercased) that carry the signature and what it covers besides the body.
    public var headers: [String] {
        switch self {
        case .pagerDutyV1: ["x-pagerduty-signature"]
        case .slackV0: ["x-slack-signature", "x-slack-request-timestamp"]
        }
    }

    /// The source whose events this scheme signs.
    public var source: EventSource {
        switch self {
        case .pagerDutyV1: .pagerduty
        case .slackV0: .slack
        }
    }
}

/// What an import keeps of a verified payload so that the signature can be
/// checked again later by someone holding the secret (`dtledger verify
/// --signatures`): the raw body, the signature headers, the time it was
/// received and the NAME of the environment variable that held the secret
/// (never the secret). Stored in the event's metadata (`import.signature`),
/// which the chain's hash covers (docs/importers.md, "Re-verifying signatures").
public enum KeptSignature {
    /// The largest body kept whole. Larger bodies keep only their SHA-256
    /// (`import.payload_sha256`), so the event stays well within the 1 MiB
    /// limits; their signature cannot be re-verified.
    public static let maxKeptPayloadBytes = 256 * 1024

    /// The `import.signature` object for a payload verified with `scheme`.
    public static func record(_ payload: RawPayload, scheme: SignatureScheme, secretName: String?,
                              receivedAt: Date) -> JSONValue {
        var headers: [String: JSONValue] = [:]
        for name in scheme.headers { if let v = payload.header(name) { headers[name] = .string(v) } }
        var o: [String: JSONValue] = [
            "scheme": .string(scheme.rawValue), "headers": .object(headers),
            "received_at": .string(RFC3339.format(receivedAt)),
            "payload_bytes": .int(Int64(payload.body.count)),
        ]
        if let secretName { o["secret_env"] = .string(secretName) }
        if payload.body.count > maxKeptPayloadBytes {
            o["payload_kept"] = .bool(false)
        } else if let text = String(validating: payload.body, as: UTF8.self), !payload.body.contains(0) {
            // Text when jsonb can hold it exactly (valid UTF-8 without NUL), else base64.
            o["payload_kept"] = .bool(true)
            o["payload"] = .string(text)
        } else {
            o["payload_kept"] = .bool(true)
            o["payload_base64"] = .string(payload.body.base64EncodedString())
        }
        return .object(o)
    }

    /// The result of checking one event's kept signature again.
    public enum Check: Sendable, Equatable {
        /// The kept payload and headers verify with the secret.
        case verified
        /// They do not: the payload was made up or changed after signing, or signed with another secret.
        case failed(String)
        /// It cannot be checked (nothing kept, the secret is not available).
        case cannotCheck(String)
    }

    /// A secret as the re-verifier found it by name.
    public enum Secret: Sendable {
        case value(String)
        /// Not available, with why (not set, not a name the verifier may read).
        case unavailable(String)
    }

    /// Re-verifies the `import` metadata of an event of `source` that
    /// claims `signature_verified`. `secret` looks the secret up by the name
    /// the event gives (the caller decides which names may be read: the name
    /// comes from the event, which a writer may have made up).
    public static func check(importMetadata meta: JSONValue, source: String, key: String?,
                             secret: (String) -> Secret) -> Check {
        guard let sig = meta["signature"], sig.objectValue != nil else {
            return .cannotCheck("no payload or signature was kept with the event")
        }
        guard let schemeName = sig["scheme"]?.stringValue, let scheme = SignatureScheme(rawValue: schemeName) else {
            return .failed("unknown signature scheme \(printable(sig["scheme"]?.stringValue ?? "(none)"))")
        }
        guard scheme.source.rawValue == source else {
            return .failed("a \(scheme.rawValue) signature on an event of source \(printable(source))")
        }
        guard sig["payload_kept"]?.boolValue == true else {
            return .cannotCheck("the payload (\(sig["payload_bytes"]?.intValue.map { "\($0) bytes" } ?? "size unknown")) was too large to keep; only its SHA-256 was kept")
        }
        let body: Data
        if let text = sig["payload"]?.stringValue {
            body = Data(text.utf8)
        } else if let b64 = sig["payload_base64"]?.stringValue, let d = Data(base64Encoded: b64) {
            body = d
        } else {
            return .failed("payload_kept is true but no payload is kept")
        }
        let digest = Hex.encode(SHA256.hash(data: body))
        guard meta["payload_sha256"]?.stringValue == digest else {
            return .failed("the kept payload does not match payload_sha256")
        }
        if let problem = binding(body, scheme: scheme, sourceEventID: meta["source_event_id"]?.stringValue, key: key) {
            return .failed(problem)
        }
        guard let name = sig["secret_env"]?.stringValue, !name.isEmpty else {
            return .cannotCheck("the event does not name the secret it was verified with")
        }
        let value: String
        switch secret(name) {
        case .value(let v): value = v
        case .unavailable(let why): return .cannotCheck(why)
        }
        let headers = sig["headers"]?.objectValue ?? [:]
        let problem: String?
        switch scheme {
        case .pagerDutyV1:
            problem = Signatures.verifyPagerDuty(body: body, header: headers["x-pagerduty-signature"]?.stringValue, secret: value)
        case .slackV0:
            // The receipt-time tolerance was checked on import; what matters
            // now is that the kept bytes are the ones signed with this secret.
            problem = Signatures.verifySlack(body: body, timestamp: headers["x-slack-request-timestamp"]?.stringValue,
                                             signature: headers["x-slack-signature"]?.stringValue, secret: value,
                                             receivedAt: Date(), tolerance: .infinity)
        }
        if let problem { return .failed("\(problem), with secret \(printable(name))") }
        return .verified
    }

    /// Whether the signed body is the one the event was made from: its own id
    /// (PagerDuty `event.id`, Slack `event_id`) is the event's source id and
    /// key, so a genuinely signed payload cannot be copied onto another event.
    static func binding(_ body: Data, scheme: SignatureScheme, sourceEventID: String?, key: String?) -> String? {
        guard let json = try? JSONValue.parse(body) else { return "the kept payload is not JSON" }
        let id: String?
        switch scheme {
        case .pagerDutyV1: id = json.str("event", "id")
        case .slackV0: id = json.str("event_id")
        }
        // Payloads without their own id (PagerDuty REST windows, Slack
        // messages saved without event_id) are bound by the signature alone.
        guard let id else { return nil }
        guard sourceEventID == id else {
            return "the signed payload is event \(printable(id)), not the event's source_event_id \(printable(sourceEventID ?? "(none)"))"
        }
        if let key, !key.contains(id) {
            return "the signed payload is event \(printable(id)), not the event's key \(printable(key))"
        }
        return nil
    }
}

/// Re-verifying the DKIM signature of an email event (`dtledger verify
/// --signatures`) from the raw message the import kept (`import.raw_message`
/// or `raw_message_base64`, covered by the event's hash; docs/importers.md,
/// "Verified and unverified email evidence, and re-verifying it").
public enum KeptMessage {
    /// What re-verifying one email event found, with the signer that verified.
    public struct Result: Sendable, Equatable {
        public var check: KeptSignature.Check
        /// d= and s= of the signature that re-verified (else of the one claimed, when the event names one).
        public var domain: String?
        public var selector: String?
    }

    /// Re-verifies the message kept with an email event that claims
    /// `signature_verified`: the kept bytes must be the ones of
    /// `payload_sha256`, bound to the event (its Message-ID is the event's
    /// key `email/<Message-ID>`, its `data.message_ref` and `source_event_id`;
    /// a message without one: the key `email/sha256/<hex>` is its bytes'
    /// SHA-256), its Date the event's `occurred_at`; then DKIM is checked
    /// at that Date with `verifier`'s keys (nil: no keys may be looked up).
    /// The signature the event names (`dkim_domain`, `dkim_selector`) must
    /// be the one that verifies. A key that cannot be had (not in the key
    /// file, not in DNS, DNS unreachable, revoked or unusable since) is
    /// "cannot check"; a body, header or signature that does not match is FAILED.
    public static func check(importMetadata meta: JSONValue, key: String?, messageRef: String?, occurredAt: Date,
                             verifier: DKIMVerifier?) -> Result {
        let claimed = (meta["dkim_domain"]?.stringValue, meta["dkim_selector"]?.stringValue)
        func result(_ c: KeptSignature.Check, _ d: String? = nil, _ s: String? = nil) -> Result {
            Result(check: c, domain: d ?? claimed.0, selector: s ?? claimed.1)
        }
        let bytes: [UInt8]
        if let text = meta["raw_message"]?.stringValue {
            bytes = Array(text.utf8)
        } else if let b64 = meta["raw_message_base64"]?.stringValue {
            guard let d = Data(base64Encoded: b64) else { return result(.failed("raw_message_base64 is not base64")) }
            bytes = Array(d)
        } else if meta["raw_message_kept"]?.boolValue == false {
            return result(.cannotCheck("the raw message was too large to keep; only its SHA-256 was kept"))
        } else if meta["raw_message_kept"]?.boolValue == true {
            return result(.failed("raw_message_kept is true but no raw message is kept"))
        } else {
            return result(.cannotCheck("no raw message was kept with the event"))
        }
        let digest = Hex.encode(SHA256.hash(data: bytes))
        guard meta["payload_sha256"]?.stringValue == digest else {
            return result(.failed("the kept raw message does not match payload_sha256"))
        }
        var message: MailMessage
        do { message = try MailMessage.parse(bytes) } catch {
            return result(.failed("the kept raw message is not a readable message: \(printable("\(error)"))"))
        }
        var signedDigest = digest
        // A journal report is kept whole; what was signed (and mapped) is
        // the original attached to it, named by its SHA-256.
        if meta["journal_report"]?.boolValue == true {
            guard let original = meta["original_sha256"]?.stringValue else {
                return result(.failed("a journal report without original_sha256: which attached message was mapped is not said"))
            }
            guard let attached = message.attachedMessages().first(where: { $0.sha256Hex == original }) else {
                return result(.failed("the kept journal report has no attached message of original_sha256 \(printable(original))"))
            }
            message = attached
            signedDigest = original
        }
        if let problem = binding(message, sha256: signedDigest, key: key, messageRef: messageRef,
                                 sourceEventID: meta["source_event_id"]?.stringValue, occurredAt: occurredAt) {
            return result(.failed(problem))
        }
        guard let verifier else {
            return result(.cannotCheck("no DKIM keys to check with (--no-dns without --dkim-keys)"))
        }
        let results = verifier.verify(message, at: occurredAt)
        guard !results.isEmpty else { return result(.failed("the kept raw message has no DKIM-Signature")) }
        // The signature the event names; an event that names none: any.
        let named = results.filter { r in
            (claimed.0 == nil || r.domain?.lowercased() == claimed.0?.lowercased())
                && (claimed.1 == nil || r.selector == claimed.1)
        }
        if let good = named.first(where: \.verified) { return result(.verified, good.domain, good.selector) }
        guard let first = named.first else {
            let verified = results.first(where: \.verified)
            let also = verified.map { ", though d=\(printable($0.domain ?? "?")) s=\(printable($0.selector ?? "?")) verifies" } ?? ""
            return result(.failed("no DKIM-Signature by d=\(printable(claimed.0 ?? "?")) s=\(printable(claimed.1 ?? "?")), the signer the event claims\(also)"))
        }
        // A definite failure of the named signature wins over a key that cannot be had.
        let failures = named.compactMap(\.failure)
        let who = "DKIM d=\(printable(first.domain ?? "?")) s=\(printable(first.selector ?? "?"))"
        if let definite = failures.first(where: { !cannotCheck($0) }) {
            return result(.failed("\(who): \(definite.reason)"), first.domain, first.selector)
        }
        return result(.cannotCheck("\(who): \(failures.first?.reason ?? "not checked")"), first.domain, first.selector)
    }

    /// Failures that say nothing about the message: the key cannot be had
    /// today (not found, look-up failed, revoked or unusable since), or the
    /// signature was not checked.
    static func cannotCheck(_ f: DKIMFailure) -> Bool {
        switch f {
        case .keyNotFound, .keyLookupFailed, .keyRevoked, .keyUnusable, .notChecked: true
        case .malformed, .unsupportedAlgorithm, .expired, .bodyLengthExceeded, .bodyHashMismatch, .signatureMismatch: false
        }
    }

    /// Whether the kept message is the one the event was made from (as
    /// `EmailImporter` keys and dates it), so that a genuinely signed
    /// message cannot be copied onto another event or moved in time.
    static func binding(_ m: MailMessage, sha256: String, key: String?, messageRef: String?, sourceEventID: String?,
                        occurredAt: Date) -> String? {
        let id = m.messageID
        let expectedKey = id.map { "email/\($0)" } ?? "email/sha256/\(sha256)"
        guard key == expectedKey else {
            return "the kept message is \(printable(expectedKey)), not the event's key \(printable(key ?? "(none)"))"
        }
        if messageRef != id {
            return "the kept message's Message-ID \(printable(id ?? "(none)")) is not the event's message_ref \(printable(messageRef ?? "(none)"))"
        }
        if let sourceEventID, sourceEventID != (id ?? sha256) {
            return "the kept message is \(printable(id ?? sha256)), not the event's source_event_id \(printable(sourceEventID))"
        }
        guard let date = m.date else { return "the kept message has no readable Date" }
        guard abs(date.timeIntervalSince(occurredAt)) < 1 else {
            return "the kept message's Date \(RFC3339.format(date)) is not the event's occurred_at \(RFC3339.format(occurredAt))"
        }
        return nil
    }
}
