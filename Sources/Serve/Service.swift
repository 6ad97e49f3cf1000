import Events
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Ingest
import Ledger
import Postgres
import Logging
import Mail
import NIOCore
import NIOSSL
import Receiving
import ServiceLifecycle
import UnixSignals
import Synchronization

/// A request's context: Hummingbird's core context and the peer's address (for logs).
struct ServeRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// The service's configuration is unusable (exit 78 from the CLI).
public struct ServeError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// `dtledger serve` (docs/serve.md): the receivers, the group commit of
/// receipts, the mapper, the pollers, /healthz, /readyz and /metrics, run as
/// one ServiceGroup that shuts down gracefully on SIGTERM/SIGINT (or
/// `shutdown()`): the HTTP server stops accepting and drains its requests
/// first, then the pollers stop, the group commit commits what is queued,
/// and the mapper maps what is durable.
public final class ReceivingService: Sendable {
    public let config: ServeConfig
    let settings: DatabaseSettings
    let environment: [String: String]
    let logger: Logger
    let metrics = ServeMetrics()
    let commit: GroupCommit
    let mapper: MapperLoop
    let health: DatabaseThread<Connection>
    let slackSecret: String?
    let pagerDutySecret: String?
    let serviceNowAuth: ServiceNowAuth?
    let emailAuth: ServiceNowAuth?
    private let group = Mutex<ServiceGroup?>(nil)
    private let port = Mutex<Int?>(nil)

    /// Checks the configuration against the environment (every named secret
    /// set) before anything starts.
    public init(config: ServeConfig, settings: DatabaseSettings, environment: [String: String], logger: Logger) throws(ServeError) {
        self.config = config
        self.settings = settings
        self.environment = environment
        self.logger = logger
        func secret(_ name: String, _ what: String) throws(ServeError) -> String {
            guard let v = environment[name], !v.isEmpty else {
                throw ServeError("\(what): the environment variable \(name) is not set")
            }
            return v
        }
        guard config.slack != nil || config.pagerDuty != nil || config.serviceNow != nil || config.email != nil
                || config.pollers.pagerDutyWindows != nil || config.pollers.serviceNow != nil else {
            throw ServeError("the config names no source and no poller: nothing to receive (see docs/serve.md)")
        }
        slackSecret = try config.slack.map { s throws(ServeError) in try secret(s.signingSecretEnv, "sources.slack") }
        pagerDutySecret = try config.pagerDuty.map { p throws(ServeError) in try secret(p.webhookSecretEnv, "sources.pagerduty") }
        // A source that does not sign: its bearer token, or basic auth's user and password.
        func auth(_ bearer: String?, _ user: String?, _ password: String?, _ what: String) throws(ServeError) -> ServiceNowAuth {
            if let bearer { return .bearer(try secret(bearer, what)) }
            return .basic(user: try secret(user!, what), password: try secret(password!, what))
        }
        serviceNowAuth = try config.serviceNow.map { sn throws(ServeError) in
            try auth(sn.bearerTokenEnv, sn.basicUserEnv, sn.basicPasswordEnv, "sources.servicenow")
        }
        emailAuth = try config.email.map { e throws(ServeError) in
            try auth(e.bearerTokenEnv, e.basicUserEnv, e.basicPasswordEnv, "sources.email")
        }
        if let e = config.email {
            if let keys = e.dkimKeys {
                do { _ = try DKIMKeyFile(path: keys) } catch { throw ServeError("sources.email.dkim_keys: cannot load \(keys): \(error)") }
            }
        }
        if let p = config.pollers.pagerDutyWindows { _ = try secret(p.tokenEnv, "pollers.pagerduty_maintenance_windows") }
        if let p = config.pollers.serviceNow {
            _ = try secret(p.userEnv, "pollers.servicenow")
            _ = try secret(p.passwordEnv, "pollers.servicenow")
        }
        let receiptsDB = DatabaseThread<ReceiptStore>(name: "dtledger-receipts", open: {
            ReceiptStore(connection: try Connect.connection(settings))
        }, isBroken: { !$0.connection.isOK })
        commit = GroupCommit(database: receiptsDB, limits: config.limits, metrics: metrics, logger: logger)
        mapper = MapperLoop(settings: settings, config: config, environment: environment, metrics: metrics, logger: logger)
        health = DatabaseThread<Connection>(name: "dtledger-health", open: { try Connect.connection(settings) },
                                            isBroken: { !$0.isOK })
    }

    /// The port the server listens on, once it does.
    public var boundPort: Int? { port.withLock { $0 } }

    /// Runs until SIGTERM/SIGINT (`signals`) or `shutdown()`. `onRunning`
    /// gets the bound port (useful with port 0).
    public func run(signals: [UnixSignal] = [.sigterm, .sigint], onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let router = Router(context: ServeRequestContext.self)
        routes(router)
        let server: HTTPServerBuilder
        let http1 = HTTPServerBuilder.http1(configuration: .init(idleTimeout: .seconds(Int64(max(1, config.limits.requestTimeout * 3)))))
        if let tls = config.tls {
            do {
                let chain = try NIOSSLCertificate.fromPEMFile(tls.certificate).map { NIOSSLCertificateSource.certificate($0) }
                let key = try NIOSSLPrivateKey(file: tls.key, format: .pem)
                server = try .tls(http1, tlsConfiguration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
            } catch {
                throw ServeError("tls: cannot load \(tls.certificate) and \(tls.key): \(error)")
            }
        } else {
            server = http1
        }
        let app = Application(
            router: router, server: server,
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "dtledger"),
            onServerRunning: { [self] channel in
                let bound = channel.localAddress?.port ?? config.port
                port.withLock { $0 = bound }
                logger.info("listening", metadata: ["address": "\(config.host):\(bound)", "tls": "\(config.tls != nil)"])
                await onRunning(bound)
            },
            logger: logger)
        var services: [any Service] = [MapperService(loop: mapper), GroupCommitService(commit: commit)]
        services += Pollers.services(config: config, environment: environment, commit: commit, database: settings,
                                     metrics: metrics, logger: logger)
        services.append(app)
        let serviceGroup = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: signals, logger: logger))
        group.withLock { $0 = serviceGroup }
        Task { [self] in
            let state = await readinessState()
            let details = Logger.Metadata(uniqueKeysWithValues: state.details.map { ($0.key, Logger.MetadataValue.string($0.value)) })
            if state.ready { logger.info("ready", metadata: details) } else { logger.warning("not ready", metadata: details) }
        }
        try await serviceGroup.run()
        health.stop()
    }

    /// Starts the graceful shutdown (as SIGTERM does).
    public func shutdown() async {
        let g = group.withLock { $0 }
        await g?.triggerGracefulShutdown()
    }
}
