import Events
import Foundation

/// The references a raw payload carries, computed when it is received, so
/// that a later payload can find the case an earlier one was mapped to (a
/// Slack thread reply finds its thread's first message; a Slack message
/// naming a PagerDuty incident finds the incident's case). Pure; a
/// receiver stores the refs beside each receipt and answers
/// `CaseLookups.caseForRef` from them.
///
/// Ref forms:
/// - `slack:<channel>/<ts>`: a Slack message (an edit and a deletion carry
///   the original message's ref);
/// - `pagerduty:incident:<id>` and `pagerduty:number:<n>`: a PagerDuty incident;
/// - `servicenow:<number>` and `servicenow:<sys_id>`: a ServiceNow record;
/// - `email:<Message-ID>`: an email message (a journal report: the message
///   it carries), the id without angle brackets.
public enum Refs {
    /// The refs a raw payload of a source carries, computed at receipt: for Slack "slack:<channel>/<ts>" of the message
    /// (for message_changed the original message's ts, for message_deleted the deleted ts); for PagerDuty incident
    /// events "pagerduty:incident:<id>" and "pagerduty:number:<n>" (data.number); for ServiceNow "servicenow:<number>"
    /// and "servicenow:<sys_id>"; for email "email:<Message-ID>" of the message (of a journal report: of the attached
    /// original, the message it is mapped as). Never throws: unreadable bodies give [].
    public static func of(source: EventSource, body: Data) -> [String] {
        if source == .email { return EmailImporter.identity(body).mapped.map { [emailRef(messageID: $0)] } ?? [] }
        guard let json = try? JSONValue.parse(body) else { return [] }
        var out: [String] = []
        func add(_ ref: String) { if !out.contains(ref) { out.append(ref) } }
        switch source {
        case .slack:
            guard let event = json["event"], event.str("type") == "message", let channel = nonEmpty(event.str("channel"))
            else { return [] }
            let ts: String?
            switch event.str("subtype") {
            case "message_changed": ts = event["message"]?.str("ts") ?? event["previous_message"]?.str("ts")
            case "message_deleted": ts = event.str("deleted_ts") ?? event["previous_message"]?.str("ts")
            default: ts = event.str("ts")
            }
            if let ts = nonEmpty(ts) { add(slackRef(channel: channel, ts: ts)) }
        case .pagerduty:
            guard let event = json["event"], let data = event["data"], data.objectValue != nil else { return [] }
            // incident.annotated carries the note; its `incident` is the incident.
            let incident = (data.str("type") != "incident" ? data["incident"] : nil) ?? data
            guard event.str("event_type")?.hasPrefix("incident.") == true else { return [] }
            if let id = nonEmpty(incident.str("id")) { add("pagerduty:incident:\(id)") }
            if let n = number(incident["number"]) { add("pagerduty:number:\(n)") }
        case .servicenow:
            for record in serviceNowRecords(json) {
                if let n = nonEmpty(fieldValue(record["number"])) { add("servicenow:\(n)") }
                if let id = nonEmpty(fieldValue(record["sys_id"])) { add("servicenow:\(id)") }
            }
        default:
            return []
        }
        return out
    }

    /// The Slack delivery's own id (event_id), PagerDuty event.id, ServiceNow sys_id+sys_updated_on (or sys_mod_count),
    /// an email's Message-ID (a journal report's own, not its original's: two reports of one message are two
    /// deliveries); nil if none.
    /// ServiceNow: `<sys_id>/<sys_updated_on>` (else `<sys_id>/<sys_mod_count>`)
    /// per record, several records joined by `,`; nil when a record has neither.
    public static func deliveryID(source: EventSource, body: Data) -> String? {
        if source == .email { return EmailImporter.identity(body).own }
        guard let json = try? JSONValue.parse(body) else { return nil }
        switch source {
        case .slack:
            return nonEmpty(json.str("event_id"))
        case .pagerduty:
            return nonEmpty(json["event"]?.str("id"))
        case .servicenow:
            let records = serviceNowRecords(json)
            guard !records.isEmpty else { return nil }
            var ids: [String] = []
            for record in records {
                guard let sysID = nonEmpty(fieldValue(record["sys_id"])) else { return nil }
                if let updated = nonEmpty(fieldValue(record["sys_updated_on"])) {
                    ids.append("\(sysID)/\(updated)")
                } else if let count = nonEmpty(fieldValue(record["sys_mod_count"])) ?? number(record["sys_mod_count"]) {
                    ids.append("\(sysID)/\(count)")
                } else {
                    return nil
                }
            }
            return ids.joined(separator: ",")
        default:
            return nil
        }
    }

    /// `slack:<channel>/<ts>`.
    public static func slackRef(channel: String, ts: String) -> String { "slack:\(channel)/\(ts)" }

    /// Whether `text` can go into a receipt's text column as it is (a
    /// delivery key, a ref): not empty, at most `maxBytes`, no control
    /// characters (PostgreSQL text cannot hold a NUL, and one unstorable
    /// value would fail the whole batch it is committed with).
    public static func storable(_ text: String, maxBytes: Int) -> Bool {
        !text.isEmpty && text.utf8.count <= maxBytes && !text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }

    /// `email:<Message-ID>` (the id without angle brackets).
    public static func emailRef(messageID: String) -> String { "email:\(messageID)" }

    // The records of a ServiceNow body, as ServiceNowImporter reads them.
    static func serviceNowRecords(_ json: JSONValue) -> [JSONValue] {
        if let list = json["result"]?.arrayValue ?? json["records"]?.arrayValue { return list.filter { $0.objectValue != nil } }
        if let one = json["result"], one.objectValue != nil { return [one] }
        if json["sys_id"] != nil { return [json] }
        return []
    }

    // A plain value or `{value, display_value}`.
    static func fieldValue(_ v: JSONValue?) -> String? {
        guard let v else { return nil }
        return v.stringValue ?? v["value"]?.stringValue
    }

    static func number(_ v: JSONValue?) -> String? {
        switch v {
        case .int(let i)?: return String(i)
        case .double(let d)? where d.rounded() == d && abs(d) < 1e15: return String(Int64(d))
        case .string(let s)? where !s.isEmpty && s.allSatisfy(\.isASCII) && s.allSatisfy(\.isNumber): return s
        default: return nil
        }
    }

    static func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.isEmpty else { return nil }
        return s
    }
}
