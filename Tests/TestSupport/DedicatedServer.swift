import Foundation
import Ledger
import Postgres

/// A PostgreSQL server of a test's own, for tests that kill, restart or
/// reconfigure the server (never the shared one Scripts/test starts: other
/// tests run on it in parallel). It runs initdb and pg_ctl through
/// Scripts/lib/pg.sh in a temporary directory, listens on a unix socket
/// there (and on 127.0.0.1 when `tcpPort` is given), and has one migrated
/// database, `ledger`. As root the server runs as the `postgres` user.
public final class DedicatedServer: @unchecked Sendable {
    public let directory: String
    public let dataDirectory: String
    public let tcpPort: Int?
    let settings: [String]
    /// The size of the tmpfs the data directory is on, when it is on one.
    public let tmpfsMegabytes: Int?

    /// The repository root (for Scripts/lib/pg.sh).
    public static let repositoryRoot: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// Makes the cluster, runs `prepare` (e.g. to drop TLS files into the
    /// data directory), starts it with `settings` (`name=value` strings) and
    /// creates and migrates the `ledger` database.
    /// With `tmpfsMegabytes`, the data directory is a tmpfs of that size
    /// (root only: `DedicatedServer.canMountTmpfs`), to fill the disk.
    public init(settings: [String] = [], tcpPort: Int? = nil, tmpfsMegabytes: Int? = nil,
                prepare: (String) throws -> Void = { _ in }) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dtl-srv-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        chmod(dir, 0o755)
        directory = dir
        dataDirectory = dir + "/data"
        self.tcpPort = tcpPort
        self.settings = settings
        self.tmpfsMegabytes = tmpfsMegabytes
        if let tmpfsMegabytes {
            try DedicatedServer.shell("mkdir -p \(DedicatedServer.quote(dataDirectory)) && mount -t tmpfs -o size=\(tmpfsMegabytes)m tmpfs \(DedicatedServer.quote(dataDirectory))")
        }
        try DedicatedServer.shell("pg_init \(DedicatedServer.quote(dataDirectory))")
        try prepare(dataDirectory)
        try start()
        let admin = try Connection(conninfo: adminURL)
        try admin.execute("CREATE DATABASE ledger")
        _ = try Migrator().migrate(try Connection(conninfo: url))
    }

    deinit { stop() }

    /// The migrated database, as the superuser `dtledger`, over the socket.
    public var url: String { "host=\(directory) port=\(tcpPort ?? 5432) user=dtledger dbname=ledger connect_timeout=5" }
    public var adminURL: String { "host=\(directory) port=\(tcpPort ?? 5432) user=dtledger dbname=postgres connect_timeout=5" }

    public func start() throws {
        let listen = tcpPort == nil ? "" : "127.0.0.1"
        let port = tcpPort ?? 5432
        var command = "pg_start \(DedicatedServer.quote(dataDirectory)) \(DedicatedServer.quote(directory)) \(port) \(DedicatedServer.quote(listen))"
        for s in settings { command += " " + DedicatedServer.quote(s) }
        try DedicatedServer.shell(command)
    }

    /// A clean, fast shutdown (pg_ctl stop -m fast).
    public func shutdown() throws {
        try DedicatedServer.shell("pg_stop \(DedicatedServer.quote(dataDirectory))")
    }

    /// pg_ctl restart -m fast: sessions are ended (SQLSTATE 57P01).
    public func restart() throws {
        try shutdown()
        try start()
    }

    /// The postmaster's process id, from postmaster.pid (nil when stopped).
    public var postmasterPID: pid_t? {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
              let first = text.split(separator: "\n").first, let pid = pid_t(first) else { return nil }
        return DedicatedServer.alive(pid) ? pid : nil
    }

    /// A crash: kill -9 of the postmaster and of every process it started
    /// (as a power cut would), then waits until they are all gone.
    public func crash() {
        guard let pid = postmasterPID else { return }
        let children = DedicatedServer.children(of: pid)
        kill(pid, SIGKILL)
        for child in children { kill(child, SIGKILL) }
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, ([pid] + children).contains(where: { DedicatedServer.alive($0) }) {
            usleep(20_000)
        }
        // The dead postmaster may linger as a zombie (when whatever adopted
        // it does not reap), which PostgreSQL takes for a running server:
        // remove the lock file of a postmaster known to be dead.
        if !DedicatedServer.alive(pid) {
            try? FileManager.default.removeItem(atPath: dataDirectory + "/postmaster.pid")
            try? FileManager.default.removeItem(atPath: "\(directory)/.s.PGSQL.\(tcpPort ?? 5432).lock")
        }
    }

    /// Stops the server (if running) and deletes its directory.
    public func stop() {
        if let pid = postmasterPID {
            try? shutdown()
            if DedicatedServer.alive(pid) { crash() }
        }
        if tmpfsMegabytes != nil {
            _ = try? DedicatedServer.shell("if mountpoint -q \(DedicatedServer.quote(dataDirectory)); then umount \(DedicatedServer.quote(dataDirectory)); fi")
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Whether this process may mount a tmpfs (root, and the container allows it).
    public static let canMountTmpfs: Bool = {
        guard geteuid() == 0 else { return false }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dtl-mnt-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        return (try? shell("mkdir -p \(quote(dir)) && mount -t tmpfs -o size=1m tmpfs \(quote(dir)) && umount \(quote(dir))")) != nil
    }()

    // MARK: Helpers

    static func alive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        // A zombie (exited, not yet reaped) is gone for our purposes.
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)...].first
        return state != "Z"
    }

    /// Direct children of `pid`, from /proc.
    static func children(of pid: pid_t) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry -> pid_t? in
            guard let child = pid_t(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == pid ? child : nil
        }
    }

    public static func quote(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Runs `command` in bash after sourcing Scripts/lib/pg.sh; throws with
    /// its output when it fails.
    ///
    /// Not Foundation's Process: the server that pg_ctl starts inherits every
    /// open descriptor, including the one Process watches to learn that its
    /// child ended, and would make it wait for the server's exit. So: spawn
    /// bash directly, have it close everything but stdio first (the test
    /// process's own libpq sockets included), and waitpid.
    @discardableResult
    public static func shell(_ command: String) throws -> String {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("dtl-sh-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let script = """
            for fd in /proc/$$/fd/*; do fd=${fd##*/}; if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi; done
            exec </dev/null >\(quote(log)) 2>&1
            set -e; . \(quote(repositoryRoot))/Scripts/lib/pg.sh; \(command)
            """
        let argv = ["/bin/bash", "-c", script]
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/bash", nil, nil, &cArgs, environ)
        guard spawned == 0 else {
            throw ShellError(command: command, status: -1, output: "posix_spawn failed: \(spawned)")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let exited = (status & 0x7f) == 0
        let code = exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        guard code == 0 else { throw ShellError(command: command, status: code, output: output) }
        return output
    }

    public struct ShellError: Error, CustomStringConvertible {
        public let command: String
        public let status: Int32
        public let output: String
        public var description: String { "`\(command)` exited \(status): \(output)" }
    }
}

/// The `dtledger` binary running in the background, to be killed or waited for.
public final class BackgroundCLI: @unchecked Sendable {
    let process = Process()
    let directory: URL
    let outURL: URL, errURL: URL

    public init(_ arguments: [String], database: String?, stdin: Data? = nil,
                environment: [String: String] = [:]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("dtl-bg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        outURL = directory.appendingPathComponent("out")
        errURL = directory.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = arguments
        process.environment = CLI.environment(database: database, extra: environment)
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        if let stdin {
            let input = directory.appendingPathComponent("in")
            try stdin.write(to: input)
            process.standardInput = try FileHandle(forReadingFrom: input)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        try? FileManager.default.removeItem(at: directory)
    }

    public var pid: pid_t { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// kill -9 of the client.
    public func crash() {
        kill(process.processIdentifier, SIGKILL)
    }

    /// Waits for the process to end (nil after `timeout` seconds: a hang).
    public func wait(timeout: Double = 60) -> CLIResult? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        guard !process.isRunning else { return nil }
        process.waitUntilExit()
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return CLIResult(status: status,
                         stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                         stderr: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self))
    }

    /// Runs to the end with a time limit: a hang is killed and reported as nil.
    public static func run(_ arguments: [String], database: String?, stdin: Data? = nil,
                           environment: [String: String] = [:], timeout: Double = 60) throws -> CLIResult? {
        let cli = try BackgroundCLI(arguments, database: database, stdin: stdin, environment: environment)
        return cli.wait(timeout: timeout)
    }
}

/// A small deterministic random number generator (SplitMix64), so a fuzz
/// or fault run can be repeated from its seed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// An integer from the environment (e.g. DTLEDGER_SOAK_SECONDS), else `default`.
public func environmentInt(_ name: String, default value: Int) -> Int {
    ProcessInfo.processInfo.environment[name].flatMap { Int($0) } ?? value
}
