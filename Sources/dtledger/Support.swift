import ArgumentParser
import Events
import Foundation
import Ledger
import Operations

/// What a command gets from the process it runs in: its environment
/// variables and the default actor. Tests pass their own.
struct CommandEnvironment {
    var variables: [String: String]
    /// DTLEDGER_ACTOR, else the login name.
    var defaultActor: String?
    var standardInput: () -> Data = { FileHandle.standardInput.readDataToEndOfFile() }

    static var process: CommandEnvironment {
        let env = ProcessInfo.processInfo.environment
        return CommandEnvironment(variables: env, defaultActor: loginActor(env))
    }

    /// The use cases' session for the database at `databaseURL`, else the
    /// one the environment names; warnings and progress go to stderr.
    func session(databaseURL: String?) -> Session {
        Session(settings: DatabaseSettings.resolve(explicit: databaseURL, environment: variables),
                environment: variables, defaultActor: defaultActor,
                standardInput: standardInput, warn: printWarning, progress: .terminal)
    }

    /// The actor when none is given: DTLEDGER_ACTOR, else the login name.
    static func loginActor(_ env: [String: String]) -> String? {
        if let actor = env["DTLEDGER_ACTOR"], !actor.isEmpty { return actor }
        if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return env["USER"]
    }
}

/// Options every database command shares.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .customLong("database-url"),
            help: ArgumentHelp("libpq conninfo or postgresql:// URL.",
                               discussion: "Else DTLEDGER_DATABASE_URL, else the PG* variables, else the local demo database (127.0.0.1:54329)."))
    var databaseURL: String?

    /// The use cases' session: this database, the process's environment,
    /// warnings and progress on stderr.
    func session(_ env: CommandEnvironment = .process) -> Session { env.session(databaseURL: databaseURL) }
}

extension ProgressSink {
    /// Progress on a terminal (stderr), silence otherwise.
    static var terminal: ProgressSink {
        ProgressSink(enabled: isatty(2) == 1,
                     update: { FileHandle.standardError.write(Data("\r\u{1B}[K\($0)".utf8)) },
                     done: { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) })
    }
}

/// Writes text to stdout as it is (no newline added).
func writeStdout(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}

/// Buffered output: one write per 64 KiB, not per line; to stdout unless
/// told otherwise (tests collect it).
final class Output {
    private var buffer: [UInt8] = []
    private let sink: (UnsafeRawBufferPointer) -> Void
    init(sink: @escaping (UnsafeRawBufferPointer) -> Void = Output.standardOutput) {
        self.sink = sink
        buffer.reserveCapacity(1 << 16)
    }
    func line(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { flush() }
    }
    /// A line written straight into the buffer as bytes.
    func line(_ write: (inout [UInt8]) -> Void) {
        write(&buffer)
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { flush() }
    }
    func flush() {
        guard !buffer.isEmpty else { return }
        buffer.withUnsafeBytes(sink)
        buffer.removeAll(keepingCapacity: true)
    }
    deinit { flush() }

    static func standardOutput(_ raw: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < raw.count {
            let n = write(1, raw.baseAddress! + offset, raw.count - offset)
            if n <= 0 { break }
            offset += n
        }
    }
}
