import Events
import Foundation
@testable import Domain
import Testing

@Suite("Directory")
struct DirectoryTests {
    @Test("The sample directory parses and answers lookups")
    func sample() throws {
        let d = try Fixtures.directory()
        #expect(d.effectiveFrom == Fixtures.time("2026-01-01T00:00:00-05:00"))
        #expect(d.people.count == 14)
        #expect(d.person(slackID: "U04DD9G1G02")?.handle == "greg-kirk")
        #expect(d.person(email: "Ivy.Stone@example.org")?.handle == "ivy-isso")
        #expect(d.person(ref: "sean-good")?.roles == ["system-owner"])
        #expect(d.group(ref: "S0OCTOENG")?.role == "octo-engineer")
        #expect(d.group(ref: "octo-health-engineers@example.org")?.handle == "@octo-health-engineers")
        #expect(d.holders(of: "octo-po").map(\.handle) == ["ana-po", "ben-po"])
        #expect(d.product(id: "medications")?.pm == "kim-pm")
    }

    @Test("Round trip through directory.published JSON")
    func roundTrip() throws {
        let d = try Fixtures.directory()
        let back = try Directory(json: try JSONValue.parse(d.json.jsonText()))
        #expect(back == d)
    }

    static let base = """
    effective_from: "2026-01-01T00:00:00-05:00"
    roles: [isso, uf-pm]
    people:
      - {handle: ivy, name: Ivy, slack_id: U1, email: ivy@example.org, roles: [isso]}
    """

    @Test("Invalid directories are refused, naming the field", arguments: [
        (base + "\n  - {handle: ivy, name: Other}", "people[1].handle"),
        (base + "\n  - {handle: bob, name: Bob, slack_id: U1}", "people[1].slack_id"),
        (base + "\n  - {handle: bob, name: Bob, roles: [wizard]}", "people[1].roles"),
        (base + "\ngroups:\n  - {handle: '@g', role: wizard}", "groups[0].role"),
        (base + "\nproducts:\n  - {id: rx, name: Rx, pm: nobody}", "products[0].pm"),
        (base + "\nproducts:\n  - {id: rx, name: Rx, oncall: '@nope'}", "products[0].oncall"),
        ("roles: []\npeople: []", "effective_from"),
        ("effective_from: 2026-01-01\nroles: []", "effective_from"),
    ] as [(String, String)])
    func invalid(_ yaml: String, _ field: String) {
        #expect {
            _ = try Directory.parse(yaml: yaml)
        } throws: { error in
            (error as? ValidationError)?.field == field
        }
    }

    @Test("The directory in force is the latest effective at the date")
    func history() throws {
        let d1 = try Fixtures.directory()
        let d2 = try Directory(effectiveFrom: Fixtures.time("2026-03-10T00:00:00-04:00"), roles: d1.roles,
                               people: Array(d1.people.dropLast()), groups: d1.groups, products: d1.products)
        let h = DirectoryHistory([d2, d1])
        #expect(h.at(Fixtures.time("2026-03-09T23:59:00-04:00"))?.people.count == 14)
        #expect(h.at(Fixtures.time("2026-03-10T00:00:00-04:00"))?.people.count == 13)
        #expect(h.hasRole("omar-vchio", "vchio", at: Fixtures.time("2026-03-01T00:00:00Z")))
        #expect(!h.hasRole("omar-vchio", "vchio", at: Fixtures.time("2026-04-01T00:00:00Z")))
    }
}
