import AsyncHTTPClient
import Events
import Foundation
import Ingest
import NIOCore
import NIOSSL
import Testing
import TestSupport

/// `tls:` in the config: the service serves HTTPS itself (no proxy).
@Suite("dtledger serve: HTTPS (openssl-made certificates, PostgreSQL, loopback)")
struct ServeTLSTests {
    @Test("with tls: a client trusting the CA gets answers and its signed request is durable; a client that does not trust it, and plain HTTP, get none")
    func https() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dtl-serve-tls-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try DedicatedServer.shell("""
            cd \(DedicatedServer.quote(dir))
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=dtledger serve test CA' \
                -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
                -keyout ca.key -out ca.crt 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -subj '/CN=localhost' -keyout server.key -out server.csr 2>/dev/null
            printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\nkeyUsage=digitalSignature,keyEncipherment\\nextendedKeyUsage=serverAuth\\n' > ext.cnf
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf -out server.crt 2>/dev/null
            """)
        let config = ServeHarness.config(extra: "tls: {certificate: \(dir)/server.crt, key: \(dir)/server.key}\n")
        let h = try await ServeHarness.start(configYAML: config)
        var trusting = TLSConfiguration.makeClientConfiguration()
        trusting.trustRoots = .file("\(dir)/ca.crt")
        let secure = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: trusting))
        let untrusting = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let health = try await secure.execute(HTTPClientRequest(url: "https://127.0.0.1:\(h.port)/healthz"), timeout: .seconds(10))
            #expect(health.status.code == 200)

            let body = SlackBody.message(eventID: "EvTLS", text: "Summary: over TLS\n<!subteam^S0APIPLAT>",
                                         ts: String(format: "%.6f", Date().timeIntervalSince1970 - 60))
            let ts = Int64(Date().timeIntervalSince1970)
            var request = HTTPClientRequest(url: "https://127.0.0.1:\(h.port)/slack/events")
            request.method = .POST
            request.headers.add(name: "X-Slack-Request-Timestamp", value: String(ts))
            request.headers.add(name: "X-Slack-Signature", value: Signatures.slackSignature(body: body, timestamp: ts, secret: ServeHarness.slackSecret))
            request.body = .bytes(ByteBuffer(bytes: body))
            let answer = try await secure.execute(request, timeout: .seconds(10))
            #expect(answer.status.code == 200)
            #expect(try h.count("SELECT count(*) FROM dtledger.receipts") == 1)

            await #expect(throws: (any Error).self, "a client that does not trust the CA") {
                _ = try await untrusting.execute(HTTPClientRequest(url: "https://127.0.0.1:\(h.port)/healthz"), timeout: .seconds(10))
            }
            let plain = try? await h.get("/healthz")
            #expect(plain?.status != 200, "plain HTTP to the HTTPS port gets no answer")
        } catch {
            try? await secure.shutdown(); try? await untrusting.shutdown()
            await h.stop()
            throw error
        }
        try? await secure.shutdown()
        try? await untrusting.shutdown()
        await h.stop()
    }

    @Test("tls files that cannot be loaded: the service does not start, and says which")
    func badFiles() async throws {
        let config = ServeHarness.config(extra: "tls: {certificate: /nonexistent/cert.pem, key: /nonexistent/key.pem}\n")
        do {
            let h = try await ServeHarness.start(configYAML: config)
            await h.stop()
            Issue.record("started with missing TLS files")
        } catch {
            #expect("\(error)".contains("tls: cannot load /nonexistent/cert.pem"), "\(error)")
        }
    }
}
