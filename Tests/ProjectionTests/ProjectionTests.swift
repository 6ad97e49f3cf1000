import Compliance
import Events
import Foundation
import Ledger
import Postgres
import Projections
import Testing
import TestSupport

/// Projections equal the result of evaluating the events directly: after
/// `run`, after `rebuild`, after a crash, and with two projectors at once.
@Suite("Projections")
struct ProjectionTests {
    static func loaded() throws -> TestDatabase { try TestDatabase.withSamples() }

    /// Compares every read-model row with a direct evaluation of the ledger
    /// (each case judged as of the time the projector judged it).
    static func expectMatchesDirect(_ db: TestDatabase, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let store = try db.store()
        let head = try store.digest()
        let reference = try ReferenceData.load(store, through: head.position)
        let c = store.connection
        #expect(try c.query("SELECT position FROM dtledger_read.checkpoint").scalar == String(head.position), sourceLocation: sourceLocation)
        let caseIDs = try store.cases().map(\.caseID).filter { !["directory", "policy"].contains($0) }
        let projected = try c.query("SELECT case_id, (extract(epoch FROM evaluated_as_of) * 1000000)::bigint, status, priority, met, late, missed FROM dtledger_read.cases ORDER BY case_id").rows
        #expect(projected.map { $0[0]! } == caseIDs.sorted(), sourceLocation: sourceLocation)
        for row in projected {
            let caseID = row[0]!
            let asOf = RFC3339.date(microseconds: row.int64(1)!)
            let events = try store.events(caseID: caseID)
            let direct = try #require(Compliance.judge(caseID: caseID, events: events, reference: reference, digest: head, asOf: asOf))
            let rows = try c.query("SELECT rule_id, coalesce(occurrence, ''), verdict, coalesce(late_by_seconds, -1), array_to_string(evidence, ','), array_to_string(missing, ',') FROM dtledger_read.obligations WHERE case_id = $1 ORDER BY ordinal", [caseID]).rows
            let got = rows.map { "\($0[0]!)|\($0[1]!)|\($0[2]!)|\($0[3]!)|\($0[4]!)|\($0[5]!)" }
            let want = direct.evaluation.obligations.map {
                "\($0.ruleID)|\($0.occurrence ?? "")|\($0.verdict.rawValue)|\($0.lateBy.map { String(Int64($0.rounded())) } ?? "-1")|\($0.evidence.joined(separator: ","))|\($0.missing.joined(separator: ","))"
            }
            #expect(got == want, "case \(caseID)", sourceLocation: sourceLocation)
            #expect(row.int64(4) == Int64(direct.counts.met), sourceLocation: sourceLocation)
            #expect(row.int64(6) == Int64(direct.counts.missed), sourceLocation: sourceLocation)
            // Timeline: one row per event, in the same order as a direct build.
            let timeline = try c.query("SELECT position, summary, retracted FROM dtledger_read.timeline WHERE case_id = $1 ORDER BY occurred_at, position", [caseID]).rows
            let built = TimelineBuilder.entries(events: events, directories: reference.directories)
            #expect(timeline.map { $0.int64(0)! } == built.map { $0.position! }, sourceLocation: sourceLocation)
            #expect(timeline.map { $0[1]! } == built.map(\.summary), sourceLocation: sourceLocation)
        }
    }

    @Test("after run, the read models equal a direct evaluation; a second run applies nothing")
    func run() throws {
        let db = try Self.loaded()
        let r = try CLI.run(["projections", "run"], database: db.url)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("applied \(try db.store().digest().position) events"))
        try Self.expectMatchesDirect(db)
        let again = try CLI.run(["projections", "run"], database: db.url)
        #expect(again.stdout.contains("applied 0 events"))
        let status = try JSONValue.parse(try CLI.run(["projections", "status", "--json"], database: db.url).stdout)
        #expect(status["lag"] == .int(0))
        #expect(status["cases"] == .int(2))
        // The projection of the escalated incident, read with SQL.
        let c = try db.connect()
        #expect(try c.query("SELECT status || ' ' || priority FROM dtledger_read.cases WHERE case_id = 'INC-2026-0142'").scalar == "resolved P1")
        #expect(try c.query("SELECT verdict FROM dtledger_read.obligations WHERE case_id = 'INC-2026-0142' AND rule_id = 'IR-UF-P12-UPDATE-DAILY' AND occurrence = '2026-04-08'").scalar == "missed")
    }

    @Test("incremental runs with small batches give the same read models as one run")
    func incremental() throws {
        let db = try Self.loaded()
        #expect(try CLI.run(["projections", "run", "--batch", "3"], database: db.url).status == 0)
        try Self.expectMatchesDirect(db)
        // New events: a retraction and a note; the next run applies just those.
        let store = try db.store()
        let target = try #require(try store.events(caseID: "INC-2026-0142").first { $0.type == "notification.sent" && $0.data["purpose"] == .string("update") })
        let retract = try CLI.run(["append", "--case", "INC-2026-0142", "--type", "event.retracted", "--data",
                                   #"{"event_id":"\#(target.id)","reason":"sent to the wrong channel"}"#], database: db.url)
        #expect(retract.status == 0, "\(retract.stderr)")
        let r = try CLI.run(["projections", "run"], database: db.url)
        #expect(r.stdout.contains("applied 1 events"))
        try Self.expectMatchesDirect(db)
        let c = try db.connect()
        #expect(try c.query("SELECT retracted FROM dtledger_read.timeline WHERE event_id = $1", [target.id]).scalar == "t")
        // Without that update, 2026-04-07 has... still the initial notification, so it stays met.
        #expect(try c.query("SELECT verdict FROM dtledger_read.obligations WHERE case_id = 'INC-2026-0142' AND rule_id = 'IR-UF-P12-UPDATE-DAILY' AND occurrence = '2026-04-07'").scalar != nil)
    }

    @Test("rebuild gives the same read models, and keeps the old ones until the swap")
    func rebuild() throws {
        let db = try Self.loaded()
        #expect(try CLI.run(["projections", "run"], database: db.url).status == 0)
        let rebuild = try CLI.run(["projections", "rebuild"], database: db.url)
        #expect(rebuild.status == 0, "\(rebuild.stderr)")
        try Self.expectMatchesDirect(db)
        let c = try db.connect()
        #expect(try c.query("SELECT count(*) FROM pg_namespace WHERE nspname = 'dtledger_read_next'").scalar == "0")
        // The reader role can read the rebuilt read models.
        try c.execute("SET ROLE dtledger_reader")
        #expect(try c.query("SELECT count(*) FROM dtledger_read.cases").scalar == "2")
    }

    /// Every column of every read-model row, as PostgreSQL prints it, but
    /// the time of judging (`evaluated_as_of`, which differs run to run).
    static func readModelText(_ c: Connection) throws -> [String] {
        let queries = [
            "SELECT t::text FROM dtledger_read.timeline t ORDER BY position",
            "SELECT (o.case_id, o.ordinal, o.rule_id, o.occurrence, o.verdict, o.deadline, o.late_by_seconds, o.evidence, o.missing, o.reason, o.attested_late, o.policy_version)::text FROM dtledger_read.obligations o ORDER BY case_id, ordinal",
            "SELECT (k.case_id, k.kind, k.team, k.title, k.opened_at, k.status, k.priority, k.policy_version, k.event_count, k.last_position, k.met, k.late, k.partial, k.missed, k.pending, k.not_applicable, k.next_deadline)::text FROM dtledger_read.cases k ORDER BY case_id",
        ]
        return try queries.flatMap { try c.query($0).rows.map { $0[0] ?? "NULL" } }
    }

    @Test("rebuild (binary COPY) writes exactly the rows that run (text COPY and INSERTs) writes, hostile strings included")
    func rebuildEqualsRun() throws {
        let db = try Self.loaded()
        // Free text through summaries, the actor and arrays: tab, newline,
        // backslash, quotes, braces, commas, NULL-looking words, non-ASCII.
        let hostile = #"tab\there\nnewline \\ back\\slash \"quoted\" {braces},commas NULL \\N é 日本 🚨"#
        for (type, data) in [("note.added", #"{"text":"\#(hostile)"}"#),
                             ("incident.reopened", #"{"reason":"\#(hostile)"}"#)] {
            let r = try CLI.run(["append", "--case", "INC-2026-0142", "--type", type, "--actor", #"o'brien\t{x,"y"}"#,
                                 "--data", data], database: db.url)
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(try CLI.run(["projections", "run"], database: db.url).status == 0)
        let c = try db.connect()
        let byRun = try Self.readModelText(c)
        #expect(byRun.count > 40)
        #expect(byRun.contains { $0.contains("日本 🚨") && $0.contains("o'brien") })
        let rebuild = try CLI.run(["projections", "rebuild"], database: db.url)
        #expect(rebuild.status == 0, "\(rebuild.stderr)")
        let byRebuild = try Self.readModelText(c)
        #expect(byRebuild == byRun)
        // Microseconds and NULLs made it through (recorded_at has
        // microseconds; event rows have NULL channel and priority).
        #expect(try c.query("SELECT count(*) FROM dtledger_read.timeline WHERE extract(microseconds FROM recorded_at)::bigint % 1000000 <> 0").scalar != "0")
        #expect(try c.query("SELECT count(*) FROM dtledger_read.timeline WHERE channel IS NULL AND priority IS NULL").scalar != "0")
        #expect(try c.query("SELECT count(*) FROM dtledger_read.obligations WHERE cardinality(evidence) = 0").scalar != "0")
    }

    /// The indexes of a read-model table, as `indexdef` text, sorted.
    static func indexes(_ c: Connection, _ table: String) throws -> [String] {
        try c.query("SELECT indexdef FROM pg_indexes WHERE schemaname = 'dtledger_read' AND tablename = $1 ORDER BY indexdef",
                    [table]).rows.map { $0[0]! }
    }

    @Test("migration 0008 re-keys read models built under 0003 in place: rows kept, run and rebuild go on")
    func readModelKeysMigration() throws {
        let db = try TestDatabase.makeEmpty()
        let c = try db.connect()
        // Read models as 0.1.0's migrations 0001-0007 made them (0003's keys).
        try LegacyLedger.migrate(c, through: 7)
        #expect(try Publishing.publishDefaultPolicyIfNone(EventStore(connection: c), actor: "test-runner") != nil)
        #expect(try Self.indexes(c, "timeline").count == 2, "0003's position key and (case_id, occurred_at) index")
        for arguments in [["directory", "publish", CLI.scenarios.appendingPathComponent("directory.yaml").path,
                           "--retroactive-reason", TestDatabase.sampleReason],
                          ["append", "--file", CLI.scenarios.appendingPathComponent("incident-user-facing-escalated.jsonl").path],
                          ["projections", "run"]] {
            let r = try CLI.run(arguments, database: db.url)
            #expect(r.status == 0, "\(arguments[0]): \(r.stderr)")
        }
        let before = try Self.readModelText(c)
        #expect(before.count > 20)

        let applied = try Migrator().migrate(c)
        #expect(applied.map(\.version) == Migration.all.map(\.version).filter { $0 >= 8 })
        #expect(try Self.readModelText(c) == before)
        #expect(try Self.indexes(c, "timeline") == ["CREATE UNIQUE INDEX timeline_pkey ON dtledger_read.timeline USING btree (case_id, \"position\")"])
        #expect(try Self.indexes(c, "obligations") == ["CREATE UNIQUE INDEX obligations_pkey ON dtledger_read.obligations USING btree (case_id, ordinal)"])
        #expect(try Self.indexes(c, "cases") == ["CREATE UNIQUE INDEX cases_pkey ON dtledger_read.cases USING btree (case_id)"])

        // Incremental runs (a retraction marks an earlier row) and a rebuild
        // (the new keys from create_read_models) work on the re-keyed tables.
        let store = try db.store()
        let target = try #require(try store.events(caseID: "INC-2026-0142").first { $0.type == "notification.sent" })
        let retract = try CLI.run(["append", "--case", "INC-2026-0142", "--type", "event.retracted", "--data",
                                   #"{"event_id":"\#(target.id)","reason":"wrong channel"}"#], database: db.url)
        #expect(retract.status == 0, "\(retract.stderr)")
        #expect(try CLI.run(["projections", "run"], database: db.url).status == 0)
        #expect(try c.query("SELECT retracted FROM dtledger_read.timeline WHERE event_id = $1", [target.id]).scalar == "t")
        try Self.expectMatchesDirect(db)
        let byRun = try Self.readModelText(c)
        let rebuild = try CLI.run(["projections", "rebuild"], database: db.url)
        #expect(rebuild.status == 0, "\(rebuild.stderr)")
        #expect(try Self.readModelText(c) == byRun)
        #expect(try Self.indexes(c, "timeline") == ["CREATE UNIQUE INDEX timeline_pkey ON dtledger_read.timeline USING btree (case_id, \"position\")"])
        #expect(try Self.indexes(c, "obligations").count == 1)
    }

    /// The fault is injected from here, not from the projector: a trigger
    /// this test adds to the timeline makes the projector's transaction wait
    /// for an advisory lock the test holds when it writes the row of event
    /// 10 (inside the third batch of 4, after earlier rows of that batch are
    /// written); the test then kills the projector with SIGKILL and lets its
    /// server session go on, find the client gone and roll back.
    @Test("a crash between two events (kill -9 inside the batch) applies nothing twice and skips nothing")
    func crash() throws {
        let db = try Self.loaded()
        let c = try db.connect()
        let holdKey = "7305447236499"
        try c.execute("""
            CREATE FUNCTION public.test_hold_timeline_row() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_advisory_xact_lock(\(holdKey)); RETURN NEW; END $$
            """)
        try c.execute("CREATE TRIGGER test_hold BEFORE INSERT ON dtledger_read.timeline FOR EACH ROW WHEN (NEW.position = 10) EXECUTE FUNCTION public.test_hold_timeline_row()")
        try c.query("SELECT pg_advisory_lock($1::bigint)", [holdKey])

        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["projections", "run", "--batch", "4"]
        process.environment = CLI.environment(database: db.url, extra: [:])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) }; process.waitUntilExit() }
        // Wait until the projector's transaction waits for the test's lock.
        func waiting() throws -> Bool {
            try c.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").scalar != "0"
        }
        let deadline = Date().addingTimeInterval(30)
        while try !waiting() && process.isRunning && Date() < deadline { usleep(20_000) }
        try #require(try waiting(), "the projector reached the row of event 10 inside its third batch")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the projector was killed")
        // Let its session go on: it finds the client gone, rolls back and
        // ends, which frees the projector lock.
        try c.query("SELECT pg_advisory_unlock($1::bigint)", [holdKey])
        let freed = Date().addingTimeInterval(30)
        var free = false
        while !free && Date() < freed {
            free = try c.query("SELECT pg_try_advisory_lock($1::bigint)", ["7305447236402"]).scalar == "t"
            if free { try c.query("SELECT pg_advisory_unlock($1::bigint)", ["7305447236402"]) } else { usleep(20_000) }
        }
        try #require(free, "the killed projector's session ended")
        try c.execute("DROP TRIGGER test_hold ON dtledger_read.timeline")
        try c.execute("DROP FUNCTION public.test_hold_timeline_row()")

        let checkpoint = Int(try c.query("SELECT position FROM dtledger_read.checkpoint").scalar ?? "-1") ?? -1
        #expect(checkpoint == 8, "two batches of 4 committed before the kill in the third")
        #expect(try c.query("SELECT count(*) FROM dtledger_read.timeline WHERE position > 8").scalar == "0")
        let resumed = try CLI.run(["projections", "run", "--batch", "4"], database: db.url)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("applied \(try db.store().digest().position - 8) events"))
        try Self.expectMatchesDirect(db)
    }

    @Test("two projectors started at once do not both apply the same events")
    func twoProjectors() throws {
        let db = try Self.loaded()
        let results = Locked<[CLIResult]>([])
        onThreads(2) { _ in
            let r = try! CLI.run(["projections", "run", "--batch", "1"], database: db.url)
            results.withLock { $0.append(r) }
        }
        let all = results.current
        let applied = all.compactMap { r -> Int? in
            guard r.status == 0, let m = r.stdout.firstRange(of: /applied (\d+) events/) else { return nil }
            return Int(r.stdout[m].split(separator: " ")[1])
        }
        let busy = all.filter { $0.status == 75 }
        #expect(applied.count + busy.count == 2, "\(all.map(\.stderr))")
        #expect(applied.reduce(0, +) == Int(try db.store().digest().position), "each event applied exactly once")
        busy.forEach { #expect($0.stderr.contains("another projector")) }
        try Self.expectMatchesDirect(db)
    }

    @Test("follow applies new events as they are appended (LISTEN/NOTIFY)")
    func follow() throws {
        let db = try Self.loaded()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["projections", "run", "--follow", "--database-url", db.url]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() }; process.waitUntilExit() }
        let c = try db.connect()
        func checkpoint() throws -> Int64 { Int64(try c.query("SELECT position FROM dtledger_read.checkpoint").scalar ?? "0") ?? 0 }
        let head = try db.store().digest().position
        let deadline = Date().addingTimeInterval(20)
        while try checkpoint() < head && Date() < deadline { usleep(100_000) }
        #expect(try checkpoint() == head)
        let note = try CLI.run(["append", "--case", "PD-2026-0007", "--type", "note.added", "--data", #"{"text":"post-mortem scheduled"}"#], database: db.url)
        #expect(note.status == 0)
        let later = Date().addingTimeInterval(10)
        while try checkpoint() < head + 1 && Date() < later { usleep(100_000) }
        #expect(try checkpoint() == head + 1, "the follower woke on NOTIFY")
        process.terminate()
        let stopBy = Date().addingTimeInterval(10)
        while process.isRunning && Date() < stopBy { usleep(100_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            Issue.record("the follower did not stop on SIGTERM within 10 s")
        }
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "SIGTERM stops it cleanly")
    }
}
