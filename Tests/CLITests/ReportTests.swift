@testable import dtledger
import Events
import Foundation
import Ledger
import Operations
import Reports
import Testing
import TestSupport

/// Timelines, the post-incident review and the audit report (Operations),
/// written to files as `--output` does.
@Suite("CLI: timeline and reports")
struct ReportTests {
    static let incident = "INC-2026-0142"

    static func tempFile(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("dtl-\(UUID().uuidString.prefix(8))-\(name)")
    }

    @Test("the review of the escalated incident shows P3 → P1, the missed 2026-04-08 update and the late resolution update, in every format")
    func reviewFormats() throws {
        let db = try CLIComplianceTests.loaded()
        let ledger = try db.session().open()
        let md = try ledger.review(caseID: Self.incident, asOf: nil, format: .markdown)
        #expect(md.contains("Priority changed P3 → P1"))
        #expect(md.contains("| IR-UF-P12-UPDATE-DAILY | 2026-04-08 | MISSED |"))
        #expect(md.contains("LATE"))
        #expect(md.contains("late by 2h"))
        #expect(md.contains("## Evidence appendix"))
        #expect(md.contains(try db.store().digest().hash))

        let htmlFile = Self.tempFile("review.html")
        try emit(try ledger.review(caseID: Self.incident, asOf: nil, format: .html), to: htmlFile.path)
        let page = try String(contentsOf: htmlFile, encoding: .utf8)
        #expect(page.contains("Priority changed P3 → P1"))
        #expect(page.contains("<td>2026-04-08</td><td>MISSED</td>"))
        #expect(page.contains("late by 2h"))
        #expect(page.contains("<svg"))
        #expect(!page.contains("<script"), "self-contained: no scripts")
        #expect(!page.contains("src=\"http"), "no network resources")

        let json = try JSONValue.parse(try ledger.review(caseID: Self.incident, asOf: nil, format: .json))
        let history = json["compliance"]?["priority_history"]?.arrayValue?.compactMap { $0["priority"]?.stringValue }
        #expect(history == ["P3", "P1"])
        let obligations = json["compliance"]?["obligations"]?.arrayValue ?? []
        #expect(obligations.contains { $0["rule"] == .string("IR-UF-P12-UPDATE-DAILY") && $0["occurrence"] == .string("2026-04-08") && $0["verdict"] == .string("missed") })
        #expect(obligations.contains { $0["rule"] == .string("IR-UF-P12-UPDATE-RESOLVED") && $0["verdict"] == .string("late") && $0["late_by"] == .int(7200) })
        let toResolve: Int64 = 2 * 86400 + 6 * 3600 + 5 * 60  // 04-07 08:55 to 04-09 15:00
        #expect(json["key_figures"]?["time_to_resolve_from_start_seconds"]?.intValue == toResolve)
        #expect(json["evidence"]?.arrayValue?.count == 12)

        let csv = try ledger.review(caseID: Self.incident, asOf: nil, format: .csv).split(separator: "\n")
        #expect(csv.contains { $0.contains("IR-UF-P12-UPDATE-DAILY,2026-04-08,missed") })
        #expect(csv.contains { $0.contains("IR-UF-P12-UPDATE-RESOLVED") && $0.contains(",late,") && $0.contains(",7200,") })
    }

    @Test("the review HTML opens in headless Chromium without errors, and a screenshot shows the chart")
    func chromium() throws {
        let browser = try #require(["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                   "headless Chromium is needed (apt-get install -y chromium; Scripts/test installs it when run as root)")
        let db = try CLIComplianceTests.loaded()
        let htmlFile = Self.tempFile("review.html")
        try emit(try db.session().open().review(caseID: Self.incident, asOf: nil, format: .html), to: htmlFile.path)
        let page = try String(contentsOf: htmlFile, encoding: .utf8)
        // The same page without its chart, to show the screenshot differs by the chart.
        let noChart = Self.tempFile("nochart.html")
        let start = try #require(page.range(of: "<svg"))
        let end = try #require(page.range(of: "</svg>"))
        try Data((String(page[..<start.lowerBound]) + String(page[end.upperBound...])).utf8).write(to: noChart)

        func shoot(_ file: URL) throws -> (CLIResult, Data) {
            let png = Self.tempFile("shot.png")
            let r = try Shell.run(browser, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                            "--enable-logging=stderr", "--v=0", "--window-size=1200,1000",
                                            "--screenshot=\(png.path)", "file://\(file.path)"])
            return (r, (try? Data(contentsOf: png)) ?? Data())
        }
        let (withChart, shot) = try shoot(htmlFile)
        #expect(withChart.status == 0, "\(withChart.stderr.suffix(500))")
        #expect(shot.count > 10_000)
        #expect(shot.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")
        #expect(!withChart.stderr.contains("Uncaught"), "no script errors")
        #expect(!withChart.stderr.contains("ERR_"), "no failed loads")
        let (_, plain) = try shoot(noChart)
        #expect(plain != shot, "the chart changes what is drawn")
        // The DOM Chromium built has the chart with its priority bands.
        let dom = try Shell.run(browser, ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "file://\(htmlFile.path)"])
        #expect(dom.status == 0)
        #expect(dom.stdout.contains("<svg"))
        #expect(dom.stdout.contains("P1 from"))
        if let keep = ProcessInfo.processInfo.environment["DTLEDGER_KEEP_SCREENSHOT"] {
            try shot.write(to: URL(fileURLWithPath: keep))
        }
    }

    @Test("the audit over both sample cases gives the expected per-rule rates, verifies the chain, and catches tampering")
    func audit() throws {
        let db = try CLIComplianceTests.loaded()
        let (from, to) = (try RFC3339.parse("2026-01-01T00:00:00-05:00"), try RFC3339.parse("2027-01-01T00:00:00-05:00"))
        let ledger = try db.session().open()
        let json = try JSONValue.parse(try ledger.audit(from: from, to: to, asOf: nil, digest: nil, format: .json).text)
        let rates = Dictionary(uniqueKeysWithValues: (json["by_rule"]?.arrayValue ?? []).map { ($0["rule"]!.stringValue!, $0["counts"]!["rate"]!) })
        #expect(rates["IR-UF-P12-UPDATE-DAILY"]?.doubleValue == 0.5)
        #expect(rates["IR-UF-P12-UPDATE-RESOLVED"]?.doubleValue == 0)
        #expect(rates["IR-UF-P12-SLACK"]?.doubleValue == 1)
        #expect(rates["PD-API-SNOW-APPROVAL"]?.doubleValue == 1)
        #expect(rates["IR-UF-P34-UPDATE-RESOLVED"] == .null)
        #expect(json["verification"]?["ok"] == .bool(true))
        #expect(json["policy_publications"]?.arrayValue?.count == 1)
        let md = try ledger.audit(from: from, to: to, asOf: nil, digest: nil, format: .markdown)
        #expect(md.verified)
        #expect(md.text.contains("Chain verified"))
        #expect(md.text.contains("| IR-UF-P12-UPDATE-DAILY | 50.0% |"))
        let htmlFile = Self.tempFile("audit.html")
        let html = try ledger.audit(from: from, to: to, asOf: nil, digest: nil, format: .html)
        #expect(html.verified)
        try emit(html.text, to: htmlFile.path)
        let page = try String(contentsOf: htmlFile, encoding: .utf8)
        #expect(page.contains("Compliance rate by rule"))
        #expect(page.contains("<svg"))

        let store = try db.store()
        try store.connection.execute("SET session_replication_role = replica; UPDATE dtledger.events SET actor = 'mallory' WHERE position = 10")
        let tampered = try ledger.audit(from: from, to: to, asOf: nil, digest: nil, format: .markdown)
        #expect(!tampered.verified, "exit 1")
        #expect(tampered.text.contains("TAMPERING DETECTED at position 10"))
    }

    @Test("the timeline shows recorded times, roles then, audiences, deadlines, and retracted events")
    func timeline() throws {
        let db = try CLIComplianceTests.loaded()
        let store = try db.store()
        let update = try #require(try store.events(caseID: Self.incident).first { $0.data["purpose"] == .string("update") })
        let retract = InProcess.run(["append", "--case", Self.incident, "--type", "event.retracted", "--data",
                                     #"{"event_id":"\#(update.id)","reason":"posted in the wrong thread"}"#], database: db)
        #expect(retract.status == 0, "\(retract.stderr)")
        let ledger = try db.session().open()
        let table = try ledger.timeline(caseID: Self.incident, asOf: nil, format: .table)
        #expect(table.contains("[RETRACTED: posted in the wrong thread]"))
        #expect(table.contains("lou-em (engineering-manager)"))
        #expect(table.contains("⏰ Due: IR-UF-P12-UPDATE-DAILY [2026-04-08]"))
        let json = try JSONValue.parse(try ledger.timeline(caseID: Self.incident, asOf: nil, format: .json))
        let entries = json["entries"]?.arrayValue ?? []
        let retracted = entries.first { $0["event_id"] == .string(update.id) }
        #expect(retracted?["retracted"] == .bool(true))
        let times = entries.compactMap { $0["at"]?.stringValue }.compactMap { try? RFC3339.parse($0) }
        #expect(times == times.sorted(), "in order of occurrence")
        #expect(entries.contains { $0["kind"] == .string("deadline") })
        #expect(entries.first { $0["type"] == .string("notification.sent") }?["audience"]?.arrayValue?.isEmpty == false)
        let md = try ledger.timeline(caseID: Self.incident, asOf: nil, format: .markdown)
        #expect(md.contains("| Occurred | Recorded |"))
    }
}
