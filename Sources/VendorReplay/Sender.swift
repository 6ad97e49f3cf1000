import AsyncHTTPClient
import Foundation
import Ingest
import NIOCore
import NIOHTTP1

/// Sends vendor requests to a running `dtledger serve` as the vendors
/// would: Slack's v0 signature with the current timestamp, PagerDuty's v1
/// signature, ServiceNow's bearer token; a request answered 5xx or not
/// answered is retried (as Slack and PagerDuty retry), up to `attempts`.
public struct Sender: Sendable {
    public var baseURL: String
    public var slackSecret: String?
    public var pagerDutySecret: String?
    public var serviceNowToken: String?
    public var attempts = 5

    public init(baseURL: String, slackSecret: String?, pagerDutySecret: String?, serviceNowToken: String?) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.slackSecret = slackSecret
        self.pagerDutySecret = pagerDutySecret
        self.serviceNowToken = serviceNowToken
    }

    public struct Answer: Sendable {
        public let status: Int
        public let body: String
        public let attempts: Int
    }

    public struct SendError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The headers the vendor would send with `body` now.
    public func headers(for request: VendorRequest, now: Date = Date(), retry: Int = 0) throws -> [(String, String)] {
        var h: [(String, String)] = [("Content-Type", "application/json"), ("User-Agent", "dtledger-send")]
        switch request.source {
        case .slack:
            guard let secret = slackSecret else { throw SendError(description: "no Slack signing secret (SLACK_SIGNING_SECRET)") }
            let ts = Int64(now.timeIntervalSince1970)
            h.append(("X-Slack-Request-Timestamp", String(ts)))
            h.append(("X-Slack-Signature", Signatures.slackSignature(body: request.body, timestamp: ts, secret: secret)))
            if retry > 0 { h.append(("X-Slack-Retry-Num", String(retry))); h.append(("X-Slack-Retry-Reason", "http_error")) }
        case .pagerDuty:
            guard let secret = pagerDutySecret else { throw SendError(description: "no PagerDuty webhook secret (PAGERDUTY_WEBHOOK_SECRET)") }
            h.append(("X-PagerDuty-Signature", Signatures.pagerDutySignature(body: request.body, secret: secret)))
        case .serviceNow:
            guard let token = serviceNowToken else { throw SendError(description: "no ServiceNow token (SERVICENOW_TOKEN)") }
            h.append(("Authorization", "Bearer \(token)"))
        }
        return h
    }

    /// Sends one request, retrying 5xx answers and connection failures.
    public func send(_ request: VendorRequest, client: HTTPClient) async throws -> Answer {
        var lastError = ""
        for attempt in 0..<attempts {
            if attempt > 0 { try await Task.sleep(for: .milliseconds(200 * (1 << min(attempt, 5)))) }
            var r = HTTPClientRequest(url: baseURL + request.path)
            r.method = .POST
            for (k, v) in try headers(for: request, retry: attempt) { r.headers.add(name: k, value: v) }
            r.body = .bytes(ByteBuffer(bytes: request.body))
            do {
                let response = try await client.execute(r, timeout: .seconds(10))
                let bytes = try await response.body.collect(upTo: 1 << 20)
                let status = Int(response.status.code)
                if status >= 500 { lastError = "HTTP \(status)"; continue }
                return Answer(status: status, body: String(buffer: bytes), attempts: attempt + 1)
            } catch {
                lastError = "\(error)"
            }
        }
        throw SendError(description: "\(request.label): not answered after \(attempts) attempts (\(lastError))")
    }
}
