import ArgumentParser
import Compliance
import Events
import Foundation
import Ingest
import Ledger
import Domain

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import PagerDuty, Slack and ServiceNow records as events (idempotent by the source's own ids).",
        discussion: """
            Formats, mappings and the message template: docs/importers.md.
            Payloads that cannot be mapped are reported on stderr, one per line with the reason; the rest \
            is appended in one transaction (all or nothing) and a summary line is printed. With --strict any \
            unmappable payload fails the import and nothing is written. A payload whose signature fails \
            (--verify-signature) always fails the whole import. Exit 0 ok; 65 nothing written \
            (bad signature, --strict, invalid input); 66 unreadable file.
            """,
        subcommands: [PagerDuty.self, Slack.self, ServiceNow.self])

    struct Shared: ParsableArguments {
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The payload file (JSON, a JSON array or JSON Lines), or - for stdin.") var file: String
        @Option(help: "Importer config (YAML or JSON): cases, actors, services, channels.") var config: String?
        @Option(name: .customLong("case"), help: "Put every event into this case.") var caseID: String?
        @Option(help: "Map a source id to a case, as ID=CASE (repeatable): PagerDuty incident/service/window id, ServiceNow number.")
        var map: [String] = []
        @Option(help: "Actor when the payload names nobody the directory knows (default: DTLEDGER_ACTOR, else the login name).")
        var actor: String?
        @Flag(help: "Fail (write nothing) when any payload cannot be mapped.") var strict = false
        @Flag(name: .customLong("dry-run"), help: "Map and report, print the events, write nothing.") var dryRun = false
        @Flag(help: "Print each imported event as one JSON line before the summary.") var json = false
    }

    struct Signing: ParsableArguments {
        @Flag(name: .customLong("verify-signature"), help: "Verify each payload's signature header with the shared secret.")
        var verifySignature = false
        @Option(name: .customLong("secret-env"), help: "Environment variable holding the secret.") var secretEnv: String?
    }

    struct PagerDuty: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pagerduty",
            abstract: "PagerDuty webhook v3 incident events and REST maintenance windows.",
            discussion: "Secret: PAGERDUTY_WEBHOOK_SECRET (or --secret-env). Signature: X-PagerDuty-Signature v1 (HMAC-SHA256 of the body).")
        @OptionGroup var shared: Shared
        @OptionGroup var signing: Signing
        @Option(help: "Team of incidents whose service the config does not map.") var team: Team?
        func run() throws {
            try guarded {
                try Importing.run(shared, signing: signing, secretVariable: "PAGERDUTY_WEBHOOK_SECRET") { payloads, context in
                    var c = context
                    c.defaultTeam = team
                    return PagerDutyImporter.map(payloads, context: c)
                }
            }
        }
    }

    struct Slack: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "slack",
            abstract: "Slack Events API message events (and message_changed edits) as notifications.",
            discussion: "Secret: SLACK_SIGNING_SECRET (or --secret-env). Signature: X-Slack-Signature v0 with X-Slack-Request-Timestamp, at most 5 minutes from received_at.")
        @OptionGroup var shared: Shared
        @OptionGroup var signing: Signing
        @Option(help: "Purpose of messages without a Purpose: line.") var purpose: NotificationPurpose?
        func run() throws {
            try guarded {
                try Importing.run(shared, signing: signing, secretVariable: "SLACK_SIGNING_SECRET") { payloads, context in
                    var c = context
                    c.defaultPurpose = purpose
                    return SlackImporter.map(payloads, context: c)
                }
            }
        }
    }

    struct ServiceNow: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "servicenow",
            abstract: "ServiceNow Table API incident, change_request and sysapproval_approver records as tickets and approvals.")
        @OptionGroup var shared: Shared
        func run() throws {
            try guarded {
                try Importing.run(shared, signing: nil, secretVariable: nil) { payloads, context in
                    ServiceNowImporter.map(payloads, context: context)
                }
            }
        }
    }
}

/// The import command's steps: read, map (Ingest), report, append atomically.
enum Importing {
    static func run(_ shared: ImportCommand.Shared, signing: ImportCommand.Signing?, secretVariable: String?,
                    map: ([RawPayload], ImportContext) -> ImportOutcome) throws {
        var config = IngestConfig()
        if let path = shared.config {
            config = try IngestConfig.parse(String(decoding: try readInput(path), as: UTF8.self))
        }
        for entry in shared.map {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw CLIError.usage("--map must be ID=CASE, not '\(printable(entry))'") }
            try Envelope.validateCaseID(parts[1], field: "--map")
            config.cases[parts[0]] = parts[1]
        }
        if let c = shared.caseID { try Envelope.validateCaseID(c, field: "--case") }
        var secret: String?
        if let signing, signing.verifySignature, let secretVariable {
            let name = signing.secretEnv ?? secretVariable
            guard let s = ProcessInfo.processInfo.environment[name], !s.isEmpty else {
                throw CLIError.usage("--verify-signature needs the secret in the environment variable \(name)")
            }
            secret = s
        }
        guard let actor = shared.actor ?? defaultActor() else { throw CLIError.usage("missing --actor (or set DTLEDGER_ACTOR)") }
        let input = try readInput(shared.file)
        let read = PayloadFile.read(input)

        let store = try shared.connection.store()
        let reference = try ReferenceData.load(store, through: try store.digest().position)
        var known: [String: CaseKind] = [:]
        for c in try store.cases() {
            if let kind = Catalog.caseKind(forOpeningType: c.openedType) { known[c.caseID] = kind }
        }
        let context = ImportContext(config: config, directories: reference.directories, defaultActor: actor,
                                    caseOverride: shared.caseID, knownCases: known, secret: secret)
        var outcome = map(read.payloads, context)
        outcome.unmapped = (read.unreadable + outcome.unmapped).sorted { $0.item < $1.item }

        let name = shared.file == "-" ? "stdin" : shared.file
        for u in outcome.signatureFailures { printError("\(name): \(u)") }
        for u in outcome.unmapped { FileHandle.standardError.write(Data("dtledger: skipped: \(name): \(u)\n".utf8)) }
        if !outcome.signatureFailures.isEmpty {
            throw CLIError.input("\(name): \(outcome.signatureFailures.count) payload(s) failed signature verification: nothing imported")
        }
        if shared.strict && !outcome.unmapped.isEmpty {
            throw CLIError.input("\(name): \(outcome.unmapped.count) payload(s) could not be mapped (--strict): nothing imported")
        }
        var appended = 0, duplicates = 0
        var lines: [String] = []
        if shared.dryRun {
            for e in outcome.events { lines.append(envelopeJSON(e)) }
        } else if !outcome.events.isEmpty {
            try store.atomically {
                var index = 0
                let events = outcome.events
                while index < events.count {
                    var end = index + 1
                    while end < events.count, events[end].envelope.caseID == events[index].envelope.caseID { end += 1 }
                    let batch = Array(events[index..<end])
                    let results: [AppendResult]
                    do {
                        results = try store.append(caseID: batch[0].envelope.caseID, events: batch.map(\.envelope),
                                                   openingTypes: EventValidation.openingTypes, metadata: batch.map(\.metadata))
                    } catch let failure as LedgerError where failure.validation != nil {
                        var error = failure.validation!
                        error.line = batch[0].item
                        throw CLIError.input("\(name): item \(batch[0].item): \(error.description.replacingOccurrences(of: "line \(batch[0].item): ", with: ""))")
                    }
                    for (event, r) in zip(batch, results) {
                        if r.duplicate { duplicates += 1 } else { appended += 1 }
                        if shared.json {
                            var o = envelopeObject(event)
                            o["id"] = .string(r.id); o["position"] = .int(r.position); o["duplicate"] = .bool(r.duplicate)
                            lines.append(JSONValue.object(o).jsonText())
                        }
                    }
                    index = end
                }
            }
        }
        if shared.json || shared.dryRun { for l in lines { print(l) } }
        let verified = outcome.events.filter { $0.metadata["import"]?["signature_verified"] == .bool(true) }.count
        var summary: [String: JSONValue] = [
            "payloads": .int(Int64(read.payloads.count + read.unreadable.count)),
            "events": .int(Int64(outcome.events.count)), "appended": .int(Int64(appended)),
            "duplicates": .int(Int64(duplicates)), "skipped": .int(Int64(outcome.unmapped.count)),
            "signature_verified": .int(Int64(verified)),
        ]
        if shared.dryRun { summary["dry_run"] = .bool(true) }
        print(JSONValue.object(summary).jsonText())
    }

    static func envelopeJSON(_ e: ImportedEvent) -> String { JSONValue.object(envelopeObject(e)).jsonText() }

    static func envelopeObject(_ e: ImportedEvent) -> [String: JSONValue] {
        var o: [String: JSONValue] = [
            "type": .string(e.envelope.type), "case": .string(e.envelope.caseID),
            "occurred_at": .string(RFC3339.format(e.envelope.occurredAt)), "actor": .string(e.envelope.actor),
            "source": .string(e.envelope.source.rawValue), "data": e.envelope.data, "metadata": e.metadata,
        ]
        if let k = e.envelope.key { o["key"] = .string(k) }
        return o
    }
}

