import Compliance
import Projections
@testable import Reports
import Testing

/// The error types of Compliance, Projections and Reports: a code to branch
/// on and the message the CLI prints (its description), unchanged.
@Suite struct LayerErrorTests {
    @Test func codesAndMessages() {
        let unknown = ComplianceError.unknownCase("INC-1")
        #expect(unknown.code == .unknownCase)
        #expect(unknown.description == "case: no case 'INC-1' in the ledger")
        #expect(ComplianceError.noPolicy("INC-2").code == .noPolicy)
        #expect("\(ComplianceError.noPolicy("INC-2"))" == "case INC-2: no policy was in force when it was opened; publish one with 'dtledger policy publish'")
        #expect(ProjectionError.busy.code == .busy)
        #expect(ProjectionError.busy.description == "another projector is running on this database (it holds the projector lock); try again when it stops")
        let moved = ProjectionError.checkpointMoved(expected: 3, found: 5)
        #expect(moved.code == .checkpointMoved && moved.code.rawValue == "checkpoint_moved")
        #expect(moved.description == "the checkpoint moved under this projector (expected 3, found 5); run again")
        #expect(ReportError(code: .spool, message: "compliance: x").description == "compliance: x")
        // Extensible: a code is a value; another layer's constants are another type.
        #expect(ProjectionError.Code(rawValue: "busy") == .busy)
    }
}
