import Events
import Postgres

/// The one error type the ledger reports to its callers: a code saying what
/// kind of failure it is, and a message for users. Front ends decide what a
/// code means for them (the CLI maps codes to exit codes).
///
/// Throw sites read like cases: `throw LedgerError.unavailable("...")`;
/// callers match codes with `catch LedgerError.Code.versionConflict` or
/// `error.code == .invalid`.
public struct LedgerError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure. Extensible: a new kind is a new constant.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The database cannot be reached or the connection was lost.
        public static let unavailable = Code(rawValue: "unavailable")
        /// The case is not at the expected version: reload and retry.
        public static let versionConflict = Code(rawValue: "versionConflict")
        /// The input is invalid: bad envelope, unknown case, reused key.
        public static let invalid = Code(rawValue: "invalid")
        /// The migrations on disk and in the database disagree.
        public static let migration = Code(rawValue: "migration")
        /// The database refused the operation for this role.
        public static let permissionDenied = Code(rawValue: "permissionDenied")
        /// Anything else the database said.
        public static let database = Code(rawValue: "database")

        public var description: String { rawValue }
    }

    public let code: Code
    /// The message without the code's prefix (for `invalid`, the validation
    /// error's description; for `database`, the server's error).
    public let message: String
    /// The input at fault, for `invalid`.
    public let validation: ValidationError?
    /// The database error this one was mapped from, when there was one.
    public let underlying: PostgresError?

    public init(code: Code, message: String, validation: ValidationError? = nil, underlying: PostgresError? = nil) {
        self.code = code
        self.message = message
        self.validation = validation
        self.underlying = underlying
    }

    /// The field at fault, for `invalid` errors that name one.
    public var field: String? { validation?.field }
    /// The SQLSTATE of the database error behind this one.
    public var sqlState: String? { underlying?.sqlState }

    public static func unavailable(_ message: String, underlying: PostgresError? = nil) -> LedgerError {
        LedgerError(code: .unavailable, message: message, underlying: underlying)
    }

    public static func versionConflict(_ message: String, underlying: PostgresError? = nil) -> LedgerError {
        LedgerError(code: .versionConflict, message: message, underlying: underlying)
    }

    public static func invalid(_ error: ValidationError, underlying: PostgresError? = nil) -> LedgerError {
        LedgerError(code: .invalid, message: error.description, validation: error, underlying: underlying)
    }

    public static func migration(_ message: String, underlying: PostgresError? = nil) -> LedgerError {
        LedgerError(code: .migration, message: message, underlying: underlying)
    }

    public static func permissionDenied(_ message: String, underlying: PostgresError? = nil) -> LedgerError {
        LedgerError(code: .permissionDenied, message: message, underlying: underlying)
    }

    public static func database(_ error: PostgresError) -> LedgerError {
        LedgerError(code: .database, message: error.description, underlying: error)
    }

    public var description: String {
        switch code {
        case .unavailable: "database unavailable: \(message)"
        case .versionConflict: "version conflict: \(message)"
        case .invalid: validation?.description ?? message
        case .migration: "migration: \(message)"
        case .permissionDenied: "permission denied: \(message)"
        case .database: "database error: \(message)"
        default: "\(code.rawValue): \(message)"
        }
    }

    /// Maps a libpq error to what it means for a ledger user.
    public static func from(_ error: PostgresError) -> LedgerError {
        if error.isConnectionFailure { return .unavailable(error.message, underlying: error) }
        switch error.sqlState {
        case LedgerSQLState.versionConflict: return .versionConflict(error.message, underlying: error)
        case LedgerSQLState.keyReused: return .invalid(ValidationError(field: "key", error.message), underlying: error)
        case LedgerSQLState.caseNotOpened: return .invalid(ValidationError(field: "case", error.message), underlying: error)
        case LedgerSQLState.invalid: return .invalid(ValidationError(field: nil, error.message), underlying: error)
        case LedgerSQLState.retroactive:
            // The message starts with "effective_from ...": no field prefix.
            return .invalid(ValidationError(field: nil, error.message), underlying: error)
        case LedgerSQLState.alreadyPublished:
            return .invalid(ValidationError(field: "policy.version", error.message), underlying: error)
        case SQLState.uniqueViolation where error.constraint == "events_policy_version":
            // The unique index behind DTL06: one call publishing a version twice.
            return .invalid(ValidationError(field: "policy.version", Self.republished(error)), underlying: error)
        case SQLState.lockNotAvailable:
            // lock_timeout inside the append functions: the head lock stayed
            // taken for the whole bound. Nothing was appended.
            return .versionConflict("another session holds the ledger's append lock; retry (with --key it is safe)", underlying: error)
        case SQLState.insufficientPrivilege: return .permissionDenied(error.message, underlying: error)
        case SQLState.undefinedTable, SQLState.invalidSchemaName, SQLState.undefinedFunction:
            // Undefined table, schema or function: the database was never
            // migrated, or by an older dtledger.
            return .migration("the database is not set up for this dtledger (\(error.message)); run 'dtledger migrate' as the database owner", underlying: error)
        case SQLState.checkViolation:
            // A CHECK constraint: the database's own copy of the envelope rules.
            return .invalid(ValidationError(field: error.constraint, "refused by the database: \(error.message)"), underlying: error)
        case SQLState.invalidTextRepresentation, SQLState.invalidDatetimeFormat, SQLState.datetimeFieldOverflow,
             SQLState.untranslatableCharacter, SQLState.programLimitExceeded:
            // Bad text representation, datetime format/overflow, untranslatable
            // character, value too large: the input was at fault.
            return .invalid(ValidationError(field: nil, error.message), underlying: error)
        default: return .database(error)
        }
    }
}

extension LedgerError {
    /// "policy 'NAME' version 'V' is already published; ..." from the unique
    /// index's DETAIL, `Key (...)=(NAME, V) already exists.`
    static func republished(_ error: PostgresError) -> String {
        let fallback = "this policy version is already published; publish a new version"
        guard let detail = error.detail, let open = detail.range(of: ")=("),
              let close = detail.range(of: ") already exists", options: .backwards),
              open.upperBound <= close.lowerBound else { return fallback }
        let key = detail[open.upperBound..<close.lowerBound]
        guard let comma = key.range(of: ", ", options: .backwards) else { return fallback }
        return "policy '\(key[..<comma.lowerBound])' version '\(key[comma.upperBound...])' is already published; publish a new version"
    }
}

/// Matches a `LedgerError` by its code: `catch LedgerError.Code.unavailable`.
public func ~= (code: LedgerError.Code, error: any Error) -> Bool {
    (error as? LedgerError)?.code == code
}

/// The SQLSTATEs the ledger's own SQL functions raise (class `DTL`), each
/// with the function files (`Migrations/functions/`) that raise it. Each
/// file's header lists the codes it raises.
public enum LedgerSQLState {
    /// `DTL00`: the input or the call is invalid: not READ COMMITTED,
    /// nothing to append, a key twice in one batch, data the readers could
    /// not decode, an occurred_at more than 5 minutes ahead
    /// (`0001_append.sql`, `0009_append_many.sql`), a bad case-id prefix or year
    /// (`0002_next_case_id.sql`). Maps to `LedgerError.Code.invalid`.
    public static let invalid = "DTL00"
    /// `DTL01`: the case is not at the expected version (`0001_append.sql`).
    /// Maps to `LedgerError.Code.versionConflict`.
    public static let versionConflict = "DTL01"
    /// `DTL02`: an update, delete or truncate of an append-only table
    /// (`0001_reject_change.sql`, fired by the trigger files). Not mapped: a
    /// ledger operation never causes it.
    public static let appendOnly = "DTL02"
    /// `DTL03`: an idempotency key already used for another case or type
    /// (`0001_append.sql`, `0009_append_many.sql`). Maps to `invalid`, field `key`.
    public static let keyReused = "DTL03"
    /// `DTL04`: a case that does not exist is not opened by its first event
    /// (`0001_append.sql`, `0009_append_many.sql`). Maps to `invalid`, field `case`.
    public static let caseNotOpened = "DTL04"
    /// `DTL05`: a policy or directory publication effective more than 5
    /// minutes before its recording without `retroactive_reason`
    /// (`0010_check_reference.sql`, raised by `0001_append.sql`,
    /// `0009_append_many.sql`). Maps to `invalid` (the message names `effective_from`).
    public static let retroactive = "DTL05"
    /// `DTL06`: a policy name and version already published
    /// (`0010_check_reference.sql`, raised by the append functions). Maps to
    /// `invalid`, field `policy.version`.
    public static let alreadyPublished = "DTL06"
}

/// Runs `body`, turning libpq errors into `LedgerError`s.
func mapped<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as PostgresError {
        throw LedgerError.from(error)
    }
}
