/// An error from libpq or the server. `description` is one line for users and
/// never contains SQL text, parameters or connection secrets.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Could not connect, or the connection was lost.
        case connection
        /// The server rejected a statement; `sqlState` says why.
        case server
        /// Something else went wrong in the client library.
        case client
    }

    public let kind: Kind
    /// The five-character SQLSTATE code, when the server sent one.
    public let sqlState: String?
    public let message: String
    public let detail: String?
    public let hint: String?
    /// The constraint or column the server named, when it named one.
    public let constraint: String?

    public init(kind: Kind, sqlState: String? = nil, message: String, detail: String? = nil,
                hint: String? = nil, constraint: String? = nil) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
    }

    /// True when the connection itself failed or was cut: the server is
    /// unreachable, shutting down, or ended this session.
    public var isConnectionFailure: Bool {
        if kind == .connection { return true }
        guard let sqlState else { return false }
        return sqlState.hasPrefix(SQLState.connectionExceptionClass) || sqlState == SQLState.adminShutdown
            || sqlState == SQLState.crashShutdown || sqlState == SQLState.cannotConnectNow
            || sqlState == SQLState.tooManyConnections
    }

    public var description: String {
        var s = message
        if let sqlState { s += " (SQLSTATE \(sqlState))" }
        return s
    }
}

/// The standard SQLSTATE codes (PostgreSQL, Appendix A) that the code
/// reacts to, in one place. The ledger's own codes (class DTL) are
/// `LedgerSQLState`, in the Ledger module, next to the SQL that raises them.
public enum SQLState {
    /// Class 08, connection exception: every code starting with it.
    public static let connectionExceptionClass = "08"
    public static let datetimeFieldOverflow = "22008"
    public static let invalidDatetimeFormat = "22007"
    public static let invalidTextRepresentation = "22P02"
    public static let untranslatableCharacter = "22P05"
    public static let uniqueViolation = "23505"
    public static let checkViolation = "23514"
    public static let invalidSchemaName = "3F000"
    public static let serializationFailure = "40001"
    public static let deadlockDetected = "40P01"
    public static let insufficientPrivilege = "42501"
    public static let undefinedFunction = "42883"
    /// "role ... does not exist" and other missing objects.
    public static let undefinedObject = "42704"
    public static let internalError = "XX000"
    public static let undefinedTable = "42P01"
    public static let tooManyConnections = "53300"
    public static let programLimitExceeded = "54000"
    /// "source database is being accessed by other users" (CREATE DATABASE ... TEMPLATE).
    public static let objectInUse = "55006"
    public static let lockNotAvailable = "55P03"
    public static let adminShutdown = "57P01"
    public static let crashShutdown = "57P02"
    public static let cannotConnectNow = "57P03"
    public static let raiseException = "P0001"
}

/// Which execution of a pipeline failed (`Connection.pipelinePrepared`), and why.
public struct PipelineFailure: Error {
    public let index: Int
    public let error: any Error
}
