import Events
import Foundation
@testable import Domain
import Testing

@Suite("Event catalog validation")
struct CatalogTests {
    func envelope(_ type: String, _ data: JSONValue, case caseID: String = "INC-1") -> Envelope {
        Envelope(type: type, caseID: caseID, occurredAt: Fixtures.time("2026-04-07T09:20:00-04:00"), actor: "max-eng", data: data)
    }

    func field(of env: Envelope) -> String? {
        do {
            try Catalog.validate(env)
            return "(valid)"
        } catch {
            return error.field
        }
    }

    @Test("Every sample event is valid")
    func samples() throws {
        for file in ["planned-downtime-api-platform.jsonl", "incident-user-facing-escalated.jsonl"] {
            #expect(try Scenario(file: file).events().count > 10)
        }
    }

    @Test("Every known type has its decoder, and only those")
    func decodersAreTheCatalog() throws {
        #expect(Set(Catalog.decoders.keys) == Set(Catalog.knownTypes))
        #expect(Catalog.decoders.count == Catalog.knownTypes.count)
        // Each type reaches its own decoder: with no data, the error names a
        // field of that type's data (or the data itself), never the type.
        for type in Catalog.knownTypes {
            do {
                _ = try Catalog.decode(type: type, data: .object([:]))
            } catch {
                #expect(error.field != "type", "\(type): \(error.message)")
            }
        }
        #expect(throws: ValidationError.self) { try Catalog.decode(type: "Notification.Sent", data: .object([:])) }
    }

    @Test("Unknown type is rejected and the message lists the catalog")
    func unknownType() {
        #expect {
            try Catalog.validate(envelope("incident.exploded", obj([:])))
        } throws: { error in
            guard let e = error as? ValidationError else { return false }
            return e.field == "type" && e.message.contains("incident.exploded") && e.message.contains("notification.sent")
        }
    }

    static let opened = obj(["team": "user-facing", "summary": "s", "estimated_user_impact": obj(["services": strs("rx")]),
                             "started_at": "2026-04-07T08:55:00-04:00"])

    @Test("Missing, ill-typed and out-of-range fields name the field", arguments: [
        ("incident.opened", "summary", nil, "data.summary"),
        ("incident.opened", "started_at", JSONValue.string("yesterday"), "data.started_at"),
        ("incident.opened", "started_at", JSONValue.string("2026-04-07T08:55:00"), "data.started_at"),
        ("incident.opened", "team", JSONValue.string("blue-team"), "data.team"),
        ("incident.opened", "data_compromise_suspected", JSONValue.string("yes"), "data.data_compromise_suspected"),
        ("incident.opened", "estimated_user_impact", obj(["users": .int(5)]), "data.estimated_user_impact.services"),
    ] as [(String, String, JSONValue?, String)])
    func badOpened(_ type: String, _ name: String, _ value: JSONValue?, _ expected: String) {
        var o = Self.opened.objectValue!
        o[name] = value
        #expect(field(of: envelope(type, .object(o))) == expected)
    }

    @Test("Unknown priority is rejected")
    func unknownPriority() {
        #expect(field(of: envelope("incident.priority_set", obj(["priority": "P5"]))) == "data.priority")
        #expect(field(of: envelope("incident.priority_set", obj(["priority": "P2"]))) == "(valid)")
    }

    @Test("Other enums and shapes", arguments: [
        ("notification.sent", obj(["channel": "Fax machine", "destination": "d", "audience": strs("x"), "purpose": "initial", "content": obj([:])]), "data.channel"),
        ("notification.sent", obj(["channel": "slack", "destination": "d", "audience": "x", "purpose": "initial", "content": obj([:])]), "data.audience"),
        ("notification.sent", obj(["channel": "slack", "destination": "d", "audience": strs("x"), "purpose": "gossip", "content": obj([:])]), "data.purpose"),
        ("notification.sent", obj(["channel": "slack", "destination": "d", "audience": strs("x"), "purpose": "initial"]), "data.content"),
        ("incident.milestone", obj(["kind": "lunch"]), "data.kind"),
        ("downtime.concluded", obj(["outcome": "meh"]), "data.outcome"),
        ("approval.recorded", obj(["ticket": "T", "approver": "a", "decision": "maybe"]), "data.decision"),
        ("ticket.submitted", obj(["system": "snow", "number": "1", "purpose": "fun"]), "data.purpose"),
        ("maintenance_window.set", obj(["system": "pagerduty", "window_id": "W", "start": "2026-03-14T22:00:00-04:00",
                                        "end": "2026-03-14T21:00:00-04:00", "services": strs("a")]), "data.end"),
        ("event.retracted", obj(["reason": "oops"]), "data.event_id"),
        ("downtime.updated", obj(["note": "nothing"]), "data"),
    ] as [(String, JSONValue, String)])
    func shapes(_ type: String, _ data: JSONValue, _ expected: String) {
        #expect(field(of: envelope(type, data)) == expected)
    }

    @Test("Downtime window: times parsed, end after start")
    func window() throws {
        let s = try Scenario.planned()
        let planned = s.lines[0]
        func with(_ window: JSONValue) throws -> Envelope {
            var o = planned.objectValue!
            var d = o["data"]!.objectValue!
            d["window"] = window
            o["data"] = .object(d)
            return try Envelope.parse(.object(o))
        }
        #expect(field(of: try with(obj(["start": "2026-03-14 22:00", "end": "2026-03-15T02:00:00-04:00"]))) == "data.window.start")
        #expect(field(of: try with(obj(["start": "2026-03-15T02:00:00-04:00", "end": "2026-03-14T22:00:00-04:00"]))) == "data.window.end")
        #expect(field(of: try with(obj(["start": "2026-03-14T22:00:00-04:00"]))) == "data.window.end")
    }

    @Test("Unknown extra fields are accepted and kept")
    func extraKept() throws {
        var o = Self.opened.objectValue!
        o["pagerduty_incident"] = "PXYZ"
        let env = envelope("incident.opened", .object(o))
        try Catalog.validate(env)
        #expect(env.data["pagerduty_incident"] == .string("PXYZ"))
        guard case .incidentOpened(let typed) = try Catalog.decode(type: env.type, data: env.data) else {
            Issue.record("wrong decode")
            return
        }
        #expect(typed.team == .userFacing)
        #expect(typed.dataCompromiseSuspected == false)
    }

    @Test("Reference data goes to its own stream, and only there")
    func referenceStreams() throws {
        let dir = try Fixtures.directory()
        #expect(field(of: envelope("directory.published", dir.json, case: "directory")) == "(valid)")
        #expect(field(of: envelope("directory.published", dir.json, case: "INC-1")) == "case")
        #expect(field(of: envelope("incident.priority_set", obj(["priority": "P1"]), case: "policy")) == "case")
        var bad = dir.json.objectValue!
        bad["effective_from"] = "soon"
        #expect(field(of: envelope("directory.published", .object(bad), case: "directory")) == "data.effective_from")
    }

    @Test("Opening events and case kinds")
    func opening() {
        #expect(Catalog.opensCase("downtime.planned"))
        #expect(Catalog.opensCase("incident.opened"))
        #expect(!Catalog.opensCase("notification.sent"))
        #expect(Catalog.caseKind(forOpeningType: "incident.opened") == .incident)
        #expect(Catalog.caseKind(forOpeningType: "downtime.planned") == .plannedDowntime)
        #expect(Catalog.caseKind(forOpeningType: "incident.resolved") == nil)
        #expect(Catalog.knownTypes.count == Set(Catalog.knownTypes).count)
        #expect(Catalog.knownTypes.contains("policy.published"))
    }

    @Test("Events before the case was opened are not judged")
    func notOpened() throws {
        let s = try Scenario.incident().removing(inc + "opened")
        let e = try Fixtures.judge(s)
        #expect(e.kind == nil)
        #expect(e.obligations.isEmpty)
    }
}
