import Events
import Foundation
@testable import Domain
import Testing

/// The shortcuts the engine takes for speed (issue 6) answer exactly as the
/// lookups they replace.
@Suite struct LookupSpeedTests {
    static func expected(_ d: Directory, _ ref: String) -> Directory.RefHit {
        if let p = d.person(ref: ref) { return .person(d.people.firstIndex(of: p)!) }
        if let g = d.group(ref: ref) { return .group(d.groups.firstIndex(of: g)!) }
        return .none
    }

    @Test func resolveIsPersonThenGroup() throws {
        let sample = try Fixtures.directory()
        // A directory where a group handle without its @ is also a person's email.
        let tricky = try Directory(effectiveFrom: Fixtures.time("2026-01-01T00:00:00Z"), roles: ["a", "b"],
                                   people: [Person(handle: "p1", name: "P", slackID: "U1", email: "Team@Example.org", roles: ["a"])],
                                   groups: [Group(handle: "@team@example.org", slackID: "S1", email: "g@example.org", role: "b"),
                                            Group(handle: "@p1x", role: "a")],
                                   products: [])
        for d in [sample, tricky] {
            var refs: [String] = ["", "@", "nobody", "Nobody", "role:isso", "Role:ISSO", "#mhv-api", "#MHV-API", "P1", "p1x",
                                  "@p1x", "P1X", "@P1X", "team@example.org", "TEAM@EXAMPLE.ORG", "Team@example.ORG",
                                  "G@EXAMPLE.ORG", "@TEAM@EXAMPLE.ORG", "É@example.org"]
            for p in d.people {
                refs += [p.handle, p.handle.uppercased(), p.slackID, p.slackID?.lowercased(), p.email, p.email?.uppercased(),
                         p.email?.capitalized].compactMap { $0 }
            }
            for g in d.groups {
                refs += [g.handle, String(g.handle.dropFirst()), g.handle.uppercased(), String(g.handle.dropFirst()).uppercased(),
                         g.slackID, g.slackID?.lowercased(), g.email, g.email?.uppercased(), g.email?.capitalized].compactMap { $0 }
            }
            for ref in refs {
                #expect(d.resolve(ref: ref) == Self.expected(d, ref), "\(ref)")
            }
        }
    }

    /// The remembered start of day equals the calendar's, across daylight-saving
    /// changes and in zones whose clocks changed at midnight.
    /// The strings of a ResolvedAudience, for comparison.
    static func text(_ r: ResolvedAudience) -> [[String]] { [r.roles, r.people, r.groups, r.literals] }

    @Test func rememberedAudiencesAnswerAsResolvingAgain() throws {
        var d = try Fixtures.directory()
        let lists: [[String]] = [
            [], ["nobody"], ["role:isso", "Role:ISSO"],
            d.people.map(\.handle), d.groups.map(\.handle), d.people.compactMap(\.email).map { $0.uppercased() },
            d.groups.compactMap(\.slackID) + ["#mhv-api", d.people[0].handle, d.people[0].handle],
        ]
        for list in lists {
            let fresh = ResolvedAudience(audience: list, directory: d)
            #expect(Self.text(d.resolve(audience: list)) == Self.text(fresh), "\(list)")
            #expect(Self.text(d.resolve(audience: list)) == Self.text(fresh), "remembered: \(list)")
        }
        // Without a directory in force: literals and role: refs only.
        let none = ResolvedAudience(audience: ["role:isso", "Ana"], directory: nil)
        #expect(Self.text(none) == [["isso"], [], [], ["role:isso", "ana"]])
        // A directory whose people change forgets what it remembered.
        let handle = d.people[0].handle
        let before = d.resolve(audience: [handle])
        #expect(before.people == [handle])
        let copy = d
        d.people[0].roles = ["changed-role"]
        #expect(d.resolve(audience: [handle]).roles == ["changed-role"])
        #expect(Self.text(copy.resolve(audience: [handle])) == Self.text(before), "a copy from before keeps its answers")
    }

    @Test(arguments: ["America/New_York", "America/Sao_Paulo", "America/Havana", "Asia/Beirut", "Pacific/Apia",
                      "Australia/Lord_Howe", "Europe/London", "UTC"])
    func startOfDayAgreesWithCalendar(_ zoneName: String) throws {
        let zone = try #require(TimeZone(identifier: zoneName))
        let days = LocalCalendar(zone)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        var t = Fixtures.time("2008-01-01T00:00:00Z").timeIntervalSince1970
        let end = Fixtures.time("2013-01-01T00:00:00Z").timeIntervalSince1970
        while t < end {
            let d = Date(timeIntervalSince1970: t)
            #expect(days.startOfDay(d) == calendar.startOfDay(for: d), "\(zoneName) \(RFC3339.format(d))")
            t += 3 * 3600 + 17 * 60  // walks through every hour of the day over the years
        }
    }

    /// The bit set of covered targets behaves as Set<Int>, also past 64 targets.
    @Test func targetSetIsASet() {
        var seed: UInt64 = 11
        func next(_ n: Int) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int(seed >> 33) % n
        }
        for _ in 0..<200 {
            var a = TargetSet(), b = TargetSet()
            var sa = Set<Int>(), sb = Set<Int>()
            for _ in 0..<next(12) { let i = next(130); a.insert(i); sa.insert(i) }
            for _ in 0..<next(12) { let i = next(130); b.insert(i); sb.insert(i) }
            #expect(a.count == sa.count && a.isEmpty == sa.isEmpty)
            a.formUnion(b)
            sa.formUnion(sb)
            #expect(a.count == sa.count)
            #expect((0..<140).allSatisfy { a.contains($0) == sa.contains($0) })
        }
        let literal: TargetSet = [0, 63, 64, 200]
        #expect(literal.count == 4 && literal.contains(63) && literal.contains(64) && !literal.contains(1))
    }
}
