import Crypto
import Events
import Foundation
import HTTPTypes
import Hummingbird
import Ingest
import Logging
import Receiving

/// What a receiver decided about a request before anything is stored.
enum Admission: Sendable {
    /// Store it: the receipt to make durable.
    case store(IncomingReceipt, malformed: String?)
    /// Answer it without storing (Slack's url_verification challenge).
    case answer(Response)
    /// Refuse it (bad signature or token): status and reason.
    case refuse(HTTPResponse.Status, String)
}

/// The receivers' checks, one per source (docs/serve.md, "Routes"). Each
/// works on the raw body bytes, before any parsing.
enum Receivers {
    /// Headers kept with a receipt: what a signature covers and what tells
    /// a retry from a first delivery. Never Authorization or cookies.
    static let keptHeaders: Set<String> = [
        "content-type", "user-agent", "x-slack-signature", "x-slack-request-timestamp", "x-slack-retry-num",
        "x-slack-retry-reason", "x-pagerduty-signature", "x-webhook-id", "x-webhook-subscription",
        "x-forwarded-for", ReceiptKind.pollerHeader,
    ]

    static func headers(_ request: Request) -> [String: String] {
        var out: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName.lowercased()
            guard keptHeaders.contains(name) else { continue }
            out[name] = out[name].map { "\($0),\(field.value)" } ?? field.value
        }
        return out
    }

    static func header(_ request: Request, _ name: String) -> String? {
        HTTPField.Name(name).flatMap { request.headers[$0] }
    }

    static func sha256(_ body: Data) -> String { Hex.encode(SHA256.hash(data: body)) }

    /// The vendor's delivery id when it can be stored as a key (1-200
    /// bytes, no control characters: PostgreSQL text cannot hold a NUL, and
    /// one unstorable key would fail the whole batch it is committed with),
    /// else the body's SHA-256 (a vendor's retry repeats the body byte for byte).
    static func deliveryKey(source: EventSource, body: Data) -> String {
        if let id = Refs.deliveryID(source: source, body: body), Refs.storable(id, maxBytes: 200) { return id }
        return "sha256:\(sha256(body))"
    }


    /// A request-controlled value for a log line: control characters, bidi
    /// overrides and line separators escaped (so it can neither end the line
    /// nor reorder it on a terminal), at most 200 characters.
    static func loggable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(200) {
            switch scalar.value {
            case 0..<0x20, 0x7F, 0x80..<0xA0, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069:
                out += "\\u{\(String(scalar.value, radix: 16))}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        if text.unicodeScalars.count > 200 { out += "..." }
        return out
    }

    static func receipt(_ source: EventSource, _ request: Request, body: Data, at: Date) -> IncomingReceipt {
        IncomingReceipt(source: source.rawValue, deliveryKey: deliveryKey(source: source, body: body), receivedAt: at,
                        headers: headers(request), body: body,
                        refs: Refs.of(source: source, body: body).filter { Refs.storable($0, maxBytes: 1000) })
    }

    static func malformed(_ body: Data) -> String? {
        do { _ = try JSONValue.parse(body); return nil } catch { return "the body is not JSON: \(error)" }
    }

    /// Slack Events API: `X-Slack-Signature` v0 over `v0:timestamp:body`, the
    /// timestamp within five minutes of now; the url_verification challenge
    /// answered (after the signature check) and not stored.
    static func slack(_ request: Request, body: Data, secret: String, at: Date) -> Admission {
        if let problem = Signatures.verifySlack(body: body, timestamp: header(request, "X-Slack-Request-Timestamp"),
                                                signature: header(request, "X-Slack-Signature"), secret: secret, receivedAt: at) {
            return .refuse(.unauthorized, problem)
        }
        if let json = try? JSONValue.parse(body), json["type"]?.stringValue == "url_verification" {
            guard let challenge = json["challenge"]?.stringValue else { return .refuse(.badRequest, "url_verification without a challenge") }
            return .answer(Responses.json(.ok, .object(["challenge": .string(challenge)])))
        }
        return .store(receipt(.slack, request, body: body, at: at), malformed: malformed(body))
    }

    /// PagerDuty webhooks v3: any one of the `v1=` signatures in
    /// `X-PagerDuty-Signature` (several while a secret is rotated).
    static func pagerDuty(_ request: Request, body: Data, secret: String, at: Date) -> Admission {
        if let problem = Signatures.verifyPagerDuty(body: body, header: header(request, "X-PagerDuty-Signature"), secret: secret) {
            return .refuse(.unauthorized, problem)
        }
        return .store(receipt(.pagerduty, request, body: body, at: at), malformed: malformed(body))
    }

    /// ServiceNow outbound REST (a business rule): ServiceNow does not sign,
    /// so the request carries a per-source bearer token or basic auth,
    /// compared in constant time.
    static func serviceNow(_ request: Request, body: Data, auth: ServiceNowAuth, at: Date) -> Admission {
        if let problem = unauthorized(request, auth: auth, who: "ServiceNow requests") { return .refuse(.unauthorized, problem) }
        return .store(receipt(.servicenow, request, body: body, at: at), malformed: malformed(body))
    }

    /// The problem with a request's `Authorization` for a source that does
    /// not sign (ServiceNow, a mail relay), or nil when it matches.
    static func unauthorized(_ request: Request, auth: ServiceNowAuth, who: String) -> String? {
        guard let given = header(request, "Authorization"), !given.isEmpty else {
            return "no Authorization header (\(who) need the configured bearer token or basic auth)"
        }
        let expected: String
        switch auth {
        case .bearer(let token): expected = "Bearer \(token)"
        case .basic(let user, let password): expected = "Basic \(Data("\(user):\(password)".utf8).base64EncodedString())"
        }
        guard constantTimeEqual(Array(given.utf8), Array(expected.utf8)) else {
            return "the Authorization header does not match the configured credentials"
        }
        return nil
    }

    /// Content types a relay may post a raw message as (parameters allowed;
    /// none given is taken as a raw message).
    static let emailContentTypes: Set<String> = ["message/rfc822", "application/octet-stream", "text/plain"]

    /// A mail relay or journaling rule posting one raw RFC 5322 message
    /// (docs/serve.md, "Email"): the relay does not sign, so the request
    /// carries the source's bearer token or basic auth; the message's own
    /// DKIM signatures are the mapper's to check. Only cheap checks here: the
    /// content type, a body, and a header section that looks like one
    /// (`malformedMessage`); a body that fails it is kept and answered 400.
    /// The delivery key is the SHA-256 of the bytes: a relay's retry is the
    /// same receipt, a different copy of a message is a receipt of its own
    /// (the mapper's idempotency key, the Message-ID, makes it a duplicate event).
    static func email(_ request: Request, body: Data, auth: ServiceNowAuth, at: Date) -> Admission {
        if let problem = unauthorized(request, auth: auth, who: "email requests") { return .refuse(.unauthorized, problem) }
        if let type = header(request, "Content-Type") {
            let media = type.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            guard emailContentTypes.contains(media) else {
                return .refuse(.unsupportedMediaType, "Content-Type \(loggable(type)) is not a raw message (post it as message/rfc822, application/octet-stream or text/plain)")
            }
        }
        guard !body.isEmpty else { return .refuse(.badRequest, "the body is empty: post one raw RFC 5322 message") }
        var r = IncomingReceipt(source: EventSource.email.rawValue, deliveryKey: "sha256:\(sha256(body))", receivedAt: at,
                                headers: headers(request), body: body,
                                refs: Refs.of(source: .email, body: body).filter { Refs.storable($0, maxBytes: 1000) })
        r.headers.removeValue(forKey: ReceiptKind.pollerHeader)
        return .store(r, malformed: malformedMessage(body))
    }

    /// Why `body` is not a message, by its header section alone (a linear
    /// scan, no MIME): the first line (after an optional mbox `From ` line)
    /// must be a header field, and every line up to the first empty one a
    /// field (`name:` of printable ASCII) or a continuation (starting with a
    /// space or tab), with no NUL. nil: it looks like one (the mapper parses it).
    static func malformedMessage(_ body: Data) -> String? {
        let bytes = [UInt8](body.prefix(1 << 20))
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        while start < bytes.count {
            let nl = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            var end = nl
            if end > start, bytes[end - 1] == 0x0D { end -= 1 }
            if end == start { break }  // the empty line that ends the header section
            lines.append(bytes[start..<end])
            start = nl + 1
        }
        if let first = lines.first, first.starts(with: Array("From ".utf8)) { lines.removeFirst() }
        guard let first = lines.first else { return "not a message: no header section" }
        if first.first == 0x20 || first.first == 0x09 { return "not a message: the first line is a continuation, not a header field" }
        for (n, line) in lines.enumerated() {
            if line.contains(0) { return "not a message: header line \(n + 1) contains a NUL byte" }
            if line.first == 0x20 || line.first == 0x09 { continue }
            guard let colon = line.firstIndex(of: 0x3A), colon > line.startIndex,
                  line[line.startIndex..<colon].allSatisfy({ (33...126).contains($0) }) else {
                let text = String(decoding: line.prefix(60), as: UTF8.self)
                return "not a message: header line \(n + 1) is not a field (name: value): \"\(loggable(text))\""
            }
        }
        return nil
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return diff == 0
    }
}

/// A bearer token or basic auth, for a source that does not sign (ServiceNow, a mail relay).
enum ServiceNowAuth: Sendable {
    case bearer(String)
    case basic(user: String, password: String)
}

enum Responses {
    static func json(_ status: HTTPResponse.Status, _ value: JSONValue, headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = "application/json"
        var text = value.jsonText()
        text += "\n"
        return Response(status: status, headers: h, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
        json(status, .object(["error": .string(message)]), headers: headers)
    }
}
