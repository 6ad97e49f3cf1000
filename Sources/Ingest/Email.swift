import Events
import Foundation
import Domain
import Mail

/// RFC 5322 messages -> `notification.sent` on the `email` channel
/// (docs/importers.md, "dtledger import email"). The message template is
/// Slack's (labelled lines, `Case:` and `Purpose:`), read from the text part.
public enum EmailImporter {
    /// The largest raw message kept whole in the event's metadata
    /// (`import.raw_message`); larger ones keep only `payload_sha256`.
    public static let maxKeptMessageBytes = KeptSignature.maxKeptPayloadBytes

    /// Each payload's `body` is one raw message. With a `verifier`, every
    /// message's DKIM signatures are checked (at its Date, else `context.now`)
    /// and the result recorded; a message that is unsigned or fails is still
    /// imported, as unverified.
    public static func map(_ payloads: [RawPayload], context: ImportContext, verifier: DKIMVerifier?) -> ImportOutcome {
        Pipeline.run(payloads, source: .email, context: context, verify: nil,
                     parse: { _ in .success(.null) },
                     map: { payload, _ in [mapMessage(payload, context: context, verifier: verifier)] })
    }

    static func mapMessage(_ payload: RawPayload, context: ImportContext, verifier: DKIMVerifier?) -> Mapped {
        let bytes = [UInt8](payload.body)
        let message: MailMessage
        do { message = try MailMessage.parse(bytes) } catch {
            return .skip(sourceID: nil, reason: "not a readable message: \(error)", code: .unreadable)
        }
        let sourceID = message.messageID ?? message.sha256Hex
        let occurred: Date
        do {
            guard let d = try message.parsedDate() else { return .skip(sourceID: sourceID, reason: "the message has no Date header") }
            occurred = d
        } catch {
            return .skip(sourceID: sourceID, reason: "Date: \(error)")
        }
        let directory = context.directories.at(occurred) ?? context.directories.directories.last

        // Sender -> actor (config actors, else the directory by email), else the address.
        let sender = message.from.first
        let actor = sender.flatMap { context.handle(ids: [$0.address, $0.normalized], at: occurred) } ?? sender?.normalized

        // To, Cc (and Bcc when the copy shows it) -> audience refs.
        var audience: [String] = []
        var unresolved: [String] = []
        var recipients: [MailAddress] = []
        for field in ["To", "Cc", "Bcc"] {
            do { recipients += try message.addresses(field) } catch {
                return .skip(sourceID: sourceID, reason: "\(field): \(error)")
            }
        }
        for r in recipients {
            let ref = directory?.person(email: r.normalized)?.handle ?? directory?.group(email: r.normalized)?.handle
            if let ref { if !audience.contains(ref) { audience.append(ref) } } else {
                if !unresolved.contains(r.normalized) { unresolved.append(r.normalized) }
                if !audience.contains(r.normalized) { audience.append(r.normalized) }
            }
        }

        let text = message.text ?? ""
        let subject = message.subject ?? ""
        let labels = Labels.lines(text)
        let caseID = context.caseOverride
            ?? labels.first(where: { $0.label == "case" }).map(\.value).flatMap(Labels.caseID(in:))
            ?? Labels.caseID(in: subject) ?? Labels.caseID(in: text)
        let kind = caseID.flatMap { context.knownCases[$0] } ?? caseID.map { $0.hasPrefix("PD-") ? CaseKind.plannedDowntime : .incident }
        var content: [String: String] = [:]
        for (label, value) in labels where !SlackImporter.controlLabels.contains(label) {
            var field = SlackImporter.aliases[label] ?? label
            if field == "impact" { field = kind == .plannedDowntime ? "anticipated_impact" : "estimated_user_impact" }
            content[field] = value
        }
        guard !content.isEmpty else {
            return .skip(sourceID: sourceID, reason: "no labelled content lines (Summary:, Impact:, ...) in the text: not a notification of the template")
        }
        var extra: [String: JSONValue] = [:]
        var purpose: NotificationPurpose?
        if let purposeText = labels.first(where: { $0.label == "purpose" })?.value {
            let p = purposeText.lowercased().replacingOccurrences(of: " ", with: "_").replacingOccurrences(of: "-", with: "_")
            guard let named = NotificationPurpose(rawValue: p) else {
                return .skip(sourceID: sourceID, reason: "Purpose: '\(printable(purposeText))' is not one of \(NotificationPurpose.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            purpose = named
        }
        if purpose == nil, let lookups = context.lookups, let caseID, let inferred = lookups.inferPurpose(caseID, occurred) {
            purpose = inferred.purpose
            extra["purpose_inferred"] = .string(inferred.rule)
        }
        if purpose == nil, let d = context.defaultPurpose { purpose = d }
        guard let purpose else { return .skip(sourceID: sourceID, reason: "no Purpose: line and no --purpose") }
        guard !audience.isEmpty else { return .skip(sourceID: sourceID, reason: "the message has no To or Cc recipients") }

        let destination = message.to.first?.normalized ?? recipients.first!.normalized
        let sent = NotificationSent(channel: .email, destination: destination, audience: audience, purpose: purpose,
                                    content: content, messageRef: message.messageID)
        if let sender { extra["source_actor"] = .string(sender.normalized) }
        if !subject.isEmpty { extra["email_subject"] = .string(subject) }
        if !unresolved.isEmpty { extra["unresolved_recipients"] = .array(unresolved.map(JSONValue.string)) }
        if !message.inReplyTo.isEmpty { extra["in_reply_to"] = .array(message.inReplyTo.map(JSONValue.string)) }

        // DKIM: recorded as the other importers record a verified signature.
        if let verifier {
            let results = verifier.verify(message, at: occurred)
            let good = results.first(where: \.verified)
            extra["signature_verified"] = .bool(good != nil)
            extra["dkim"] = .array(results.map { .string($0.summary) })
            if let good {
                if let d = good.domain { extra["dkim_domain"] = .string(d) }
                if let s = good.selector { extra["dkim_selector"] = .string(s) }
            }
        }
        // The raw message, covered by the event's hash, so anyone can re-verify it.
        if bytes.count > maxKeptMessageBytes {
            extra["raw_message_kept"] = .bool(false)
        } else if let t = String(validating: bytes, as: UTF8.self), !bytes.contains(0) {
            extra["raw_message_kept"] = .bool(true)
            extra["raw_message"] = .string(t)
        } else {
            extra["raw_message_kept"] = .bool(true)
            extra["raw_message_base64"] = .string(Data(bytes).base64EncodedString())
        }
        let key = message.messageID.map { "email/\($0)" } ?? "email/sha256/\(message.sha256Hex)"
        return .event(Draft(payload: sent, caseID: caseID, occurredAt: occurred, actor: actor, key: key,
                            sourceID: sourceID, extra: extra))
    }
}
