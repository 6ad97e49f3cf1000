import ArgumentParser
@testable import dtledger
import Foundation
import Operations
import TestSupport

/// The CLI run in-process: the argument parser, then the command's body
/// (Operations), with what it would print collected. Covers the commands
/// that build a typed request from their options (append, read, the
/// runbook commands); the others are tested through Operations directly.
enum InProcess {
    /// What a command gets from its environment in a test: the database,
    /// actor test-runner, `extra`, and `stdin` as standard input.
    static func environment(_ db: TestDatabase?, stdin: Data? = nil, extra: [String: String] = [:]) -> CommandEnvironment {
        var variables = extra
        if let db { variables["DTLEDGER_DATABASE_URL"] = db.url }
        let input = stdin ?? Data()
        return CommandEnvironment(variables: variables, defaultActor: "test-runner", standardInput: { input })
    }

    /// Parses and runs `arguments`: the exit code, what goes to stdout and
    /// the one error line the binary would print on stderr.
    @discardableResult
    static func run(_ arguments: [String], database db: TestDatabase? = nil, stdin: Data? = nil,
                    environment extra: [String: String] = [:]) -> CLIResult {
        let env = environment(db, stdin: stdin, extra: extra)
        let command: any ParsableCommand
        do {
            command = try DTLedger.parseAsRoot(arguments)
        } catch {
            let code = DTLedger.exitCode(for: error).rawValue
            let message = DTLedger.fullMessage(for: error)
            return code == 0 ? CLIResult(status: 0, stdout: message + "\n", stderr: "")
                             : CLIResult(status: code, stdout: "", stderr: "Error: \(message)\n")
        }
        do {
            switch command {
            case let c as any RunbookCommand:
                return CLIResult(status: 0, stdout: try c.record(env) + "\n", stderr: "")
            case let c as AppendCommand:
                return CLIResult(status: 0, stdout: try c.execute(env) + "\n", stderr: "")
            case let c as ReadCommand:
                let collected = Collected()
                do {
                    let out = Output(sink: { collected.bytes.append(contentsOf: $0) })
                    try c.execute(env, out)
                }
                return CLIResult(status: 0, stdout: String(decoding: collected.bytes, as: UTF8.self), stderr: "")
            case var help where String(describing: type(of: help)) == "HelpCommand":
                // `--help` with no subcommand: ArgumentParser's help command, whose run throws the help request.
                do { try help.run() } catch {
                    return CLIResult(status: DTLedger.exitCode(for: error).rawValue, stdout: DTLedger.fullMessage(for: error) + "\n", stderr: "")
                }
                fatalError("help printed nothing")
            default:
                fatalError("\(type(of: command)) is not run in-process: call Operations")
            }
        } catch {
            return failure(error)
        }
    }

    /// The exit code and stderr line of an error, as the binary gives them.
    static func failure(_ error: any Error) -> CLIResult {
        let (message, code) = ExitCodes.map(error)
        return CLIResult(status: code, stdout: "", stderr: "dtledger: error: \(message.replacingOccurrences(of: "\n", with: " "))\n")
    }

    /// Runs `body` and gives what the binary would exit with (0 when it does not throw).
    static func outcome(_ body: () throws -> Void) -> CLIResult {
        do {
            try body()
            return CLIResult(status: 0, stdout: "", stderr: "")
        } catch {
            return failure(error)
        }
    }

    final class Collected { var bytes: [UInt8] = [] }
}
