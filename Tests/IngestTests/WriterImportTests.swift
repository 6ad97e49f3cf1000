import Events
import Foundation
import Ingest
import Ledger
import Operations
import Testing
import TestSupport

@Suite("Ingest: imports as a writer-only login")
struct WriterImportTests {
    @Test("an import as the writer: the directory and the cases come through the writer's functions, not a SELECT")
    func importAsWriter() throws {
        let db = try TestDatabase.withSampleDirectory()
        let owner = try db.connect()
        let login = "dtl_writer_\(UInt32.random(in: 0...UInt32.max))"
        try owner.execute("CREATE ROLE \(login) LOGIN IN ROLE dtledger_writer")
        defer { _ = try? owner.execute("DROP OWNED BY \(login); DROP ROLE IF EXISTS \(login)") }
        let url = db.url.replacingOccurrences(of: "user=dtledger", with: "user=\(login)")
        let session = Session(settings: DatabaseSettings.resolve(explicit: nil, environment: ["DTLEDGER_DATABASE_URL": url]),
                              environment: [:], defaultActor: "test-runner")
        // The login really has no SELECT.
        #expect(throws: (any Error).self) { _ = try session.store().events(caseID: "directory") }
        var request = ImportRequest(source: .pagerDuty(defaultTeam: nil), file: Fixture.path("pagerduty-incident.jsonl"))
        request.config = Fixture.path("config.yaml")
        let r = try session.importPayloads(request)
        #expect(r.summary["appended"] == .int(6))
        // Slack messages resolve their mentions against the directory and need the case opened above.
        var slack = ImportRequest(source: .slack(defaultPurpose: nil), file: Fixture.path("slack-incident.jsonl"))
        slack.config = Fixture.path("config.yaml")
        let s = try session.importPayloads(slack)
        #expect(s.summary["appended"] == .int(6))
        // The same import as the owner maps the same events.
        let ownerDB = try TestDatabase.withSampleDirectory()
        var notices: [ImportNotice] = []
        _ = try ImportCLITests.importFile(ownerDB, .pagerDuty(defaultTeam: nil), Fixture.path("pagerduty-incident.jsonl"), notices: &notices)
        _ = try ImportCLITests.importFile(ownerDB, .slack(defaultPurpose: nil), Fixture.path("slack-incident.jsonl"), notices: &notices)
        let mine = try db.store().events(caseID: ImportCLITests.inc), theirs = try ownerDB.store().events(caseID: ImportCLITests.inc)
        #expect(mine.map(\.data) == theirs.map(\.data))
        #expect(mine.map(\.actor) == theirs.map(\.actor))
        #expect(mine.allSatisfy { $0.metadata["db_role"]?.stringValue == login })
    }
}
