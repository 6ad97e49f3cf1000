import ArgumentParser
import Compliance
import Events
import Foundation
import Ledger
import Operations
import Projections

/// The one place errors become exit codes (sysexits.h) and the one-line
/// message on stderr. Argument parsing errors are ArgumentParser's (64).
enum ExitCodes {
    /// The message and exit code for an error of any layer.
    static func map(_ error: any Error) -> (message: String, code: Int32) {
        switch error {
        case let e as LedgerError:
            let code: Int32 = switch e.code {
            case .unavailable: 69         // EX_UNAVAILABLE
            case .versionConflict: 75     // EX_TEMPFAIL: reload and retry
            case .invalid: 65             // EX_DATAERR
            case .migration: 70           // EX_SOFTWARE
            case .permissionDenied: 77    // EX_NOPERM
            default: 70                   // .database and codes added later
            }
            return (e.description, code)
        case let e as Events.ValidationError: return (e.description, 65)
        case let e as OperationError:
            let code: Int32 = switch e.code {
            case .usage: 64               // EX_USAGE
            case .invalid: 65
            case .unreadable: 66          // EX_NOINPUT
            case .cannotWrite: 73         // EX_CANTCREAT
            default: 70
            }
            return (e.message, code)
        case let e as ComplianceError: return (e.description, 65)
        case let e as ProjectionError: return (e.description, 75)
        case let e as ExitCode: return ("", e.rawValue)
        default: return ("\(error)", 70)
        }
    }
}

/// Runs a command body, turning every error into its one-line message and exit code.
func guarded(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let code as ExitCode {
        throw code
    } catch {
        let (message, code) = ExitCodes.map(error)
        if !message.isEmpty { printError(message) }
        throw ExitCode(code)
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
