import ArgumentParser
import Events
import Foundation
import Domain
import Operations

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import PagerDuty, Slack, ServiceNow records and email messages as events (idempotent by the source's own ids).",
        discussion: """
            Formats, mappings and the message template: docs/importers.md.
            Payloads that cannot be mapped are reported on stderr, one per line with the reason; the rest \
            is appended in one transaction (all or nothing) and a summary line is printed. With --strict any \
            unmappable payload fails the import and nothing is written. A payload whose signature fails \
            (--verify-signature) always fails the whole import. Exit 0 ok; 65 nothing written \
            (bad signature, --strict, invalid input); 66 unreadable file.
            """,
        subcommands: [PagerDuty.self, Slack.self, ServiceNow.self, Email.self])

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

    /// The import as Operations takes it.
    static func request(_ source: ImportSource, _ shared: Shared, _ signing: Signing?) -> ImportRequest {
        var r = ImportRequest(source: source, file: shared.file)
        (r.config, r.caseMappings, r.caseID, r.actor) = (shared.config, shared.map, shared.caseID, shared.actor)
        (r.strict, r.dryRun, r.returnEvents) = (shared.strict, shared.dryRun, shared.json)
        (r.verifySignature, r.secretVariable) = (signing?.verifySignature ?? false, signing?.secretEnv)
        return r
    }

    /// Imports (Operations), reporting skipped and unverified payloads on
    /// stderr; returns the lines printed: the events (--json, --dry-run), then the summary.
    static func execute(_ request: ImportRequest, _ shared: Shared, _ env: CommandEnvironment) throws -> [String] {
        let result = try shared.connection.session(env).importPayloads(request) { notice in
            switch notice {
            case .signatureFailure(let message): printError(message)
            case .skipped(let message): FileHandle.standardError.write(Data("dtledger: skipped: \(message)\n".utf8))
            case .inbox(let message): FileHandle.standardError.write(Data("dtledger: inbox: \(message)\n".utf8))
            }
        }
        return result.events.map { $0.jsonText() } + [result.summary.jsonText()]
    }

    struct PagerDuty: ImportSubcommand {
        static let configuration = CommandConfiguration(
            commandName: "pagerduty",
            abstract: "PagerDuty webhook v3 incident events and REST maintenance windows.",
            discussion: "Secret: PAGERDUTY_WEBHOOK_SECRET (or --secret-env). Signature: X-PagerDuty-Signature v1 (HMAC-SHA256 of the body).")
        @OptionGroup var shared: Shared
        @OptionGroup var signing: Signing
        @Option(help: "Team of incidents whose service the config does not map.") var team: Team?
        var request: ImportRequest { ImportCommand.request(.pagerDuty(defaultTeam: team), shared, signing) }
    }

    struct Slack: ImportSubcommand {
        static let configuration = CommandConfiguration(
            commandName: "slack",
            abstract: "Slack Events API message events (and message_changed edits) as notifications.",
            discussion: "Secret: SLACK_SIGNING_SECRET (or --secret-env). Signature: X-Slack-Signature v0 with X-Slack-Request-Timestamp, at most 5 minutes from received_at.")
        @OptionGroup var shared: Shared
        @OptionGroup var signing: Signing
        @Option(help: "Purpose of messages without a Purpose: line.") var purpose: NotificationPurpose?
        var request: ImportRequest { ImportCommand.request(.slack(defaultPurpose: purpose), shared, signing) }
    }

    struct ServiceNow: ImportSubcommand {
        static let configuration = CommandConfiguration(
            commandName: "servicenow",
            abstract: "ServiceNow Table API incident, change_request and sysapproval_approver records as tickets and approvals.")
        @OptionGroup var shared: Shared
        var request: ImportRequest { ImportCommand.request(.serviceNow, shared, nil) }
    }
}

extension ImportCommand {
    struct Email: ImportSubcommand {
        static let configuration = CommandConfiguration(
            commandName: "email",
            abstract: "RFC 5322 messages (.eml, mbox, Maildir, a directory of .eml files) as email notifications.",
            discussion: """
                FILE is one message, an mbox, a Maildir or a directory of .eml files (- for stdin). \
                DKIM signatures are verified with the keys of --dkim-keys, else DNS (--no-dns: not checked); \
                an unsigned or failing message is imported as unverified. Idempotent by Message-ID. \
                Run by a dtledger_receiver login (dtledger serve's), the messages that cannot be mapped are \
                kept in the service's inbox with their reason (dtledger inbox list); a writer login only reports them.
                """)
        @OptionGroup var shared: Shared
        @Option(help: "Purpose of messages without a Purpose: line.") var purpose: NotificationPurpose?
        @Option(name: .customLong("dkim-keys"), help: "DKIM public keys file (or directory): 'selector._domainkey.domain TXT-VALUE' lines.")
        var dkimKeys: String?
        @Flag(name: .customLong("no-dns"), help: "Do not look DKIM keys up in DNS (without --dkim-keys: no DKIM check).")
        var noDNS = false
        var request: ImportRequest {
            let dkim: EmailDKIM = dkimKeys.map { .keyFile($0) } ?? (noDNS ? .none : .dns)
            return ImportCommand.request(.email(defaultPurpose: purpose, dkim: dkim), shared, nil)
        }
    }
}

/// An import subcommand: its options make one ImportRequest; running it is shared.
protocol ImportSubcommand: ParsableCommand {
    var shared: ImportCommand.Shared { get }
    var request: ImportRequest { get }
}

extension ImportSubcommand {
    func run() throws {
        try guarded { for line in try ImportCommand.execute(request, shared, .process) { print(line) } }
    }
}
