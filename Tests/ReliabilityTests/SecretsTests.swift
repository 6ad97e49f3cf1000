import Events
import Foundation
import Ledger
import Postgres
import Testing
import TestSupport

/// Passwords never appear in output, errors or events; connection strings
/// in messages are redacted.
@Suite("Secrets")
struct SecretsTests {
    struct Case: Sendable, CustomStringConvertible {
        let conninfo: String
        let secret: String
        let kept: [String]
        var description: String { conninfo.replacingOccurrences(of: secret, with: "<secret>") }
    }

    static let cases: [Case] = [
        Case(conninfo: "postgresql://alice:Tr0ub4dor@db.example.org:5432/ledger", secret: "Tr0ub4dor", kept: ["alice", "db.example.org", "/ledger"]),
        Case(conninfo: "postgres://alice:p%40ss%2Fw0rd@db/ledger?sslmode=verify-full", secret: "p%40ss%2Fw0rd", kept: ["sslmode=verify-full"]),
        Case(conninfo: "postgresql://alice:raw@at@sign@db/ledger", secret: "raw@at@sign", kept: ["db/ledger"]),
        Case(conninfo: "postgresql://alice:sl/ash@db/ledger", secret: "sl/ash", kept: ["db/ledger"]),
        Case(conninfo: "postgresql://alice:hunter2@h1:5432,h2:5433/ledger?target_session_attrs=read-write", secret: "hunter2", kept: ["h2:5433"]),
        Case(conninfo: "postgresql://db/ledger?user=alice&password=qs-secret&sslmode=require", secret: "qs-secret", kept: ["sslmode=require", "user=alice"]),
        Case(conninfo: "postgresql://db/ledger?password=last-one", secret: "last-one", kept: ["db/ledger"]),
        Case(conninfo: "postgresql://db/ledger?sslpassword=keypass&sslmode=verify-full", secret: "keypass", kept: ["sslmode=verify-full"]),
        Case(conninfo: "host=db user=alice password=plain-secret dbname=ledger", secret: "plain-secret", kept: ["dbname=ledger", "host=db"]),
        Case(conninfo: "host=db password = spaced-secret dbname=ledger", secret: "spaced-secret", kept: ["dbname=ledger"]),
        Case(conninfo: "host=db PASSWORD=UPPER-secret", secret: "UPPER-secret", kept: ["host=db"]),
        Case(conninfo: "host=db password='quoted secret with spaces' dbname=ledger", secret: "quoted secret with spaces", kept: ["dbname=ledger"]),
        Case(conninfo: #"host=db password='it\'s \\ escaped' dbname=ledger"#, secret: #"it\'s \\ escaped"#, kept: ["dbname=ledger"]),
        Case(conninfo: "host=db password=amp&ersand dbname=ledger", secret: "amp&ersand", kept: ["dbname=ledger"]),
        Case(conninfo: "host=db password='unterminated secret", secret: "unterminated secret", kept: ["host=db"]),
        Case(conninfo: "host=db sslpassword=keyphrase sslkey=/k.pem", secret: "keyphrase", kept: ["sslkey=/k.pem"]),
        Case(conninfo: "password=first-thing host=db", secret: "first-thing", kept: ["host=db"]),
    ]

    @Test("redact hides the password and keeps the rest", arguments: cases)
    func redact(c: Case) {
        let redacted = DatabaseSettings.redact(c.conninfo)
        #expect(!redacted.contains(c.secret), "\(redacted)")
        #expect(redacted.contains("***"))
        for part in c.kept { #expect(redacted.contains(part), "\(redacted) lost \(part)") }
    }

    @Test("redact leaves password-free strings alone",
          arguments: ["host=db user=alice dbname=ledger", "postgresql://alice@db:5432/ledger", "postgresql://db/ledger?sslmode=verify-full", ""])
    func noPassword(conninfo: String) {
        #expect(DatabaseSettings.redact(conninfo) == conninfo)
    }

    @Test("an unreachable database: exit 69 and the error never shows the password", arguments: [
        ("postgresql://alice:S3cr3t-Url@127.0.0.1:1/ledger?connect_timeout=2", "S3cr3t-Url"),
        ("host=127.0.0.1 port=1 user=alice password='S3cr3t quoted' connect_timeout=2", "S3cr3t quoted"),
        ("postgresql://127.0.0.1:1/ledger?user=alice&password=S3cr3t-query&connect_timeout=2", "S3cr3t-query"),
        ("host=/nonexistent-dir port=5432 password=S3cr3t-Kw", "S3cr3t-Kw"),
    ])
    func unreachable(conninfo: String, secret: String) throws {
        for arguments in [["digest"], ["verify"], ["read"], ["migrate"],
                          ["append", "--case", "C-1", "--type", "incident.opened", "--data", openingData, "--key", "k"]] {
            let result = try CLI.run(arguments, environment: ["DTLEDGER_DATABASE_URL": conninfo, "DTLEDGER_APPEND_RETRIES": "0"])
            #expect(result.status == 69, "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains(secret) && !result.stdout.contains(secret), "\(arguments) leaked: \(result.stderr)")
            #expect(result.stderr.contains("***") || !result.stderr.contains("password"), "\(result.stderr)")
        }
    }

    @Test("a password in the connection string never reaches the event, the output or the server's view")
    func notInEvents() throws {
        let db = try TestDatabase.make()
        let secret = "pw-\(UUID().uuidString)"
        // The test server trusts local connections, so the password is sent nowhere; it must not be stored either.
        let url = db.url + " password=\(secret)"
        let append = try CLI.run(["append", "--case", "SEC-1", "--type", "incident.opened", "--data", openingData], database: url)
        #expect(append.status == 0, "\(append.stderr)")
        let read = try CLI.run(["read", "--case", "SEC-1"], database: url)
        #expect(read.status == 0)
        let digest = try CLI.run(["digest"], database: url)
        for r in [append, read, digest] { #expect(!r.stdout.contains(secret) && !r.stderr.contains(secret)) }
        let connection = try db.connect()
        let stored = try connection.query("SELECT data::text || metadata::text FROM dtledger.events").rows.compactMap { $0[0] }
        #expect(stored.count == 1)
        #expect(!stored.joined().contains(secret))
        let activity = try connection.query("SELECT string_agg(coalesce(application_name,'') || coalesce(query,''), ' ') FROM pg_stat_activity").scalar ?? ""
        #expect(!activity.contains(secret))
    }
}
