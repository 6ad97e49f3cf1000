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
