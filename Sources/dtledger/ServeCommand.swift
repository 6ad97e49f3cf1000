import ArgumentParser
import Events
import Foundation
import Logging
import Receiving
import Serve

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Receive Slack, PagerDuty and ServiceNow evidence live (docs/serve.md).",
        discussion: """
            Runs until SIGTERM or SIGINT, then shuts down gracefully: stops accepting, answers the requests \
            in flight, commits their receipts and maps them. Every request is answered 2xx only once its raw \
            body, headers and receipt time are durable in the database (dtledger.receipts); receipts that \
            cannot be placed in a case wait in the inbox ('dtledger inbox'). Secrets and tokens come from the \
            environment variables the config names. Logs go to stderr, one line per event. \
            Exit 64 usage, 65 a bad config, 69 database unavailable at start, 78 a secret the config names is not set.
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "The service's config (YAML or JSON; docs/serve.md, \"Configuration\").")
    var config: String

    @Option(help: "Listen on this host:port instead of the config's 'listen'.")
    var listen: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(name: .customLong("log-format"), help: "text (one key=value line per event) or json (one JSON object per line).")
    var logFormat: String = "text"

    func run() async throws {
        let session = connection.session()
        var serveConfig: ServeConfig
        do {
            guard let data = FileManager.default.contents(atPath: config) else {
                printError("cannot read \(config): no such file or not readable")
                throw ExitCode(66)
            }
            let base = (config as NSString).deletingLastPathComponent
            serveConfig = try ServeConfig.parse(String(decoding: data, as: UTF8.self), baseDirectory: base.isEmpty ? "." : base)
            if let listen {
                let override = try ServeConfig.parse("listen: \"\(listen.replacingOccurrences(of: "\"", with: ""))\"\nsources: {}")
                serveConfig.host = override.host
                serveConfig.port = override.port
            }
        } catch let e as Events.ValidationError {
            printError("\(config): \(e.description)")
            throw ExitCode(65)
        }
        guard let level = Logger.Level(rawValue: logLevel) else {
            printError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
            throw ExitCode(64)
        }
        guard ["text", "json"].contains(logFormat) else {
            printError("--log-format must be text or json")
            throw ExitCode(64)
        }
        var logger = logFormat == "json"
            ? Logger(label: "dtledger.serve", factory: { JSONLogHandler(label: $0) })
            : Logger(label: "dtledger.serve")
        logger.logLevel = level
        let service: ReceivingService
        do {
            service = try ReceivingService(config: serveConfig, settings: session.settings, environment: session.environment, logger: logger)
        } catch {
            printError(error.message)
            throw ExitCode(78)
        }
        do {
            try await service.run()
        } catch let e as ServeError {
            printError(e.message)
            throw ExitCode(78)
        } catch {
            let (message, code) = ExitCodes.map(error)
            printError(message)
            throw ExitCode(code)
        }
    }
}
