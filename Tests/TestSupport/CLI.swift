import Foundation
import Ledger
import Operations

/// What a CLI run gave: its exit code and output (the binary's, or the
/// in-process runner's in CLITests).
public struct CLIResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
    public var lines: [String] { stdout.split(separator: "\n").map(String.init) }
}

/// Runs the built `dtledger` binary as a user would, and captures its output.
public enum CLI {
    /// The binary: DTLEDGER_BIN (set by Scripts/test), else beside the test bundle.
    public static var binary: String {
        if let bin = ProcessInfo.processInfo.environment["DTLEDGER_BIN"] { return bin }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("dtledger").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        fatalError("dtledger binary not found: build it (swift build) or set DTLEDGER_BIN")
    }

    /// The shared sample scenarios (../shared/scenarios beside the repository).
    public static var scenarios: URL {
        if let dir = ProcessInfo.processInfo.environment["DTLEDGER_SCENARIOS"] { return URL(fileURLWithPath: dir) }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/scenarios")
    }

    /// The environment a CLI run gets: this process's, without any database
    /// setting but `database`, with a test actor, plus `extra`.
    public static func environment(database: String?, extra: [String: String]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        for key in ["DTLEDGER_DATABASE_URL", "PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE", "PGHOSTADDR"] {
            env[key] = nil
        }
        if let database { env["DTLEDGER_DATABASE_URL"] = database }
        env["DTLEDGER_ACTOR"] = env["DTLEDGER_ACTOR"] ?? "test-runner"
        for (k, v) in extra { env[k] = v }
        return env
    }

    @discardableResult
    public static func run(_ arguments: [String], database: String? = nil, stdin: Data? = nil,
                           environment: [String: String] = [:]) throws -> CLIResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = CLI.environment(database: database, extra: environment)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dtl-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out"), err = dir.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        if let stdin {
            let input = dir.appendingPathComponent("in")
            try stdin.write(to: input)
            process.standardInput = try FileHandle(forReadingFrom: input)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        process.waitUntilExit()
        return CLIResult(status: process.terminationStatus,
                         stdout: String(decoding: try Data(contentsOf: out), as: UTF8.self),
                         stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
    }
}

extension TestDatabase {
    /// The use cases' session on this database, as a CLI run in a test gets
    /// it: actor test-runner, no other environment but `environment`.
    public func session(actor: String? = "test-runner", stdin: Data = Data(), environment: [String: String] = [:]) -> Session {
        Session(settings: DatabaseSettings.resolve(explicit: nil, environment: ["DTLEDGER_DATABASE_URL": url]),
                environment: environment, defaultActor: actor, standardInput: { stdin })
    }

    /// A fresh database migrated as `dtledger migrate` does it (which
    /// publishes the default policy) with the sample directory published,
    /// as a team would set it up.
    public static func withSampleDirectory() throws -> TestDatabase {
        let db = try make()
        let ledger = try db.session().open()
        _ = try ledger.migrate(log: { _ in })
        _ = try ledger.publishDefaultPolicyIfNone()
        let yaml = try String(contentsOf: CLI.scenarios.appendingPathComponent("directory.yaml"), encoding: .utf8)
        _ = try ledger.publishDirectory(yaml: yaml, effectiveFrom: nil, actor: nil, retroactiveReason: TestDatabase.sampleReason)
        return db
    }

    /// This database's URL for another login (a personal login of a test).
    public func url(login: String) -> String { url.replacingOccurrences(of: "user=dtledger", with: "user=\(login)") }

    /// Publishes the sample directory through the Operations API (what
    /// `dtledger directory publish` calls) as `login`; its position.
    @discardableResult
    public func publishSampleDirectory(login: String, retroactiveReason: String? = TestDatabase.sampleReason) throws -> Int64 {
        let session = Session(settings: DatabaseSettings.resolve(explicit: nil, environment: ["DTLEDGER_DATABASE_URL": url(login: login)]),
                              environment: [:], defaultActor: login, standardInput: { Data() })
        let yaml = try String(contentsOf: CLI.scenarios.appendingPathComponent("directory.yaml"), encoding: .utf8)
        return try session.open().publishDirectory(yaml: yaml, effectiveFrom: nil, actor: nil, retroactiveReason: retroactiveReason).result.position
    }

    /// `withSampleDirectory()` plus both sample scenarios appended.
    public static func withSamples() throws -> TestDatabase {
        let db = try withSampleDirectory()
        for name in ["planned-downtime-api-platform.jsonl", "incident-user-facing-escalated.jsonl"] {
            _ = try db.session().appendFile(CLI.scenarios.appendingPathComponent(name).path, actor: nil, source: .cli)
        }
        return db
    }
}
