import Crypto
import Events
import Foundation

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
