import Events
import Foundation
import Domain

/// Slack Events API `message` events (and `message_changed` edits) ->
/// `notification.sent` (docs/importers.md, "Slack" and the message template).
public enum SlackImporter {
    /// Labels that steer the import and are not message content.
    static let controlLabels: Set<String> = ["case", "purpose"]
    /// Short labels the template allows, by field.
    static let aliases: [String: String] = [
        "start": "start_time", "started": "start_time", "started_at": "start_time", "incident_start": "start_time",
        "window": "timeframe", "time_frame": "timeframe", "when": "timeframe",
        "rollback": "rollback_plan", "user_impact": "estimated_user_impact",
    ]

    public static func map(_ payloads: [RawPayload], context: ImportContext) -> ImportOutcome {
        Pipeline.run(payloads, source: .slack, context: context, scheme: .slackV0,
                     verify: { p, secret, received in
                         Signatures.verifySlack(body: p.body, timestamp: p.header("X-Slack-Request-Timestamp"),
                                                signature: p.header("X-Slack-Signature"), secret: secret, receivedAt: received)
                     },
                     map: { _, body in [mapBody(body, context: context)] })
    }

    static func mapBody(_ body: JSONValue, context: ImportContext) -> Mapped {
        let eventID = body.str("event_id")
        if let t = body.str("type"), t != "event_callback" {
            return .skip(sourceID: eventID, reason: "a Slack \(printable(t)) request, not an event_callback")
        }
        guard let event = body["event"], event.objectValue != nil else {
            return .skip(sourceID: eventID, reason: "not a Slack Events API payload (no event)")
        }
        guard event.str("type") == "message" else {
            return .skip(sourceID: eventID, reason: "event type \(printable(event.str("type") ?? "(none)")) is not imported (only message)")
        }
        guard let channel = event.str("channel") else { return .skip(sourceID: eventID, reason: "event.channel is missing") }
        let subtype = event.str("subtype")
        let message: JSONValue
        let occurredTS: String?
        var edits: String?
        switch subtype {
        case nil:
            message = event
            occurredTS = event.str("ts")
        case "message_changed":
            guard let m = event["message"], m.objectValue != nil else {
                return .skip(sourceID: eventID, reason: "message_changed without message")
            }
            message = m
            occurredTS = m.str("edited", "ts") ?? event.str("ts")
            guard let originalTS = m.str("ts") else { return .skip(sourceID: eventID, reason: "message.ts is missing") }
            edits = permalink(channel: channel, ts: originalTS, context: context)
        default:
            return .skip(sourceID: eventID, reason: "message subtype \(printable(subtype!)) is not imported (only new messages and message_changed)")
        }
        guard let tsText = occurredTS, let seconds = Double(tsText) else {
            return .skip(sourceID: eventID, reason: "the message has no valid ts")
        }
        let occurred = Date(timeIntervalSince1970: seconds)
        guard let text = message.str("text"), !text.isEmpty else { return .skip(sourceID: eventID, reason: "the message has no text") }
        let sourceID = eventID ?? "\(channel)/\(tsText)"
        let userID = subtype == "message_changed" ? (message.str("edited", "user") ?? message.str("user")) : message.str("user")
        let actor = context.handle(ids: [userID], at: occurred)
        let directory = context.directories.at(occurred) ?? context.directories.directories.last

        // Mentions -> audience refs.
        var audience: [String] = []
        var unresolved: [String] = []
        for mention in mentions(text) {
            let ref: String?
            switch mention.kind {
            case .user: ref = directory?.person(slackID: mention.id)?.handle
            case .group: ref = directory?.group(slackID: mention.id)?.handle
            }
            if let ref { if !audience.contains(ref) { audience.append(ref) } } else {
                unresolved.append(mention.id)
                if !audience.contains(mention.id) { audience.append(mention.id) }
            }
        }
        let plain = plainText(text, directory: directory)
        let labels = Labels.lines(plain)
        let caseID = context.caseOverride ?? labels.first(where: { $0.label == "case" }).map(\.value).flatMap(Labels.caseID(in:))
            ?? context.caseFor(ids: [channel], texts: [])
        let kind = caseID.flatMap { context.knownCases[$0] } ?? caseID.map { $0.hasPrefix("PD-") ? CaseKind.plannedDowntime : .incident }
        var content: [String: String] = [:]
        for (label, value) in labels where !controlLabels.contains(label) {
            var field = aliases[label] ?? label
            if field == "impact" { field = kind == .plannedDowntime ? "anticipated_impact" : "estimated_user_impact" }
            content[field] = value
        }
        guard !content.isEmpty else {
            return .skip(sourceID: sourceID, reason: "no labelled content lines (Summary:, Impact:, ...): not a notification of the template")
        }
        let purposeText = labels.first(where: { $0.label == "purpose" })?.value
        let purpose: NotificationPurpose
        if let purposeText {
            let p = purposeText.lowercased().replacingOccurrences(of: " ", with: "_").replacingOccurrences(of: "-", with: "_")
            guard let named = NotificationPurpose(rawValue: p) else {
                return .skip(sourceID: sourceID, reason: "Purpose: '\(printable(purposeText))' is not one of \(NotificationPurpose.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            purpose = named
        } else if let d = context.defaultPurpose {
            purpose = d
        } else {
            return .skip(sourceID: sourceID, reason: "no Purpose: line and no --purpose")
        }
        guard !audience.isEmpty else { return .skip(sourceID: sourceID, reason: "the message tags nobody (no <@U...> or <!subteam^S...> mentions)") }
        let sent = NotificationSent(
            channel: .slack, destination: context.config.slackChannels[channel] ?? channel, audience: audience,
            purpose: purpose, content: content,
            messageRef: subtype == nil ? permalink(channel: channel, ts: tsText, context: context) : nil, edits: edits)
        var extra: [String: JSONValue] = ["slack_channel": .string(channel)]
        if let userID { extra["source_actor"] = .string(userID) }
        if !unresolved.isEmpty { extra["unresolved_mentions"] = .array(unresolved.map(JSONValue.string)) }
        let key = eventID.map { "slack/\($0)" } ?? "slack/\(channel)/\(tsText)\(subtype == nil ? "" : "/edit")"
        return .event(Draft(payload: sent, caseID: caseID, occurredAt: occurred, actor: actor, key: key,
                            sourceID: sourceID, extra: extra))
    }

    /// `https://WORKSPACE.slack.com/archives/C123/p1775568900000200` (Slack's
    /// permalink form), or `slack:C123/1775568900.000200` without a workspace URL.
    public static func permalink(channel: String, ts: String, context: ImportContext) -> String {
        guard let base = context.config.slackWorkspaceURL else { return "slack:\(channel)/\(ts)" }
        return "\(base)/archives/\(channel)/p\(ts.replacingOccurrences(of: ".", with: ""))"
    }

    enum MentionKind { case user, group }

    static func mentions(_ text: String) -> [(kind: MentionKind, id: String)] {
        var out: [(MentionKind, String)] = []
        var rest = text[...]
        while let open = rest.firstIndex(of: "<"), let close = rest[open...].firstIndex(of: ">") {
            let inner = rest[rest.index(after: open)..<close]
            let target = inner.split(separator: "|", maxSplits: 1).first.map(String.init) ?? ""
            if target.hasPrefix("@") { out.append((.user, String(target.dropFirst()))) }
            if target.hasPrefix("!subteam^") { out.append((.group, String(target.dropFirst(9)))) }
            rest = rest[rest.index(after: close)...]
        }
        return out
    }

    /// Slack markup to text: mentions as @handle, links as their label, entities decoded.
    static func plainText(_ text: String, directory: Directory?) -> String {
        var out = ""
        var rest = text[...]
        while let open = rest.firstIndex(of: "<"), let close = rest[open...].firstIndex(of: ">") {
            out += rest[..<open]
            let inner = String(rest[rest.index(after: open)..<close])
            let parts = inner.split(separator: "|", maxSplits: 1).map(String.init)
            let target = parts.first ?? ""
            if target.hasPrefix("@") {
                let id = String(target.dropFirst())
                out += "@" + (directory?.person(slackID: id)?.handle ?? parts.dropFirst().first ?? id)
            } else if target.hasPrefix("!subteam^") {
                let id = String(target.dropFirst(9))
                out += directory?.group(slackID: id)?.handle ?? parts.dropFirst().first ?? id
            } else if target.hasPrefix("!") {
                out += "@" + (target.dropFirst())
            } else {
                out += parts.count > 1 ? parts[1] : target
            }
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        return out.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
