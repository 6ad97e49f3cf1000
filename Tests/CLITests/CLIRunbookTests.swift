import Events
import Foundation
import Testing
import TestSupport

/// The typed runbook commands: success, each required flag missing, wrong
/// values, --key retries, generated case ids. In-process: the parser, the
/// command's event, Operations' record.
@Suite("CLI: runbook commands")
struct CLIRunbookTests {
    static let inc = "INC-2026-0142"
    static let pd = "PD-2026-0007"

    static func database() throws -> TestDatabase { try TestDatabase.withSampleDirectory() }

    struct Command: Sendable, CustomStringConvertible {
        let args: [String]
        let required: [String]
        let wrong: [(flag: String, value: String, code: Int32)]
        let type: String
        var description: String { args.prefix(2).joined(separator: " ") }
    }

    static let t = "2026-04-07T09:20:00-04:00"
    static let content = ["--content", "summary=Medications list fails to load", "--content", "estimated_user_impact=1,500 users",
                          "--content", "start_time=08:55 ET"]
    /// In order: the opening commands first.
    static let commands: [Command] = [
        Command(args: ["incident", "open", "--case", inc, "--team", "user-facing", "--summary", "Medications list fails to load",
                       "--services", "medications", "--users", "1500", "--started-at", "2026-04-07T08:55:00-04:00", "--at", t, "--product", "medications"],
                required: ["--team", "--summary", "--services", "--started-at"],
                wrong: [("--team", "platform", 64), ("--started-at", "08:55", 64), ("--at", "2026-04-07 09:20", 64),
                        ("--users", "many", 64), ("--case", "bad case", 65)],
                type: "incident.opened"),
        Command(args: ["downtime", "plan", "--case", pd, "--team", "api-platform", "--title", "DB upgrade", "--reason", "PostgreSQL upgrade",
                       "--services", "medications,secure-messaging", "--start", "2026-03-14T22:00:00-04:00", "--end", "2026-03-15T02:00:00-04:00",
                       "--rollback-plan", "restore the snapshot", "--at", "2026-03-02T10:00:00-05:00"],
                required: ["--team", "--title", "--reason", "--services", "--start", "--end", "--rollback-plan"],
                wrong: [("--team", "dba", 64), ("--end", "2026-03-14T21:00:00-04:00", 65), ("--start", "tomorrow", 64)],
                type: "downtime.planned"),
        Command(args: ["incident", "priority", "--case", inc, "--priority", "P3", "--reason", "Tier 1"],
                required: ["--case", "--priority"], wrong: [("--priority", "P5", 64), ("--case", "INC-2026-9999", 65)], type: "incident.priority_set"),
        Command(args: ["incident", "update", "--case", inc, "--summary", "Now also refills", "--data-compromise-suspected"],
                required: ["--case"], wrong: [("--users", "10", 64)], type: "incident.updated"),
        Command(args: ["incident", "milestone", "--case", inc, "--kind", "solution_determined", "--note", "cache"],
                required: ["--case", "--kind"], wrong: [("--kind", "fixed", 64)], type: "incident.milestone"),
        Command(args: ["incident", "resolve", "--case", inc, "--resolution", "cache purged"],
                required: ["--case", "--resolution"], wrong: [("--resolution", " ", 65)], type: "incident.resolved"),
        Command(args: ["incident", "reopen", "--case", inc, "--reason", "errors are back"],
                required: ["--case", "--reason"], wrong: [("--at", "yesterday", 64)], type: "incident.reopened"),
        Command(args: ["downtime", "update", "--case", pd, "--start", "2026-03-21T22:00:00-04:00", "--end", "2026-03-22T02:00:00-04:00"],
                required: ["--case", "--end"], wrong: [("--end", "2026-03-21T21:00:00-04:00", 65)], type: "downtime.updated"),
        Command(args: ["downtime", "start", "--case", pd], required: ["--case"], wrong: [("--actor", "two words", 65)], type: "downtime.started"),
        Command(args: ["downtime", "conclude", "--case", pd, "--outcome", "rolled_back", "--note", "replica lag"],
                required: ["--case", "--outcome"], wrong: [("--outcome", "done", 64)], type: "downtime.concluded"),
        Command(args: ["downtime", "cancel", "--case", pd, "--reason", "postponed"],
                required: ["--case", "--reason"], wrong: [("--reason", "", 65)], type: "downtime.cancelled"),
        Command(args: ["notify", "slack", "--case", inc, "--destination", "#mhv-health-portal-coordination",
                       "--audience", "@mhv-api-platform,ana-po", "--audience", "role:isso", "--purpose", "initial",
                       "--message-ref", "https://example.slack.com/archives/C1/p1"] + content,
                required: ["--case", "--destination", "--audience", "--purpose", "--content"],
                wrong: [("--audience", "ana-p0", 65), ("--purpose", "fyi", 64), ("--content", "summary", 64), ("--audience", "role:wizard", 65)],
                type: "notification.sent"),
        Command(args: ["notify", "email", "--case", inc, "--destination", "mhv-incidents@example.org",
                       "--audience", "ana.ortiz@example.org,outside@partner.example", "--purpose", "update"] + content,
                required: ["--case", "--destination", "--audience", "--purpose", "--content"],
                wrong: [("--purpose", "newsletter", 64)], type: "notification.sent"),
        Command(args: ["ticket", "submit", "--case", pd, "--number", "CHG0031337", "--purpose", "downtime_approval"],
                required: ["--case", "--number", "--purpose"], wrong: [("--purpose", "approval", 64)], type: "ticket.submitted"),
        Command(args: ["ticket", "approve", "--case", pd, "--ticket", "CHG0031337", "--approver", "sean-good", "--actor", "sean-good"],
                required: ["--case", "--ticket"], wrong: [("--decision", "maybe", 64)], type: "approval.recorded"),
        Command(args: ["window", "set", "--case", pd, "--window-id", "PW12345", "--start", "2026-03-14T21:45:00-04:00",
                       "--end", "2026-03-15T02:30:00-04:00", "--services", "mhv-api"],
                required: ["--case", "--window-id", "--start", "--end", "--services"],
                wrong: [("--end", "soon", 64), ("--end", "2026-03-14T20:00:00-04:00", 65)], type: "maintenance_window.set"),
        Command(args: ["window", "verify", "--case", pd, "--window-id", "PW12345"],
                required: ["--case", "--window-id"], wrong: [("--window-id", "", 65)], type: "maintenance_window.verified"),
        Command(args: ["escalate", "--case", inc, "--to", "csoc-dbrs", "--reference", "DBRS-1"],
                required: ["--case", "--to"], wrong: [("--to", "", 65)], type: "escalation.requested"),
        Command(args: ["note", "--case", inc, "--text", "rolled back the 07:30 deploy"],
                required: ["--case", "--text"], wrong: [("--text", "   ", 65)], type: "note.added"),
    ]

    static func without(_ args: [String], _ flag: String) -> [String] {
        var out: [String] = []
        var i = 0
        while i < args.count {
            if args[i] == flag { i += 2; continue }
            out.append(args[i]); i += 1
        }
        return out
    }

    static func with(_ args: [String], _ flag: String, _ value: String) -> [String] {
        var out = args
        if let i = out.firstIndex(of: flag) { out[i + 1] = value } else { out += [flag, value] }
        return out
    }

    @Test("every typed command: success, each required flag missing (64), each wrong value (64/65), nothing written on failure")
    func everyCommand() throws {
        let db = try Self.database()
        for command in Self.commands {
            let before = try db.store().digest().position
            for flag in command.required {
                let r = InProcess.run(Self.without(command.args, flag), database: db)
                #expect(r.status == 64, "\(command) without \(flag): \(r.status) \(r.stderr)")
                #expect(r.stderr.contains("dtledger") || r.stderr.contains("Error") || r.stderr.contains("error"), "\(r.stderr)")
            }
            for w in command.wrong {
                let r = InProcess.run(Self.with(command.args, w.flag, w.value), database: db)
                #expect(r.status == w.code, "\(command) \(w.flag) '\(w.value)': \(r.status) \(r.stderr)")
            }
            #expect(try db.store().digest().position == before, "\(command): a failed command wrote something")
            let ok = InProcess.run(command.args + ["--json"], database: db)
            #expect(ok.status == 0, "\(command): \(ok.stderr)")
            let event = try JSONValue.parse(ok.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(event["type"] == .string(command.type), "\(command)")
            #expect(event["duplicate"] == .bool(false))
            let human = InProcess.run(Self.with(command.args, "--key", "human/\(command)"), database: db)
            #expect(human.status == 0, "\(command): \(human.stderr)")
            #expect(human.stdout.contains(command.type))
        }
    }

    @Test("retract EVENT_ID --reason; a bad id or a missing reason is refused")
    func retract() throws {
        let db = try Self.database()
        #expect(InProcess.run(Self.commands[0].args, database: db).status == 0)
        let note = InProcess.run(["note", "--case", Self.inc, "--text", "wrong case", "--json"], database: db)
        let id = try #require(try JSONValue.parse(note.stdout)["id"]?.stringValue)
        #expect(InProcess.run(["retract", "--case", Self.inc, id], database: db).status == 64)
        #expect(InProcess.run(["retract", "--case", Self.inc, "not-an-id", "--reason", "x"], database: db).status == 64)
        #expect(InProcess.run(["retract", "--case", Self.inc, "--reason", "x"], database: db).status == 64)
        let r = InProcess.run(["retract", "--case", Self.inc, id, "--reason", "meant for another case", "--json"], database: db)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try JSONValue.parse(r.stdout)["data"]?["event_id"] == .string(id))
    }

    @Test("--key retries append nothing and print the original; DTLEDGER_CASE supplies the case")
    func keyRetries() throws {
        let db = try Self.database()
        #expect(InProcess.run(Self.commands[0].args, database: db).status == 0)
        let args = ["note", "--text", "paged the DBA", "--key", "INC-2026-0142/dba", "--json"]
        let env = ["DTLEDGER_CASE": Self.inc]
        let first = InProcess.run(args, database: db, environment: env)
        let second = InProcess.run(args, database: db, environment: env)
        #expect(first.status == 0 && second.status == 0, "\(first.stderr) \(second.stderr)")
        let a = try JSONValue.parse(first.stdout), b = try JSONValue.parse(second.stdout)
        #expect(a["id"] == b["id"])
        #expect(b["duplicate"] == .bool(true))
        #expect(try db.store().version(caseID: Self.inc) == 2)
        // The key of another type is refused.
        let clash = InProcess.run(["escalate", "--to", "mim", "--key", "INC-2026-0142/dba"], database: db, environment: env)
        #expect(clash.status == 65)
        // A retried 'incident open' that generated its id gets the same id back.
        let open = Self.without(Self.commands[0].args, "--case") + ["--key", "open/retry", "--json"]
        let o1 = InProcess.run(open, database: db), o2 = InProcess.run(open, database: db)
        #expect(o1.status == 0 && o2.status == 0, "\(o1.stderr) \(o2.stderr)")
        #expect(try JSONValue.parse(o1.stdout)["case"] == JSONValue.parse(o2.stdout)["case"])
        #expect(try JSONValue.parse(o2.stdout)["duplicate"] == .bool(true))
    }

    @Test("generated case ids: INC-/PD-YYYY-NNNN, printed, unique under 8 concurrent calls, skipping ids in use")
    func generatedIDs() throws {
        let db = try Self.database()
        // A hand-picked id that the generator must skip.
        #expect(InProcess.run(Self.with(Self.commands[0].args, "--case", "INC-2026-0003"), database: db).status == 0)
        let open = Self.without(Self.commands[0].args, "--case")
        let ids = Locked<[String]>([])
        onThreads(8) { _ in
            let r: CLIResult? = InProcess.run(open, database: db)
            if let r, r.status == 0, let line = r.lines.first, line.hasPrefix("case: ") {
                ids.withLock { $0.append(String(line.dropFirst(6))) }
            }
        }
        let got = ids.current
        #expect(got.count == 8)
        #expect(Set(got).count == 8)
        #expect(!got.contains("INC-2026-0003"))
        #expect(Set(got) == Set((1...9).filter { $0 != 3 }.map { String(format: "INC-2026-%04d", $0) }))
        let plan = InProcess.run(Self.without(Self.commands[1].args, "--case") + ["--json"], database: db)
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(try JSONValue.parse(plan.stdout)["case"] == .string("PD-2026-0001"))
    }
}
