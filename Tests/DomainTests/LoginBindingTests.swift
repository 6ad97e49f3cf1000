import Events
import Foundation
@testable import Domain
import Testing

/// The sample directory with personal logins bound, and an importer login.
enum Bound {
    static let logins = ["sean-good": "sean", "tara-lead": "tara", "max-eng": "max", "ivy-isso": "ivy",
                         "nia-eng": "nia", "kim-pm": "kim"]

    static func directory(shared: Bool = false, services: [ServiceLogin] = [ServiceLogin(login: "snow-importer", sources: ["servicenow"])])
        throws -> Directory {
        var d = try Fixtures.directory()
        for i in d.people.indices {
            if let login = logins[d.people[i].handle] { d.people[i].logins = [login] }
        }
        if shared {
            // tara's login also listed for sean: shared, trusted for neither.
            let i = try #require(d.people.firstIndex { $0.handle == "sean-good" })
            d.people[i].logins = ["sean", "tara"]
        }
        d.serviceLogins = services
        return d
    }

    /// The scenario's events, each recorded by the login of its actor
    /// (bound people) except those in `by`, recorded by the login given
    /// (and from `source`, when given); `extra` is merged into a key's metadata.
    static func events(_ s: Scenario, by: [String: String] = [:], source: [String: String] = [:],
                       extra: [String: [String: JSONValue]] = [:], recordedLate: [String: TimeInterval] = [:])
        throws -> [RecordedEvent] {
        var out = try s.events(recordedLate: recordedLate)
        for i in out.indices {
            let key = out[i].key ?? ""
            var m: [String: JSONValue] = extra[key] ?? [:]
            m["db_role"] = .string(by[key] ?? logins[out[i].actor] ?? out[i].actor)
            out[i].metadata = .object(m)
            if let s = source[key] { out[i].source = s }
        }
        return out
    }

    static func judge(_ s: Scenario, _ events: [RecordedEvent], directory: Directory) -> CaseEvaluation {
        evaluate(caseID: s.caseID, events: events, policy: Fixtures.policy, policyVersion: Fixtures.policy.version,
                 directories: DirectoryHistory([directory]), asOf: Fixtures.later)
    }
}

@Suite("Actors bound to logins")
struct LoginBindingTests {
    @Test("An approval in the System Owner's name recorded by another login does not count")
    func approverImpersonated() throws {
        let s = try Scenario.planned()
        let e = Bound.judge(s, try Bound.events(s, by: [pd + "approval": "tara"]), directory: try Bound.directory())
        let o = try e.only("PD-API-SNOW-APPROVAL")
        #expect(o.verdict == .partial)
        #expect(o.reason == "actor sean-good recorded by login tara")
        #expect(o.missing.contains("actor sean-good recorded by login tara"))
        #expect(o.findings.contains(Finding(kind: .loginMismatch, eventID: s.id(ofKey: pd + "approval"),
                                            detail: "actor sean-good recorded by login tara")))
        #expect(e.findings.contains { $0.kind == .loginMismatch && $0.eventID == s.id(ofKey: pd + "approval") })
    }

    @Test("The same approval recorded by the approver's own login counts")
    func approverBound() throws {
        let s = try Scenario.planned()
        let e = Bound.judge(s, try Bound.events(s), directory: try Bound.directory())
        let o = try e.only("PD-API-SNOW-APPROVAL")
        #expect(o.verdict == .met)
        #expect(o.findings.isEmpty)
        #expect(!e.findings.contains { $0.isIdentity })
    }

    @Test("A maintenance window verification in the on-call's name by another login does not count")
    func verifierImpersonated() throws {
        let s = try Scenario.planned()
        let e = Bound.judge(s, try Bound.events(s, by: [pd + "pd-verify": "nia"]), directory: try Bound.directory())
        let o = try e.only("PD-API-PD-VERIFY")
        #expect(o.verdict == .partial)
        #expect(o.reason == "actor max-eng recorded by login nia")
        #expect(try Bound.judge(s, Bound.events(s), directory: Bound.directory()).only("PD-API-PD-VERIFY").verdict == .met)
    }

    @Test("A PSETS ticket in the ISSO's name by the team lead's login does not count")
    func issoImpersonated() throws {
        let s = Builders.apiIncident()
        let e = Bound.judge(s, try Bound.events(s, by: ["api/psets": "tara"]), directory: try Bound.directory())
        let o = try e.only("IR-API-PSETS")
        #expect(o.verdict == .partial)
        #expect(o.reason == "actor ivy-isso recorded by login tara")
        #expect(try Bound.judge(s, Bound.events(s), directory: Bound.directory()).only("IR-API-PSETS").verdict == .met)
    }

    @Test("A communication owner's message by another login does not count")
    func communicationOwnerImpersonated() throws {
        let s = try Builders.userFacingDowntime()
        let e = Bound.judge(s, try Bound.events(s, by: [pd + "planning-slack": "tara"]), directory: try Bound.directory())
        let o = try e.occurrence("PD-UF-SLACK", "planning")
        #expect(o.verdict == .partial)
        #expect(o.reason == "actor kim-pm recorded by login tara")
    }

    @Test("A person the directory lists no login for: the action counts, with an unbound_login finding")
    func unbound() throws {
        let s = try Scenario.planned()
        let e = try Fixtures.judge(s)
        let o = try e.only("PD-API-SNOW-APPROVAL")
        #expect(o.verdict == .met)
        #expect(o.findings == [Finding(kind: .unboundLogin, eventID: s.id(ofKey: pd + "approval"),
                                       detail: "sean-good could not be bound to a login (the directory lists none)")])
        #expect(e.findings.contains { $0.kind == .unboundLogin })
    }

    @Test("A shared login is reported by the directory and never trusted")
    func shared() throws {
        let d = try Bound.directory(shared: true)
        #expect(d.owner(ofLogin: "tara") == .shared(["sean-good", "tara-lead"]))
        #expect(d.loginProblems == ["login 'tara' is shared (listed for sean-good, tara-lead): its actions are not trusted"])
        let s = try Scenario.planned()
        // sean's approval recorded by the shared login: not trusted, although sean lists it.
        let e = Bound.judge(s, try Bound.events(s, by: [pd + "approval": "tara"]), directory: d)
        let o = try e.only("PD-API-SNOW-APPROVAL")
        #expect(o.verdict == .partial)
        #expect(o.findings.contains { $0.kind == .sharedLogin })
    }

    @Test("A login the directory does not list is not trusted for a bound person")
    func unknown() throws {
        let s = try Scenario.planned()
        let e = Bound.judge(s, try Bound.events(s, by: [pd + "approval": "zed"]), directory: try Bound.directory())
        let o = try e.only("PD-API-SNOW-APPROVAL")
        #expect(o.verdict == .partial)
        #expect(o.reason == "actor sean-good recorded by login zed")
        #expect(o.findings.map(\.kind) == [.unknownLogin])
    }

    @Test("A registered service login counts for the actor it names, for its own sources only")
    func serviceLogin() throws {
        let s = try Scenario.planned()
        let vouched = Bound.judge(s, try Bound.events(s, by: [pd + "approval": "snow-importer"],
                                                      source: [pd + "approval": "servicenow"]),
                                  directory: try Bound.directory())
        #expect(try vouched.only("PD-API-SNOW-APPROVAL").verdict == .met)
        let wrongSource = Bound.judge(s, try Bound.events(s, by: [pd + "approval": "snow-importer"],
                                                          source: [pd + "approval": "pagerduty"]),
                                      directory: try Bound.directory())
        let o = try wrongSource.only("PD-API-SNOW-APPROVAL")
        #expect(o.verdict == .partial)
        #expect(o.findings.first?.detail == "actor sean-good recorded by login snow-importer, a service login not registered for source pagerduty")
    }

    @Test("A retraction in someone else's name is not honoured")
    func retraction() throws {
        let s = try Scenario.planned()
        let target = try #require(s.id(ofKey: pd + "approval"))
        let withRetraction = s.appending("event.retracted", at: "2026-03-05T09:00:00-05:00", actor: "sean-good",
                                         key: pd + "retract", data: obj(["event_id": .string(target), "reason": "mistake"]))
        let forged = Bound.judge(withRetraction, try Bound.events(withRetraction, by: [pd + "retract": "tara"]),
                                 directory: try Bound.directory())
        #expect(try forged.only("PD-API-SNOW-APPROVAL").verdict == .met)
        #expect(forged.findings.contains { $0.kind == .loginMismatch && $0.detail.hasPrefix("retraction of \(target) not honoured") })
        let history = DirectoryHistory([try Bound.directory()])
        let forgedRetraction = try #require(try Bound.events(withRetraction, by: [pd + "retract": "tara"]).last)
        #expect(!history.honoursRetraction(forgedRetraction))
        #expect(history.honoursRetraction(try #require(try Bound.events(withRetraction).last)))
        let own = Bound.judge(withRetraction, try Bound.events(withRetraction), directory: try Bound.directory())
        #expect(try own.only("PD-API-SNOW-APPROVAL").verdict != .met)
    }
}

@Suite("Provenance and late recording")
struct ProvenanceTests {
    static let claim: [String: JSONValue] = ["import": obj(["signature_verified": .bool(true), "source": "servicenow"])]

    @Test("signature_verified in a writer's own metadata is unverified and reported")
    func forged() throws {
        let s = try Scenario.planned()
        let events = try Bound.events(s, extra: [pd + "approval": Self.claim])
        let approval = try #require(events.first { $0.key == pd + "approval" })
        let p = Provenance.of(approval, directory: try Bound.directory())
        #expect(p == .unverified(reason: "signature_verified claimed by login sean, not a registered importer login"))
        let e = Bound.judge(s, events, directory: try Bound.directory())
        #expect(e.findings.contains(Finding(kind: .unverifiedProvenance, eventID: approval.id,
                                            detail: "signature_verified claimed by login sean, not a registered importer login")))
        // Without a directory, nothing is believed either.
        #expect(Provenance.of(approval, directory: nil) != .verified(source: "cli", secretName: nil))
    }

    @Test("The same claim from a registered importer login is verified")
    func registered() throws {
        let s = try Scenario.planned()
        let events = try Bound.events(s, by: [pd + "approval": "snow-importer"], source: [pd + "approval": "servicenow"],
                                      extra: [pd + "approval": Self.claim])
        let approval = try #require(events.first { $0.key == pd + "approval" })
        #expect(Provenance.of(approval, directory: try Bound.directory()) == .verified(source: "servicenow", secretName: nil))
        let e = Bound.judge(s, events, directory: try Bound.directory())
        #expect(!e.findings.contains { $0.kind == .unverifiedProvenance })
        #expect(Provenance.of(events[0], directory: try Bound.directory()) == .typed)
    }

    @Test("Evidence recorded after its deadline is flagged, with by how long")
    func recordedLate() throws {
        let s = try Scenario.planned()
        // The approval (due before the window starts, 2026-03-14 22:00 EDT) is typed 10 days 8 hours later.
        let late: TimeInterval = 10 * 86_400 + 8 * 3_600
        let events = try Bound.events(s, recordedLate: [pd + "approval": late])
        let e = Bound.judge(s, events, directory: try Bound.directory())
        let o = try e.only("PD-API-SNOW-APPROVAL")
        #expect(o.verdict == .met)
        let f = try #require(o.findings.first { $0.kind == .recordedAfterDeadline })
        let approval = try #require(events.first { $0.key == pd + "approval" })
        let expected = Int64(approval.recordedAt.timeIntervalSince(Fixtures.time("2026-03-14T22:00:00-04:00")))
        #expect(f.seconds == expected)
        #expect(f.detail == "recorded \(Finding.duration(expected)) after the deadline")
        #expect(f.detail == "recorded 3h 10m after the deadline")
        #expect(o.attestedLate)
        // Recorded on time: no finding.
        #expect(try Bound.judge(s, Bound.events(s), directory: Bound.directory()).only("PD-API-SNOW-APPROVAL").findings.isEmpty)
    }

    @Test("Durations read as days, hours and minutes")
    func durations() {
        #expect(Finding.duration(7_800) == "2h 10m")
        #expect(Finding.duration(45) == "45s")
        #expect(Finding.duration(90_000) == "1d 1h")
    }
}

@Suite("Directory logins")
struct DirectoryLoginTests {
    @Test("logins and service_logins are read from YAML and kept in the published JSON")
    func roundTrip() throws {
        let yaml = """
        effective_from: 2026-01-01T00:00:00Z
        roles: [system-owner]
        people:
          - {handle: sean-good, roles: [system-owner], logins: [sean, sgood]}
        service_logins:
          - {login: dtl-import, sources: [pagerduty, servicenow], name: importer}
        """
        let d = try Directory.parse(yaml: yaml)
        #expect(d.people[0].logins == ["sean", "sgood"])
        #expect(d.serviceLogins == [ServiceLogin(login: "dtl-import", sources: ["pagerduty", "servicenow"], name: "importer")])
        #expect(d.owner(ofLogin: "sgood") == .person(0))
        #expect(d.owner(ofLogin: "dtl-import") == .service(0))
        #expect(d.owner(ofLogin: "bob") == nil)
        let again = try Directory(json: d.json)
        #expect(again == d)
        #expect(d.loginProblems.isEmpty)
    }

    @Test("A directory without logins publishes the same data as before")
    func noLogins() throws {
        let d = try Fixtures.directory()
        #expect(d.json["service_logins"] == nil)
        #expect(d.json["people"]?.arrayValue?.allSatisfy { $0["logins"] == nil } == true)
    }

    @Test("A login for a person and a service is shared")
    func personAndService() throws {
        var d = try Bound.directory()
        d.serviceLogins = [ServiceLogin(login: "sean", sources: ["pagerduty"])]
        #expect(d.owner(ofLogin: "sean") == .shared(["sean-good", "service sean"]))
    }

    @Test("Unknown sources and blank logins are refused")
    func refused() {
        #expect(throws: ValidationError.self) {
            try Directory.parse(yaml: "effective_from: 2026-01-01T00:00:00Z\nservice_logins:\n  - {login: x, sources: [fax]}\n")
        }
        #expect(throws: ValidationError.self) {
            try Directory.parse(yaml: "effective_from: 2026-01-01T00:00:00Z\npeople:\n  - {handle: a, logins: [\" \"]}\n")
        }
    }
}
