import Foundation
import Ledger
import Logging
import Receiving
import ServiceLifecycle

/// The pollers configured in `pollers:` (docs/serve.md, "Pollers").
enum Pollers {
    static func services(config: ServeConfig, environment: [String: String], commit: GroupCommit, database: DatabaseSettings,
                         metrics: ServeMetrics, logger: Logger) -> [any Service] {
        []
    }
}
