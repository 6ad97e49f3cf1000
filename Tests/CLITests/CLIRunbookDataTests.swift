@testable import dtledger
import Events
import Foundation
import Testing
import TestSupport

/// What the runbook commands store and refuse, byte for byte: the stored
/// `data` text of every command with every option given (and with only the
/// required ones), and the exact text of each usage error, in the order the
/// command checks them.
@Suite("CLI: runbook commands' stored data and usage errors")
struct CLIRunbookDataTests {
    static let inc = "INC-2026-0142"
    static let pd = "PD-2026-0007"
    static let retractedID = "6F9619FF-8B86-D011-B42D-00C04FC964FF"

    struct Stored: Sendable, CustomStringConvertible {
        let args: [String]
        let data: String
        var description: String { args.prefix(3).joined(separator: " ") }
    }

    /// In order (the opening events first), each command and the `data` it stores.
    static let stored: [Stored] = [
        Stored(args: ["incident", "open", "--case", inc, "--team", "user-facing", "--summary", "Medications list fails to load",
                      "--services", "medications", "--services", "refills, secure-messaging", "--users", "1500",
                      "--started-at", "2026-04-07T08:55:00.25-04:00", "--product", "medications",
                      "--data-compromise-suspected", "--impacts-mobile", "--at", "2026-04-07T09:20:00-04:00"],
               data: ##"{"team": "user-facing", "product": "medications", "summary": "Medications list fails to load", "started_at": "2026-04-07T12:55:00.25Z", "impacts_mobile": true, "estimated_user_impact": {"users": 1500, "services": ["medications", "refills", "secure-messaging"]}, "data_compromise_suspected": true}"##),
        Stored(args: ["incident", "open", "--case", "INC-2026-0143", "--team", "api-platform", "--summary", "s",
                      "--services", "medications", "--started-at", "2026-04-07T13:55:00Z"],
               data: ##"{"team": "api-platform", "summary": "s", "started_at": "2026-04-07T13:55:00Z", "impacts_mobile": false, "estimated_user_impact": {"services": ["medications"]}, "data_compromise_suspected": false}"##),
        Stored(args: ["downtime", "plan", "--case", pd, "--team", "api-platform", "--title", "DB upgrade", "--reason", "PostgreSQL upgrade",
                      "--services", "medications,secure-messaging", "--users", "0", "--start", "2026-03-14T22:00:00-04:00",
                      "--end", "2026-03-15T02:00:00-04:00", "--rollback-plan", "restore the snapshot", "--product", "medications",
                      "--impacts-mobile", "--communication-owner", "ana-po", "--at", "2026-03-02T10:00:00-05:00"],
               data: ##"{"team": "api-platform", "title": "DB upgrade", "reason": "PostgreSQL upgrade", "window": {"end": "2026-03-15T06:00:00Z", "start": "2026-03-15T02:00:00Z"}, "product": "medications", "rollback_plan": "restore the snapshot", "impacts_mobile": true, "anticipated_impact": {"users": 0, "services": ["medications", "secure-messaging"]}, "communication_owner": "ana-po"}"##),
        Stored(args: ["downtime", "plan", "--case", "PD-2026-0008", "--team", "vahb-platform", "--title", "t", "--reason", "r",
                      "--services", "mhv-api", "--start", "2026-03-14T22:00:00-04:00", "--end", "2026-03-15T02:00:00-04:00",
                      "--rollback-plan", "p"],
               data: ##"{"team": "vahb-platform", "title": "t", "reason": "r", "window": {"end": "2026-03-15T06:00:00Z", "start": "2026-03-15T02:00:00Z"}, "rollback_plan": "p", "impacts_mobile": false, "anticipated_impact": {"services": ["mhv-api"]}}"##),
        Stored(args: ["incident", "priority", "--case", inc, "--priority", "P2", "--reason", "Tier 1"], data: ##"{"reason": "Tier 1", "priority": "P2"}"##),
        Stored(args: ["incident", "priority", "--case", inc, "--priority", "P1"], data: ##"{"priority": "P1"}"##),
        Stored(args: ["incident", "update", "--case", inc, "--summary", "Now also refills", "--users", "20", "--services", "refills",
                      "--no-data-compromise-suspected", "--impacts-mobile", "--product", "refills"], data: ##"{"product": "refills", "summary": "Now also refills", "impacts_mobile": true, "estimated_user_impact": {"users": 20, "services": ["refills"]}, "data_compromise_suspected": false}"##),
        Stored(args: ["incident", "update", "--case", inc, "--services", "refills"], data: ##"{"estimated_user_impact": {"services": ["refills"]}}"##),
        Stored(args: ["incident", "update", "--case", inc, "--no-impacts-mobile"], data: ##"{"impacts_mobile": false}"##),
        Stored(args: ["incident", "milestone", "--case", inc, "--kind", "solution_determined", "--note", "cache"], data: ##"{"kind": "solution_determined", "note": "cache"}"##),
        Stored(args: ["incident", "milestone", "--case", inc, "--kind", "mim_triggered"], data: ##"{"kind": "mim_triggered"}"##),
        Stored(args: ["incident", "resolve", "--case", inc, "--resolution", "cache purged"], data: ##"{"resolution": "cache purged"}"##),
        Stored(args: ["incident", "reopen", "--case", inc, "--reason", "errors are back"], data: ##"{"reason": "errors are back"}"##),
        Stored(args: ["downtime", "update", "--case", pd, "--reason", "r2", "--users", "7", "--services", "mhv-api",
                      "--start", "2026-03-21T22:00:00-04:00", "--end", "2026-03-22T02:00:00.5-04:00", "--rollback-plan", "p2",
                      "--title", "t2", "--product", "p", "--no-impacts-mobile", "--communication-owner", "sean-good"], data: ##"{"title": "t2", "reason": "r2", "window": {"end": "2026-03-22T06:00:00.5Z", "start": "2026-03-22T02:00:00Z"}, "product": "p", "rollback_plan": "p2", "impacts_mobile": false, "anticipated_impact": {"users": 7, "services": ["mhv-api"]}, "communication_owner": "sean-good"}"##),
        Stored(args: ["downtime", "update", "--case", pd, "--title", "t3"], data: ##"{"title": "t3"}"##),
        Stored(args: ["downtime", "start", "--case", pd], data: ##"{}"##),
        Stored(args: ["downtime", "conclude", "--case", pd, "--outcome", "rolled_back", "--note", "replica lag"], data: ##"{"note": "replica lag", "outcome": "rolled_back"}"##),
        Stored(args: ["downtime", "conclude", "--case", pd, "--outcome", "completed"], data: ##"{"outcome": "completed"}"##),
        Stored(args: ["downtime", "cancel", "--case", "PD-2026-0008", "--reason", "postponed"], data: ##"{"reason": "postponed"}"##),
        Stored(args: ["notify", "slack", "--case", inc, "--destination", "#mhv-health-portal-coordination",
                      "--audience", "@mhv-api-platform,ana-po", "--audience", "role:isso", "--purpose", "initial",
                      "--content", "summary=Medications list fails to load", "--content", "estimated_user_impact=1,500 users",
                      "--content", "start_time= 08:55 ET=x", "--message-ref", "https://example.slack.com/archives/C1/p1",
                      "--edits", "https://example.slack.com/archives/C1/p0"], data: ##"{"edits": "https://example.slack.com/archives/C1/p0", "channel": "slack", "content": {"summary": "Medications list fails to load", "start_time": " 08:55 ET=x", "estimated_user_impact": "1,500 users"}, "purpose": "initial", "audience": ["@mhv-api-platform", "ana-po", "role:isso"], "destination": "#mhv-health-portal-coordination", "message_ref": "https://example.slack.com/archives/C1/p1"}"##),
        Stored(args: ["notify", "email", "--case", inc, "--destination", "mhv-incidents@example.org",
                      "--audience", "ana.ortiz@example.org", "--purpose", "update", "--content", "summary=s"], data: ##"{"channel": "email", "content": {"summary": "s"}, "purpose": "update", "audience": ["ana.ortiz@example.org"], "destination": "mhv-incidents@example.org"}"##),
        Stored(args: ["ticket", "submit", "--case", pd, "--system", "psets", "--number", "CHG0031337", "--purpose", "downtime_approval",
                      "--url", "https://snow.example/CHG0031337"], data: ##"{"url": "https://snow.example/CHG0031337", "number": "CHG0031337", "system": "psets", "purpose": "downtime_approval"}"##),
        Stored(args: ["ticket", "submit", "--case", pd, "--number", "CHG0031338", "--purpose", "other"], data: ##"{"number": "CHG0031338", "system": "snow", "purpose": "other"}"##),
        Stored(args: ["ticket", "approve", "--case", pd, "--ticket", "CHG0031337", "--approver", "sean-good", "--decision", "rejected"], data: ##"{"ticket": "CHG0031337", "approver": "sean-good", "decision": "rejected"}"##),
        Stored(args: ["ticket", "approve", "--case", pd, "--ticket", "CHG0031337", "--actor", "sean-good"], data: ##"{"ticket": "CHG0031337", "approver": "sean-good", "decision": "approved"}"##),
        Stored(args: ["ticket", "approve", "--case", pd, "--ticket", "CHG0031338"], data: ##"{"ticket": "CHG0031338", "approver": "test-runner", "decision": "approved"}"##),
        Stored(args: ["window", "set", "--case", pd, "--system", "opsgenie", "--window-id", "PW12345", "--start", "2026-03-14T21:45:00-04:00",
                      "--end", "2026-03-15T02:30:00-04:00", "--services", "mhv-api,medications", "--services", "refills"], data: ##"{"end": "2026-03-15T06:30:00Z", "start": "2026-03-15T01:45:00Z", "system": "opsgenie", "services": ["mhv-api", "medications", "refills"], "window_id": "PW12345"}"##),
        Stored(args: ["window", "set", "--case", pd, "--window-id", "PW12346", "--start", "2026-03-14T21:45:00Z",
                      "--end", "2026-03-15T02:30:00Z", "--services", "mhv-api"], data: ##"{"end": "2026-03-15T02:30:00Z", "start": "2026-03-14T21:45:00Z", "system": "pagerduty", "services": ["mhv-api"], "window_id": "PW12346"}"##),
        Stored(args: ["window", "verify", "--case", pd, "--window-id", "PW12345"], data: ##"{"window_id": "PW12345"}"##),
        Stored(args: ["escalate", "--case", inc, "--to", "csoc-dbrs", "--reference", "DBRS-1"], data: ##"{"to": "csoc-dbrs", "reference": "DBRS-1"}"##),
        Stored(args: ["escalate", "--case", inc, "--to", "mim"], data: ##"{"to": "mim"}"##),
        Stored(args: ["note", "--case", inc, "--text", "rolled back the 07:30 deploy \"quoted\" é"], data: ##"{"text": "rolled back the 07:30 deploy \"quoted\" é"}"##),
        Stored(args: ["retract", "--case", inc, retractedID, "--reason", "meant for another case"], data: ##"{"reason": "meant for another case", "event_id": "6f9619ff-8b86-d011-b42d-00c04fc964ff"}"##),
    ]

    @Test("every runbook command stores exactly this data")
    func storedData() throws {
        let db = try TestDatabase.withSampleDirectory()
        for command in Self.stored {
            let r = InProcess.run(command.args + ["--json"], database: db)
            #expect(r.status == 0, "\(command): \(r.stderr)")
            guard r.status == 0 else { continue }
            let position = try #require(try JSONValue.parse(r.stdout)["position"]?.intValue)
            var text: String?
            try db.store().forEachEvent(after: position - 1, limit: 1) { text = $0.dataText }
            #expect(text == command.data, "\(command)")
        }
    }

    struct Refused: Sendable, CustomStringConvertible {
        let args: [String]
        let status: Int32
        let error: String
        var environment: [String: String] = [:]
        var description: String { args.joined(separator: " ") }
    }

    static let openArgs = ["incident", "open", "--case", inc, "--team", "user-facing", "--summary", "s", "--started-at", "2026-04-07T08:55:00-04:00"]
    static let planArgs = ["downtime", "plan", "--case", pd, "--team", "api-platform", "--title", "t", "--reason", "r",
                           "--rollback-plan", "p"]

    /// Each usage error's exact line; where two problems are given at once, the one checked first.
    static let refused: [Refused] = [
        Refused(args: openArgs, status: 64, error: ##"missing --services (the impacted services)"##),
        Refused(args: openArgs + ["--users", "10"], status: 64, error: ##"--users needs --services (the impacted services)"##),
        Refused(args: openArgs + ["--users=-1", "--services", "medications"], status: 64, error: ##"--users must be a whole number, 0 or more"##),
        Refused(args: openArgs + ["--at", "now"], status: 64, error: ##"missing --services (the impacted services)"##),
        Refused(args: with(openArgs, "--started-at", "08:55") + ["--services", "medications", "--at", "now"], status: 64, error: ##"--started-at: '08:55' is not an RFC 3339 time with an offset (expected YYYY-MM-DD); example: 2026-03-03T14:05:00-05:00"##),
        Refused(args: with(openArgs, "--started-at", "08:55") + ["--users", "1", "--at", "now"], status: 64, error: ##"--users needs --services (the impacted services)"##),
        Refused(args: without(openArgs, "--case") + ["--services", "medications", "--at", "now", "--key", "k"], status: 64, error: ##"--at: 'now' is not an RFC 3339 time with an offset (expected YYYY-MM-DD); example: 2026-03-03T14:05:00-05:00"##),
        Refused(args: planArgs + ["--start", "tomorrow", "--end", "later"], status: 64, error: ##"missing --services (the impacted services)"##),
        Refused(args: planArgs + ["--start", "tomorrow", "--end", "later", "--services", "m"], status: 64, error: ##"--start: 'tomorrow' is not an RFC 3339 time with an offset (expected YYYY-MM-DD); example: 2026-03-03T14:05:00-05:00"##),
        Refused(args: planArgs + ["--start", "2026-03-14T22:00:00-04:00", "--end", "later", "--services", "m"], status: 64, error: ##"--end: 'later' is not an RFC 3339 time with an offset (expected YYYY-MM-DD); example: 2026-03-03T14:05:00-05:00"##),
        Refused(args: planArgs + ["--start", "2026-03-14T22:00:00-04:00", "--end", "2026-03-14T22:00:00-04:00", "--services", "m"],
                status: 65, error: ##"data.window.end: must be after start"##),
        Refused(args: ["incident", "update", "--case", inc], status: 64, error: ##"nothing changed: give at least one of --summary, --services, --data-compromise-suspected, --impacts-mobile, --product"##),
        Refused(args: ["incident", "update", "--case", inc, "--users", "3", "--summary", "x"], status: 64, error: ##"--users needs --services (the impacted services)"##),
        Refused(args: ["incident", "update", "--summary", "x"], status: 64, error: ##"missing --case (or set DTLEDGER_CASE)"##),
        Refused(args: ["incident", "update", "--summary", "x", "--actor", "ana-po"], status: 64, error: ##"missing --case (or set DTLEDGER_CASE)"##,
                environment: ["DTLEDGER_CASE": ""]),
        Refused(args: ["downtime", "update", "--case", pd], status: 64, error: ##"nothing changed: give at least one of --reason, --services, --start/--end, --rollback-plan, --title, --product, --impacts-mobile, --communication-owner"##),
        Refused(args: ["downtime", "update", "--case", pd, "--start", "2026-03-21T22:00:00-04:00"], status: 64, error: ##"give both --start and --end"##),
        Refused(args: ["downtime", "update", "--case", pd, "--end", "2026-03-21T22:00:00-04:00"], status: 64, error: ##"give both --start and --end"##),
        Refused(args: ["downtime", "update", "--case", pd, "--start", "2026-03-21T22:00:00-04:00", "--users", "3"], status: 64, error: ##"--users needs --services (the impacted services)"##),
        Refused(args: ["downtime", "update", "--case", pd, "--start", "soon", "--end", "later"], status: 64, error: ##"--start: 'soon' is not an RFC 3339 time with an offset (expected YYYY-MM-DD); example: 2026-03-03T14:05:00-05:00"##),
        Refused(args: ["downtime", "update", "--case", pd, "--start", "2026-03-21T22:00:00-04:00", "--end", "2026-03-21T21:00:00-04:00"],
                status: 65, error: ##"data.window.end: must be after start"##),
        Refused(args: ["notify", "slack", "--case", inc, "--destination", "#d", "--purpose", "initial"], status: 64, error: ##"missing --audience (who the message tagged or was sent to)"##),
        Refused(args: ["notify", "slack", "--case", inc, "--destination", "#d", "--purpose", "initial", "--audience", " , "], status: 64, error: ##"missing --audience (who the message tagged or was sent to)"##),
        Refused(args: ["notify", "slack", "--case", inc, "--destination", "#d", "--purpose", "initial", "--audience", "ana-po"],
                status: 64, error: ##"missing --content field=text (what the message said)"##),
        Refused(args: ["notify", "slack", "--case", inc, "--destination", "#d", "--purpose", "initial", "--audience", "ana-po",
                       "--content", "=x"], status: 64, error: ##"--content must be field=text, not '=x'"##),
        Refused(args: ["notify", "slack", "--case", inc, "--destination", "#d", "--purpose", "initial", "--audience", "ana-po",
                       "--content", "a b=x"], status: 64, error: ##"--content field names are letters, digits and _, not 'a b'"##),
        Refused(args: ["notify", "slack", "--case", inc, "--destination", "#d", "--purpose", "initial", "--audience", "ana-po",
                       "--content", "a=  "], status: 64, error: ##"--content a= is empty"##),
        Refused(args: ["notify", "slack", "--case", inc, "--destination", "#d", "--purpose", "initial", "--audience", "ana-po",
                       "--content", "a=x", "--content", " a =y"], status: 64, error: ##"--content a is given twice"##),
        Refused(args: ["notify", "email", "--case", inc, "--destination", "#d", "--purpose", "initial", "--audience", "ana-p0,x@y.org,role:wizard,@x.org",
                       "--content", "a=x"], status: 65, error: ##"data.audience: not in the directory: ana-p0, role:wizard, @x.org (use handles, Slack ids, group handles, role:NAME or email addresses)"##),
        Refused(args: ["window", "set", "--case", pd, "--window-id", "W", "--start", "soon", "--end", "later"], status: 64, error: ##"missing --services (the services the window covers)"##),
        Refused(args: ["window", "set", "--case", pd, "--window-id", "W", "--start", "soon", "--end", "later", "--services", "m"],
                status: 64, error: ##"--start: 'soon' is not an RFC 3339 time with an offset (expected YYYY-MM-DD); example: 2026-03-03T14:05:00-05:00"##),
        Refused(args: ["window", "set", "--case", pd, "--window-id", "W", "--start", "2026-03-14T21:45:00Z", "--end", "2026-03-14T21:45:00Z",
                       "--services", "m"], status: 65, error: ##"data.end: must be after start"##),
        Refused(args: ["retract", "--case", inc, "x", "--reason", "r", "--at", "now"], status: 64, error: ##"EVENT_ID must be an event id (a UUID), not 'x'"##),
        Refused(args: ["note", "--case", inc, "--text", "t", "--key", "open/1"], status: 65, error: ##"key: idempotency key "open/1" was already used for a incident.opened event of case INC-2026-0142"##),
    ]

    @Test("each usage error's exact text, the first check first, and nothing written")
    func usageErrors() throws {
        let db = try TestDatabase.withSampleDirectory()
        #expect(InProcess.run(Self.openArgs + ["--services", "medications", "--key", "open/1"], database: db).status == 0)
        #expect(InProcess.run(Self.planArgs + ["--services", "m", "--start", "2026-03-14T22:00:00-04:00",
                                                "--end", "2026-03-15T02:00:00-04:00"], database: db).status == 0)
        let before = try db.store().digest().position
        for command in Self.refused {
            let r = InProcess.run(command.args, database: db, environment: command.environment)
            #expect(r.status == command.status, "\(command): \(r.stderr)")
            #expect(r.stderr == "dtledger: error: \(command.error)\n", "\(command)")
        }
        #expect(try db.store().digest().position == before)
    }

    @Test("ticket approve without --approver, --actor or a default actor is a usage error")
    func approveWithoutApprover() throws {
        let db = try TestDatabase.withSampleDirectory()
        let command = try #require(try DTLedger.parseAsRoot(["ticket", "approve", "--case", Self.pd, "--ticket", "CHG1"]) as? any RunbookCommand)
        let env = CommandEnvironment(variables: ["DTLEDGER_DATABASE_URL": db.url], defaultActor: nil, standardInput: { Data() })
        var r = CLIResult(status: 0, stdout: "", stderr: "")
        do { _ = try command.record(env) } catch { r = InProcess.failure(error) }
        #expect(r.status == 64)
        #expect(r.stderr == "dtledger: error: missing --approver\n")
    }

    static func without(_ args: [String], _ flag: String) -> [String] { CLIRunbookTests.without(args, flag) }
    static func with(_ args: [String], _ flag: String, _ value: String) -> [String] { CLIRunbookTests.with(args, flag, value) }
}
