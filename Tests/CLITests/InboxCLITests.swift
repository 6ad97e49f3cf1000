import ArgumentParser
@testable import dtledger
import Events
import Foundation
import Ledger
import Postgres
import Receiving
import Synchronization
import Testing
import TestSupport

/// `dtledger inbox` as a person runs it (in-process): its output, its one
/// error line and its exit codes. The service's part is played by the
/// mapper (ReceiptMapper) on a thread of its own with a receiver login; the
/// whole service over HTTP is in ServeTests/InboxTests.swift.
@Suite("dtledger inbox: the CLI")
struct InboxCLITests {
    /// A database with two receipts from the receiver login: one in the
    /// inbox (a source the service does not map), one ignored.
    struct Fixture {
        let db: TestDatabase
        let receiver: String
        let inboxReceipt: Int64
        let ignoredReceipt: Int64

        func url(_ login: String) -> String { db.url.replacingOccurrences(of: "user=dtledger", with: "user=\(login)") }

        /// A person's login with these roles.
        func person(_ roles: String = "dtledger_writer, dtledger_reader") throws -> String {
            let login = "dtl_person_\(UInt32.random(in: 0...UInt32.max))"
            try db.connect().execute("CREATE ROLE \(login) LOGIN IN ROLE \(roles)")
            return login
        }

        /// Runs `dtledger ARGS` as `login`.
        func run(_ arguments: [String], as login: String) -> CLIResult {
            InboxCLITests.run(arguments, environment: ["DTLEDGER_DATABASE_URL": url(login)])
        }

        func count(_ table: String) throws -> Int {
            Int(try db.connect().query("SELECT count(*) FROM dtledger.\(table)").scalar ?? "") ?? -1
        }

        /// Runs `body` while the mapper applies resolutions as the service would.
        func withMapper<T>(_ body: () throws -> T) throws -> T {
            let stop = Flag()
            let done = Flag()
            let conninfo = url(receiver)
            let thread = Thread {
                if let connection = try? Connection(conninfo: conninfo) {
                    let mapper = ReceiptMapper(connection: connection, config: ServeConfig(), secret: { _ in nil })
                    while !stop.value.load(ordering: .relaxed) {
                        _ = try? mapper.pass()
                        Thread.sleep(forTimeInterval: 0.05)
                    }
                }
                done.value.store(true, ordering: .relaxed)
            }
            thread.start()
            defer {
                stop.value.store(true, ordering: .relaxed)
                while !done.value.load(ordering: .relaxed) { Thread.sleep(forTimeInterval: 0.01) }
            }
            return try body()
        }
    }

    final class Flag: Sendable { let value = Atomic<Bool>(false) }

    /// The hostile body of the inbox receipt: an escape sequence that would
    /// clear a terminal, and a right-to-left override.
    static let hostileBody = "{\"text\":\"\u{1B}[2Jcleared\u{202E}txt.exe\",\n \"n\":1}"

    static func fixture() throws -> Fixture {
        let db = try TestDatabase.make()
        let receiver = "dtl_serve_\(UInt32.random(in: 0...UInt32.max))"
        try db.connect().execute("CREATE ROLE \(receiver) LOGIN IN ROLE dtledger_receiver")
        let store = ReceiptStore(connection: try Connection(conninfo: db.url.replacingOccurrences(of: "user=dtledger", with: "user=\(receiver)")))
        let ids = try store.receive([
            IncomingReceipt(source: "webhook", deliveryKey: "delivery-1", receivedAt: Date(),
                            headers: ["content-type": "application/json", "x-evil": "a\u{7}b"], body: Data(hostileBody.utf8),
                            refs: ["webhook:thing/1"]),
            IncomingReceipt(source: "webhook", deliveryKey: "delivery-2", receivedAt: Date(), headers: [:], body: Data([0xFF, 0x00, 0x41])),
        ])
        try store.record([
            ReceiptOutcome(receiptID: ids[0].id, kind: .inbox, code: "unknown_source", reason: "source webhook is not one the service maps"),
            ReceiptOutcome(receiptID: ids[1].id, kind: .ignored, code: "not_mapped", reason: "not evidence"),
        ])
        return Fixture(db: db, receiver: receiver, inboxReceipt: ids[0].id, ignoredReceipt: ids[1].id)
    }

    /// Parses and runs an inbox command in-process: exit code, stdout, stderr lines.
    static func run(_ arguments: [String], environment: [String: String]) -> CLIResult {
        let env = InProcess.environment(nil, extra: environment)
        let command: any ParsableCommand
        do {
            command = try DTLedger.parseAsRoot(arguments)
        } catch {
            return CLIResult(status: DTLedger.exitCode(for: error).rawValue, stdout: "", stderr: "Error: \(DTLedger.fullMessage(for: error))\n")
        }
        guard let inbox = command as? any InboxSubcommand else { fatalError("\(type(of: command)) is not an inbox command") }
        let collected = InProcess.Collected()
        var errors = ""
        do {
            let out = Output(sink: { collected.bytes.append(contentsOf: $0) })
            let status = try inbox.execute(env, out) { errors += "dtledger: error: \($0)\n" }
            out.flush()
            return CLIResult(status: status, stdout: String(decoding: collected.bytes, as: UTF8.self), stderr: errors)
        } catch {
            let failure = InProcess.failure(error)
            return CLIResult(status: failure.status, stdout: String(decoding: collected.bytes, as: UTF8.self), stderr: failure.stderr)
        }
    }

    @Test("list: the inbox as a table (--all adds ignored) and as JSON")
    func list() throws {
        let f = try Self.fixture()
        let person = try f.person()
        let table = f.run(["inbox", "list"], as: person)
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.lines.first?.hasPrefix("RECEIPT") == true)
        #expect(table.lines.count == 2)
        #expect(table.lines[1].hasPrefix("\(f.inboxReceipt) "))
        #expect(table.lines[1].contains("webhook"))
        #expect(table.lines[1].contains("unknown_source"))
        #expect(table.lines[1].contains("source webhook is not one the service maps"))

        let all = f.run(["inbox", "list", "--all"], as: person)
        #expect(all.lines.count == 3)
        #expect(all.lines[2].contains("ignored"))

        let json = f.run(["inbox", "list", "--json"], as: person)
        let items = try #require(try JSONValue.parse(Data(json.stdout.utf8)).arrayValue)
        #expect(items.count == 1)
        #expect(items[0]["receipt"]?.intValue == f.inboxReceipt)
        #expect(items[0]["state"]?.stringValue == "inbox")
        #expect(items[0]["code"]?.stringValue == "unknown_source")
        #expect(items[0]["pending"] == .null)
    }

    @Test("show: the receipt, its headers and raw body with hostile characters escaped, its history")
    func show() throws {
        let f = try Self.fixture()
        let person = try f.person()
        let shown = f.run(["inbox", "show", String(f.inboxReceipt)], as: person)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("receipt \(f.inboxReceipt)"))
        #expect(shown.stdout.contains("delivery key: delivery-1"))
        #expect(shown.stdout.contains("login:        \(f.receiver)"))
        #expect(shown.stdout.contains("refs:         webhook:thing/1"))
        #expect(shown.stdout.contains("x-evil: a\\u{7}b"))
        #expect(shown.stdout.contains("\\u{1b}[2Jcleared\\u{202e}txt.exe"))
        #expect(!shown.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x202E || $0.value == 0x07 })
        #expect(shown.stdout.contains("outcome inbox by login \(f.receiver): unknown_source: source webhook is not one the service maps"))

        // Not UTF-8: base64.
        let binary = f.run(["inbox", "show", String(f.ignoredReceipt)], as: person)
        #expect(binary.stdout.contains("not UTF-8 text: base64"))
        #expect(binary.stdout.contains(Data([0xFF, 0x00, 0x41]).base64EncodedString()))

        let json = try JSONValue.parse(Data(f.run(["inbox", "show", String(f.inboxReceipt), "--json"], as: person).stdout.utf8))
        #expect(json["receipt"]?["body"]?.stringValue == Self.hostileBody)
        #expect(json["state"]?.stringValue == "inbox")
        #expect(json["history"]?.arrayValue?.count == 1)
    }

    @Test("assign --wait: recorded, applied by the service's login; back in the inbox exits 1")
    func assignWait() throws {
        let f = try Self.fixture()
        let person = try f.person()
        let result = try f.withMapper {
            f.run(["inbox", "assign", String(f.inboxReceipt), "--case", "INC-2026-0001", "--reason", "belongs to the outage", "--actor", "sean-good", "--wait", "15"], as: person)
        }
        #expect(result.status == 1, "\(result.stdout) \(result.stderr)")
        #expect(result.lines.first?.hasPrefix("recorded resolution ") == true)
        #expect(result.lines.first?.hasSuffix("dtledger serve applies it on its next pass") == true)
        #expect(result.stdout.contains("assign receipt \(f.inboxReceipt) to case INC-2026-0001, by sean-good"))
        #expect(result.stdout.contains("note: case INC-2026-0001 is not in the ledger yet"))
        #expect(result.stdout.contains("receipt \(f.inboxReceipt): back in the inbox by login \(f.receiver), resolution "))
        let history = f.run(["inbox", "show", String(f.inboxReceipt)], as: person).stdout
        #expect(history.contains("resolution 1 assign to case INC-2026-0001 by sean-good (login \(person)): belongs to the outage"))
    }

    @Test("discard --wait exits 0; discarding it again is refused (65), nothing recorded")
    func discardWait() throws {
        let f = try Self.fixture()
        let person = try f.person()
        let result = try f.withMapper {
            f.run(["inbox", "discard", String(f.inboxReceipt), "--reason", "a test message", "--wait", "15"], as: person)
        }
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("receipt \(f.inboxReceipt): discarded by login \(f.receiver)"))
        #expect(result.stdout.contains("a test message"))
        #expect(f.run(["inbox", "list"], as: person).stdout.contains("(the inbox is empty)"))

        let again = f.run(["inbox", "discard", String(f.inboxReceipt), "--reason", "twice"], as: person)
        #expect(again.status == 65)
        #expect(again.stderr == "dtledger: error: receipt \(f.inboxReceipt) is not in the inbox (discarded)\n")
        #expect(try f.count("receipt_resolutions") == 1)
    }

    @Test("the refusals: each a one-line error with its exit code, and nothing recorded")
    func refusals() throws {
        let f = try Self.fixture()
        let person = try f.person()
        let id = String(f.inboxReceipt)
        struct Case { let arguments: [String]; let status: Int32; let mentions: String }
        let cases = [
            Case(arguments: ["inbox", "discard", "99999", "--reason", "x"], status: 65, mentions: "no receipt 99999"),
            Case(arguments: ["inbox", "discard", id], status: 64, mentions: "--reason"),
            Case(arguments: ["inbox", "discard", id, "--reason", "  "], status: 64, mentions: "--reason is empty"),
            Case(arguments: ["inbox", "assign", id, "--reason", "x"], status: 64, mentions: "--case"),
            Case(arguments: ["inbox", "assign", id, "--case", "bad id!", "--reason", "x"], status: 65, mentions: "--case: 'bad id!' is not a valid case id"),
            Case(arguments: ["inbox", "map", id, "--reason", "x", "--wait", "-1"], status: 64, mentions: "--wait"),
            Case(arguments: ["inbox", "map", String(f.ignoredReceipt + 1000), "--reason", "x"], status: 65, mentions: "no receipt"),
            Case(arguments: ["inbox", "show", "424242"], status: 65, mentions: "no receipt 424242"),
        ]
        for c in cases {
            let r = f.run(c.arguments, as: person)
            #expect(r.status == c.status, "\(c.arguments): \(r.stderr)")
            #expect(r.stderr.contains(c.mentions), "\(c.arguments): \(r.stderr)")
            // Usage errors (64) are ArgumentParser's, with the usage line after the error, as for every command.
            if c.status != 64 { #expect(r.stderr.split(separator: "\n").count == 1, "\(c.arguments): \(r.stderr)") }
        }
        #expect(try f.count("receipt_resolutions") == 0)

        // Roles: a reader cannot resolve; a writer alone cannot list or wait.
        let reader = try f.person("dtledger_reader")
        let r = f.run(["inbox", "discard", id, "--reason", "x"], as: reader)
        #expect(r.status == 77, "\(r.stderr)")
        let writer = try f.person("dtledger_writer")
        let w = f.run(["inbox", "list"], as: writer)
        #expect(w.status == 77)
        #expect(w.stderr.contains("needs dtledger_reader"))
        #expect(f.run(["inbox", "map", id, "--reason", "x", "--wait", "1"], as: writer).status == 77)
        #expect(try f.count("receipt_resolutions") == 0)

        // No service running: --wait gives up with 75; the resolution stays
        // recorded and pending, and a second one is refused.
        let waited = f.run(["inbox", "map", id, "--reason", "config fixed", "--wait", "0.5"], as: person)
        #expect(waited.status == 75)
        #expect(waited.stdout.contains("dtledger serve applies it on its next pass"))
        #expect(waited.stderr.contains("did not apply resolution"))
        #expect(f.run(["inbox", "list"], as: person).lines.last?.hasSuffix("map") == true)
        let pending = f.run(["inbox", "discard", id, "--reason", "x"], as: person)
        #expect(pending.status == 65)
        #expect(pending.stderr.contains("already has a resolution the service has not applied yet"))
        #expect(try f.count("receipt_resolutions") == 1)
    }
}
