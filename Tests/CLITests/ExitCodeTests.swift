import ArgumentParser
import Compliance
@testable import dtledger
import Events
import Ledger
import Operations
import Postgres
import Projections
import Testing

/// The one error-to-exit-code table (ExitCodes.map), as README documents it.
@Suite("CLI: exit codes")
struct ExitCodeTests {
    static let input = Events.ValidationError(field: "data", "bad")

    static let table: [(error: any Error & Sendable, code: Int32, message: String)] = [
        (LedgerError.unavailable("down"), 69, "database unavailable: down"),
        (LedgerError.versionConflict("at 3"), 75, "version conflict: at 3"),
        (LedgerError.invalid(input), 65, "data: bad"),
        (LedgerError.migration("drift"), 70, "migration: drift"),
        (LedgerError.permissionDenied("no"), 77, "permission denied: no"),
        (LedgerError.database(PostgresError(kind: .server, message: "boom")), 70, "database error: boom"),
        (input, 65, "data: bad"),
        (OperationError.usage("missing --case"), 64, "missing --case"),
        (OperationError.invalid("nope"), 65, "nope"),
        (OperationError.unreadable("cannot read x"), 66, "cannot read x"),
        (OperationError(.cannotWrite, "cannot write x"), 73, "cannot write x"),
        (OperationError(.internal, "lost"), 70, "lost"),
        (OperationError(OperationError.Code(rawValue: "new"), "a code the CLI does not know yet"), 70, "a code the CLI does not know yet"),
        (ComplianceError.unknownCase("no case 'X'"), 65, ""),
        (ProjectionError.busy, 75, ""),
        (ExitCode(1), 1, ""),
    ]

    @Test("every error maps to its exit code and one-line message", arguments: 0..<table.count)
    func mapping(_ index: Int) {
        let row = Self.table[index]
        let (message, code) = ExitCodes.map(row.error)
        #expect(code == row.code, "\(row.error)")
        if !row.message.isEmpty { #expect(message.hasSuffix(row.message), "\(message)") }
    }

    struct Other: Error {}

    @Test("anything else is an internal error (70)")
    func other() {
        #expect(ExitCodes.map(Other()).code == 70)
    }
}
