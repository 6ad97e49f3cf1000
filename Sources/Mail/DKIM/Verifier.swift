import Crypto
import Foundation
import _CryptoExtras

/// Why a DKIM signature did not verify.
public enum DKIMFailure: Error, Sendable, Equatable {
    case malformed(String)
    case unsupportedAlgorithm(String)
    case expired(Date)
    case keyNotFound(String)
    case keyLookupFailed(String)
    case keyRevoked
    case keyUnusable(String)
    case bodyLengthExceeded(Int, Int)
    case bodyHashMismatch
    case signatureMismatch
    case notChecked(String)

    /// One line.
    public var reason: String {
        switch self {
        case .malformed(let why): return "malformed signature: \(why)"
        case .unsupportedAlgorithm(let a): return "unsupported algorithm \(a)"
        case .expired(let x): return "signature expired at \(ISO8601DateFormatter().string(from: x))"
        case .keyNotFound(let name): return "key not found at \(name)"
        case .keyLookupFailed(let why): return "key look-up failed: \(why)"
        case .keyRevoked: return "key revoked (empty p=)"
        case .keyUnusable(let why): return "key unusable: \(why)"
        case .bodyLengthExceeded(let l, let n): return "l=\(l) is longer than the body (\(n) bytes)"
        case .bodyHashMismatch: return "body hash mismatch"
        case .signatureMismatch: return "signature mismatch"
        case .notChecked(let why): return "not checked: \(why)"
        }
    }
}

/// The outcome for one DKIM-Signature field.
public struct DKIMResult: Sendable, Equatable {
    /// d=, s=, a= as far as they could be read.
    public let domain: String?
    public let selector: String?
    public let algorithm: String?
    /// i= (default `@` + d=).
    public let identity: String?
    /// l=: only this many bytes of the canonical body are covered.
    public let bodyLength: Int?
    /// nil when verified.
    public let failure: DKIMFailure?

    public var verified: Bool { failure == nil }

    /// One line: `verified d=... s=... a=...` or `failed d=... s=...: reason`.
    public var summary: String {
        let who = "d=\(domain ?? "?") s=\(selector ?? "?") a=\(algorithm ?? "?")"
        if let failure { return "failed \(who): \(failure.reason)" }
        return "verified \(who)" + (bodyLength.map { " (l=\($0): only part of the body is signed)" } ?? "")
    }
}

/// DKIM verification (RFC 6376, RFC 8463): rsa-sha256 (keys of 1024 bits or
/// more, RFC 8301) and ed25519-sha256; simple and relaxed canonicalisation;
/// the h=, l=, x= tags. Every DKIM-Signature field is checked (up to
/// `maxSignatures`, the rest reported as not checked) and reported on its own;
/// the message is verified when any result is.
public struct DKIMVerifier: Sendable {
    public let keys: any DKIMKeyProvider
    public var maxSignatures: Int

    public init(keys: any DKIMKeyProvider, maxSignatures: Int = 8) {
        self.keys = keys
        self.maxSignatures = maxSignatures
    }

    /// One result per DKIM-Signature field, top to bottom; empty when unsigned.
    /// `at` is the time x= (expiry) is judged against.
    public func verify(_ message: MailMessage, at now: Date) -> [DKIMResult] {
        verify(raw: message.raw, at: now)
    }

    public func verify(raw: [UInt8], at now: Date) -> [DKIMResult] {
        let bytes = crlfNormalized(raw)
        guard let (fields, bodyStart) = try? HeaderSection.split(bytes[...], limits: .standard, top: true) else { return [] }
        let body = bytes[bodyStart...]
        var results: [DKIMResult] = []
        var bodyHashes: [String: [UInt8]] = [:]
        for (index, field) in fields.enumerated() where field.is("DKIM-Signature") {
            let p = DKIMSignature.partial(field.value)
            if results.count >= maxSignatures {
                results.append(DKIMResult(
                    domain: p.domain, selector: p.selector, algorithm: p.algorithm, identity: nil, bodyLength: nil,
                    failure: .notChecked("more than \(maxSignatures) signatures")))
                continue
            }
            do {
                let sig = try DKIMSignature.parse(field.value)
                do {
                    try check(sig, field: field, index: index, fields: fields, body: body, now: now, cache: &bodyHashes)
                    results.append(DKIMResult(
                        domain: sig.domain, selector: sig.selector, algorithm: sig.algorithm, identity: sig.identity,
                        bodyLength: sig.bodyLength, failure: nil))
                } catch {
                    results.append(DKIMResult(
                        domain: sig.domain, selector: sig.selector, algorithm: sig.algorithm, identity: sig.identity,
                        bodyLength: sig.bodyLength, failure: error))
                }
            } catch {
                results.append(DKIMResult(
                    domain: p.domain, selector: p.selector, algorithm: p.algorithm, identity: nil, bodyLength: nil,
                    failure: error))
            }
        }
        return results
    }

    private func check(
        _ sig: DKIMSignature, field: MailHeader, index: Int, fields: [MailHeader], body: ArraySlice<UInt8>, now: Date,
        cache: inout [String: [UInt8]]
    ) throws(DKIMFailure) {
        if let x = sig.expiration, x < now { throw .expired(x) }
        let key = try fetchKey(sig)

        // Body hash.
        let cacheKey = "\(sig.bodyCanon.rawValue)/\(sig.bodyLength.map(String.init) ?? "-")"
        let bh: [UInt8]
        if let cached = cache[cacheKey] {
            bh = cached
        } else {
            var canon = sig.bodyCanon.body(body)
            if let l = sig.bodyLength {
                if l > canon.count { throw .bodyLengthExceeded(l, canon.count) }
                canon = Array(canon.prefix(l))
            }
            bh = Array(SHA256.hash(data: canon))
            cache[cacheKey] = bh
        }
        if bh != sig.bodyHash { throw .bodyHashMismatch }

        // Header hash.
        let digest = DKIMHeaderHash.digest(
            signedHeaders: sig.signedHeaders, fields: fields, canon: sig.headerCanon, signatureField: field.raw)
        switch key {
        case .rsa(let pub):
            let ok = pub.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: sig.signature), for: digest, padding: .insecurePKCS1v1_5)
            if !ok { throw .signatureMismatch }
        case .ed25519(let pub):
            if !pub.isValidSignature(sig.signature, for: Data(digest)) { throw .signatureMismatch }
        }
    }

    enum PublicKey {
        case rsa(_RSA.Signing.PublicKey)
        case ed25519(Curve25519.Signing.PublicKey)
    }

    private func fetchKey(_ sig: DKIMSignature) throws(DKIMFailure) -> PublicKey {
        let name = "\(sig.selector)._domainkey.\(sig.domain)"
        let records: [String]
        switch keys.lookup(name) {
        case .notFound: throw .keyNotFound(name)
        case .failed(let why): throw .keyLookupFailed(why)
        case .records(let r): records = r
        }
        var lastProblem: DKIMFailure = .keyNotFound(name)
        for text in records {
            do { return try Self.key(fromRecord: text, for: sig) } catch { lastProblem = error }
        }
        throw lastProblem
    }

    /// A key record (RFC 6376 §3.6.1): v=DKIM1 (optional), k= (rsa default),
    /// h= (must allow sha256 when present), s= (email or *), t=s (i= domain
    /// must equal d=), p= (empty: revoked).
    static func key(fromRecord text: String, for sig: DKIMSignature) throws(DKIMFailure) -> PublicKey {
        let tags: [String: String]
        do { tags = try TagList.parse(text) } catch { throw .keyUnusable((error as? MailError)?.message ?? "bad record") }
        if let v = tags["v"], v != "DKIM1" { throw .keyUnusable("v=\(v) is not DKIM1") }
        guard let p = tags["p"].map(TagList.noWhitespace) else { throw .keyUnusable("no p= tag") }
        if p.isEmpty { throw .keyRevoked }
        let k = (tags["k"] ?? "rsa").lowercased()
        if let h = tags["h"], !h.lowercased().split(separator: ":").map({ trimWSP($0) }).contains("sha256") {
            throw .keyUnusable("h=\(h) does not allow sha256")
        }
        if let s = tags["s"], !s.lowercased().split(separator: ":").map({ trimWSP($0) }).contains(where: { $0 == "*" || $0 == "email" }) {
            throw .keyUnusable("s=\(s) is not for email")
        }
        if let t = tags["t"], t.lowercased().split(separator: ":").map({ trimWSP($0) }).contains("s") {
            let iDomain = sig.identity.split(separator: "@").last.map { $0.lowercased() } ?? ""
            if iDomain != sig.domain { throw .keyUnusable("t=s but i= is a subdomain of d=") }
        }
        let der = TransferEncoding.base64(Array(p.utf8))
        let wantType = sig.algorithm.hasPrefix("rsa") ? "rsa" : "ed25519"
        if k != wantType { throw .keyUnusable("k=\(k) does not match a=\(sig.algorithm)") }
        switch k {
        case "rsa":
            do { return .rsa(try _RSA.Signing.PublicKey(unsafeDERRepresentation: der)) } catch {
                throw .keyUnusable("p= is not an RSA public key of 1024 bits or more")
            }
        case "ed25519":
            do { return .ed25519(try Curve25519.Signing.PublicKey(rawRepresentation: der)) } catch {
                throw .keyUnusable("p= is not a 32-byte Ed25519 public key")
            }
        default:
            throw .keyUnusable("unknown key type k=\(k)")
        }
    }
}

enum DKIMHeaderHash {
    /// SHA-256 over the signed fields (h= order, each name taking the next
    /// instance from the bottom; names with no instance left add nothing)
    /// and the signature field with its b= value removed, without its CRLF.
    static func digest(signedHeaders: [String], fields: [MailHeader], canon: DKIMCanonicalization, signatureField: [UInt8]) -> SHA256Digest {
        var hasher = SHA256()
        var used: [String: Int] = [:]  // name -> how many instances taken from the bottom
        for name in signedHeaders {
            let instances = fields.indices.filter { fields[$0].name.lowercased() == name }
            let taken = used[name, default: 0]
            if taken < instances.count {
                let f = fields[instances[instances.count - 1 - taken]]
                hasher.update(data: canon.header(f.raw[...]))
            }
            used[name] = taken + 1
        }
        var sigCanon = canon.header(DKIMSignature.withoutSignatureValue(signatureField)[...] + [ASCII.cr, ASCII.lf])
        if sigCanon.count >= 2 { sigCanon.removeLast(2) }
        hasher.update(data: sigCanon)
        return hasher.finalize()
    }
}
