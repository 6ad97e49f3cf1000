import Domain
import Events
import Foundation
import Ledger
@testable import Receiving
import Testing
import TestSupport

/// The mapper's index of cases (which case a message may belong to) knows
/// cases of kinds a policy declares (issue 17): opened by `case.opened`,
/// closed by `case.closed`, which closes nothing in an incident.
@Suite("Receiving: the case index knows declared-kind cases")
struct CaseIndexTests {
    static func event(_ type: EventType, _ caseID: String, _ at: String, _ data: String) throws -> Envelope {
        Envelope(type: type.rawValue, caseID: caseID, occurredAt: try RFC3339.parse(at), actor: "max-eng",
                 data: try JSONValue.parse(data))
    }

    @Test("case.opened opens a case of its kind in the index; case.closed closes it; on an incident it closes nothing")
    func declaredKind() throws {
        let db = try TestDatabase.make()
        let store = try db.store()
        _ = try store.append(caseID: "CASE-2026-0001", events: [try Self.event(.caseOpened, "CASE-2026-0001", "2026-05-01T10:00:00Z",
            #"{"kind": "vendor_outage_evaluation", "title": "Is the identity provider's outage ours?"}"#)])
        _ = try store.append(caseID: "INC-2026-0009", events: [try Self.event(.incidentOpened, "INC-2026-0009", "2026-05-01T10:05:00Z",
            #"{"team": "user-facing", "summary": "Login fails", "estimated_user_impact": {"services": ["login"]}, "started_at": "2026-05-01T09:50:00Z"}"#)])
        let index = CaseIndex()
        try index.refresh(store)
        #expect(index.kinds()["CASE-2026-0001"] == CaseKind(rawValue: "vendor_outage_evaluation"))
        #expect(index.kinds()["INC-2026-0009"] == .incident)
        let noon = try RFC3339.parse("2026-05-01T12:00:00Z")
        #expect(Set(index.open(at: noon).keys) == ["CASE-2026-0001", "INC-2026-0009"])

        _ = try store.append(caseID: "CASE-2026-0001", events: [try Self.event(.caseClosed, "CASE-2026-0001", "2026-05-01T11:00:00Z", #"{"outcome": "not ours"}"#)])
        _ = try store.append(caseID: "INC-2026-0009", events: [try Self.event(.caseClosed, "INC-2026-0009", "2026-05-01T11:00:00Z", "{}")])
        try index.refresh(store)
        #expect(Set(index.open(at: noon).keys) == ["INC-2026-0009"], "the incident is closed by incident.resolved only")
        let before = try RFC3339.parse("2026-05-01T10:30:00Z")
        #expect(Set(index.open(at: before).keys) == ["CASE-2026-0001", "INC-2026-0009"], "closed at 11:00, open before")
    }
}
