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
        let lookups = context.lookups
        // The edited message's ts (message_changed).
        var originalTS: String?
        switch subtype {
        case nil:
            message = event
            occurredTS = event.str("ts")
        case "thread_broadcast" where lookups != nil, "file_share" where lookups != nil:
            // A thread reply also sent to the channel, or a message with a
            // file (a screenshot mid-incident): a message like any other.
            message = event
            occurredTS = event.str("ts")
        case "message_changed":
            guard let m = event["message"], m.objectValue != nil else {
                return .skip(sourceID: eventID, reason: "message_changed without message")
            }
            message = m
            occurredTS = m.str("edited", "ts") ?? event.str("ts")
            guard let ts = m.str("ts") else { return .skip(sourceID: eventID, reason: "message.ts is missing") }
            originalTS = ts
            edits = permalink(channel: channel, ts: ts, context: context)
            // Slack also sends message_changed when it unfurls a link or a
            // reaction changes: the text is the same, nobody edited anything.
            if lookups != nil, let before = event["previous_message"]?.str("text"), before == m.str("text") {
                return .skip(sourceID: eventID, reason: "message_changed with the same text (an unfurl or attachment update): not an edit")
            }
        case "message_deleted" where lookups != nil:
            return deleted(event, eventID: eventID, channel: channel, context: context, lookups: lookups!)
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
        let caseID: String?
        var inferredBy: String?
        if let lookups {
            (caseID, inferredBy) = inferCase(channel: channel, message: message, originalTS: originalTS, at: occurred,
                                             text: text, plain: plain, labels: labels, context: context, lookups: lookups)
        } else {
            caseID = context.caseOverride ?? labels.first(where: { $0.label == "case" }).map(\.value).flatMap(Labels.caseID(in:))
                ?? context.caseFor(ids: [channel], texts: [])
        }
        let kind = caseID.flatMap { context.knownCases[$0] } ?? caseID.map { $0.hasPrefix("PD-") ? CaseKind.plannedDowntime : .incident }
        var content: [String: String] = [:]
        for (label, value) in labels where !controlLabels.contains(label) {
            var field = aliases[label] ?? label
            if field == "impact" { field = kind == .plannedDowntime ? "anticipated_impact" : "estimated_user_impact" }
            content[field] = value
        }
        var extra: [String: JSONValue] = ["slack_channel": .string(channel)]
        if lookups != nil {
            // A receiver keeps every message that tags someone: the tags
            // make it a notification; one tagging nobody is chatter.
            guard !audience.isEmpty else {
                return .skip(sourceID: sourceID, reason: "the message tags nobody (no <@U...> or <!subteam^S...> mentions): not a notification")
            }
            if content.isEmpty {
                // Not written to the template: its whole text is its content.
                content["message"] = plain.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        guard !content.isEmpty else {
            return .skip(sourceID: sourceID, reason: "no labelled content lines (Summary:, Impact:, ...): not a notification of the template")
        }
        let purposeText = labels.first(where: { $0.label == "purpose" })?.value
        var purpose: NotificationPurpose?
        if let purposeText {
            let p = purposeText.lowercased().replacingOccurrences(of: " ", with: "_").replacingOccurrences(of: "-", with: "_")
            if let named = NotificationPurpose(rawValue: p) {
                purpose = named
            } else if lookups != nil {
                // Never drop a message for a typo: infer, and keep what it said.
                extra["purpose_line"] = .string(purposeText)
            } else {
                return .skip(sourceID: sourceID, reason: "Purpose: '\(printable(purposeText))' is not one of \(NotificationPurpose.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        if purpose == nil, let lookups {
            if let caseID, let inferred = lookups.inferPurpose(caseID, occurred) {
                purpose = inferred.purpose
                extra["purpose_inferred"] = .string(inferred.rule)
            } else if let d = context.defaultPurpose {
                purpose = d
            } else if caseID != nil {
                // The case was not open yet when the message was sent (or
                // the ledger does not know it: the pipeline says so): the
                // message came first.
                purpose = kind == .plannedDowntime ? .planning : .initial
                extra["purpose_inferred"] = .string("before_case_opened")
            } else {
                // No case: the pipeline reports it; the purpose is never stored.
                purpose = .other
            }
        }
        if purpose == nil, let d = context.defaultPurpose { purpose = d }
        guard let purpose else { return .skip(sourceID: sourceID, reason: "no Purpose: line and no --purpose") }
        guard !audience.isEmpty else { return .skip(sourceID: sourceID, reason: "the message tags nobody (no <@U...> or <!subteam^S...> mentions)") }
        let sent = NotificationSent(
            channel: .slack, destination: context.config.slackChannels[channel] ?? channel, audience: audience,
            purpose: purpose, content: content,
            messageRef: subtype == nil ? permalink(channel: channel, ts: tsText, context: context) : nil, edits: edits)
        if let userID { extra["source_actor"] = .string(userID) }
        if let inferredBy { extra["case_inferred_by"] = .string(inferredBy) }
        if !unresolved.isEmpty { extra["unresolved_mentions"] = .array(unresolved.map(JSONValue.string)) }
        let key = eventID.map { "slack/\($0)" } ?? "slack/\(channel)/\(tsText)\(subtype == nil ? "" : "/edit")"
        return .event(Draft(payload: sent, caseID: caseID, occurredAt: occurred, actor: actor, key: key,
                            sourceID: sourceID, extra: extra))
    }

    // MARK: dtledger serve: case inference and deletions

    /// The case of a message received by `dtledger serve`, and which way
    /// found it (`case_inferred_by`), in this order: `--case`/caseOverride
    /// (`override`); a `Case:` line (`case_line`); the case of the edited
    /// message, or of the thread's first message for a reply (`thread`); a
    /// case id in the text (`case_id`); a PagerDuty incident number or URL in
    /// the text (`pagerduty_number`); the config's `cases` by channel
    /// (`config`); the channel's one open case of the kind `slack.open_case`
    /// names (`channel`), only for a new top-level message: a reply whose
    /// thread is unknown, or an edit of an unknown message, waits for a
    /// person instead of being guessed into a case.
    static func inferCase(channel: String, message: JSONValue, originalTS: String?, at: Date, text: String, plain: String,
                          labels: [(label: String, value: String)], context: ImportContext,
                          lookups: CaseLookups) -> (String?, String?) {
        if let o = context.caseOverride { return (o, "override") }
        if let c = labels.first(where: { $0.label == "case" }).map(\.value).flatMap(Labels.caseID(in:)) { return (c, "case_line") }
        var refs: [String] = []
        if let originalTS { refs.append(Refs.slackRef(channel: channel, ts: originalTS)) }
        let ownTS = originalTS ?? message.str("ts")
        let threadTS = message.str("thread_ts")
        let isReply = threadTS != nil && threadTS != ownTS
        if isReply, let threadTS { refs.append(Refs.slackRef(channel: channel, ts: threadTS)) }
        for ref in refs { if let c = lookups.caseForRef(ref) { return (c, "thread") } }
        if let c = Labels.caseID(in: plain) { return (c, "case_id") }
        for ref in pagerDutyRefs(text: text, plain: plain) { if let c = lookups.caseForRef(ref) { return (c, "pagerduty_number") } }
        if let c = context.config.cases[channel] { return (c, "config") }
        if !isReply, originalTS == nil, let rule = context.config.slackOpenCase[channel] {
            let open = lookups.openCases(at).filter { rule.matches($0.value) }
            if open.count == 1, let only = open.first { return (only.key, "channel") }
        }
        return (nil, nil)
    }

    /// PagerDuty incidents a message names, as refs (`Refs`), in this order:
    /// numbers in the plain text, then incident URLs in the raw text.
    /// Numbers (case-insensitive; `#` optional where shown as `#?`):
    /// `PagerDuty #N`, `PagerDuty incident #?N`, `PD #N`, `PD incident #?N`,
    /// `incident #N` -> `pagerduty:number:N`. A bare `incident N` or
    /// `PagerDuty N` is not taken (too easily something else).
    /// URLs: `https://<sub>.pagerduty.com/incidents/<ID>` (also
    /// `api.pagerduty.com`) -> `pagerduty:incident:<ID>`. The first
    /// `maxPagerDutyRefs` only.
    static func pagerDutyRefs(text: String, plain: String) -> [String] {
        var out: [String] = []
        for m in matches(numberPattern, in: plain) where !out.contains("pagerduty:number:\(m)") { out.append("pagerduty:number:\(m)") }
        for m in matches(urlPattern, in: text) where !out.contains("pagerduty:incident:\(m)") { out.append("pagerduty:incident:\(m)") }
        // Each is a lookup the receiver answers: a message listing hundreds
        // of incidents costs no more than the first few.
        return Array(out.prefix(maxPagerDutyRefs))
    }

    /// At most this many PagerDuty refs of one message are looked up.
    static let maxPagerDutyRefs = 10

    // Both require a word start and a number or id that ends there.
    static let numberPattern = try! NSRegularExpression(
        pattern: #"(?<![A-Za-z0-9_-])(?:(?:pagerduty|pd)\s+(?:incident\s+#?|#)|incident\s+#)([0-9]{1,12})(?![A-Za-z0-9_])"#,
        options: [.caseInsensitive])
    static let urlPattern = try! NSRegularExpression(
        pattern: #"https?://(?:[A-Za-z0-9-]+\.)*pagerduty\.com/incidents/([A-Za-z0-9]+)(?![A-Za-z0-9])"#,
        options: [.caseInsensitive])

    static func matches(_ re: NSRegularExpression, in text: String) -> [String] {
        let ns = text as NSString
        return re.matches(in: text, range: NSRange(location: 0, length: ns.length)).compactMap { m in
            m.numberOfRanges > 1 && m.range(at: 1).location != NSNotFound ? ns.substring(with: m.range(at: 1)) : nil
        }
    }

    /// `message_deleted` (with lookups): a `note.added` in the deleted
    /// message's case saying that Slack deleted it and what it said. The
    /// message's own `notification.sent` stays: it was sent, and Slack
    /// deleting it does not undo that.
    static func deleted(_ event: JSONValue, eventID: String?, channel: String, context: ImportContext,
                        lookups: CaseLookups) -> Mapped {
        let previous = event["previous_message"]
        guard let deletedTS = event.str("deleted_ts") ?? previous?.str("ts") else {
            return .skip(sourceID: eventID, reason: "message_deleted without deleted_ts")
        }
        guard let tsText = event.str("event_ts") ?? event.str("ts"), let seconds = Double(tsText) else {
            return .skip(sourceID: eventID, reason: "message_deleted has no valid ts")
        }
        let occurred = Date(timeIntervalSince1970: seconds)
        let ref = permalink(channel: channel, ts: deletedTS, context: context)
        let text = previous?.str("text") ?? ""
        let directory = context.directories.at(occurred) ?? context.directories.directories.last
        let plain = plainText(text, directory: directory).trimmingCharacters(in: .whitespacesAndNewlines)
        var caseID: String?
        var inferredBy: String?
        if let o = context.caseOverride {
            (caseID, inferredBy) = (o, "override")
        } else if let c = lookups.caseForRef(Refs.slackRef(channel: channel, ts: deletedTS)) {
            (caseID, inferredBy) = (c, "thread")
        } else if let c = Labels.lines(plain).first(where: { $0.label == "case" }).map(\.value).flatMap(Labels.caseID(in:)) {
            (caseID, inferredBy) = (c, "case_line")
        } else if let c = context.config.cases[channel] {
            (caseID, inferredBy) = (c, "config")
        }
        let sourceID = eventID ?? "\(channel)/\(deletedTS)"
        // A deleted message nobody placed and that tagged nobody was chatter.
        if caseID == nil && mentions(text).isEmpty {
            return .skip(sourceID: sourceID, reason: "a deleted message that was not a notification (it tagged nobody)")
        }
        var note = "Slack message \(ref) was deleted in Slack at \(RFC3339.format(occurred))"
        note += plain.isEmpty ? "." : ". It said:\n\(plain)"
        var extra: [String: JSONValue] = ["slack_channel": .string(channel), "deleted_message_ref": .string(ref)]
        if let author = previous?.str("user") { extra["source_actor"] = .string(author) }
        if let inferredBy { extra["case_inferred_by"] = .string(inferredBy) }
        // Slack does not say who deleted it: the receiver's actor.
        return .event(Draft(payload: NoteAdded(text: note), caseID: caseID, occurredAt: occurred, actor: nil,
                            key: eventID.map { "slack/\($0)" } ?? "slack/\(channel)/\(deletedTS)/delete",
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
