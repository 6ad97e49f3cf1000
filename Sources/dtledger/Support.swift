import ArgumentParser
import Events
import Foundation
import Compliance
import Ledger
import Projections

/// Options every database command shares.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .customLong("database-url"),
            help: ArgumentHelp("libpq conninfo or postgresql:// URL.",
                               discussion: "Else DTLEDGER_DATABASE_URL, else the PG* variables, else the local demo database (127.0.0.1:54329)."))
    var databaseURL: String?

    var settings: DatabaseSettings {
        DatabaseSettings.resolve(explicit: databaseURL, environment: ProcessInfo.processInfo.environment)
    }

    func store() throws -> EventStore {
        try EventStore(settings: settings)
    }
}

/// Prints a one-line error to stderr and exits with the code that fits it.
func fail(_ error: any Error) -> ExitCode {
    let (message, code): (String, Int32) = switch error {
    case let e as LedgerError: (e.description, exitCode(e.code))
    case let e as InputError: (e.description, 65)
    case let e as CLIError: (e.message, e.code)
    case let e as ComplianceError: (e.description, 65)
    case let e as ProjectionError: (e.description, 75)
    case let e as ExitCode: ("", e.rawValue)
    default: ("\(error)", 70)
    }
    if !message.isEmpty { printError(message) }
    return ExitCode(code)
}

/// The sysexits code for a ledger error (README).
func exitCode(_ code: LedgerError.Code) -> Int32 {
    switch code {
    case .unavailable: 69
    case .versionConflict: 75
    case .invalid: 65
    case .migration, .database: 70
    case .permissionDenied: 77
    default: 70
    }
}

func printError(_ message: String) {
    let line = message.replacingOccurrences(of: "\n", with: " ")
    FileHandle.standardError.write(Data("dtledger: error: \(line)\n".utf8))
}

func printWarning(_ message: String) {
    let line = message.replacingOccurrences(of: "\n", with: " ")
    FileHandle.standardError.write(Data("dtledger: warning: \(line)\n".utf8))
}

/// Runs a command body, mapping every error to a one-line message and exit code.
func guarded(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let code as ExitCode {
        throw code
    } catch {
        throw fail(error)
    }
}

struct CLIError: Error {
    let message: String
    let code: Int32
    static func usage(_ message: String) -> CLIError { CLIError(message: message, code: 64) }
    static func input(_ message: String) -> CLIError { CLIError(message: message, code: 65) }
    static func io(_ message: String) -> CLIError { CLIError(message: message, code: 66) }
}

/// Buffered stdout: one write per 64 KiB, not per line.
final class Output {
    private var buffer: [UInt8] = []
    init() { buffer.reserveCapacity(1 << 16) }
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
        buffer.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(1, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
    deinit { flush() }
}

/// Progress on a terminal (stderr), silence otherwise.
struct Progress {
    let enabled = isatty(2) == 1
    func update(_ text: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
    }
    func bar(_ done: Int, _ total: Int, label: String) {
        guard enabled, total > 0 else { return }
        let width = 30
        let filled = min(width, done * width / total)
        update("\(label) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] \(done)/\(total)")
    }
    func done() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

/// The actor when none is given: DTLEDGER_ACTOR, else the login name.
func defaultActor() -> String? {
    let env = ProcessInfo.processInfo.environment
    if let actor = env["DTLEDGER_ACTOR"], !actor.isEmpty { return actor }
    if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name { return String(cString: name) }
    return env["USER"]
}

/// Reads a file, or stdin for "-", with a clear error.
func readInput(_ path: String) throws -> Data {
    if path == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CLIError.io("cannot read \(path): no such file or not readable")
    }
    return data
}

func parseTime(_ text: String, option: String) throws -> Date {
    do { return try RFC3339.parse(text) } catch { throw CLIError.usage("\(option): \(error.description)") }
}
