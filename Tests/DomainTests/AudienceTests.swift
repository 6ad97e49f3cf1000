import Events
import Foundation
@testable import Domain
import Testing

@Suite("Audience resolution")
struct AudienceTests {
    /// STEP ONE must tag MHV API/Platform (role api-platform).
    func stepOne(_ audience: JSONValue, directories: DirectoryHistory? = nil) throws -> Obligation {
        try Fixtures.judge(Scenario.incident().setting(inc + "step-one", "audience", audience),
                           directories: directories).only("IR-UF-STEP-ONE")
    }

    @Test("A tagged group stands for its role, by handle, Slack id or email",
          arguments: ["@mhv-api-platform", "S0APIPLAT", "mhv-api-platform@example.org", "role:api-platform"])
    func groupStandsForRole(_ ref: String) throws {
        #expect(try stepOne(strs(ref)).verdict == .met)
    }

    @Test("A person holding the role when the message was sent reaches it",
          arguments: ["nia-eng", "U1000010", "nia.shaw@example.org"])
    func personHoldingRole(_ ref: String) throws {
        #expect(try stepOne(strs(ref)).verdict == .met)
    }

    @Test("A group of another role does not count; the missing role is named")
    func missingRoleNamed() throws {
        let o = try stepOne(strs("@mhv-horizon", "kim-pm"))
        #expect(o.verdict == .partial)
        #expect(o.missing == ["role:api-platform"])
    }

    /// Nia leaves API/Platform on 1 April; a new directory says so.
    func directoriesWithNiaMoved() throws -> DirectoryHistory {
        let d1 = try Fixtures.directory()
        var people = d1.people
        let i = try #require(people.firstIndex { $0.handle == "nia-eng" })
        people[i].roles = ["engineer"]
        let d2 = try Directory(effectiveFrom: Fixtures.time("2026-04-01T00:00:00-04:00"), roles: d1.roles,
                               people: people, groups: d1.groups, products: d1.products)
        return DirectoryHistory([d1, d2])
    }

    @Test("A person who held the role only before the message does not reach it")
    func heldOnlyBefore() throws {
        let dirs = try directoriesWithNiaMoved()
        let o = try stepOne(strs("nia-eng"), directories: dirs)
        #expect(o.verdict == .partial)
        #expect(o.missing == ["role:api-platform"])
        // Same message under the old directory only: reached.
        #expect(try stepOne(strs("nia-eng"), directories: DirectoryHistory([Fixtures.directory()])).verdict == .met)
    }

    @Test("A named person is reached by handle, Slack id or email, and only by that person")
    func namedPerson() throws {
        // IR-UF-P12-SLACK requires person:greg-kirk; tag him by Slack id instead of handle.
        let full = ["@mhv-api-platform", "ana-po", "@octo-health-engineers", "U04DD9G1G02", "sean-good", "@mhv-horizon", "chante"]
        let bySlack = try Fixtures.judge(Scenario.incident().setting(inc + "p1-slack", "audience", .array(full.map(JSONValue.string))))
        #expect(try bySlack.only("IR-UF-P12-SLACK").verdict == .met)

        var without = full
        without[3] = "omar-vchio"
        let s = try Scenario.incident().setting(inc + "p1-slack", "audience", .array(without.map(JSONValue.string)))
        let o = try Fixtures.judge(s, asOf: Fixtures.time("2026-04-07T15:00:00-04:00")).only("IR-UF-P12-SLACK")
        #expect(o.verdict == .partial)
        #expect(o.missing == ["person:greg-kirk"])
        // The 18:30 update tags him: the obligation was met, late.
        let later = try Fixtures.judge(s).only("IR-UF-P12-SLACK")
        #expect(later.verdict == .late)
        #expect(later.lateBy == TimeInterval(4 * 3600 + 20 * 60))
        #expect(later.evidence == [s.id(ofKey: inc + "p1-slack")!, s.id(ofKey: inc + "update-0407")!])
    }

    @Test("Reach across several on-time messages adds up")
    func unionOfMessages() throws {
        let s = try Scenario.incident()
            .setting(inc + "p1-slack", "audience", strs("@mhv-api-platform", "ana-po", "@octo-health-engineers", "greg-kirk"))
            .appending("notification.sent", at: "2026-04-07T13:50:00-04:00", key: "extra", data: obj([
                "channel": "slack", "destination": "#mhv-health-portal-coordination",
                "audience": strs("sean-good", "@mhv-horizon", "chante"), "purpose": "priority",
                "content": Builders.incidentContent]))
        let o = try Fixtures.judge(s).only("IR-UF-P12-SLACK")
        #expect(o.verdict == .met)
        #expect(o.evidence == [s.id(ofKey: inc + "p1-slack")!, s.id(ofKey: "extra")!])
    }

    @Test("Who was the ISSO on 3 March: answered by the directory history")
    func whoWasISSO() throws {
        let d1 = try Fixtures.directory()
        var people = d1.people
        people.append(Person(handle: "zed-isso", name: "Zed", roles: ["isso"]))
        let i = try #require(people.firstIndex { $0.handle == "ivy-isso" })
        people[i].roles = []
        let d2 = try Directory(effectiveFrom: Fixtures.time("2026-04-01T00:00:00-04:00"), roles: d1.roles,
                               people: people, groups: d1.groups, products: d1.products)
        let history = DirectoryHistory([d2, d1])
        #expect(history.holders(of: "isso", at: Fixtures.time("2026-03-03T12:00:00-05:00")).map(\.handle) == ["ivy-isso"])
        #expect(history.holders(of: "isso", at: Fixtures.time("2026-04-07T12:00:00-04:00")).map(\.handle) == ["zed-isso"])
        #expect(history.at(Fixtures.time("2025-12-31T00:00:00Z")) == nil)
    }
}
