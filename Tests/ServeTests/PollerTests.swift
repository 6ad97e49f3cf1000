import Events
import Foundation
import Ingest
import Ledger
import Operations
import Receiving
import Testing
import TestSupport

/// The pollers against a local fake of the PagerDuty and ServiceNow APIs,
/// over real HTTP, with the receipts in a real PostgreSQL.
@Suite("dtledger serve: pollers (fake PagerDuty and ServiceNow APIs over loopback, PostgreSQL)")
struct PollerTests {
    static let pdPoller = "pagerduty_maintenance_windows"

    static func pagerDutyConfig(_ fake: FakeVendorAPI, interval: Double = 0.1, timeout: Double = 10, extra: String = "") -> String {
        ServeHarness.config(importYAML: "actors: {PNIASHA: nia-eng}", extra: """
            pollers:
              pagerduty_maintenance_windows:
                base_url: \(fake.baseURL)
                token_env: TEST_PD_API_TOKEN
                interval_seconds: \(interval)
                timeout_seconds: \(timeout)
            \(extra)
            """)
    }

    static func environment(_ fake: FakeVendorAPI, token: String? = nil) -> [String: String] {
        ["TEST_PD_API_TOKEN": token ?? fake.pagerDutyToken, "TEST_SN_USER": fake.serviceNowUser, "TEST_SN_PASSWORD": fake.serviceNowPassword]
    }

    /// A database with the planned downtime PD-2026-0007 opened (the windows and the change name it).
    static func databaseWithPlannedDowntime() throws -> TestDatabase {
        let db = try ServeHarness.setUpDatabase()
        var request = AppendRequest(caseID: "PD-2026-0007", type: "downtime.planned")
        request.data = .text("""
            {"team": "api-platform", "title": "MHV API database upgrade", "reason": "PostgreSQL major version upgrade",
             "anticipated_impact": {"users": 40000, "services": ["medications", "secure-messaging"]},
             "window": {"start": "2026-03-14T22:00:00-04:00", "end": "2026-03-15T02:00:00-04:00"},
             "rollback_plan": "Restore from the pre-upgrade snapshot (30 minutes)", "product": "medications"}
            """)
        request.occurredAt = "2026-03-02T10:00:00-05:00"
        request.actor = "tara-lead"
        request.key = "PD-2026-0007/planned"
        _ = try db.session().append(request)
        return db
    }

    /// Waits until `condition` holds, up to `seconds`.
    static func eventually(_ what: String, seconds: Double = 30, _ condition: () throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw HarnessError("not within \(seconds) s: \(what)")
    }

    static func receipts(_ h: ServeHarness, _ source: String) throws -> [(key: String, headers: JSONValue, receivedAt: String)] {
        try h.db.connect().query("""
            SELECT delivery_key, headers::text, to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
              FROM dtledger.receipts WHERE source = $1 ORDER BY id
            """, [source]).rows.map { ($0[0] ?? "", (try? JSONValue.parse($0[1] ?? "{}")) ?? .null, $0[2] ?? "") }
    }

    static func state(_ h: ServeHarness, _ name: String) throws -> JSONValue? {
        try h.db.connect().query("SELECT state::text FROM dtledger.poller_state WHERE name = $1", [name]).rows.first
            .flatMap { $0[0] }.flatMap { try? JSONValue.parse($0) }
    }

    static func windowEvents(_ h: ServeHarness) throws -> [StoredEvent] {
        try h.caseEvents().filter { $0.type == "maintenance_window.set" }
    }

    /// Stops the service without dropping its login (for a restart on the same database).
    static func stopKeepingLogin(_ h: ServeHarness) async {
        await h.service.shutdown()
        _ = try? await h.task.value
        try? await h.client.shutdown()
    }

    @Test("pollers config: the time limit, the look-back and the defaults; bad values named in a one-line error")
    func config() throws {
        let ok = try ServeConfig.parse("""
            pollers:
              pagerduty_maintenance_windows: {token_env: PD_TOKEN, timeout_seconds: 5}
              servicenow: {base_url: "https://example.service-now.com/", initial_lookback_days: 7}
            """)
        #expect(ok.pollers.pagerDutyWindows?.requestTimeout == 5)
        #expect(ok.pollers.pagerDutyWindows?.interval == 60)
        #expect(ok.pollers.pagerDutyWindows?.baseURL == "https://api.pagerduty.com")
        #expect(ok.pollers.serviceNow?.initialLookbackDays == 7)
        #expect(ok.pollers.serviceNow?.requestTimeout == 30)
        #expect(ok.pollers.serviceNow?.baseURL == "https://example.service-now.com")
        for (yaml, field) in [
            ("pollers: {pagerduty_maintenance_windows: {timeout_seconds: 0}}", "pollers.pagerduty_maintenance_windows.timeout_seconds"),
            ("pollers: {servicenow: {base_url: \"https://x.service-now.com\", timeout_seconds: \"fast\"}}", "pollers.servicenow.timeout_seconds"),
            ("pollers: {servicenow: {base_url: \"https://x.service-now.com\", initial_lookback_days: -1}}", "pollers.servicenow.initial_lookback_days"),
        ] {
            do {
                _ = try ServeConfig.parse(yaml)
                Issue.record("accepted: \(yaml)")
            } catch {
                #expect(error.field == field, "\(error)")
                #expect(!error.description.contains("\n"))
            }
        }
    }

    @Test("three pages: every window once; unchanged windows add nothing; a changed window is a second maintenance_window.set dated when it was seen")
    func paginationAndChanges() async throws {
        let fake = try await FakeVendorAPI.start(pagerDutyPageSize: 2)
        fake.setWindows((1...5).map { VendorJSON.window(id: "PW\($0)") })
        let h = try await ServeHarness.start(configYAML: Self.pagerDutyConfig(fake), environment: Self.environment(fake),
                                             database: try Self.databaseWithPlannedDowntime())
        do {
            try await Self.eventually("5 window receipts") { try Self.receipts(h, "pagerduty").count == 5 }
            try await h.settled()
            var events = try Self.windowEvents(h)
            #expect(events.count == 5)
            #expect(Set(try events.map { try JSONValue.parse($0.dataText)["window_id"]?.stringValue ?? "" }) == Set((1...5).map { "PW\($0)" }))
            #expect(events.allSatisfy { $0.caseID == "PD-2026-0007" && $0.actor == "nia-eng" })
            // One run is three pages, at offsets 0, 2, 4, with the token and the v2 Accept header.
            let first = fake.requests("pagerduty").prefix(3)
            #expect(first.map { $0.query["offset"]?.first ?? "" } == ["0", "2", "4"])
            #expect(first.allSatisfy { $0.authorized && $0.query["limit"] == ["100"] })
            let receipts = try Self.receipts(h, "pagerduty")
            #expect(receipts.allSatisfy { $0.headers[ReceiptKind.pollerHeader] == .string(Self.pdPoller) && $0.headers["x-dtledger-fetched-at"] != nil })
            #expect(receipts.allSatisfy { $0.key.hasPrefix("poll:window:PW") && $0.key.count == "poll:window:PW1:".count + 64 })
            // The window's time: when the poller first saw it (PagerDuty gives no created_at).
            let meta = try JSONValue.parse(events[0].metadataText)["import"]
            #expect(meta?["occurred_at_from"] == .string("received_at"))
            #expect(meta?["polled"] == .bool(true))
            #expect(meta?["payload"]?.stringValue?.contains("\"maintenance_window\"") == true)
            let receivedAt = try RFC3339.parse(try #require(meta?["received_at"]?.stringValue))
            #expect(abs(RFC3339.date(microseconds: events[0].occurredMicros).timeIntervalSince(receivedAt)) < 0.001)

            // More runs over the same windows: nothing new.
            let seen = fake.requests("pagerduty").count
            try await Self.eventually("three more runs") { fake.requests("pagerduty").count >= seen + 9 }
            try await h.settled()
            #expect(try Self.receipts(h, "pagerduty").count == 5)
            #expect(try Self.windowEvents(h).count == 5)

            // PW2 is extended: a second receipt and a second maintenance_window.set, later than the first.
            let changedAt = Date()
            fake.upsertWindow(VendorJSON.window(id: "PW2", end: "2026-03-15T03:30:00-04:00"))
            try await Self.eventually("the changed window's receipt") { try Self.receipts(h, "pagerduty").count == 6 }
            try await h.settled()
            events = try Self.windowEvents(h)
            #expect(events.count == 6)
            let pw2 = try events.filter { try JSONValue.parse($0.dataText)["window_id"] == .string("PW2") }
            #expect(pw2.count == 2)
            #expect(try JSONValue.parse(pw2[1].dataText)["end"]?.stringValue.flatMap { try? RFC3339.parse($0) }
                    == (try RFC3339.parse("2026-03-15T03:30:00-04:00")))
            #expect(RFC3339.date(microseconds: pw2[1].occurredMicros) >= changedAt.addingTimeInterval(-0.001))
            #expect(pw2[1].occurredMicros > pw2[0].occurredMicros)

            // PW3 now covers a second service, same times: the services are part of a window's
            // version, so a third new receipt is a new maintenance_window.set, not a duplicate.
            guard case .object(var pw3) = VendorJSON.window(id: "PW3") else { Issue.record("window JSON"); return }
            pw3["services"] = .array([
                .object(["id": .string("PMHVAPI"), "type": .string("service_reference"), "summary": .string("MHV API")]),
                .object(["id": .string("PMHVWEB"), "type": .string("service_reference"), "summary": .string("MHV Web")]),
            ])
            fake.upsertWindow(.object(pw3))
            try await Self.eventually("the widened window's receipt") { try Self.receipts(h, "pagerduty").count == 7 }
            try await h.settled()
            let pw3Events = try Self.windowEvents(h).filter { try JSONValue.parse($0.dataText)["window_id"] == .string("PW3") }
            #expect(pw3Events.count == 2)
            #expect(try JSONValue.parse(pw3Events[1].dataText)["services"]?.arrayValue?.count == 2)
            let metrics = try await h.get("/metrics")
            #expect(metrics.body.contains("dtledger_poller_lag_seconds{poller=\"\(Self.pdPoller)\"}"))
            try await Self.eventually("the run's state saved") { try Self.state(h, Self.pdPoller)?["recorded"] == .int(7) }
            let state = try #require(try Self.state(h, Self.pdPoller))
            #expect(state["failures"] == .int(0))
            #expect(state["last_success"]?.stringValue != nil)
        } catch {
            await h.stop(); await fake.stop()
            throw error
        }
        await h.stop()
        await fake.stop()
    }

    @Test("500, 429 with Retry-After and a time-out: each failure backs off (interval x 2^failures) in poller_state and the error metric, then the poller recovers")
    func backoffAndRecovery() async throws {
        let fake = try await FakeVendorAPI.start()
        fake.setWindows([VendorJSON.window(id: "PW1")])
        fake.inject("pagerduty", [.status(500), .status(429, retryAfter: 1), .delay(4)])
        let h = try await ServeHarness.start(configYAML: Self.pagerDutyConfig(fake, interval: 0.1, timeout: 1.5),
                                             environment: Self.environment(fake), database: try Self.databaseWithPlannedDowntime())
        do {
            // Watch the saved state as the poller fails three times, then succeeds.
            var seen: [Int64: JSONValue] = [:]
            try await Self.eventually("recovery after three failures", seconds: 45) {
                if let s = try Self.state(h, Self.pdPoller), case .int(let f)? = s["failures"] {
                    if seen[f] == nil { seen[f] = s }
                    let stored = try Self.receipts(h, "pagerduty").count
                    return f == 0 && seen[3] != nil && stored == 1
                }
                return false
            }
            func gap(_ s: JSONValue?) throws -> Double {
                let next = try RFC3339.parse(s?["next_run"]?.stringValue ?? "")
                let last = try RFC3339.parse(s?["last_run"]?.stringValue ?? "")
                return next.timeIntervalSince(last)
            }
            #expect(seen[1]?["last_error"]?.stringValue?.contains("HTTP 500") == true, "\(seen)")
            #expect(try gap(seen[1]) >= 0.2)
            #expect(seen[2]?["last_error"]?.stringValue?.contains("HTTP 429") == true)
            #expect(try gap(seen[2]) >= 1.0, "Retry-After: 1 is honoured")
            #expect(seen[3]?["last_error"]?.stringValue?.contains("no answer within") == true)
            #expect(try gap(seen[3]) >= 0.8)
            let metrics = try await h.get("/metrics")
            // Three injected failures (more only if a normal answer missed the time limit on a loaded machine).
            let line = metrics.body.split(separator: "\n").first { $0.hasPrefix("dtledger_poller_errors_total{poller=\"\(Self.pdPoller)\"} ") }
            #expect(line.flatMap { Int($0.split(separator: " ").last ?? "") }.map { $0 >= 3 } == true, "\(metrics.body)")
            try await h.settled()
            #expect(try Self.windowEvents(h).count == 1)
            #expect(try Self.state(h, Self.pdPoller)?["last_error"] == nil)
        } catch {
            await h.stop(); await fake.stop()
            throw error
        }
        await h.stop()
        await fake.stop()
    }

    @Test("a restart on the same database resumes from the saved state: no run before the saved next run, the window added meanwhile recorded, none repeated")
    func restart() async throws {
        let fake = try await FakeVendorAPI.start()
        fake.setWindows([VendorJSON.window(id: "PW1"), VendorJSON.window(id: "PW2")])
        let db = try Self.databaseWithPlannedDowntime()
        let config = Self.pagerDutyConfig(fake, interval: 3)
        let h1 = try await ServeHarness.start(configYAML: config, environment: Self.environment(fake), database: db)
        do {
            try await Self.eventually("2 window receipts") { try Self.receipts(h1, "pagerduty").count == 2 }
            try await h1.settled()
        } catch {
            await h1.stop(); await fake.stop()
            throw error
        }
        await Self.stopKeepingLogin(h1)
        let saved = try #require(try Self.state(h1, Self.pdPoller))
        let nextRun = try RFC3339.parse(try #require(saved["next_run"]?.stringValue))
        let before = fake.requests("pagerduty").count
        fake.upsertWindow(VendorJSON.window(id: "PW3"))

        let h2 = try await ServeHarness.start(configYAML: config, environment: Self.environment(fake), database: db, login: h1.login)
        do {
            try await Self.eventually("the window added while stopped") { try Self.receipts(h2, "pagerduty").count >= 3 }
            try await h2.settled()
            let after = fake.requests("pagerduty").dropFirst(before)
            #expect(after.first.map { $0.at >= nextRun.addingTimeInterval(-0.01) } == true, "the first run after the restart waited for the saved next run")
            let keys = try Self.receipts(h2, "pagerduty").map(\.key)
            #expect(keys.count == 3, "\(keys)")
            let events = try Self.windowEvents(h2)
            #expect(events.count == 3)
            #expect(Set(try events.map { try JSONValue.parse($0.dataText)["window_id"]?.stringValue ?? "" }) == ["PW1", "PW2", "PW3"])
        } catch {
            await h2.stop(); await fake.stop()
            throw error
        }
        await h2.stop()
        await fake.stop()
    }

    @Test("a wrong API token: the run fails (401 in the state and the error metric, the token never in it), nothing is stored")
    func wrongToken() async throws {
        let fake = try await FakeVendorAPI.start()
        fake.setWindows([VendorJSON.window(id: "PW1")])
        let wrong = "not-the-token-\(UInt32.random(in: 0...UInt32.max))"
        let h = try await ServeHarness.start(configYAML: Self.pagerDutyConfig(fake), environment: Self.environment(fake, token: wrong))
        do {
            try await Self.eventually("two failed runs") {
                if case .int(let f)? = try Self.state(h, Self.pdPoller)?["failures"] { return f >= 2 }
                return false
            }
            let state = try #require(try Self.state(h, Self.pdPoller))
            let error = state["last_error"]?.stringValue ?? ""
            #expect(error.contains("HTTP 401"), "\(error)")
            #expect(!error.contains(wrong))
            #expect(state["last_success"] == nil)
            #expect(fake.requests("pagerduty").allSatisfy { !$0.authorized })
            #expect(try Self.receipts(h, "pagerduty").isEmpty)
            #expect(try h.caseEvents().isEmpty)
            let metrics = try await h.get("/metrics")
            #expect(metrics.body.contains("dtledger_poller_errors_total{poller=\"\(Self.pdPoller)\"}"))
        } catch {
            await h.stop(); await fake.stop()
            throw error
        }
        await h.stop()
        await fake.stop()
    }

    @Test("a window id of 600 characters: kept under a hashed delivery key, the windows committed with it unaffected")
    func absurdID() async throws {
        let fake = try await FakeVendorAPI.start()
        let long = "PW" + String(repeating: "x", count: 600)
        fake.setWindows([VendorJSON.window(id: "PW1"), VendorJSON.window(id: long)])
        let h = try await ServeHarness.start(configYAML: Self.pagerDutyConfig(fake), environment: Self.environment(fake))
        do {
            try await Self.eventually("two receipts") { try Self.receipts(h, "pagerduty").count == 2 }
            let keys = try Self.receipts(h, "pagerduty").map(\.key)
            #expect(keys.contains { $0.hasPrefix("poll:window:PW1:") })
            #expect(keys.contains { $0.hasPrefix("poll:sha256:") && $0.count == "poll:sha256:".count + 64 })
            let seen = fake.requests("pagerduty").count
            try await Self.eventually("two more runs") { fake.requests("pagerduty").count >= seen + 2 }
            #expect(try Self.receipts(h, "pagerduty").count == 2)
            #expect(try Self.state(h, Self.pdPoller)?["failures"] == .int(0))
        } catch {
            await h.stop(); await fake.stop()
            throw error
        }
        await h.stop()
        await fake.stop()
    }

    @Test("service_ids filter: only the configured services' windows are asked for and recorded")
    func serviceFilter() async throws {
        let fake = try await FakeVendorAPI.start()
        fake.setWindows([VendorJSON.window(id: "PW1", service: "PMHVAPI"), VendorJSON.window(id: "PW9", service: "POTHER")])
        let config = ServeHarness.config(extra: """
            pollers:
              pagerduty_maintenance_windows:
                base_url: \(fake.baseURL)
                token_env: TEST_PD_API_TOKEN
                interval_seconds: 0.1
                service_ids: [PMHVAPI, PMEDS01]
            """)
        let h = try await ServeHarness.start(configYAML: config, environment: Self.environment(fake))
        do {
            try await Self.eventually("one receipt") { try Self.receipts(h, "pagerduty").count == 1 }
            let seen = fake.requests("pagerduty").count
            try await Self.eventually("two more runs") { fake.requests("pagerduty").count >= seen + 2 }
            #expect(try Self.receipts(h, "pagerduty").map(\.key).allSatisfy { $0.hasPrefix("poll:window:PW1:") })
            #expect(fake.requests("pagerduty").allSatisfy { $0.query["service_ids[]"] == ["PMHVAPI", "PMEDS01"] })
        } catch {
            await h.stop(); await fake.stop()
            throw error
        }
        await h.stop()
        await fake.stop()
    }

    @Test("ServiceNow Table API: change and approval polled in pages, the System Owner's approval is approval.recorded; the high-water mark's second is fetched again and deduplicated")
    func serviceNowTables() async throws {
        let fake = try await FakeVendorAPI.start(serviceNowPageSize: 1)
        fake.addRecord("change_request", VendorJSON.change(sysID: "a9e30c7dc61122760116894de7bcc7bd", number: "CHG0031337", updated: "2026-03-04 21:00:00"))
        fake.addRecord("sysapproval_approver", VendorJSON.approval(sysID: "b0f3c4e2db8f2010a5c1f6b8ca961932", ticket: "CHG0031337", updated: "2026-03-04 21:10:00"))
        fake.addRecord("sysapproval_approver", VendorJSON.approval(sysID: "c1d2e3f4db8f2010a5c1f6b8ca96aaaa", ticket: "CHG0031337",
                                                                   approver: "Ivy Stone", state: "requested", updated: "2026-03-04 21:05:00"))
        let config = ServeHarness.config(importYAML: "cases: {CHG0031337: PD-2026-0007}", extra: """
            pollers:
              servicenow:
                base_url: \(fake.baseURL)
                user_env: TEST_SN_USER
                password_env: TEST_SN_PASSWORD
                interval_seconds: 0.1
                initial_lookback_days: 3650
            """)
        let h = try await ServeHarness.start(configYAML: config, environment: Self.environment(fake),
                                             database: try Self.databaseWithPlannedDowntime())
        do {
            try await Self.eventually("3 ServiceNow receipts") { try Self.receipts(h, "servicenow").count == 3 }
            try await h.settled()
            let events = try h.caseEvents().filter { $0.source == "servicenow" }
            #expect(events.map(\.type).sorted() == ["approval.recorded", "ticket.submitted"])
            let approval = try #require(events.first { $0.type == "approval.recorded" })
            let data = try JSONValue.parse(approval.dataText)
            #expect(data["approver"] == .string("sean-good"))
            #expect(data["decision"] == .string("approved"))
            #expect(data["ticket"] == .string("CHG0031337"))
            #expect(approval.caseID == "PD-2026-0007")
            #expect(approval.actor == "sean-good")
            let meta = try JSONValue.parse(approval.metadataText)
            #expect(meta["db_role"] == .string(h.login))
            #expect(meta["import"]?["polled"] == .bool(true))
            #expect(RFC3339.date(microseconds: approval.occurredMicros) == (try RFC3339.parse("2026-03-04T21:10:00Z")))
            let keys = try Self.receipts(h, "servicenow").map(\.key)
            #expect(keys.contains("poll:sysapproval_approver:b0f3c4e2db8f2010a5c1f6b8ca961932:2026-03-04 21:10:00"))
            #expect(keys.contains("poll:change_request:a9e30c7dc61122760116894de7bcc7bd:2026-03-04 21:00:00"))

            // The state is saved when the run ends (after its receipts are durable).
            try await Self.eventually("the first run's state saved") { try Self.state(h, "servicenow")?["last_success"] != nil }
            let state = try #require(try Self.state(h, "servicenow"))
            #expect(state["high_water"]?["sysapproval_approver"] == .string("2026-03-04 21:10:00"))
            #expect(state["high_water"]?["change_request"] == .string("2026-03-04 21:00:00"))
            // Later runs ask from the high-water mark (the boundary second again).
            try await Self.eventually("a run from the high-water mark") {
                fake.requests("servicenow").contains { $0.path.hasSuffix("/sysapproval_approver")
                    && $0.query["sysparm_query"]?.first == "sys_updated_on>=2026-03-04 21:10:00^ORDERBYsys_updated_on^ORDERBYsys_id" }
            }
            #expect(fake.requests("servicenow").allSatisfy { $0.authorized && $0.query["sysparm_display_value"] == ["all"] })
            // Pages of one record: offsets 0 and 1 for the two approvals of the first run.
            #expect(fake.requests("servicenow").filter { $0.path.hasSuffix("/sysapproval_approver") }.prefix(2)
                        .map { $0.query["sysparm_offset"]?.first ?? "" } == ["0", "1"])

            // Updated in the boundary second after the last run: fetched, once; the ones already seen not again.
            fake.addRecord("change_request", VendorJSON.change(sysID: "d4e5f6a7db8f2010a5c1f6b8ca96cccc", number: "CHG0031338", updated: "2026-03-04 21:00:00"))
            try await Self.eventually("the record of the boundary second") { try Self.receipts(h, "servicenow").count == 4 }
            let seen = fake.requests("servicenow").count
            try await Self.eventually("more runs") { fake.requests("servicenow").count >= seen + 6 }
            try await h.settled()
            #expect(try Self.receipts(h, "servicenow").count == 4)
            #expect(try h.caseEvents().filter { $0.source == "servicenow" }.count == 3)
        } catch {
            await h.stop(); await fake.stop()
            throw error
        }
        await h.stop()
        await fake.stop()
    }

    @Test("graceful shutdown during a run: the page in flight is recorded, the next page is not asked for, the run is not counted a success or a failure")
    func shutdownBetweenPages() async throws {
        let fake = try await FakeVendorAPI.start(pagerDutyPageSize: 1)
        fake.setWindows((1...3).map { VendorJSON.window(id: "PW\($0)") })
        // The first page answers at once, the second after 5 s: the shutdown begins meanwhile,
        // with seconds to spare on a loaded machine (the HTTP server drains before the pollers stop).
        fake.inject("pagerduty", [.delay(0), .delay(5)])
        let h = try await ServeHarness.start(configYAML: Self.pagerDutyConfig(fake, interval: 600, timeout: 15), environment: Self.environment(fake))
        try await Self.eventually("the second page asked for") {
            let stored = try Self.receipts(h, "pagerduty").count
            return fake.requests("pagerduty").count == 1 && stored == 1
        }
        try await Task.sleep(for: .milliseconds(200))
        await h.stop()
        #expect(fake.requests("pagerduty").count == 2, "no third page after the shutdown began")
        let state = try #require(try Self.state(h, Self.pdPoller))
        #expect(state["last_success"] == nil)
        #expect(state["failures"] == .int(0))
        #expect(try Self.receipts(h, "pagerduty").count == 2, "the page in flight was still recorded")
        await fake.stop()
    }

    @Test("ServiceNow: a wrong password fails the run (401 in the state, nothing stored, no high-water mark); the first run looks back initial_lookback_days")
    func serviceNowWrongPassword() async throws {
        let fake = try await FakeVendorAPI.start()
        fake.addRecord("change_request", VendorJSON.change(sysID: "a9e30c7dc61122760116894de7bcc7bd", number: "CHG0031337", updated: "2026-03-04 21:00:00"))
        let config = ServeHarness.config(extra: """
            pollers:
              servicenow:
                base_url: \(fake.baseURL)
                user_env: TEST_SN_USER
                password_env: TEST_SN_PASSWORD
                tables: [change_request]
                interval_seconds: 0.1
                initial_lookback_days: 2
            """)
        var env = Self.environment(fake)
        env["TEST_SN_PASSWORD"] = "wrong-password"
        let h = try await ServeHarness.start(configYAML: config, environment: env)
        do {
            try await Self.eventually("two failed runs") {
                if case .int(let f)? = try Self.state(h, "servicenow")?["failures"] { return f >= 2 }
                return false
            }
            let state = try #require(try Self.state(h, "servicenow"))
            #expect(state["last_error"]?.stringValue?.contains("HTTP 401") == true, "\(state)")
            #expect(state["last_error"]?.stringValue?.contains("wrong-password") == false)
            #expect(state["high_water"] == nil)
            #expect(try Self.receipts(h, "servicenow").isEmpty)
            let query = try #require(fake.requests("servicenow").first?.query["sysparm_query"]?.first)
            let since = String(query.dropFirst("sys_updated_on>=".count).prefix(19))
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "UTC")
            f.dateFormat = "yyyy-MM-dd HH:mm:ss"
            let date = try #require(f.date(from: since), "\(query)")
            #expect(abs(date.timeIntervalSinceNow + 2 * 86_400) < 60, "\(query)")
        } catch {
            await h.stop(); await fake.stop()
            throw error
        }
        await h.stop()
        await fake.stop()
    }

    @Test("graceful shutdown stops a poller between requests, promptly, even while it waits out a long back-off")
    func shutdownDuringBackoff() async throws {
        let fake = try await FakeVendorAPI.start()
        fake.inject("pagerduty", [.status(500)])
        let h = try await ServeHarness.start(configYAML: Self.pagerDutyConfig(fake, interval: 600), environment: Self.environment(fake))
        try await Self.eventually("a failed run") {
            if case .int(let f)? = try Self.state(h, Self.pdPoller)?["failures"] { return f == 1 }
            return false
        }
        let started = Date()
        await h.stop()
        // The back-off is 1200 s (600 s x 2^1): stopping well before it shows the wait was cut short.
        #expect(Date().timeIntervalSince(started) < 60)
        #expect(fake.requests("pagerduty").count == 1)
        await fake.stop()
    }
}
