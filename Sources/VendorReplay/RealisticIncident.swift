import Events
import Foundation

/// One request a vendor would send to `dtledger serve`: its route, its body
/// as the vendor builds it, and when it would be sent (seconds after the
/// incident starts). Signed when sent (Sender).
public struct VendorRequest: Sendable, Equatable {
    public enum Source: String, Sendable { case slack, pagerDuty = "pagerduty", serviceNow = "servicenow" }
    public var source: Source
    public var body: Data
    /// Seconds after the scenario's start.
    public var offset: TimeInterval
    /// What it is, for progress lines.
    public var label: String

    public var path: String {
        switch source {
        case .slack: "/slack/events"
        case .pagerDuty: "/pagerduty/webhook"
        case .serviceNow: "/servicenow/events"
        }
    }
}

/// A realistic user-facing P2 incident (docs/serve.md, "A realistic
/// incident"): PagerDuty triggers it and the on-call acknowledges; the
/// on-call posts the first Slack message naming the PagerDuty incident
/// (no `Case:` line, no `Purpose:` line); the engineering manager rates it
/// P2 in PagerDuty and replies in the thread to the P1/P2 audience;
/// ServiceNow gets the incident ticket (its correlation id is PagerDuty's
/// incident); a PagerDuty note records the solution, a thread reply tells
/// the audience; PagerDuty resolves it and a last thread reply says so.
/// Nothing is emailed: the email rule is missed, as it would be.
///
/// `runbook` is the same incident as an on-call would type it with runbook
/// commands: the same facts at the same times (equivalence test, docs).
public struct RealisticIncident: Sendable {
    /// When PagerDuty triggered the incident.
    public let start: Date
    /// Makes ids unique per run (the demo can be run again on the same ledger).
    public let run: String
    public let channel = "C04DRS3L9NV"
    public let channelName = "#mhv-health-portal-coordination"
    public let pdService = "PSVCMEDS"
    public var pdIncident: String { "Q\(run)INC" }
    public var pdNumber: Int { 4000 + (Int(run.unicodeScalars.map(\.value).reduce(0, +)) % 5000) }
    public var snIncident: String { "INC00\(pdNumber)" }

    /// Seconds of real time a minute of the scenario takes (60: as it
    /// happened; less to replay it faster, e.g. in the demo).
    public let minute: TimeInterval

    public init(start: Date, run: String = String(UInt32.random(in: 100_000...999_999)), minute: TimeInterval = 60) {
        self.start = start
        self.run = run
        self.minute = minute
    }

    /// The importer mappings the service needs for this incident (YAML,
    /// the import config's format): PagerDuty users and ServiceNow users to
    /// directory handles, the PagerDuty service's team and product, the Slack channel.
    public static let importConfigYAML = """
        actors:
          PMAXBELL: max-eng
          PLOUGRANT: lou-em
          max.bell: max-eng
        pagerduty:
          services:
            PSVCMEDS: {team: user-facing, product: medications, name: VA.gov Medications, impact_services: [medications]}
        slack:
          workspace_url: https://example.slack.com
          channels: {C04DRS3L9NV: "#mhv-health-portal-coordination"}
        servicenow:
          instance_url: https://example.service-now.com
        """

    func at(_ minutes: Double) -> Date { start.addingTimeInterval(minutes * minute) }
    func ts(_ minutes: Double) -> String { String(format: "%.6f", at(minutes).timeIntervalSince1970) }
    func time(_ minutes: Double) -> String { RFC3339.format(at(minutes)) }

    static let summary = "Medications list fails to load on VA.gov"
    static let impact = "About 3,000 users; Medications list and refill"
    var startText: String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "America/New_York")
        f.dateFormat = "yyyy-MM-dd HH:mm 'ET'"
        return f.string(from: at(-5))
    }

    /// The P1/P2 audience of the default policy (ir-uf-p12), as Slack mentions.
    static let p12Mentions = "<!subteam^S0APIPLAT> <@U1000001> <@U1000002> <!subteam^S0OCTOENG> <@U04DD9G1G02> <@U04JDKU8ZM5> <!subteam^S0HORIZON> <@UGWD2V2BB>"

    public var requests: [VendorRequest] {
        var out: [VendorRequest] = []
        func pd(_ minutes: Double, _ id: String, _ type: String, agent: String, agentName: String, data: JSONValue, _ label: String) {
            let body = JSONValue.object(["event": .object([
                "id": .string("\(run)\(id)"), "event_type": .string(type), "resource_type": .string("incident"),
                "occurred_at": .string(time(minutes)),
                "agent": .object(["id": .string(agent), "summary": .string(agentName), "type": .string("user_reference")]),
                "client": .null, "data": data,
            ])])
            out.append(VendorRequest(source: .pagerDuty, body: Data(body.jsonText().utf8), offset: minutes * minute, label: label))
        }
        func incident(status: String, priority: String? = nil, extra: [String: JSONValue] = [:]) -> JSONValue {
            var o: [String: JSONValue] = [
                "id": .string(pdIncident), "type": .string("incident"), "number": .int(Int64(pdNumber)),
                "title": .string(Self.summary), "created_at": .string(time(0)), "status": .string(status),
                "html_url": .string("https://example.pagerduty.com/incidents/\(pdIncident)"),
                "service": .object(["id": .string(pdService), "summary": .string("VA.gov Medications"), "type": .string("service_reference")]),
                "urgency": .string("high"),
            ]
            if let priority { o["priority"] = .object(["id": .string("PPRI2"), "summary": .string(priority), "type": .string("priority_reference")]) }
            for (k, v) in extra { o[k] = v }
            return .object(o)
        }
        func slack(_ minutes: Double, _ id: String, user: String, text: String, thread: Double? = nil, _ label: String) {
            var event: [String: JSONValue] = [
                "type": .string("message"), "channel": .string(channel), "user": .string(user), "text": .string(text),
                "ts": .string(ts(minutes)), "event_ts": .string(ts(minutes)), "channel_type": .string("channel"),
            ]
            if let thread { event["thread_ts"] = .string(ts(thread)) }
            let body = JSONValue.object([
                "token": .string("unused"), "team_id": .string("T0MHV"), "api_app_id": .string("A0DTLEDGER"),
                "event": .object(event), "type": .string("event_callback"), "event_id": .string("Ev\(run)\(id)"),
                "event_time": .int(Int64(at(minutes).timeIntervalSince1970)),
            ])
            out.append(VendorRequest(source: .slack, body: Data(body.jsonText().utf8), offset: minutes * minute, label: label))
        }
        let facts = "Summary: \(Self.summary)\nEstimated user impact: \(Self.impact)\nStart time: \(startText)"

        pd(0, "T", "incident.triggered", agent: "PMAXBELL", agentName: "Max Bell", data: incident(status: "triggered"),
           "PagerDuty: incident triggered")
        pd(2, "A", "incident.acknowledged", agent: "PMAXBELL", agentName: "Max Bell", data: incident(status: "acknowledged"),
           "PagerDuty: acknowledged by the on-call")
        slack(10, "1", user: "U1000009", text: "PagerDuty #\(pdNumber): new incident, investigating\n\(facts)\n<!subteam^S0APIPLAT>",
              "Slack: first message (names the PagerDuty incident; no Case:, no Purpose:)")
        pd(20, "P", "incident.priority_updated", agent: "PLOUGRANT", agentName: "Lou Grant",
           data: incident(status: "acknowledged", priority: "P2"), "PagerDuty: rated P2")
        slack(30, "2", user: "U1000008", text: "Rated *P2*.\n\(facts)\nPriority: P2\n\(Self.p12Mentions)", thread: 10,
              "Slack: thread reply to the P1/P2 audience")
        let sn = JSONValue.object([
            "sys_id": .string("a\(run)b1c2d3"), "number": .string(snIncident), "sys_class_name": .string("incident"),
            "short_description": .string(Self.summary), "correlation_id": .string(pdIncident),
            "opened_at": .string(serviceNowTime(35)), "sys_created_on": .string(serviceNowTime(35)),
            "sys_updated_on": .string(serviceNowTime(35)), "opened_by": .string("max.bell"), "state": .string("2"),
            "category": .string("software"), "priority": .string("2"),
        ])
        out.append(VendorRequest(source: .serviceNow, body: Data(sn.jsonText().utf8), offset: 35 * minute,
                                 label: "ServiceNow: incident ticket (business rule)"))
        pd(60, "N", "incident.annotated", agent: "PMAXBELL", agentName: "Max Bell",
           data: .object(["incident": incident(status: "acknowledged", priority: "P2"),
                          "content": .string("Milestone: solution determined\nStale cache entries: purge and fix the TTL"),
                          "id": .string("PNOTE1"), "type": .string("incident_note")]),
           "PagerDuty: note with the solution")
        slack(70, "3", user: "U1000008", text: "Solution determined: purge the cache and fix the TTL.\n\(facts)\n\(Self.p12Mentions)", thread: 10,
              "Slack: thread reply, solution determined")
        pd(80, "R", "incident.resolved", agent: "PMAXBELL", agentName: "Max Bell",
           data: incident(status: "resolved", priority: "P2", extra: ["resolve_reason": .object(["summary": .string("Cache purged, TTL fixed")])]),
           "PagerDuty: resolved")
        slack(90, "4", user: "U1000008", text: "Resolved: cache purged, TTL fixed; error rate back to baseline.\n\(facts)\n\(Self.p12Mentions)", thread: 10,
              "Slack: thread reply, resolved")
        return out
    }

    /// ServiceNow's `yyyy-MM-dd HH:mm:ss` in UTC (the Table API's default).
    func serviceNowTime(_ minutes: Double) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.string(from: at(minutes))
    }

    /// The same incident typed with runbook commands, as `dtledger`
    /// arguments (each also gets `--case CASE`).
    public func runbook(caseID: String) -> [[String]] {
        let p12 = ["@mhv-api-platform", "ana-po", "ben-po", "@octo-health-engineers", "greg-kirk", "sean-good", "@mhv-horizon", "chante"]
        let content = ["--content", "summary=\(Self.summary)", "--content", "estimated_user_impact=\(Self.impact)",
                       "--content", "start_time=\(startText)"]
        func notify(_ minutes: Double, actor: String, audience: [String], purpose: String, extra: [String] = []) -> [String] {
            ["notify", "slack", "--at", time(minutes), "--actor", actor, "--destination", channelName,
             "--audience", audience.joined(separator: ","), "--purpose", purpose] + content + extra
        }
        var commands: [[String]] = [
            ["incident", "open", "--at", time(0), "--actor", "max-eng", "--team", "user-facing", "--summary", Self.summary,
             "--services", "medications", "--started-at", time(0), "--product", "medications"],
            ["note", "--at", time(2), "--actor", "max-eng", "--text", "Acknowledged in PagerDuty by Max Bell"],
            notify(10, actor: "max-eng", audience: ["@mhv-api-platform"], purpose: "initial"),
            ["incident", "priority", "--at", time(20), "--actor", "lou-em", "--priority", "P2", "--reason", "Priority set to P2 in PagerDuty"],
            notify(30, actor: "lou-em", audience: p12, purpose: "priority", extra: ["--content", "priority=P2"]),
            ["ticket", "submit", "--at", time(35), "--actor", "max-eng", "--number", snIncident, "--purpose", "other"],
            ["incident", "milestone", "--at", time(60), "--actor", "max-eng", "--kind", "solution_determined",
             "--note", "Stale cache entries: purge and fix the TTL"],
            notify(70, actor: "lou-em", audience: p12, purpose: "milestone"),
            ["incident", "resolve", "--at", time(80), "--actor", "max-eng", "--resolution", "Cache purged, TTL fixed"],
            notify(90, actor: "lou-em", audience: p12, purpose: "resolved"),
        ]
        for i in commands.indices { commands[i] += ["--case", caseID] }
        return commands
    }
}
