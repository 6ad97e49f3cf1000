import Events
import Postgres

/// Errors the ledger reports to its callers, each with the exit code the
/// CLI uses (sysexits, see README).
public enum LedgerError: Error, Sendable, CustomStringConvertible {
    /// The database cannot be reached or the connection was lost (69).
    case unavailable(String)
    /// The case is not at the expected version (75): reload and retry.
    case versionConflict(String)
    /// The input is invalid (65): bad envelope, unknown case, reused key.
    case invalid(ValidationError)
    /// The migrations on disk and in the database disagree (70).
    case migration(String)
    /// The database refused the operation for this role (77).
    case permissionDenied(String)
    /// Anything else the database said (70).
    case database(PostgresError)

    public var description: String {
        switch self {
        case .unavailable(let m): "database unavailable: \(m)"
        case .versionConflict(let m): "version conflict: \(m)"
        case .invalid(let e): e.description
        case .migration(let m): "migration: \(m)"
        case .permissionDenied(let m): "permission denied: \(m)"
        case .database(let e): "database error: \(e.description)"
        }
    }

    public var exitCode: Int32 {
        switch self {
        case .unavailable: 69
        case .versionConflict: 75
        case .invalid: 65
        case .migration: 70
        case .permissionDenied: 77
        case .database: 70
        }
    }

    /// Maps a libpq error to what it means for a ledger user.
    public static func from(_ error: PostgresError) -> LedgerError {
        if error.isConnectionFailure { return .unavailable(error.message) }
        switch error.sqlState {
        case "DTL01": return .versionConflict(error.message)
        case "DTL03": return .invalid(ValidationError(field: "key", error.message))
        case "DTL04": return .invalid(ValidationError(field: "case", error.message))
        case "DTL00": return .invalid(ValidationError(field: nil, error.message))
        case SQLState.insufficientPrivilege: return .permissionDenied(error.message)
        case SQLState.undefinedTable, "3F000", "42883":
            // Undefined table, schema or function: the database was never
            // migrated, or by an older dtledger.
            return .migration("the database is not set up for this dtledger (\(error.message)); run 'dtledger migrate' as the database owner")
        case "23514":
            // A CHECK constraint: the database's own copy of the envelope rules.
            return .invalid(ValidationError(field: error.constraint, "refused by the database: \(error.message)"))
        case "22P02", "22007", "22008", "22P05", "54000":
            // Bad text representation, datetime format/overflow, untranslatable
            // character, value too large: the input was at fault.
            return .invalid(ValidationError(field: nil, error.message))
        default: return .database(error)
        }
    }
}

/// Runs `body`, turning libpq errors into `LedgerError`s.
func mapped<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as PostgresError {
        throw LedgerError.from(error)
    }
}
