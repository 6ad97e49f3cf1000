import Events
import Foundation
import Ledger
import Postgres
import Testing
import TestSupport

/// TLS through libpq's own settings, against a server of the test's own with
/// a certificate from a CA made in the test (openssl).
@Suite("TLS")
struct TLSTests {
    /// Makes a CA, a server certificate for localhost signed by it, and an
    /// unrelated CA, in `dir`.
    static func makeCertificates(in dir: String) throws {
        let d = DedicatedServer.quote(dir)
        try DedicatedServer.shell("""
            cd \(d)
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=dtledger test CA' \
                -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
                -keyout ca.key -out ca.crt
            openssl req -newkey rsa:2048 -nodes -subj '/CN=localhost' -keyout server.key -out server.csr
            printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\nkeyUsage=digitalSignature,keyEncipherment\\nextendedKeyUsage=serverAuth\\n' > ext.cnf
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf -out server.crt
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=some other CA' -keyout other.key -out other.crt
            """)
    }

    @Test("sslmode=verify-full with the right CA: encrypted (pg_stat_ssl), appends and verifies; a wrong CA: exit 69 and a clear message")
    func verifyFull() throws {
        let certs = FileManager.default.temporaryDirectory.appendingPathComponent("dtl-tls-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: certs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: certs) }
        try Self.makeCertificates(in: certs)

        var server: DedicatedServer?
        var port = 0
        for _ in 0..<5 where server == nil {
            port = Int.random(in: 41_000...59_000)
            server = try? DedicatedServer(settings: ["ssl=on", "ssl_cert_file=server.crt", "ssl_key_file=server.key"],
                                          tcpPort: port) { data in
                let q = DedicatedServer.quote
                try DedicatedServer.shell("""
                    cp \(q(certs))/server.crt \(q(certs))/server.key \(q(data))/
                    chmod 600 \(q(data))/server.key
                    if [ "$(id -u)" = 0 ]; then chown postgres: \(q(data))/server.crt \(q(data))/server.key; fi
                    """)
            }
        }
        _ = try #require(server, "could not start a TLS server")
        defer { server?.stop() }
        let url = "postgresql://dtledger@localhost:\(port)/ledger?sslmode=verify-full&sslrootcert=\(certs)/ca.crt&connect_timeout=5"

        let connection = try Connection(conninfo: url)
        #expect(try connection.query("SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()").scalar == "true")
        let version = try connection.query("SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").scalar ?? ""
        #expect(version.hasPrefix("TLS"))

        let append = try CLI.run(["append", "--case", "TLS-1", "--type", "incident.opened", "--data", openingData, "--key", "tls-1"], database: url)
        #expect(append.status == 0, "\(append.stderr)")
        let stored = try EventStore(connection: connection).events(caseID: "TLS-1")
        #expect(stored.count == 1)
        #expect(stored.first?.metadata["client_addr"]?.stringValue == "127.0.0.1")
        #expect(try CLI.run(["verify"], database: url).status == 0)

        // The server's certificate does not chain to the CA we trust.
        let wrong = url.replacingOccurrences(of: "\(certs)/ca.crt", with: "\(certs)/other.crt")
        let refused = try CLI.run(["digest"], database: wrong)
        #expect(refused.status == 69)
        #expect(errorLines(refused).count == 1)
        #expect(refused.stderr.contains("database unavailable") && refused.stderr.contains("certificate verify failed"), "\(refused.stderr)")
        // A host name the certificate does not carry (hostaddr reaches the same server).
        let otherName = url.replacingOccurrences(of: "@localhost:", with: "@ledger.invalid:") + "&hostaddr=127.0.0.1"
        let mismatch = try CLI.run(["digest"], database: otherName)
        #expect(mismatch.status == 69)
        #expect(mismatch.stderr.contains("does not match host name"), "\(mismatch.stderr)")
        report("TLS: \(version) with sslmode=verify-full; wrong CA refused: \(refused.stderr.prefix(160))")
    }
}
