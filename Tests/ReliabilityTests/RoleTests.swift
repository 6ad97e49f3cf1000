import Events
import Foundation
import Ledger
import Postgres
import Testing
import TestSupport

/// Each person their own login (SECURITY.md): a LOGIN role that is a member
/// of dtledger_writer appends through the CLI, and the ledger records who.
@Suite("Roles: personal logins")
struct RoleTests {
    @Test("a personal login in dtledger_writer appends via the CLI, is named in metadata.db_role, and can do nothing else")
    func personalWriter() throws {
        let db = try TestDatabase.make()
        let owner = try db.connect()
        let alice = "dtl_alice_\(UInt32.random(in: 0...UInt32.max))"
        let bob = "dtl_bob_\(UInt32.random(in: 0...UInt32.max))"
        try owner.execute("CREATE ROLE \(alice) LOGIN IN ROLE dtledger_writer; CREATE ROLE \(bob) LOGIN IN ROLE dtledger_reader")
        defer { _ = try? owner.execute("DROP ROLE IF EXISTS \(alice); DROP ROLE IF EXISTS \(bob)") }
        let aliceURL = db.url.replacingOccurrences(of: "user=dtledger", with: "user=\(alice)")
        let bobURL = db.url.replacingOccurrences(of: "user=dtledger", with: "user=\(bob)")

        let appended = try CLI.run(["append", "--case", "ROLE-1", "--type", "incident.opened", "--data", openingData, "--actor", "alice"], database: aliceURL)
        #expect(appended.status == 0, "\(appended.stderr)")
        let stored = try EventStore(connection: owner).events(caseID: "ROLE-1")
        #expect(stored.first?.metadata["db_role"]?.stringValue == alice)
        // The actor is what the person claims; db_role is what the database knows.
        #expect(stored.first?.actor == "alice")

        // The writer cannot read, verify, call internal functions or write around append().
        #expect(try CLI.run(["read"], database: aliceURL).status == 77)
        #expect(try CLI.run(["verify"], database: aliceURL).status == 77)
        let asAlice = try Connection(conninfo: aliceURL)
        for sql in ["SELECT dtledger.event_hash('\\x00', gen_random_uuid(), 1, 'c', 1, 't', now(), now(), 'a', 'cli', NULL, '{}', '{}')",
                    "SELECT dtledger.create_read_models('mine')",
                    "SELECT * FROM dtledger.head",
                    "INSERT INTO dtledger.events (position) VALUES (99)",
                    "INSERT INTO dtledger.streams VALUES ('X', 1, 't', now(), 1)",
                    "UPDATE dtledger.head SET position = 0",
                    "CREATE TABLE dtledger.mine (x int)",
                    "CREATE FUNCTION dtledger.event_hash(v integer) RETURNS text LANGUAGE sql AS 'select 1'",
                    "SET ROLE dtledger_reader",
                    "SET ROLE dtledger"] {
            #expect(throws: PostgresError.self, "\(sql)") { try asAlice.execute(sql) }
        }
        // Claiming another db_role in the metadata does not stick.
        try asAlice.query("SELECT * FROM dtledger.append('ROLE-2', NULL, $1::jsonb, NULL, 'x')",
                          [#"[{"type":"note.added","occurred_at":"2026-01-01T00:00:00Z","actor":"a","source":"cli","data":{},"metadata":{"db_role":"dtledger"}}]"#])
        let forged = try EventStore(connection: owner).events(caseID: "ROLE-2")
        #expect(forged.first?.metadata["db_role"]?.stringValue == alice)

        // The reader reads and verifies, and cannot append.
        #expect(try CLI.run(["read", "--case", "ROLE-1"], database: bobURL).status == 0)
        #expect(try CLI.run(["verify"], database: bobURL).status == 0)
        let refused = try CLI.run(["append", "--case", "ROLE-1", "--type", "incident.opened", "--data", openingData], database: bobURL)
        #expect(refused.status == 77)
        #expect(errorLines(refused).count == 1)
        #expect(try EventStore(connection: owner).events(caseID: "ROLE-1").count == 1)
    }
}

/// The attacker is a real login with its real privileges (issue 15): an
/// on-call engineer holding dtledger_writer (and dtledger_reader) tries to
/// change the rules and the directory that judge their own cases, from SQL
/// and through the Operations API; the schema owner tries positions below 1.
@Suite("Roles: only dtledger_publisher publishes reference data")
struct PublisherRoleTests {
    /// A login in `roles`, dropped by `drop()`; `url` connects as it.
    struct Login {
        let name: String
        let url: String
        func connect() throws -> Connection { try Connection(conninfo: url) }
    }

    static func login(_ db: TestDatabase, _ owner: Connection, _ prefix: String, in roles: String) throws -> Login {
        let name = "dtl_\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
        try owner.execute("CREATE ROLE \(name) LOGIN IN ROLE \(roles)")
        return Login(name: name, url: db.url.replacingOccurrences(of: "user=dtledger", with: "user=\(name)"))
    }

    static func drop(_ owner: Connection, _ logins: [Login]) {
        for l in logins { _ = try? owner.execute("DROP OWNED BY \(l.name); DROP ROLE IF EXISTS \(l.name)") }
    }

    static let policyData = #"{"effective_from":"2026-01-01T00:00:00Z","retroactive_reason":"test","policy":{"name":"mine","version":"1"}}"#
    static let directoryData = #"{"effective_from":"2026-01-01T00:00:00Z","retroactive_reason":"test","roles":[],"people":[]}"#

    static func one(_ type: String, _ data: String, at: String = "2026-03-01T10:00:00Z") -> String {
        #"[{"type":"\#(type)","occurred_at":"\#(at)","actor":"mallory","source":"cli","data":\#(data)}]"#
    }

    static func count(_ owner: Connection) throws -> Int64 {
        Int64(try owner.query("SELECT count(*) FROM dtledger.events").scalar ?? "0")!
    }

    /// The PostgresError `body` throws (nil when it throws none).
    static func refusal(_ body: () throws -> Void) -> PostgresError? {
        do { try body(); return nil } catch let e as PostgresError { return e } catch { return nil }
    }

    @Test("a writer cannot publish a policy or a directory, or retract a policy event, from SQL or the Operations API; a publisher can")
    func writerCannotPublish() throws {
        let db = try TestDatabase.make()
        let owner = try db.connect()
        let bob = try Self.login(db, owner, "bob", in: "dtledger_writer, dtledger_reader")
        let pat = try Self.login(db, owner, "pat", in: "dtledger_publisher")
        defer { Self.drop(owner, [bob, pat]) }

        // The publisher publishes a policy (with a reason: it is effective in the past).
        let asPat = try pat.connect()
        let published = try asPat.query("SELECT event_id FROM dtledger.append('policy', NULL, $1::jsonb, NULL, 't')",
                                        [Self.one("policy.published", Self.policyData)])
        let policyEvent = try #require(published.scalar)
        let before = try Self.count(owner)

        let asBob = try bob.connect()
        let attacks: [(String, [String?])] = [
            ("SELECT * FROM dtledger.append('policy', NULL, $1::jsonb, NULL, 't')",
             [Self.one("policy.published", Self.policyData.replacingOccurrences(of: "\"1\"", with: "\"2\""))]),
            ("SELECT * FROM dtledger.append('directory', NULL, $1::jsonb, NULL, 't')", [Self.one("directory.published", Self.directoryData)]),
            // The type alone decides, whatever the case.
            ("SELECT * FROM dtledger.append('INC-9', NULL, $1::jsonb, NULL, 't')", [Self.one("directory.published", Self.directoryData)]),
            ("SELECT * FROM dtledger.append('policy', NULL, $1::jsonb, NULL, 't')",
             [Self.one("event.retracted", #"{"event_id":"\#(policyEvent)","reason":"I do not like it"}"#)]),
            // A retraction from another case that targets the policy event.
            ("SELECT * FROM dtledger.append('INC-9', NULL, $1::jsonb, NULL, 't')",
             [Self.one("event.retracted", #"{"event_id":"\#(policyEvent)","reason":"I do not like it"}"#)]),
            ("SELECT * FROM dtledger.append_many($1::jsonb, NULL, 't')",
             [#"[{"case":"directory","type":"directory.published","occurred_at":"2026-03-01T10:00:00Z","actor":"mallory","source":"cli","data":\#(Self.directoryData)}]"#]),
            ("SELECT * FROM dtledger.append_many($1::jsonb, NULL, 't')",
             [#"[{"case":"INC-8","type":"incident.opened","occurred_at":"2026-03-01T10:00:00Z","actor":"mallory","source":"cli","data":{}},{"case":"INC-8","type":"event.retracted","occurred_at":"2026-03-01T10:00:00Z","actor":"mallory","source":"cli","data":{"event_id":"\#(policyEvent)","reason":"x"}}]"#]),
        ]
        for (sql, parameters) in attacks {
            let refused = Self.refusal { _ = try asBob.query(sql, parameters) }
            #expect(refused?.sqlState == SQLState.insufficientPrivilege, "\(parameters)")
            #expect(refused?.message.contains("only dtledger_publisher may") == true, "\(refused?.message ?? "")")
            #expect(refused?.message.contains("(login \(bob.name))") == true)
            #expect(refused.map { LedgerError.from($0).code } == .permissionDenied)
        }
        #expect(try Self.count(owner) == before, "nothing written")

        // Through the Operations API, as the CLI calls it: the same refusal, exit 77.
        do {
            try db.publishSampleDirectory(login: bob.name, retroactiveReason: "mine")
            Issue.record("a writer published the directory")
        } catch let error as LedgerError {
            #expect(error.code == .permissionDenied)
            #expect(error.message.contains("only dtledger_publisher may publish to the 'directory' stream (login \(bob.name))"))
        }
        let dirFile = CLI.scenarios.appendingPathComponent("directory.yaml").path
        let cli = try CLI.run(["directory", "publish", dirFile, "--retroactive-reason", "mine"], database: bob.url)
        #expect(cli.status == 77, "\(cli.stderr)")
        #expect(cli.stderr.contains("only dtledger_publisher may publish to the 'directory' stream (login \(bob.name))"), "\(cli.stderr)")
        #expect(errorLines(cli).count == 1)
        #expect(try Self.count(owner) == before, "nothing written")

        // The publisher can, through the CLI too.
        let ok = try CLI.run(["directory", "publish", dirFile, "--retroactive-reason", "sample data: published after the fact"], database: pat.url)
        #expect(ok.status == 0, "\(ok.stderr)")
        let retracted = try asPat.query("SELECT * FROM dtledger.append('policy', NULL, $1::jsonb, NULL, 't')",
                                        [Self.one("event.retracted", #"{"event_id":"\#(policyEvent)","reason":"published by mistake"}"#)])
        #expect(retracted.rowCount == 1)
        let stored = try EventStore(connection: owner).events(caseID: "directory")
        #expect(stored.first?.metadata["db_role"]?.stringValue == pat.name)
        #expect(stored.first?.data["retroactive_reason"]?.stringValue == "sample data: published after the fact")
    }

    @Test("a retroactive publication needs a reason; a policy version is published once, naming the policy")
    func retroactiveAndOnce() throws {
        let db = try TestDatabase.make()
        let owner = try db.connect()
        let pat = try Self.login(db, owner, "pat", in: "dtledger_publisher")
        defer { Self.drop(owner, [pat]) }
        let asPat = try pat.connect()

        // Without a reason: refused (DTL05, exit 65), naming effective_from.
        let noReason = Self.policyData.replacingOccurrences(of: #""retroactive_reason":"test","#, with: "")
        let refused = Self.refusal { _ = try asPat.query("SELECT * FROM dtledger.append('policy', NULL, $1::jsonb, NULL, 't')",
                                                         [Self.one("policy.published", noReason)]) }
        #expect(refused?.sqlState == LedgerSQLState.retroactive)
        #expect(refused?.message == "effective_from 2026-01-01T00:00:00Z is before the time of recording; a retroactive publication needs a reason (--retroactive-reason)")
        #expect(refused.map { LedgerError.from($0).code } == .invalid)
        let blank = Self.refusal { _ = try asPat.query("SELECT * FROM dtledger.append('policy', NULL, $1::jsonb, NULL, 't')",
                                                       [Self.one("policy.published", Self.policyData.replacingOccurrences(of: #""test""#, with: #"" ""#))]) }
        #expect(blank?.sqlState == LedgerSQLState.invalid)
        // Effective from a time to come: no reason needed.
        let future = noReason.replacingOccurrences(of: "2026-01-01T00:00:00Z", with: RFC3339.format(Date().addingTimeInterval(86_400)))
        _ = try asPat.query("SELECT * FROM dtledger.append('policy', NULL, $1::jsonb, NULL, 't')", [Self.one("policy.published", future)])

        // Through the CLI (on a ledger of its own: the policies above are no
        // real documents): refused without --retroactive-reason, with the
        // command's warning; accepted with it.
        let cliDB = try TestDatabase.make()
        let cliURL = cliDB.url(login: pat.name)
        let policyFile = FileManager.default.temporaryDirectory.appendingPathComponent("dtl-policy-\(UUID().uuidString).yaml")
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let defaultYAML = try String(contentsOf: repository.appendingPathComponent("Policies/default.yaml"), encoding: .utf8)
        try defaultYAML.write(to: policyFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: policyFile) }
        let dirFile = CLI.scenarios.appendingPathComponent("directory.yaml").path
        #expect(try CLI.run(["directory", "publish", dirFile, "--retroactive-reason", TestDatabase.sampleReason], database: cliURL).status == 0)
        let past = ["policy", "publish", policyFile.path, "--effective-from", "2026-02-01T00:00:00Z"]
        let without = try CLI.run(past, database: cliURL)
        #expect(without.status == 65, "\(without.stderr)")
        #expect(without.stderr.contains("a retroactive publication needs a reason (--retroactive-reason)"), "\(without.stderr)")
        #expect(errorLines(without).count == 1)
        let with = try CLI.run(past + ["--retroactive-reason", "the policy was agreed on 1 February"], database: cliURL)
        #expect(with.status == 0, "\(with.stderr)")
        #expect(with.stderr.contains("warning: the effective date"), "the past-date warning stays")

        // The same name and version again, with another date: refused naming the policy, from SQL too.
        let again = try CLI.run(["policy", "publish", policyFile.path, "--effective-from", "2026-03-01T00:00:00Z", "--retroactive-reason", "again"], database: cliURL)
        #expect(again.status == 65)
        #expect(again.stderr.contains("already published"), "\(again.stderr)")
        let sqlAgain = Self.refusal { _ = try asPat.query("SELECT * FROM dtledger.append('policy', NULL, $1::jsonb, NULL, 't')",
                                                          [Self.one("policy.published", Self.policyData.replacingOccurrences(of: "2026-01-01", with: "2026-01-02"))]) }
        #expect(sqlAgain?.sqlState == LedgerSQLState.alreadyPublished)
        #expect(sqlAgain?.message == "policy 'mine' version '1' is already published; publish a new version")
        // Twice in one call: the unique index refuses it, named the same way.
        let twice = #"{"case":"policy","type":"policy.published","occurred_at":"2026-03-01T10:00:00Z","actor":"pat","source":"cli","data":{"effective_from":"2030-01-01T00:00:00Z","policy":{"name":"twin","version":"7"}}}"#
        let both = Self.refusal { _ = try asPat.query("SELECT * FROM dtledger.append_many($1::jsonb, NULL, 't')", ["[\(twice),\(twice)]"]) }
        let mapped = both.map { LedgerError.from($0) }
        #expect(mapped?.code == .invalid)
        #expect(mapped?.field == "policy.version")
        #expect(mapped?.message.hasSuffix("policy 'twin' version '7' is already published; publish a new version") == true, "\(both?.description ?? "")")
    }

    @Test("the schema owner cannot insert an event at position 0 or below, even with the triggers disabled")
    func positionsFromOne() throws {
        let db = try TestDatabase.make()
        let admin = try db.connect()
        let carol = try Self.login(db, admin, "carol", in: "dtledger_reader")
        defer {
            _ = try? admin.execute("ALTER TABLE dtledger.events OWNER TO dtledger; ALTER TABLE dtledger.head OWNER TO dtledger")
            Self.drop(admin, [carol])
        }
        // A non-superuser who owns the tables (as a dedicated owner login would).
        try admin.execute("ALTER TABLE dtledger.events OWNER TO \(carol.name); ALTER TABLE dtledger.head OWNER TO \(carol.name)")
        #expect(try admin.query("SELECT rolsuper FROM pg_roles WHERE rolname = $1", [carol.name]).scalar == "f")
        let asCarol = try carol.connect()
        // Owners may disable the immutability triggers (SECURITY.md); the CHECK still holds.
        try asCarol.execute("ALTER TABLE dtledger.events DISABLE TRIGGER USER")
        for position in ["0", "-5"] {
            let refused = Self.refusal {
                _ = try asCarol.query("""
                    INSERT INTO dtledger.events (position, id, case_id, version, type, occurred_at, recorded_at, actor, source,
                                                 data, metadata, previous_hash, hash)
                    VALUES ($1::bigint, gen_random_uuid(), 'INC-1', 1, 'incident.opened', now(), now(), 'carol', 'cli', '{}', '{}',
                            decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex'))
                    """, [position])
            }
            #expect(refused?.sqlState == SQLState.checkViolation, "position \(position)")
            #expect(refused?.constraint == "events_position_from_1")
        }
        let head = Self.refusal { _ = try asCarol.execute("UPDATE dtledger.head SET position = -1") }
        #expect(head?.constraint == "head_position_from_0")
        try asCarol.execute("ALTER TABLE dtledger.events ENABLE TRIGGER USER")
        #expect(try Self.count(admin) == 0)
        // A superuser (or an owner who drops the constraint) can still do it:
        // that is for verify to catch (positions from 1; SECURITY.md).
    }

    @Test("data the readers could not decode is refused for a writer calling dtledger.append; data at the limits is stored and reads back")
    func undecodable() throws {
        let db = try TestDatabase.make()
        let owner = try db.connect()
        let bob = try Self.login(db, owner, "bob", in: "dtledger_writer")
        defer { Self.drop(owner, [bob]) }
        let asBob = try bob.connect()
        let append = "SELECT * FROM dtledger.append('INC-1', NULL, $1::jsonb, NULL, 't')"
        _ = try asBob.query(append, [Self.one("incident.opened", "{}")])
        let before = try Self.count(owner)
        let deep = String(repeating: "[", count: 257) + String(repeating: "]", count: 257)
        let cases: [(String, String)] = [
            (#"{"x":\#(deep)}"#, "nests deeper than 256 levels"),
            (#"{"x":1e400}"#, "beyond the range of a double"),
            (#"{"x":-1e400}"#, "beyond the range of a double"),
            (#"{"x":1.7976931348623159e308}"#, "beyond the range of a double"),
            (#"{"x":\#(String(repeating: "9", count: 400))}"#, "beyond the range of a double"),
            (#"{"text":"\#(String(repeating: "a", count: 2 << 20))"}"#, "at most 1048576 bytes (1 MiB)"),
        ]
        for (data, problem) in cases {
            let refused = Self.refusal { _ = try asBob.query(append, [Self.one("note.added", data)]) }
            #expect(refused?.sqlState == LedgerSQLState.invalid, "\(data.prefix(40))")
            #expect(refused?.message.contains(problem) == true, "\(refused?.message ?? "accepted") for \(data.prefix(40))")
            #expect(refused.map { LedgerError.from($0).code } == .invalid)
            let many = Self.refusal {
                _ = try asBob.query("SELECT * FROM dtledger.append_many($1::jsonb, NULL, 't')",
                                    [#"[{"case":"INC-1","type":"note.added","occurred_at":"2026-03-01T10:00:00Z","actor":"m","source":"cli","data":\#(data)}]"#])
            }
            #expect(many?.sqlState == LedgerSQLState.invalid, "append_many \(data.prefix(40))")
            #expect(many?.detail == "item 1")
        }
        // In metadata too.
        let meta = Self.refusal {
            _ = try asBob.query(append, [#"[{"type":"note.added","occurred_at":"2026-03-01T10:00:00Z","actor":"m","source":"cli","data":{},"metadata":{"x":1e400}}]"#])
        }
        #expect(meta?.sqlState == LedgerSQLState.invalid)
        #expect(try Self.count(owner) == before, "nothing written")

        // At the limits: stored, and the ledger's readers decode it.
        let edge = String(repeating: "[", count: 255) + String(repeating: "]", count: 255)
        let fine = #"{"deep":\#(edge),"max":1.7976931348623157e308,"tiny":1e-400,"zero":-0,"big":123456789012345678901234567890,"text":"\#(String(repeating: "a", count: 1 << 19))"}"#
        _ = try asBob.query(append, [Self.one("note.added", fine)])
        let stored = try EventStore(connection: owner).events(caseID: "INC-1")
        #expect(stored.count == 2)
        #expect(stored.last?.data["max"]?.doubleValue == 1.7976931348623157e308)
    }

    @Test("an occurred_at more than 5 minutes ahead is refused by the append functions and by the CLI")
    func futureOccurredAt() throws {
        let db = try TestDatabase.make()
        let owner = try db.connect()
        let bob = try Self.login(db, owner, "bob", in: "dtledger_writer")
        defer { Self.drop(owner, [bob]) }
        let asBob = try bob.connect()
        let soon = RFC3339.format(Date().addingTimeInterval(120))
        _ = try asBob.query("SELECT * FROM dtledger.append('INC-1', NULL, $1::jsonb, NULL, 't')", [Self.one("incident.opened", "{}", at: soon)])
        let later = RFC3339.format(Date().addingTimeInterval(3_600))
        let refused = Self.refusal {
            _ = try asBob.query("SELECT * FROM dtledger.append('INC-1', NULL, $1::jsonb, NULL, 't')", [Self.one("note.added", "{}", at: later)])
        }
        #expect(refused?.sqlState == LedgerSQLState.invalid)
        #expect(refused?.message.contains("occurred_at") == true && refused?.message.contains("in the future") == true)
        let many = Self.refusal {
            _ = try asBob.query("SELECT * FROM dtledger.append_many($1::jsonb, NULL, 't')",
                                [#"[{"case":"INC-1","type":"note.added","occurred_at":"\#(later)","actor":"m","source":"cli","data":{}}]"#])
        }
        #expect(many?.sqlState == LedgerSQLState.invalid)
        #expect(many?.detail == "item 1")

        let cli = try CLI.run(["append", "--case", "INC-1", "--type", "note.added", "--data", #"{"text":"from the future"}"#,
                               "--occurred-at", later], database: db.url)
        #expect(cli.status == 65)
        #expect(cli.stderr.contains("occurred_at"), "\(cli.stderr)")
        #expect(errorLines(cli).count == 1)
        #expect(try Self.count(owner) == 1)
    }
}
