import Crypto
import Foundation
import Testing
import _CryptoExtras

@testable import Mail

/// An independent implementation: dkimpy (PyPI), run through
/// Oracle/dkimpy.sh, which installs it with pip into a virtual environment
/// on first use. When it cannot be installed (no Python, no package index),
/// these tests are skipped, saying so; they are never faked.
enum Dkimpy {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Oracle/dkimpy.sh").path

    static func run(_ args: [String], input: [UInt8] = []) -> (status: Int32, out: [UInt8], err: String) {
        guard let dir = try? tempDir("dkimpy-run") else { return (127, [], "no temporary directory") }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let inPath = dir + "/in", outPath = dir + "/out", errPath = dir + "/err"
        _ = FileManager.default.createFile(atPath: inPath, contents: Data(input))
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["bash", script] + args
        p.standardInput = FileHandle(forReadingAtPath: inPath)
        p.standardOutput = FileHandle(forWritingAtPath: outPath)
        p.standardError = FileHandle(forWritingAtPath: errPath)
        do { try p.run() } catch { return (127, [], "\(error)") }
        p.waitUntilExit()
        let out = FileManager.default.contents(atPath: outPath) ?? Data()
        let err = FileManager.default.contents(atPath: errPath) ?? Data()
        return (p.terminationStatus, [UInt8](out), String(decoding: err, as: UTF8.self))
    }

    /// nil when dkimpy is usable, else why not.
    static let unavailable: String? = {
        let r = run(["check"])
        return r.status == 0 ? nil : "dkimpy cannot be installed or run: \(r.err.split(separator: "\n").last ?? "")"
    }()
}

@Suite(.serialized, .enabled(if: Dkimpy.unavailable == nil, "dkimpy (pip install dkimpy) is not available here"))
struct DKIMOracleTests {
    let now = utc("2026-04-07T15:00:00Z")

    func keyFile() throws -> String {
        let dir = try tempDir("oracle-keys")
        let path = dir + "/keys.txt"
        let lines = TestKeys.records.map { "\($0.key) \($0.value[0])" }.joined(separator: "\n") + "\n"
        try Data(lines.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(arguments: ["rsa", "ed"], ["relaxed/relaxed", "simple/simple", "relaxed/simple", "simple/relaxed"])
    func signedByDkimpyVerifiedByUs(alg: String, canon: String) throws {
        let dir = try tempDir("oracle-sign")
        let keyPath = dir + "/private"
        let keyText = alg == "rsa" ? TestKeys.rsa.pemRepresentation : TestKeys.ed.rawRepresentation.base64EncodedString()
        try Data(keyText.utf8).write(to: URL(fileURLWithPath: keyPath))
        let r = Dkimpy.run(["sign", alg, canon, alg, "example.com", keyPath], input: sample)
        #expect(r.status == 0, "\(r.err)")
        let results = DKIMVerifier(keys: TestKeys.keys).verify(raw: r.out, at: now)
        #expect(results.count == 1)
        #expect(results.first?.verified == true, "\(results.first?.summary ?? "no result")")
        // And dkimpy's signature breaks for us as for dkimpy when the body changes.
        let altered = DKIMTests.replacing(r.out, "Users affected: 300", "Users affected: 301")
        #expect(DKIMVerifier(keys: TestKeys.keys).verify(raw: altered, at: now).first?.failure == .bodyHashMismatch)
        #expect(String(decoding: Dkimpy.run(["verify", try keyFile()], input: altered).out, as: UTF8.self).hasPrefix("fail"))
    }

    @Test(arguments: ["rsa", "ed"], [0, 1, 2, 3])
    func signedByUsVerifiedByDkimpy(alg: String, c: Int) throws {
        let t = DKIMTests()
        var s = t.signer(alg, DKIMTests.canonicalizations[c])
        if c == 1 { s.bodyLength = 20 }
        let signed = try s.sign(sample)
        let r = Dkimpy.run(["verify", try keyFile()], input: signed)
        #expect(r.status == 0, "\(r.err)")
        #expect(String(decoding: r.out, as: UTF8.self) == "pass\n", "\(r.err)")
    }

    @Test func rfc8463ExampleVerifiedByDkimpy() throws {
        let dir = try tempDir("oracle-rfc")
        let path = dir + "/keys.txt"
        try Data("""
            brisbane._domainkey.football.example.com v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=
            test._domainkey.football.example.com v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB

            """.utf8).write(to: URL(fileURLWithPath: path))
        // dkimpy checks the first signature (the ed25519 one): the transcription agrees with it.
        let r = Dkimpy.run(["verify", path], input: DKIMTests.rfc8463Message)
        #expect(String(decoding: r.out, as: UTF8.self) == "pass\n", "\(r.err)")
    }
}
