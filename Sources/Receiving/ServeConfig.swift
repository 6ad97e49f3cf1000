import Domain
import Events
import Foundation
import Ingest

/// `dtledger serve --config serve.yaml` (docs/serve.md, "Configuration").
/// Secrets and tokens are never in the file: it names the environment
/// variables that hold them.
public struct ServeConfig: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8787
    /// PEM files for HTTPS; nil: plain HTTP (behind a TLS-terminating proxy).
    public var tls: TLSFiles?
    /// Addresses of proxies whose X-Forwarded-For names the client in logs.
    public var trustedProxies: [String] = []
    /// The importers' mappings (actors, cases, PagerDuty services, Slack
    /// channels and open_case), in the import config's format.
    public var ingest = IngestConfig()
    /// Who did it when a payload names nobody the directory knows.
    public var actor = "dtledger-serve"
    public var limits = Limits()
    public var slack: SlackSource?
    public var pagerDuty: PagerDutySource?
    public var serviceNow: ServiceNowSource?
    public var email: EmailSource?
    public var pollers = Pollers()

    public struct TLSFiles: Sendable, Equatable {
        public var certificate: String
        public var key: String
    }

    public struct Limits: Sendable, Equatable {
        /// Larger bodies are refused with 413 (Slack's and PagerDuty's are far smaller).
        public var maxBodyBytes = 1_048_576
        /// A request whose body has not arrived by then is refused with 408.
        public var requestTimeout: TimeInterval = 10
        /// How long a request waits for its receipt to be durable before it
        /// is answered 503 (the vendor retries): below Slack's 3 s.
        public var durableWithin: TimeInterval = 2.5
        /// How long the group commit waits after the first request of a
        /// batch for others to join it. 0 (the default): no wait; requests
        /// that arrive while a batch commits form the next batch anyway.
        public var batchWindow: TimeInterval = 0
        /// Most receipts in one commit.
        public var maxBatch = 256
        /// Most requests waiting for the database at once; more are answered 503.
        public var maxPending = 10_000
        public init() {}
    }

    public struct SlackSource: Sendable, Equatable {
        /// The environment variable with the app's signing secret.
        public var signingSecretEnv = "SLACK_SIGNING_SECRET"
    }

    public struct PagerDutySource: Sendable, Equatable {
        /// The environment variable with the webhook subscription's secret.
        public var webhookSecretEnv = "PAGERDUTY_WEBHOOK_SECRET"
    }

    public struct ServiceNowSource: Sendable, Equatable {
        /// `Authorization: Bearer <token>` with the token in this variable ...
        public var bearerTokenEnv: String?
        /// ... or basic auth with the user and password in these.
        public var basicUserEnv: String?
        public var basicPasswordEnv: String?
    }

    /// Raw RFC 5322 messages posted by a mail relay or a journaling rule
    /// (`POST /email/messages`). The relay does not sign what it posts, so
    /// the request carries a bearer token or basic auth, as ServiceNow's;
    /// the messages' own DKIM signatures are checked by the mapper.
    public struct EmailSource: Sendable, Equatable {
        public var bearerTokenEnv: String?
        public var basicUserEnv: String?
        public var basicPasswordEnv: String?
        /// A DKIM key file (or directory), as `import email --dkim-keys`:
        /// its keys are tried first.
        public var dkimKeys: String?
        /// Look DKIM keys up in DNS through the system resolver (after the key file).
        public var dns = true
    }

    public struct Pollers: Sendable, Equatable {
        public var pagerDutyWindows: PagerDutyWindowsPoller?
        public var serviceNow: ServiceNowPoller?
        public init() {}
    }

    public struct PagerDutyWindowsPoller: Sendable, Equatable {
        public var baseURL = "https://api.pagerduty.com"
        /// The environment variable with the REST API token.
        public var tokenEnv = "PAGERDUTY_API_TOKEN"
        public var interval: TimeInterval = 60
        /// Only windows of these services (empty: all).
        public var serviceIDs: [String] = []
        /// One request's time limit (a run that exceeds it fails and backs off).
        public var requestTimeout: TimeInterval = 30
    }

    public struct ServiceNowPoller: Sendable, Equatable {
        /// https://INSTANCE.service-now.com
        public var baseURL: String
        public var userEnv = "SERVICENOW_USER"
        public var passwordEnv = "SERVICENOW_PASSWORD"
        public var tables = ["change_request", "sysapproval_approver"]
        public var interval: TimeInterval = 120
        /// One request's time limit (a run that exceeds it fails and backs off).
        public var requestTimeout: TimeInterval = 30
        /// The first run (no high-water mark saved yet) fetches records
        /// updated in this many days before it.
        public var initialLookbackDays: Double = 30
    }

    public init() {}

    /// Parses the YAML (or JSON) config; `read` reads a file it names
    /// (`import_config`), relative paths from `baseDirectory`.
    public static func parse(_ text: String, baseDirectory: String = ".",
                             read: (String) -> String? = { try? String(contentsOfFile: $0, encoding: .utf8) }) throws(ValidationError) -> ServeConfig {
        let doc = try YAML.parse(text)
        guard let root = doc.objectValue else { throw ValidationError(field: nil, "the serve config must be a mapping") }
        let known: Set<String> = ["listen", "tls", "trusted_proxies", "import", "import_config", "actor", "limits", "sources", "pollers"]
        for key in root.keys.sorted() where !known.contains(key) {
            throw ValidationError(field: key, "unknown setting (known: \(known.sorted().joined(separator: ", ")))")
        }
        var c = ServeConfig()
        if let listen = root["listen"] {
            guard let text = listen.stringValue else { throw ValidationError(field: "listen", "expected host:port, got \(listen.kindName)") }
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
                throw ValidationError(field: "listen", "'\(printable(text))' is not host:port (e.g. 127.0.0.1:8787)")
            }
            var host = String(text[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            c.host = host.isEmpty ? "0.0.0.0" : host
            c.port = port
        }
        if let tls = root["tls"] {
            guard let cert = tls["certificate"]?.stringValue, let key = tls["key"]?.stringValue else {
                throw ValidationError(field: "tls", "needs certificate and key (PEM file paths)")
            }
            c.tls = TLSFiles(certificate: path(cert, baseDirectory), key: path(key, baseDirectory))
        }
        if let proxies = root["trusted_proxies"] {
            guard let list = proxies.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                throw ValidationError(field: "trusted_proxies", "expected a list of addresses")
            }
            c.trustedProxies = list.compactMap(\.stringValue)
        }
        if root["import"] != nil && root["import_config"] != nil {
            throw ValidationError(field: "import", "give import or import_config, not both")
        }
        if let inline = root["import"] {
            guard inline.objectValue != nil else { throw ValidationError(field: "import", "expected a mapping") }
            do { c.ingest = try IngestConfig.parse(inline.jsonText()) } catch { throw prefixed(error, "import") }
        } else if let file = root["import_config"] {
            guard let name = file.stringValue else { throw ValidationError(field: "import_config", "expected a file path") }
            let full = path(name, baseDirectory)
            guard let text = read(full) else { throw ValidationError(field: "import_config", "cannot read \(printable(full))") }
            do { c.ingest = try IngestConfig.parse(text) } catch { throw prefixed(error, "import_config (\(name))") }
        }
        if let actor = root["actor"] {
            guard let a = actor.stringValue, !a.isEmpty else { throw ValidationError(field: "actor", "expected a handle") }
            c.actor = a
        }
        if let limits = root["limits"] {
            guard let o = limits.objectValue else { throw ValidationError(field: "limits", "expected a mapping") }
            let keys: Set<String> = ["max_body_bytes", "request_timeout_seconds", "durable_within_seconds", "batch_window_ms", "max_batch", "max_pending"]
            for key in o.keys.sorted() where !keys.contains(key) {
                throw ValidationError(field: "limits.\(key)", "unknown limit (known: \(keys.sorted().joined(separator: ", ")))")
            }
            if let v = try number(limits["max_body_bytes"], "limits.max_body_bytes", 1...67_108_864) { c.limits.maxBodyBytes = Int(v) }
            if let v = try number(limits["request_timeout_seconds"], "limits.request_timeout_seconds", 0.1...600) { c.limits.requestTimeout = v }
            if let v = try number(limits["durable_within_seconds"], "limits.durable_within_seconds", 0.05...60) { c.limits.durableWithin = v }
            if let v = try number(limits["batch_window_ms"], "limits.batch_window_ms", 0...1000) { c.limits.batchWindow = v / 1000 }
            if let v = try number(limits["max_batch"], "limits.max_batch", 1...10_000) { c.limits.maxBatch = Int(v) }
            if let v = try number(limits["max_pending"], "limits.max_pending", 1...1_000_000) { c.limits.maxPending = Int(v) }
        }
        if let sources = root["sources"] {
            guard let o = sources.objectValue else { throw ValidationError(field: "sources", "expected a mapping") }
            for key in o.keys.sorted() where !["slack", "pagerduty", "servicenow", "email"].contains(key) {
                throw ValidationError(field: "sources.\(key)", "unknown source (known: email, pagerduty, servicenow, slack)")
            }
            if let s = o["slack"] {
                var slack = SlackSource()
                if let v = try variable(s["signing_secret_env"], "sources.slack.signing_secret_env") { slack.signingSecretEnv = v }
                c.slack = slack
            }
            if let s = o["pagerduty"] {
                var pd = PagerDutySource()
                if let v = try variable(s["webhook_secret_env"], "sources.pagerduty.webhook_secret_env") { pd.webhookSecretEnv = v }
                c.pagerDuty = pd
            }
            if let s = o["servicenow"] {
                var sn = ServiceNowSource()
                (sn.bearerTokenEnv, sn.basicUserEnv, sn.basicPasswordEnv) = try credentials(s, "sources.servicenow", who: "ServiceNow does not sign")
                c.serviceNow = sn
            }
            if let s = o["email"] {
                c.email = try emailSource(s, baseDirectory: baseDirectory)
            }
        }
        if let pollers = root["pollers"] {
            guard let o = pollers.objectValue else { throw ValidationError(field: "pollers", "expected a mapping") }
            for key in o.keys.sorted() where !["pagerduty_maintenance_windows", "servicenow"].contains(key) {
                throw ValidationError(field: "pollers.\(key)", "unknown poller (known: pagerduty_maintenance_windows, servicenow)")
            }
            if let p = o["pagerduty_maintenance_windows"] {
                var w = PagerDutyWindowsPoller()
                if let u = try url(p["base_url"], "pollers.pagerduty_maintenance_windows.base_url") { w.baseURL = u }
                if let v = try variable(p["token_env"], "pollers.pagerduty_maintenance_windows.token_env") { w.tokenEnv = v }
                if let v = try number(p["interval_seconds"], "pollers.pagerduty_maintenance_windows.interval_seconds", 0.05...86_400) { w.interval = v }
                if let v = try number(p["timeout_seconds"], "pollers.pagerduty_maintenance_windows.timeout_seconds", 0.05...600) { w.requestTimeout = v }
                if let ids = p["service_ids"] {
                    guard let list = ids.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                        throw ValidationError(field: "pollers.pagerduty_maintenance_windows.service_ids", "expected a list of service ids")
                    }
                    w.serviceIDs = list.compactMap(\.stringValue)
                }
                c.pollers.pagerDutyWindows = w
            }
            if let p = o["servicenow"] {
                guard let u = try url(p["base_url"], "pollers.servicenow.base_url") else {
                    throw ValidationError(field: "pollers.servicenow.base_url", "required: https://INSTANCE.service-now.com")
                }
                var s = ServiceNowPoller(baseURL: u)
                if let v = try variable(p["user_env"], "pollers.servicenow.user_env") { s.userEnv = v }
                if let v = try variable(p["password_env"], "pollers.servicenow.password_env") { s.passwordEnv = v }
                if let v = try number(p["interval_seconds"], "pollers.servicenow.interval_seconds", 0.05...86_400) { s.interval = v }
                if let v = try number(p["timeout_seconds"], "pollers.servicenow.timeout_seconds", 0.05...600) { s.requestTimeout = v }
                if let v = try number(p["initial_lookback_days"], "pollers.servicenow.initial_lookback_days", 0...3650) { s.initialLookbackDays = v }
                if let t = p["tables"] {
                    let allowed: Set<String> = ["change_request", "incident", "sysapproval_approver"]
                    guard let list = t.arrayValue?.compactMap(\.stringValue), list.count == t.arrayValue?.count, !list.isEmpty,
                          list.allSatisfy(allowed.contains) else {
                        throw ValidationError(field: "pollers.servicenow.tables", "expected a list of \(allowed.sorted().joined(separator: ", "))")
                    }
                    s.tables = list
                }
                c.pollers.serviceNow = s
            }
        }
        return c
    }

    /// `sources.email`: the relay's credentials (one of the two forms is
    /// required) and where the DKIM keys come from.
    /// The credentials of a source that does not sign (ServiceNow, a mail
    /// relay): the names of a bearer token's variable, or of basic auth's
    /// user and password variables; exactly one of the two forms.
    static func credentials(_ s: JSONValue, _ field: String, who: String) throws(ValidationError)
        -> (bearer: String?, user: String?, password: String?) {
        let bearer = try variable(s["bearer_token_env"], "\(field).bearer_token_env")
        let user = try variable(s["basic_user_env"], "\(field).basic_user_env")
        let password = try variable(s["basic_password_env"], "\(field).basic_password_env")
        let basic = user != nil || password != nil
        if basic && (user == nil || password == nil) {
            throw ValidationError(field: field, "basic auth needs both basic_user_env and basic_password_env")
        }
        if (bearer != nil) == basic {
            throw ValidationError(field: field, "give bearer_token_env, or basic_user_env and basic_password_env (\(who): one of them is required)")
        }
        return (bearer, user, password)
    }

    static func emailSource(_ s: JSONValue, baseDirectory: String) throws(ValidationError) -> EmailSource {
        guard let o = s.objectValue else { throw ValidationError(field: "sources.email", "expected a mapping") }
        let keys: Set<String> = ["bearer_token_env", "basic_user_env", "basic_password_env", "dkim_keys", "dns"]
        for key in o.keys.sorted() where !keys.contains(key) {
            throw ValidationError(field: "sources.email.\(key)", "unknown setting (known: \(keys.sorted().joined(separator: ", ")))")
        }
        var e = EmailSource()
        (e.bearerTokenEnv, e.basicUserEnv, e.basicPasswordEnv) = try credentials(s, "sources.email", who: "a mail relay does not sign what it posts")
        if let k = s["dkim_keys"] {
            guard let name = k.stringValue, !name.isEmpty else { throw ValidationError(field: "sources.email.dkim_keys", "expected a key file path") }
            e.dkimKeys = path(name, baseDirectory)
        }
        if let d = s["dns"] {
            guard case .bool(let b) = d else { throw ValidationError(field: "sources.email.dns", "expected true or false, got \(d.kindName)") }
            e.dns = b
        }
        return e
    }

    static func path(_ p: String, _ base: String) -> String {
        p.hasPrefix("/") ? p : (base as NSString).appendingPathComponent(p)
    }

    static func prefixed(_ error: ValidationError, _ prefix: String) -> ValidationError {
        ValidationError(field: error.field.map { "\(prefix).\($0)" } ?? prefix, error.message)
    }

    static func number(_ v: JSONValue?, _ field: String, _ range: ClosedRange<Double>) throws(ValidationError) -> Double? {
        guard let v else { return nil }
        let d: Double?
        switch v {
        case .int(let i): d = Double(i)
        case .double(let x): d = x
        default: d = nil
        }
        guard let d, range.contains(d) else {
            throw ValidationError(field: field, "expected a number from \(range.lowerBound.formatted()) to \(range.upperBound.formatted())")
        }
        return d
    }

    static func variable(_ v: JSONValue?, _ field: String) throws(ValidationError) -> String? {
        guard let v else { return nil }
        guard let s = v.stringValue, s.range(of: "^[A-Za-z_][A-Za-z0-9_]{0,127}$", options: .regularExpression) != nil else {
            throw ValidationError(field: field, "expected the NAME of an environment variable (the secret itself never goes in the file)")
        }
        return s
    }

    static func url(_ v: JSONValue?, _ field: String) throws(ValidationError) -> String? {
        guard let v else { return nil }
        guard let s = v.stringValue, let u = URL(string: s), let scheme = u.scheme, ["http", "https"].contains(scheme), u.host != nil else {
            throw ValidationError(field: field, "expected an http(s) URL")
        }
        return s.hasSuffix("/") ? String(s.dropLast()) : s
    }
}
