import ArgumentParser
import Events
import Foundation
import Operations
import Domain

struct NotifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify",
        abstract: "Record a notification sent on Slack, by email or on a channel the policy declares (\(EventType.notificationSent)).",
        discussion: """
            dtledger notify slack --destination '#mhv-health-portal-coordination' \\
                --audience @mhv-api-platform,ana-po --purpose initial \\
                --content summary='Medications list fails to load' --content start_time='08:55 ET'
            dtledger notify send --channel phone_bridge --destination 'IR bridge 1-800-555-0100' ...
            Audience refs must be known to the directory in force (handles, Slack ids, group handles, \
            role:NAME) or be email addresses. 'notify send' takes slack, email or a channel a published \
            policy declares (channels:).
            """,
        subcommands: [Slack.self, Email.self, Send.self])

    struct Fields: ParsableArguments {
        @Option(help: "Slack channel or mail list the message went to.") var destination: String
        @Option(help: "Who it tagged or was sent to (repeatable or comma-separated).") var audience: [String] = []
        @Option(help: "\(NotificationPurpose.allCases.map(\.rawValue).joined(separator: ", ")).") var purpose: NotificationPurpose
        @Option(help: "A content field the message carried, as field=text (repeatable).") var content: [String] = []
        @Option(name: .customLong("message-ref"), help: "Permalink or Message-ID of the message.") var messageRef: String?
        @Option(help: "message_ref of an earlier message this one edits.") var edits: String?

        func payload(channel: Channel) throws -> NotificationSent {
            let refs = Runbook.list(audience)
            guard !refs.isEmpty else { throw OperationError.usage("missing --audience (who the message tagged or was sent to)") }
            guard !content.isEmpty else { throw OperationError.usage("missing --content field=text (what the message said)") }
            var fields: [String: String] = [:]
            for item in content {
                guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                    throw OperationError.usage("--content must be field=text, not '\(printable(item))'")
                }
                let name = String(item[..<eq]).trimmingCharacters(in: .whitespaces)
                let text = String(item[item.index(after: eq)...])
                guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                    throw OperationError.usage("--content field names are letters, digits and _, not '\(printable(name))'")
                }
                guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { throw OperationError.usage("--content \(name)= is empty") }
                guard fields[name] == nil else { throw OperationError.usage("--content \(name) is given twice") }
                fields[name] = text
            }
            return NotificationSent(channel: channel, destination: destination, audience: refs, purpose: purpose,
                                    content: fields, messageRef: messageRef, edits: edits)
        }
    }

    struct Slack: RunbookCommand {
        static let configuration = CommandConfiguration(abstract: "A Slack message was posted (or edited, with --edits).")
        @OptionGroup var options: EventOptions
        @OptionGroup var fields: Fields
        func event(_ env: CommandEnvironment) throws -> RunbookEvent { RunbookEvent(try fields.payload(channel: .slack)) }
    }

    struct Send: RunbookCommand {
        static let configuration = CommandConfiguration(
            abstract: "A message on any channel: slack, email or one a published policy declares (phone_bridge, status_page, ...).")
        @OptionGroup var options: EventOptions
        @Option(help: "slack, email or a declared channel (a lowercase identifier).") var channel: String
        @OptionGroup var fields: Fields
        func event(_ env: CommandEnvironment) throws -> RunbookEvent {
            guard let c = Channel(rawValue: channel) else {
                throw OperationError.usage("--channel must be a lowercase identifier (\(Identifier.pattern)), not '\(printable(channel))'")
            }
            return RunbookEvent(try fields.payload(channel: c))
        }
    }

    struct Email: RunbookCommand {
        static let configuration = CommandConfiguration(abstract: "An email was sent.")
        @OptionGroup var options: EventOptions
        @OptionGroup var fields: Fields
        func event(_ env: CommandEnvironment) throws -> RunbookEvent { RunbookEvent(try fields.payload(channel: .email)) }
    }
}
