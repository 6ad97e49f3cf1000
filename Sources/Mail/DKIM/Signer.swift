import Crypto
import Foundation
import _CryptoExtras

/// Adds a DKIM-Signature field to a message (for tests, demos and fake
/// senders; the ledger itself only verifies).
public struct DKIMSigner {
    public enum Key {
        case rsa(_RSA.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
    }

    public var domain: String
    public var selector: String
    public var key: Key
    /// h=, in order; a name may repeat (over-signing) or be absent from the message.
    public var headers: [String]
    public var headerCanonicalization: DKIMCanonicalization
    public var bodyCanonicalization: DKIMCanonicalization
    /// l=: sign only this many bytes of the canonical body (nil: all).
    public var bodyLength: Int?
    public var identity: String?
    public var timestamp: Date?
    public var expiration: Date?

    public init(
        domain: String, selector: String, key: Key,
        headers: [String] = ["from", "to", "cc", "subject", "date", "message-id"],
        headerCanonicalization: DKIMCanonicalization = .relaxed, bodyCanonicalization: DKIMCanonicalization = .relaxed,
        bodyLength: Int? = nil, identity: String? = nil, timestamp: Date? = nil, expiration: Date? = nil
    ) {
        self.domain = domain
        self.selector = selector
        self.key = key
        self.headers = headers
        self.headerCanonicalization = headerCanonicalization
        self.bodyCanonicalization = bodyCanonicalization
        self.bodyLength = bodyLength
        self.identity = identity
        self.timestamp = timestamp
        self.expiration = expiration
    }

    /// The message with a DKIM-Signature field prepended. The message is
    /// signed as CRLF-normalised and returned with CRLF line endings.
    /// `bodyLength` larger than the canonical body is clamped to it.
    public func sign(_ raw: [UInt8]) throws -> [UInt8] {
        let bytes = crlfNormalized(raw)
        guard let (fields, bodyStart) = try HeaderSection.split(bytes[...], limits: .standard, top: true) else {
            throw MailError("the message has no header section")
        }
        var canonBody = bodyCanonicalization.body(bytes[bodyStart...])
        var l = bodyLength
        if let n = l {
            l = min(n, canonBody.count)
            canonBody = Array(canonBody.prefix(l!))
        }
        let bh = Data(SHA256.hash(data: canonBody)).base64EncodedString()
        let algorithm: String
        switch key {
        case .rsa: algorithm = "rsa-sha256"
        case .ed25519: algorithm = "ed25519-sha256"
        }
        var tags = "v=1; a=\(algorithm); c=\(headerCanonicalization.rawValue)/\(bodyCanonicalization.rawValue); d=\(domain); s=\(selector);"
        if let identity { tags += " i=\(identity);" }
        if let timestamp { tags += " t=\(Int64(timestamp.timeIntervalSince1970));" }
        if let expiration { tags += " x=\(Int64(expiration.timeIntervalSince1970));" }
        if let l { tags += " l=\(l);" }
        let field = "DKIM-Signature: \(tags)\r\n h=\(headers.joined(separator: ":"));\r\n bh=\(bh);\r\n b="
        let unsigned = Array(field.utf8) + [ASCII.cr, ASCII.lf]
        let digest = DKIMHeaderHash.digest(
            signedHeaders: headers.map { $0.lowercased() }, fields: fields, canon: headerCanonicalization, signatureField: unsigned)
        let signature: Data
        switch key {
        case .rsa(let k): signature = try k.signature(for: digest, padding: .insecurePKCS1v1_5).rawRepresentation
        case .ed25519(let k): signature = try k.signature(for: Data(digest))
        }
        return Array((field + signature.base64EncodedString() + "\r\n").utf8) + bytes
    }
}
