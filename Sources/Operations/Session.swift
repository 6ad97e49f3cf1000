import Events
import Foundation
import Ledger

/// What one front end (the CLI, a receiving service) hands the use cases:
/// where the database is, the environment it runs in, who acts by default,
/// the clock, and where progress and warnings go. The use cases read nothing
/// of the process themselves (no environment, no stdin, no printing): every
/// such thing comes through here, so a test or a second front end can supply
/// its own.
public struct Session {
    /// The database to connect to.
    public var settings: DatabaseSettings
    /// The environment variables the front end runs with: retry settings
    /// (AppendRetry), signing secrets named by an import.
    public var environment: [String: String]
    /// The actor when a request names none (the CLI: DTLEDGER_ACTOR, else the login name).
    public var defaultActor: String?
    /// The current time.
    public var now: () -> Date
    /// The bytes of "-" (standard input for the CLI).
    public var standardInput: () -> Data
    /// A warning for the operator (e.g. a retry after a lost connection).
    public var warn: (String) -> Void
    /// Progress of a long operation.
    public var progress: ProgressSink

    public init(settings: DatabaseSettings, environment: [String: String] = [:], defaultActor: String? = nil,
                now: @escaping () -> Date = Date.init, standardInput: @escaping () -> Data = { Data() },
                warn: @escaping (String) -> Void = { _ in }, progress: ProgressSink = .silent) {
        self.settings = settings
        self.environment = environment
        self.defaultActor = defaultActor
        self.now = now
        self.standardInput = standardInput
        self.warn = warn
        self.progress = progress
    }

    /// A connection to the ledger.
    public func store() throws -> EventStore { try EventStore(settings: settings) }

    /// Runs `body` on a fresh connection, retrying after a lost connection
    /// only when `idempotent` says a retry is safe (AppendRetry; README, "Retries").
    func retrying<T>(idempotent: @autoclosure () -> Bool, _ body: (EventStore) throws -> T) throws -> T {
        try AppendRetry.from(environment: environment)
            .run(settings: settings, idempotent: idempotent(), notice: warn, body)
    }

    /// Reads a file, or `standardInput` for "-", with the error a user can act on.
    public func read(_ path: String) throws(OperationError) -> Data {
        if path == "-" { return standardInput() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable("cannot read \(path): no such file or not readable")
        }
        return data
    }
}

/// Where a long operation reports how far it is. `enabled` false (not a
/// terminal) skips formatting the text at all.
public struct ProgressSink {
    public let enabled: Bool
    let write: (String) -> Void
    let clear: () -> Void

    public init(enabled: Bool, update: @escaping (String) -> Void, done: @escaping () -> Void) {
        self.enabled = enabled
        self.write = update
        self.clear = done
    }

    public static var silent: ProgressSink { ProgressSink(enabled: false, update: { _ in }, done: {}) }

    public func update(_ text: @autoclosure () -> String) {
        guard enabled else { return }
        write(text())
    }

    public func bar(_ done: Int, _ total: Int, label: String) {
        guard enabled, total > 0 else { return }
        let width = 30
        let filled = min(width, done * width / total)
        write("\(label) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] \(done)/\(total)")
    }

    public func done() {
        guard enabled else { return }
        clear()
    }
}

/// An error of the use cases' own: a request that cannot be carried out as
/// given (usage), input that is not what it should be, a file that cannot be
/// read or written. Errors of the layers below (LedgerError, Events'
/// ValidationError, ComplianceError, ProjectionError) pass through unchanged.
public struct OperationError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem it is; front ends map it (the CLI to exit codes).
    /// New codes are added as static constants.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The request is incomplete or contradictory (a missing or conflicting option).
        public static let usage = Code(rawValue: "usage")
        /// The input is invalid (a bad payload, a failed signature, a policy with problems).
        public static let invalid = Code(rawValue: "invalid")
        /// A named file cannot be read.
        public static let unreadable = Code(rawValue: "unreadable")
        /// An output file cannot be written.
        public static let cannotWrite = Code(rawValue: "cannot_write")
        /// Something that should not happen did (e.g. an appended event cannot be read back).
        public static let `internal` = Code(rawValue: "internal")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    public static func usage(_ message: String) -> OperationError { OperationError(.usage, message) }
    public static func invalid(_ message: String) -> OperationError { OperationError(.invalid, message) }
    public static func unreadable(_ message: String) -> OperationError { OperationError(.unreadable, message) }
}

/// Parses an RFC 3339 time given for `option`, as a usage error naming it.
public func parseTime(_ text: String, option: String) throws(OperationError) -> Date {
    do { return try RFC3339.parse(text) } catch { throw .usage("\(option): \(error.description)") }
}
