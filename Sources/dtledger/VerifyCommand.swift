import ArgumentParser
import Events
import Foundation
import Ledger
import Operations

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute the hash chain and prove nobody edited the ledger.",
        discussion: """
            Recomputes every event's hash in dtledger (not in the database) from the stored columns \
            and names the first position that does not match. With --digest FILE (written earlier \
            by 'dtledger digest' and kept outside the database) it also proves the ledger still \
            extends that digest, which catches deleted newest events and a chain rewritten from any point.
            It also checks that positions start at 1 and follow each other, that recording times never \
            go backwards (nor, with --digest, before the digest's), that the streams table and the head row \
            match the events, and that the database functions, triggers and grants are the ones this \
            binary ships (docs/ledger.md, "Verifying"). A reader login can run every check.
            With --signatures it also re-verifies the signature of every imported event that claims one, \
            from the payload and headers kept with the event and the secret in the environment variable \
            the event names (PAGERDUTY_WEBHOOK_SECRET, SLACK_SIGNING_SECRET, or one allowed with \
            --secret-env): one line per event (re-verified, FAILED, cannot check) and a summary line. \
            An email event's kept raw message is checked to be the event's (Message-ID, Date, SHA-256) \
            and its DKIM signature re-verified at its Date, with the keys of --dkim-keys, else DNS \
            (--no-dns: not looked up, "cannot check").
            Exit 0 when intact, 1 when tampering is found or a signature FAILED.
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "A digest JSON file from 'dtledger digest'.")
    var digest: String?

    @Flag(help: "Also re-verify the signatures of imported events with the secrets in the environment.")
    var signatures = false

    @Option(name: .customLong("secret-env"),
            help: "With --signatures: another environment variable an event may name as its secret (repeatable).")
    var secretEnv: [String] = []

    @Option(name: .customLong("dkim-keys"),
            help: "With --signatures: DKIM public keys file (or directory) for email events: 'selector._domainkey.domain TXT-VALUE' lines.")
    var dkimKeys: String?

    @Flag(name: .customLong("no-dns"), help: "With --signatures: do not look DKIM keys up in DNS.")
    var noDNS = false

    @Flag(help: "Print the result as one JSON line.")
    var json = false

    func run() throws {
        try guarded {
            let session = connection.session()
            let expected = try digest.map { try session.readDigest($0) }
            let ledger = try session.open()
            let report = try ledger.verify(digest: expected)
            let dkim: EmailDKIM = dkimKeys.map { .keyFile($0) } ?? (noDNS ? .none : .dns)
            let signed = signatures ? try ledger.verifySignatures(secretVariables: secretEnv, dkim: dkim) : nil
            if json {
                var o = Self.json(report)
                if let signed, case .object(var members) = o {
                    members["signatures"] = signed.json
                    o = .object(members)
                }
                print(o.jsonText())
            } else if report.ok {
                var line = "ok: \(report.eventsChecked) events verified; chain tip at position \(report.lastPosition), hash \(report.lastHash)"
                if let expected { line += "; extends the digest at position \(expected.position)" }
                print(line)
            } else {
                print("TAMPERING DETECTED at position \(report.firstBadPosition ?? 0): \(report.problem ?? "")")
                print("(\(report.eventsChecked) events before it verified)")
                // Every other finding, check by check.
                for check in report.checks where !check.ok {
                    for problem in check.problems where problem != report.problem { print("\(check.name): \(problem)") }
                    if check.problemCount > check.problems.count {
                        print("\(check.name): and \(check.problemCount - check.problems.count) more")
                    }
                }
            }
            if let signed, !json {
                for line in signed.lines { print(line) }
                print(signed.summaryLine)
            }
            if !report.ok || signed?.ok == false { throw ExitCode(1) }
        }
    }
}

extension VerifyCommand {
    /// The report as the one JSON line of --json.
    static func json(_ report: VerificationReport) -> JSONValue {
        var o: [String: JSONValue] = [
            "ok": .bool(report.ok), "events_checked": .int(report.eventsChecked),
            "last_position": .int(report.lastPosition), "last_hash": .string(report.lastHash),
        ]
        if let bad = report.firstBadPosition { o["first_bad_position"] = .int(bad) }
        if let problem = report.problem { o["problem"] = .string(problem) }
        if let matched = report.digestMatched { o["digest_matched"] = .bool(matched) }
        o["checks"] = .array(report.checks.map { check in
            .object(["name": .string(check.name), "ok": .bool(check.ok),
                     "problems": .array(check.problems.map(JSONValue.string)), "problem_count": .int(Int64(check.problemCount))])
        })
        return .object(o)
    }
}

struct DigestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest",
        abstract: "Print the chain tip {position, hash, recorded_at} as JSON, to keep outside the database.",
        discussion: "Keep each digest somewhere the database's administrators cannot edit (a ticket, a signed email, a git repository); 'dtledger verify --digest FILE' later proves the ledger still extends it.")

    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        try guarded {
            print(try connection.session().open().digest().json.jsonText())
        }
    }
}
