import Foundation

/// Where the ledger's database is, resolved the libpq way (README,
/// "Configuration"): `--database-url`, else `DTLEDGER_DATABASE_URL`, else the
/// standard `PG*` variables (and ~/.pgpass, pg_service.conf), else the local
/// database that `Scripts/demo` starts.
public struct DatabaseSettings: Sendable, Equatable {
    /// The local demo database: a PostgreSQL that Scripts/demo starts on
    /// 127.0.0.1:54329 with a `dtledger` database.
    public static let localDefault = "host=127.0.0.1 port=54329 dbname=dtledger user=dtledger connect_timeout=5"

    public let conninfo: String
    /// Where the setting came from, for messages.
    public let origin: String

    public static func resolve(explicit: String?, environment: [String: String]) -> DatabaseSettings {
        if let explicit, !explicit.isEmpty {
            return DatabaseSettings(conninfo: explicit, origin: "--database-url")
        }
        if let url = environment["DTLEDGER_DATABASE_URL"], !url.isEmpty {
            return DatabaseSettings(conninfo: url, origin: "DTLEDGER_DATABASE_URL")
        }
        let libpqVariables = ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE"]
        if libpqVariables.contains(where: { environment[$0].map { !$0.isEmpty } ?? false }) {
            return DatabaseSettings(conninfo: "", origin: "PG* environment variables")
        }
        return DatabaseSettings(conninfo: localDefault, origin: "the local demo database")
    }

    /// The conninfo with any password removed, safe to print.
    public var redacted: String { DatabaseSettings.redact(conninfo) }

    public static func redact(_ conninfo: String) -> String {
        var text = conninfo
        // URL form: scheme://user:password@host
        if let schemeEnd = text.range(of: "://") {
            let rest = text[schemeEnd.upperBound...]
            if let at = rest.firstIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") {
                text.replaceSubrange(rest.index(after: colon)..<at, with: "***")
            }
        }
        // password=... in a keyword string or a URL query.
        let pattern = #"(password\s*=\s*)('([^'\\]|\\.)*'|[^\s&]*)"#
        if let regex = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]) {
            let range = NSRange(text.startIndex..., in: text)
            text = regex.stringByReplacingMatches(in: text, range: range, withTemplate: "$1***")
        }
        return text
    }
}
