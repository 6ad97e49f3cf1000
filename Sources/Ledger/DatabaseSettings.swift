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
        let isURL = text.range(of: "://") != nil
        // URL form: scheme://user:password@host. The user info ends at the
        // last "@" before the query, so a password with a raw "@" or "/"
        // (invalid, but typed by people) is still hidden whole.
        if let schemeEnd = text.range(of: "://") {
            let rest = text[schemeEnd.upperBound...]
            let authorityEnd = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                text.replaceSubrange(authority.index(after: colon)..<at, with: "***")
            }
        }
        // password=... (and sslpassword=...): in a URL query the value ends
        // at "&" or "#"; in a keyword string at white space, or it is quoted.
        let pattern = isURL
            ? #"(password\s*=\s*)([^&#]*)"#
            : #"(password\s*=\s*)('([^'\\]|\\.)*'?|\S*)"#
        if let regex = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]) {
            let range = NSRange(text.startIndex..., in: text)
            text = regex.stringByReplacingMatches(in: text, range: range, withTemplate: "$1***")
        }
        return text
    }
}
