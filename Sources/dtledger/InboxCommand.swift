import ArgumentParser
import Events
import Foundation
import Ledger
import Operations
import Receiving
import Reports

/// `dtledger inbox`: what `dtledger serve` received and could not place yet
/// (docs/serve.md, "The inbox"). list and show read (a dtledger_reader
/// login); assign, map and discard record a resolution with the person's own
/// login (dtledger_writer), which the running service applies with its login.
struct InboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inbox",
        abstract: "Receipts dtledger serve could not place in a case yet, and their resolution (docs/serve.md).",
        discussion: """
            A receipt waits in the inbox when the service could not place it (no case, an unknown channel, \
            a case not opened, a payload it could not read). Fix the configuration and 'map' it again, \
            'assign' it to a case, or 'discard' it; every resolution is recorded with your login and a \
            reason, and the running service applies it with its own login. \
            Exit codes: 0 ok; 1 (--wait) the receipt went back to the inbox; 64 usage (a missing or empty \
            --reason); 65 an unknown receipt, one not in the inbox, a resolution already pending, a bad case id; \
            69 database unavailable; 75 (--wait) the service did not apply it in time; 77 permission denied \
            (list and show need dtledger_reader, the resolutions dtledger_writer).
            """,
        subcommands: [List.self, Show.self, Assign.self, Map.self, Discard.self])

    /// Runs a command body as the binary does: its output, an exit status
    /// other than 0 as ExitCode, every error as its one line and exit code.
    static func run(_ body: (CommandEnvironment, Output, (String) -> Void) throws -> Int32) throws {
        var status: Int32 = 0
        try guarded {
            let out = Output()
            defer { out.flush() }
            status = try body(.process, out, printError)
        }
        if status != 0 { throw ExitCode(status) }
    }

    struct List: InboxSubcommand {
        static let configuration = CommandConfiguration(
            abstract: "List the receipts waiting in the inbox (with --all, also those ignored as not evidence).",
            discussion: "Columns: receipt id, source, received at, state, code, reason, and a resolution recorded and not applied yet by the service.")

        @OptionGroup var connection: ConnectionOptions
        @Flag(help: "Also list receipts ignored as not evidence (a message that tags nobody, an event type not imported).")
        var all = false
        @Flag(help: "One JSON array instead of a table.") var json = false

        func run() throws { try InboxCommand.run(execute) }

        func execute(_ env: CommandEnvironment, _ out: Output, _ error: (String) -> Void) throws -> Int32 {
            let items = try Inbox(session: connection.session(env)).list(includeIgnored: all)
            if json {
                out.line(JSONValue.array(items.map(InboxCommand.json)).jsonText())
                return 0
            }
            out.line(Table.row(["RECEIPT", "SOURCE", "RECEIVED_AT", "STATE", "CODE", "REASON", "PENDING"], widths: Self.widths))
            for item in items {
                out.line(Table.row([
                    String(item.receiptID), item.source, RFC3339.format(item.receivedAt), item.state.rawValue,
                    item.code ?? "-", item.reason ?? "-", item.pending?.rawValue ?? "-",
                ], widths: Self.widths))
            }
            if items.isEmpty { out.line(all ? "(the inbox is empty; nothing ignored)" : "(the inbox is empty)") }
            return 0
        }

        static let widths = [8, 11, 30, 8, 16, 60, 8]
    }

    struct Show: InboxSubcommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one receipt: where it came from, its kept headers and raw body, and every outcome and resolution.",
            discussion: "The body is printed as received, each line with control and bidirectional characters escaped (\\u{...}); a body that is not UTF-8 is printed as base64.")

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The receipt id (the first column of 'inbox list').") var id: Int64
        @Flag(help: "JSON instead of text.") var json = false

        func run() throws { try InboxCommand.run(execute) }

        func execute(_ env: CommandEnvironment, _ out: Output, _ error: (String) -> Void) throws -> Int32 {
            let entry = try Inbox(session: connection.session(env)).show(id)
            if json {
                out.line(InboxCommand.json(entry).jsonText())
            } else {
                InboxCommand.render(entry, out)
            }
            return 0
        }
    }

    /// The options assign, map and discard share.
    struct ResolveOptions: ParsableArguments {
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The receipt id (the first column of 'inbox list').") var id: Int64
        @Option(help: "Why (required; recorded with your login).") var reason: String
        @Option(help: "Who resolves it (default: DTLEDGER_ACTOR, else the login name).") var actor: String?
        @Option(help: ArgumentHelp("Wait up to SECONDS for the service to apply it, and print the outcome.",
                                   discussion: "Exit 0 appended or discarded, 1 back in the inbox, 75 not applied in time."),
                transform: { text in
                    guard let s = Double(text), s > 0, s <= 3600 else {
                        throw ArgumentParser.ValidationError("--wait: '\(printable(text))' is not a number of seconds from 0 to 3600")
                    }
                    return s
                })
        var wait: Double?

        func validate() throws {
            if reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw ArgumentParser.ValidationError("--reason is empty: say why (it is recorded with your login)")
            }
        }

        /// Records the resolution, prints it, and with --wait waits for its outcome.
        func resolve(_ action: Resolution.Action, caseID: String?, _ env: CommandEnvironment, _ out: Output,
                     _ error: (String) -> Void) throws -> Int32 {
            let inbox = try Inbox(session: connection.session(env))
            let recorded = try inbox.resolve(
                InboxResolutionRequest(receiptID: id, action: action, caseID: caseID, reason: reason, actor: actor),
                forWaiting: wait != nil)
            let what = switch action {
            case .assign: "assign receipt \(id) to case \(caseID ?? "")"
            case .map: "map receipt \(id) again with the service's current configuration"
            case .discard: "discard receipt \(id)"
            }
            out.line("recorded resolution \(recorded.id) (\(what), by \(Visible.escape(recorded.actor, limit: 128))); dtledger serve applies it on its next pass")
            if let note = recorded.note { out.line("note: \(note)") }
            guard let seconds = wait else { return 0 }
            out.flush()
            let applied = try inbox.wait(resolutionID: recorded.id, seconds: seconds)
            switch applied {
            case .applied(let o):
                out.line(InboxCommand.describe(o))
            case .notYet:
                out.flush()
                error("dtledger serve did not apply resolution \(recorded.id) within \(seconds.formatted()) s (is it running?); it stays recorded and is applied on the service's next pass")
            }
            return applied.exitStatus
        }
    }

    struct Assign: InboxSubcommand {
        static let configuration = CommandConfiguration(
            abstract: "Assign an inbox receipt to a case; the service maps it into that case with its own login.",
            discussion: "Example: dtledger inbox assign 42 --case INC-2026-0007 --reason \"posted in the wrong channel\" --wait 10")
        @OptionGroup var options: ResolveOptions
        @Option(name: .customLong("case"), help: "The case to map it into.") var caseID: String

        func run() throws { try InboxCommand.run(execute) }
        func execute(_ env: CommandEnvironment, _ out: Output, _ error: (String) -> Void) throws -> Int32 {
            try options.resolve(.assign, caseID: caseID, env, out, error)
        }
    }

    struct Map: InboxSubcommand {
        static let configuration = CommandConfiguration(
            abstract: "Map an inbox receipt again with the service's current configuration (after fixing it).",
            discussion: "Restart dtledger serve with the fixed config first: the running service maps it with the configuration it has.")
        @OptionGroup var options: ResolveOptions

        func run() throws { try InboxCommand.run(execute) }
        func execute(_ env: CommandEnvironment, _ out: Output, _ error: (String) -> Void) throws -> Int32 {
            try options.resolve(.map, caseID: nil, env, out, error)
        }
    }

    struct Discard: InboxSubcommand {
        static let configuration = CommandConfiguration(
            abstract: "Discard an inbox receipt: it is not evidence. The receipt stays in the database; the discard is recorded.")
        @OptionGroup var options: ResolveOptions

        func run() throws { try InboxCommand.run(execute) }
        func execute(_ env: CommandEnvironment, _ out: Output, _ error: (String) -> Void) throws -> Int32 {
            try options.resolve(.discard, caseID: nil, env, out, error)
        }
    }

    // MARK: Rendering

    static func json(_ item: ReceiptStore.InboxItem) -> JSONValue {
        .object([
            "receipt": .int(item.receiptID), "source": .string(item.source),
            "received_at": .string(RFC3339.format(item.receivedAt)), "state": .string(item.state.rawValue),
            "code": item.code.map(JSONValue.string) ?? .null, "reason": item.reason.map(JSONValue.string) ?? .null,
            "pending": item.pending.map { .string($0.rawValue) } ?? .null,
        ])
    }

    static func json(_ o: RecordedOutcome) -> JSONValue {
        .object([
            "step": .string("outcome"), "outcome": .string(o.outcome.kind.rawValue),
            "code": o.outcome.code.map(JSONValue.string) ?? .null, "reason": o.outcome.reason.map(JSONValue.string) ?? .null,
            "case": o.outcome.caseID.map(JSONValue.string) ?? .null, "event_ids": .array(o.outcome.eventIDs.map(JSONValue.string)),
            "resolution": o.outcome.resolutionID.map(JSONValue.int) ?? .null, "login": .string(o.login),
            "recorded_at": .string(RFC3339.format(o.recordedAt)),
        ])
    }

    static func json(_ r: Resolution) -> JSONValue {
        .object([
            "step": .string("resolution"), "resolution": .int(r.id), "action": .string(r.action.rawValue),
            "case": r.caseID.map(JSONValue.string) ?? .null, "reason": .string(r.reason), "actor": .string(r.actor),
            "login": .string(r.login), "recorded_at": .string(RFC3339.format(r.recordedAt)),
        ])
    }

    static func json(_ entry: InboxEntry) -> JSONValue {
        let r = entry.receipt
        var receipt: [String: JSONValue] = [
            "id": .int(r.id), "source": .string(r.source), "delivery_key": .string(r.deliveryKey),
            "received_at": .string(RFC3339.format(r.receivedAt)), "recorded_at": .string(RFC3339.format(r.recordedAt)),
            "login": .string(r.login), "headers": .object(r.headers.mapValues(JSONValue.string)),
            "refs": .array(r.refs.map(JSONValue.string)), "body_bytes": .int(Int64(r.body.count)),
        ]
        if let text = bodyText(r.body) { receipt["body"] = .string(text) } else { receipt["body_base64"] = .string(r.body.base64EncodedString()) }
        return .object([
            "receipt": .object(receipt),
            "state": entry.state.map { .string($0.rawValue) } ?? .string("unmapped"),
            "pending_resolution": entry.pending.map { .int($0.id) } ?? .null,
            "history": .array(entry.history.map { step in
                switch step {
                case .outcome(let o): json(o)
                case .resolution(let s): json(s)
                }
            }),
        ])
    }

    /// The body as text when it is UTF-8 without NUL; nil otherwise.
    static func bodyText(_ body: Data) -> String? {
        guard !body.contains(0) else { return nil }
        return String(validating: body, as: UTF8.self)
    }

    /// Any text from a receipt, escaped for a terminal.
    static func safe(_ s: String, limit: Int = 500) -> String { Visible.escape(s, limit: limit) }

    static func describe(_ o: RecordedOutcome) -> String {
        let by = "by login \(safe(o.login, limit: 128))\(o.outcome.resolutionID.map { ", resolution \($0)" } ?? "")"
        let why = [o.outcome.code, o.outcome.reason].compactMap { $0 }.map { safe($0) }.joined(separator: ": ")
        switch o.outcome.kind {
        case .appended:
            return "receipt \(o.outcome.receiptID): appended to case \(safe(o.outcome.caseID ?? "?", limit: 64)) (\(o.outcome.eventIDs.count) event(s): \(o.outcome.eventIDs.joined(separator: ", "))) \(by)"
        case .duplicate:
            return "receipt \(o.outcome.receiptID): its events were already in the ledger (case \(safe(o.outcome.caseID ?? "?", limit: 64))) \(by)"
        case .discarded:
            return "receipt \(o.outcome.receiptID): discarded \(by)\(why.isEmpty ? "" : " (\(why))")"
        case .inbox:
            return "receipt \(o.outcome.receiptID): back in the inbox \(by): \(why)"
        case .ignored:
            return "receipt \(o.outcome.receiptID): ignored, not evidence \(by): \(why)"
        }
    }

    static func render(_ entry: InboxEntry, _ out: Output) {
        let r = entry.receipt
        out.line("receipt \(r.id)")
        out.line("  source:       \(safe(r.source))")
        out.line("  delivery key: \(safe(r.deliveryKey))")
        out.line("  received at:  \(RFC3339.format(r.receivedAt))")
        out.line("  recorded at:  \(RFC3339.format(r.recordedAt))")
        out.line("  login:        \(safe(r.login, limit: 128))")
        var state = entry.state?.rawValue ?? "not mapped yet"
        if let last = entry.outcomes.last?.outcome, let code = last.code, last.kind == .inbox || last.kind == .ignored {
            state += " (\(safe(code)))"
        }
        if let p = entry.pending { state += "; resolution \(p.id) (\(p.action.rawValue)) waits for the service" }
        out.line("  state:        \(state)")
        out.line("  refs:         \(r.refs.isEmpty ? "none" : r.refs.map { safe($0) }.joined(separator: ", "))")
        out.line("  headers:")
        if r.headers.isEmpty { out.line("    none") }
        for name in r.headers.keys.sorted() { out.line("    \(safe(name, limit: 128)): \(safe(r.headers[name] ?? ""))") }
        if let text = bodyText(r.body) {
            out.line("  body (\(r.body.count) bytes, as received; control characters escaped):")
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                out.line("    " + Visible.escape(String(line)))
            }
        } else {
            out.line("  body (\(r.body.count) bytes, not UTF-8 text: base64):")
            let b64 = Array(r.body.base64EncodedString())
            var i = 0
            while i < b64.count { out.line("    " + String(b64[i..<min(b64.count, i + 76)])); i += 76 }
        }
        out.line("  history:")
        if entry.history.isEmpty { out.line("    nothing yet: the service has not mapped it") }
        for step in entry.history {
            switch step {
            case .outcome(let o):
                var line = "    \(RFC3339.format(o.recordedAt))  outcome \(o.outcome.kind.rawValue)"
                if let c = o.outcome.caseID { line += " case \(safe(c, limit: 64))" }
                if !o.outcome.eventIDs.isEmpty { line += " events \(o.outcome.eventIDs.joined(separator: ","))" }
                if let id = o.outcome.resolutionID { line += " (resolution \(id))" }
                line += " by login \(safe(o.login, limit: 128))"
                let why = [o.outcome.code, o.outcome.reason].compactMap { $0 }.map { safe($0) }.joined(separator: ": ")
                if !why.isEmpty { line += ": \(why)" }
                out.line(line)
            case .resolution(let s):
                var line = "    \(RFC3339.format(s.recordedAt))  resolution \(s.id) \(s.action.rawValue)"
                if let c = s.caseID { line += " to case \(safe(c, limit: 64))" }
                line += " by \(safe(s.actor, limit: 128)) (login \(safe(s.login, limit: 128))): \(safe(s.reason))"
                out.line(line)
            }
        }
    }
}

/// An inbox subcommand's body: what it prints to `out`, its one error line
/// to `error` (stderr), its exit status; errors thrown are mapped by
/// ExitCodes. Tests run it in-process.
protocol InboxSubcommand: ParsableCommand {
    func execute(_ env: CommandEnvironment, _ out: Output, _ error: (String) -> Void) throws -> Int32
}
