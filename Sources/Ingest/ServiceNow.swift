import Events
import Foundation
import Domain

/// ServiceNow Table API records -> tickets and approvals
/// (docs/importers.md, "ServiceNow"):
/// - `incident` and `change_request` records -> `ticket.submitted`;
/// - `sysapproval_approver` records that are approved or rejected -> `approval.recorded`.
public enum ServiceNowImporter {
    public static func map(_ payloads: [RawPayload], context: ImportContext) -> ImportOutcome {
        Pipeline.run(payloads, source: .servicenow, context: context, verify: nil) { _, body in
            let records: [JSONValue]
            if let list = body["result"]?.arrayValue ?? body["records"]?.arrayValue {
                records = list
            } else if let one = body["result"], one.objectValue != nil {
                records = [one]
            } else if body["sys_id"] != nil {
                records = [body]
            } else {
                return [.skip(sourceID: nil, reason: "not a ServiceNow Table API response ({\"result\": [...]}) or record")]
            }
            if records.isEmpty { return [.skip(sourceID: nil, reason: "an empty result")] }
            // Approvals name their ticket: map them to the case their ticket maps to.
            var local = context
            for r in records.map(Record.init) {
                guard let number = r.value("number"), local.config.cases[number] == nil,
                      let caseID = local.caseFor(ids: [], texts: [r.display("correlation_id"), r.display("short_description"), r.display("description")])
                else { continue }
                local.config.cases[number] = caseID
            }
            return records.map { record(Record($0), context: local) }
        }
    }

    /// A record whose fields are plain values or `{value, display_value}`
    /// (`sysparm_display_value=all`) or `{link, value}` references.
    struct Record {
        let json: JSONValue
        init(_ json: JSONValue) { self.json = json }
        func value(_ field: String) -> String? {
            guard let v = json[field] else { return nil }
            let s = v.stringValue ?? v["value"]?.stringValue
            return s?.isEmpty == false ? s : nil
        }
        func display(_ field: String) -> String? {
            guard let v = json[field] else { return nil }
            let s = v["display_value"]?.stringValue ?? v.stringValue
            return s?.isEmpty == false ? s : nil
        }
    }

    /// `2026-03-03 14:30:00` (the Table API's internal format, UTC unless
    /// the config names a time zone), or RFC 3339.
    static func time(_ text: String?, zone: TimeZone) -> Date? {
        guard let text else { return nil }
        if let d = try? RFC3339.parse(text) { return d }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = zone
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.date(from: text)
    }

    static func record(_ r: Record, context: ImportContext) -> Mapped {
        let zone = context.config.serviceNowTimeZone
        guard let sysID = r.value("sys_id") else { return .skip(sourceID: r.value("number"), reason: "record without sys_id") }
        let cls = r.value("sys_class_name")
            ?? (r.value("number")?.hasPrefix("INC") == true ? "incident"
                : r.value("number")?.hasPrefix("CHG") == true ? "change_request"
                : r.json["approver"] != nil && r.json["sysapproval"] != nil ? "sysapproval_approver" : nil)
        switch cls {
        case "incident", "change_request":
            guard let number = r.value("number") else { return .skip(sourceID: sysID, reason: "record without number") }
            guard let opened = time(r.value("opened_at") ?? r.value("sys_created_on"), zone: zone) else {
                return .skip(sourceID: number, reason: "opened_at is missing or not a ServiceNow date-time")
            }
            let isChange = cls == "change_request"
            let category = (r.display("category") ?? "").lowercased()
            let purpose: TicketPurpose = isChange ? .downtimeApproval : category.contains("security") ? .securityIncident : .other
            let ticket = TicketSubmitted(system: "snow", number: number, purpose: purpose,
                                         url: context.config.serviceNowInstanceURL.map { "\($0)/nav_to.do?uri=\(cls!).do?sys_id=\(sysID)" })
            // The record's own fields, kept beside the ticket's (the catalog does not read them).
            var fields: [String: JSONValue] = ["opened_at": .string(RFC3339.format(opened))]
            if let s = r.display("state") { fields["state"] = .string(s) }
            if let a = r.display("approval") { fields["approval"] = .string(a) }
            if let d = r.display("short_description") { fields["title"] = .string(d) }
            let resolvedText = r.value("resolved_at") ?? r.value("closed_at")
            if let resolved = time(resolvedText, zone: zone) { fields["resolved_at"] = .string(RFC3339.format(resolved)) }
            let actor = context.handle(ids: [r.value("opened_by"), r.display("opened_by"), r.display("requested_by")], at: opened)
            var caseID = context.caseFor(ids: [number, r.display("parent")],
                                         texts: [r.display("correlation_id"), r.display("short_description"), r.display("description")])
            var extra: [String: JSONValue] = ["servicenow_sys_id": .string(sysID), "servicenow_table": .string(cls!)]
            // dtledger serve: the case an earlier delivery of this record was mapped to.
            if caseID == nil, let c = lookedUp([number, sysID], context) {
                caseID = c
                extra["case_inferred_by"] = .string("servicenow_record")
            }
            // dtledger serve: a ticket opened by the PagerDuty integration carries
            // the PagerDuty incident (its id, or its number) as correlation_id.
            if caseID == nil, let lookups = context.lookups, let correlation = r.value("correlation_id"), !correlation.isEmpty,
               let c = lookups.caseForRef("pagerduty:incident:\(correlation)") ?? lookups.caseForRef("pagerduty:number:\(correlation)") {
                caseID = c
                extra["case_inferred_by"] = .string("pagerduty_correlation")
            }
            return .event(Draft(payload: ticket, caseID: caseID, occurredAt: opened, actor: actor,
                                key: "servicenow/\(sysID)/submitted", sourceID: number, sourceFields: fields,
                                extra: extra))
        case "sysapproval_approver":
            let state = (r.value("state") ?? "").lowercased()
            guard let decision = ApprovalDecision(rawValue: state) else {
                return .skip(sourceID: sysID, reason: "approval is '\(state.isEmpty ? "(no state)" : state)': nothing decided yet")
            }
            guard let ticket = r.display("sysapproval") ?? r.display("document_id") else {
                return .skip(sourceID: sysID, reason: "approval without sysapproval (the ticket it approves)")
            }
            guard let when = time(r.value("sys_updated_on"), zone: zone) else {
                return .skip(sourceID: sysID, reason: "sys_updated_on is missing or not a ServiceNow date-time")
            }
            guard let approver = context.handle(ids: [r.value("approver"), r.display("approver")], at: when) else {
                return .skip(sourceID: sysID, reason: "approver '\(printable(r.display("approver") ?? "(none)"))' is not in the directory (add it to the config's actors)",
                             code: context.lookups == nil ? .notMapped : .needsConfig)
            }
            var caseID = context.caseFor(ids: [ticket], texts: [r.display("comments")])
            var extra: [String: JSONValue] = ["servicenow_sys_id": .string(sysID), "servicenow_table": .string("sysapproval_approver")]
            // dtledger serve: the case its ticket (by number or sys_id) was mapped to.
            if caseID == nil, let c = lookedUp([ticket, r.value("sysapproval"), r.value("document_id")], context) {
                caseID = c
                extra["case_inferred_by"] = .string("servicenow_ticket")
            }
            return .event(Draft(payload: ApprovalRecorded(ticket: ticket, approver: approver, decision: decision),
                                caseID: caseID, occurredAt: when, actor: approver, key: "servicenow/\(sysID)/\(state)",
                                sourceID: sysID, extra: extra))
        default:
            return .skip(sourceID: r.value("number") ?? sysID,
                         reason: "table \(printable(cls ?? "(unknown)")) is not imported (incident, change_request, sysapproval_approver)")
        }
    }

    /// The case `CaseLookups.caseForRef` gives the first of these ServiceNow
    /// numbers or sys_ids that has one (`servicenow:<id>`); nil without lookups.
    static func lookedUp(_ ids: [String?], _ context: ImportContext) -> String? {
        guard let lookups = context.lookups else { return nil }
        for id in ids.compactMap({ $0 }) where !id.isEmpty {
            if let c = lookups.caseForRef("servicenow:\(id)") { return c }
        }
        return nil
    }
}
