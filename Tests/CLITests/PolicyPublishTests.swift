import ArgumentParser
@testable import dtledger
import Events
import Foundation
import Operations
import Testing
import TestSupport

/// Issue 17's smaller things: `policy publish` takes `effective_from` from
/// the file, versions are unique per policy name, refusals name the policy,
/// `policy check` names every unknown audience ref.
@Suite("CLI: policy publish and check (issue 17)")
struct PolicyPublishTests {
    /// A second process (another policy name), its own version 1.
    static func other(version: String = "1", effectiveFrom: String? = "2026-05-01T00:00:00-04:00",
                      extra: String = "") -> String {
        """
        name: federal-incident-communications
        version: "\(version)"
        timezone: America/New_York
        \(effectiveFrom.map { "effective_from: \"\($0)\"" } ?? "")
        rules:
          - id: FED-NOTIFY
            title: Notify within the hour
            quote: "notify within the hour"
            applies_when: {kind: incident}
            requires: {notification: {channels: [slack, email]\(extra)}}
            due: {within: PT1H, after: incident.opened}
        """
    }

    @Test("publish without --effective-from takes the file's effective_from")
    func effectiveFromFile() throws {
        // The option is optional on the command line now.
        #expect(throws: Never.self) { _ = try DTLedger.parseAsRoot(["policy", "publish", "p.yaml"]) }
        let db = try CLIComplianceTests.loaded()
        let ledger = try db.session().open()
        let outcome = try ledger.publishPolicy(yaml: Self.other(), effectiveFrom: nil, actor: nil,
                                               retroactiveReason: TestDatabase.sampleReason)
        let expected = try RFC3339.parse("2026-05-01T00:00:00-04:00")
        #expect(outcome.effectiveFrom == expected)
        #expect(try ledger.policies().publications.contains { $0.version == "1" && $0.effectiveFrom == expected })
        // The option still overrides the file.
        let override = try RFC3339.parse("2026-06-01T00:00:00-04:00")
        let two = try ledger.publishPolicy(yaml: Self.other(version: "2"), effectiveFrom: override, actor: nil,
                                           retroactiveReason: TestDatabase.sampleReason)
        #expect(two.effectiveFrom == override)
        #expect(try ledger.policies().publications.contains { $0.version == "2" && $0.effectiveFrom == override })
    }

    @Test("publish with neither --effective-from nor effective_from is refused, naming the policy")
    func noEffectiveDate() throws {
        let db = try CLIComplianceTests.loaded()
        let before = try db.store().digest()
        let r = InProcess.outcome {
            _ = try db.session().open().publishPolicy(yaml: Self.other(effectiveFrom: nil), effectiveFrom: nil, actor: nil)
        }
        #expect(r.status == 65)
        #expect(r.stderr.contains("policy federal-incident-communications version 1: no effective date"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(try db.store().digest() == before)
    }

    @Test("a version is unique per policy name: another policy's version 1 publishes; the same name's is refused by name")
    func versionPerName() throws {
        let db = try CLIComplianceTests.loaded()
        let ledger = try db.session().open()
        // The default policy (mhv-downtime-notification) is version 1 already.
        #expect(try ledger.policies().publications.map(\.version) == ["1"])
        _ = try ledger.publishPolicy(yaml: Self.other(), effectiveFrom: nil, actor: nil,
                                     retroactiveReason: TestDatabase.sampleReason)
        #expect(try ledger.policies().publications.count == 2)
        // Republishing the very same document and date is a no-op.
        let again = try ledger.publishPolicy(yaml: Self.other(), effectiveFrom: nil, actor: nil,
                                             retroactiveReason: TestDatabase.sampleReason)
        #expect(again.result.duplicate)
        // The same name and version with other content: refused, naming both.
        let changed = Self.other(extra: ", destination: \"#other\"")
        let clash = InProcess.outcome {
            _ = try ledger.publishPolicy(yaml: changed, effectiveFrom: nil, actor: nil, retroactiveReason: TestDatabase.sampleReason)
        }
        #expect(clash.status == 65)
        #expect(clash.stderr.contains("policy federal-incident-communications version 1 is already published"), "\(clash.stderr)")
        // ...and with another date.
        let moved = InProcess.outcome {
            _ = try ledger.publishPolicy(yaml: Self.other(effectiveFrom: "2026-05-02T00:00:00-04:00"), effectiveFrom: nil,
                                         actor: nil, retroactiveReason: TestDatabase.sampleReason)
        }
        #expect(moved.stderr.contains("policy federal-incident-communications version 1 is already published"), "\(moved.stderr)")
        #expect(try ledger.policies().publications.count == 2)
    }

    @Test("a policy with problems is refused naming the policy and every problem")
    func problemsNamePolicy() throws {
        let db = try CLIComplianceTests.loaded()
        let bad = Self.other().replacingOccurrences(of: "requires: {notification: {channels: [slack, email]}}",
                                                    with: "requires: {notification: {channels: [slack, email], audience: [person:nobody, group:no-group, role:no-role]}}")
        let r = InProcess.outcome {
            _ = try db.session().open().publishPolicy(yaml: bad, effectiveFrom: nil, actor: nil, retroactiveReason: TestDatabase.sampleReason)
        }
        #expect(r.status == 65)
        #expect(r.stderr.contains("policy federal-incident-communications version 1: 3 problem(s)"), "\(r.stderr)")
        for name in ["unknown person 'nobody'", "unknown group 'no-group'", "unknown role 'no-role'"] {
            #expect(r.stderr.contains(name), "\(name): \(r.stderr)")
        }
    }

    @Test("policy check names every unknown person, group and role of an audience")
    func checkNamesEvery() throws {
        let yaml = Self.other()
            .replacingOccurrences(of: "rules:", with: """
            audiences:
              inner: [person:ghost-one, role:ghost-role]
              outer: [inner, person:ghost-two, group:ghost-group, role:isso]
            rules:
            """)
            .replacingOccurrences(of: "requires: {notification: {channels: [slack, email]}}",
                                  with: "requires: {notification: {channels: [slack, email], audience: [outer, person:ghost-three]}}")
        let dir = CLI.scenarios.appendingPathComponent("directory.yaml").path
        let session = Session(settings: .resolve(explicit: nil, environment: [:]))
        let problems = try session.checkPolicy(yaml: yaml, directory: .file(dir)).problems
        for name in ["unknown person 'ghost-one'", "unknown role 'ghost-role'", "unknown person 'ghost-two'",
                     "unknown group 'ghost-group'", "unknown person 'ghost-three'"] {
            #expect(problems.contains { $0.hasPrefix("rule FED-NOTIFY: ") && $0.contains(name) }, "\(name): \(problems)")
        }
        #expect(problems.contains("audience outer: unknown person 'ghost-two'"), "\(problems)")
        #expect(problems.contains("audience outer: unknown person 'ghost-one'"), "\(problems)")
        #expect(problems.contains("audience inner: unknown role 'ghost-role'"), "\(problems)")
        // Each once per place.
        #expect(problems.filter { $0 == "rule FED-NOTIFY: unknown person 'ghost-one'" }.count == 1)
        #expect(!problems.contains { $0.contains("isso") })
    }
}
