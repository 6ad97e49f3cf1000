import Events
import Foundation
import Domain
import Mail

/// RFC 5322 messages -> `notification.sent` on the `email` channel
/// (docs/importers.md, "dtledger import email", "Threads" and "Journal
/// reports"). The message template is Slack's (labelled lines, `Case:` and
/// `Purpose:`), read from the text part. A journal report maps the original
/// message it carries, with the report's envelope recipients added to the
/// audience.
public enum EmailImporter {
    /// The largest raw message kept whole in the event's metadata
    /// (`import.raw_message`); larger ones keep only `payload_sha256`.
    public static let maxKeptMessageBytes = KeptSignature.maxKeptPayloadBytes

    /// At most this many ids of a message's In-Reply-To and References
    /// (newest first) are followed to find its thread's case.
    public static let maxThreadParents = 20

    /// Each payload's `body` is one raw message. With a `verifier`, every
    /// message's DKIM signatures are checked (at its Date, else `context.now`)
    /// and the result recorded; a message that is unsigned or fails is still
    /// imported, as unverified.
    ///
    /// A first pass over the whole batch learns each message's explicit case
    /// and its journal reports' envelope recipients, so that a reply finds
    /// its parent's case whatever their order in the mailbox.
    public static func map(_ payloads: [RawPayload], context: ImportContext, verifier: DKIMVerifier?) -> ImportOutcome {
        let batch = Batch(payloads, context: context)
        return Pipeline.run(payloads, source: .email, context: context, verify: nil,
                            parse: { _ in .success(.null) },
                            map: { payload, _ in [mapMessage(payload, context: context, verifier: verifier, batch: batch)] })
    }

    // MARK: Refs for a receiver

    /// The Message-ID a received message is mapped under (a journal report:
    /// its attached original's), and the delivery's own Message-ID (a
    /// journal report: the report's). Reads only the header section unless
    /// the message is a journal report. Never throws: nil when unreadable or
    /// absent.
    public static func identity(_ body: Data) -> (mapped: String?, own: String?) {
        guard let h = headers(body) else { return (nil, nil) }
        return (h.mapped.first { $0.is("Message-ID") }.flatMap { MailMessage.messageIDs(in: $0.value).first }, h.own)
    }

    /// The ids a received message answers (In-Reply-To, then References
    /// newest first; at most `maxThreadParents`), of the original for a
    /// journal report: what a caller asks the ledger about before mapping.
    /// Cheap and never throws, as `identity`.
    public static func parents(_ body: Data) -> [String] {
        guard let h = headers(body) else { return [] }
        func ids(_ name: String) -> [String] {
            h.mapped.filter { $0.is(name) }.flatMap { MailMessage.messageIDs(in: $0.value) }
        }
        return threadParents(own: ids("Message-ID").first, inReplyTo: ids("In-Reply-To"), references: ids("References"))
    }

    /// In-Reply-To, then References newest first, without repeats or the
    /// message's own id, at most `maxThreadParents`: the parents a reply's
    /// case is looked for in, in order.
    static func threadParents(own: String?, inReplyTo: [String], references: [String]) -> [String] {
        var out: [String] = []
        for id in inReplyTo + references.reversed() where id != own && !out.contains(id) { out.append(id) }
        return Array(out.prefix(maxThreadParents))
    }

    /// The header fields of the message a body is mapped as (a journal
    /// report's attached original) and the outer message's own Message-ID. Only the header section is read
    /// unless the fields say it may be a journal report.
    static func headers(_ body: Data) -> (mapped: [MailHeader], own: String?)? {
        let bytes = [UInt8](body)
        guard let headers = try? MailMessage.headerFields(bytes) else { return nil }
        let own = headers.first { $0.is("Message-ID") }.flatMap { MailMessage.messageIDs(in: $0.value).first }
        let maybeJournal = JournalReport.isExchangeReport(headers)
            || headers.contains { h in JournalReport.envelopeFields.contains { h.is($0) } }
            && headers.contains { $0.is("Content-Type") && $0.value.lowercased().hasPrefix("multipart/") }
        guard maybeJournal, let message = try? MailMessage.parse(bytes), let report = JournalReport.of(message) else {
            return (headers, own)
        }
        return (report.original?.headers ?? [], own)
    }

    // MARK: Reading one message

    /// A message as it is mapped: the message itself, or a journal report's
    /// attached original and the report.
    struct Read {
        let outer: MailMessage
        let message: MailMessage
        let journal: JournalReport?
        let text: String
        let subject: String
        let labels: [(label: String, value: String)]
        /// `--case`, a `Case:` line, a case id in the subject, else in the text.
        let explicitCase: String?
        /// In-Reply-To, then References newest first; without repeats or the
        /// message's own id; at most `maxThreadParents`.
        let parents: [String]
    }

    static func read(_ bytes: [UInt8], context: ImportContext) -> Result<Read, Unmapped> {
        let outer: MailMessage
        do { outer = try MailMessage.parse(bytes) } catch {
            return .failure(Unmapped(item: 0, reason: "not a readable message: \(error)", code: .unreadable))
        }
        var message = outer
        let journal = JournalReport.of(outer)
        if let journal {
            guard let original = journal.original else {
                let named = journal.recipients.isEmpty ? "" : " naming \(journal.recipients.count) envelope recipient(s)"
                return .failure(Unmapped(item: 0, sourceID: journal.reportedMessageID ?? outer.messageID ?? outer.sha256Hex,
                                         reason: "a journal report\(named) without an attached message (message/rfc822): nothing to map"))
            }
            if let reported = journal.reportedMessageID, let attached = original.messageID, reported != attached {
                return .failure(Unmapped(item: 0, sourceID: reported,
                                         reason: "the journal report names Message-Id <\(printable(reported))> but its attached message is <\(printable(attached))>"))
            }
            message = original
        }
        let text = message.text ?? ""
        let subject = message.subject ?? ""
        let labels = Labels.lines(text)
        let explicitCase = context.caseOverride
            ?? labels.first(where: { $0.label == "case" }).map(\.value).flatMap(Labels.caseID(in:))
            ?? Labels.caseID(in: subject) ?? Labels.caseID(in: text)
        return .success(Read(outer: outer, message: message, journal: journal, text: text, subject: subject, labels: labels,
                             explicitCase: explicitCase,
                             parents: threadParents(own: message.messageID, inReplyTo: message.inReplyTo, references: message.references)))
    }

    // MARK: The batch's first pass

    /// The case a reply took from its thread, and how it was found
    /// (`thread_case_from`: `batch`, `in_reply_to` or `references`).
    struct ThreadCase: Equatable {
        let caseID: String
        let from: String
        let parent: String
    }

    /// What the first pass learns: each item's thread case (when it names no
    /// case of its own), and the envelope recipients of every journal report
    /// of a message, joined (a message journaled in several reports).
    struct Batch {
        var threads: [Int: ThreadCase] = [:]
        var envelopes: [String: [JournalReport.Recipient]] = [:]

        init(_ payloads: [RawPayload], context: ImportContext) {
            var nodes: [String: Node] = [:]
            var replies: [(item: Int, node: Node)] = []
            for p in payloads {
                guard case .success(let r) = read([UInt8](p.body), context: context) else { continue }
                let node = Node(explicitCase: r.explicitCase, parents: r.parents, inReplyTo: Set(r.message.inReplyTo))
                if let id = r.message.messageID {
                    if nodes[id] == nil { nodes[id] = node }
                    if let journal = r.journal {
                        var joined = envelopes[id] ?? []
                        for x in journal.recipients where !joined.contains(x) { joined.append(x) }
                        envelopes[id] = joined
                    }
                }
                if node.explicitCase == nil, !node.parents.isEmpty { replies.append((p.item, node)) }
            }
            var resolver = Resolver(nodes: nodes, lookups: context.lookups)
            for (item, node) in replies { if let t = resolver.thread(node) { threads[item] = t } }
        }
    }

    struct Node {
        let explicitCase: String?
        let parents: [String]
        let inReplyTo: Set<String>
    }

    /// Follows parents through the batch (memoised, cycles cut) and then the
    /// ledger or the receiver (`CaseLookups.caseForRef`).
    struct Resolver {
        let nodes: [String: Node]
        let lookups: CaseLookups?
        var known: [String: String?] = [:]
        var asked: [String: String?] = [:]
        var visiting: Set<String> = []

        /// The case of a message of the batch: its own, else its thread's.
        mutating func caseOf(_ id: String) -> String? {
            if let k = known[id] { return k }
            guard let node = nodes[id], visiting.insert(id).inserted else { return nil }
            defer { visiting.remove(id) }
            let c = node.explicitCase ?? thread(node)?.caseID
            known[id] = .some(c)
            return c
        }

        /// The first parent (newest first) whose case is known.
        mutating func thread(_ node: Node) -> ThreadCase? {
            for p in node.parents {
                if nodes[p] != nil, let c = caseOf(p) { return ThreadCase(caseID: c, from: "batch", parent: p) }
                if let c = ledgerCase(p) {
                    return ThreadCase(caseID: c, from: node.inReplyTo.contains(p) ? "in_reply_to" : "references", parent: p)
                }
            }
            return nil
        }

        mutating func ledgerCase(_ id: String) -> String? {
            if let a = asked[id] { return a }
            let c = lookups?.caseForRef(Refs.emailRef(messageID: id))
            asked[id] = .some(c)
            return c
        }
    }

    // MARK: Mapping one message

    static func mapMessage(_ payload: RawPayload, context: ImportContext, verifier: DKIMVerifier?, batch: Batch) -> Mapped {
        let bytes = [UInt8](payload.body)
        let r: Read
        switch read(bytes, context: context) {
        case .success(let x): r = x
        case .failure(let u): return .skip(sourceID: u.sourceID, reason: u.reason, code: u.code)
        }
        let message = r.message
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

        // To, Cc (and Bcc when the copy shows it), then a journal report's
        // envelope recipients -> audience refs.
        var audience: [String] = []
        var unresolved: [String] = []
        var recipients: [String] = []
        for field in ["To", "Cc", "Bcc"] {
            do { recipients += try message.addresses(field).map(\.normalized) } catch {
                return .skip(sourceID: sourceID, reason: "\(field): \(error)")
            }
        }
        let envelope = r.journal.map { j in message.messageID.flatMap { batch.envelopes[$0] } ?? j.recipients } ?? []
        recipients += envelope.flatMap(\.addresses)
        for address in recipients {
            let ref = directory?.person(email: address)?.handle ?? directory?.group(email: address)?.handle
            if let ref { if !audience.contains(ref) { audience.append(ref) } } else {
                if !unresolved.contains(address) { unresolved.append(address) }
                if !audience.contains(address) { audience.append(address) }
            }
        }

        var extra: [String: JSONValue] = [:]
        var caseID = r.explicitCase
        if caseID == nil, let t = batch.threads[payload.item] {
            caseID = t.caseID
            extra["thread_case_from"] = .string(t.from)
            extra["thread_parent"] = .string(t.parent)
        }
        let kind = caseID.flatMap { context.knownCases[$0] } ?? caseID.map { $0.hasPrefix("PD-") ? CaseKind.plannedDowntime : .incident }
        var content: [String: String] = [:]
        for (label, value) in r.labels where !SlackImporter.controlLabels.contains(label) {
            var field = SlackImporter.aliases[label] ?? label
            if field == "impact" { field = kind == .plannedDowntime ? "anticipated_impact" : "estimated_user_impact" }
            content[field] = value
        }
        guard !content.isEmpty else {
            return .skip(sourceID: sourceID, reason: "no labelled content lines (Summary:, Impact:, ...) in the text: not a notification of the template")
        }
        var purpose: NotificationPurpose?
        if let purposeText = r.labels.first(where: { $0.label == "purpose" })?.value {
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
        guard !audience.isEmpty else {
            return .skip(sourceID: sourceID, reason: "the message has no To or Cc recipients\(r.journal == nil ? "" : " and the journal report no envelope recipients")")
        }

        let destination = message.to.first?.normalized ?? recipients.first!
        let sent = NotificationSent(channel: .email, destination: destination, audience: audience, purpose: purpose,
                                    content: content, messageRef: message.messageID)
        if let sender { extra["source_actor"] = .string(sender.normalized) }
        if !r.subject.isEmpty { extra["email_subject"] = .string(r.subject) }
        if !unresolved.isEmpty { extra["unresolved_recipients"] = .array(unresolved.map(JSONValue.string)) }
        if !message.inReplyTo.isEmpty { extra["in_reply_to"] = .array(message.inReplyTo.map(JSONValue.string)) }
        if !message.references.isEmpty { extra["references"] = .array(message.references.map(JSONValue.string)) }
        if let journal = r.journal {
            extra["journal_report"] = .bool(true)
            extra["journal_kind"] = .string(journal.kind.rawValue)
            extra["envelope_recipients"] = .array(envelope.map(json))
            extra["original_sha256"] = .string(message.sha256Hex)
            if let id = r.outer.messageID { extra["journal_report_message_id"] = .string(id) }
        }

        // DKIM (of the original, for a journal report): recorded as the other
        // importers record a verified signature.
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
        // The raw message as received (a journal report whole: the original
        // is inside it, unaltered), covered by the event's hash, so anyone
        // can re-verify it.
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

    static func json(_ r: JournalReport.Recipient) -> JSONValue {
        var o: [String: JSONValue] = ["field": .string(r.field), "address": .string(r.address)]
        if let e = r.expanded { o["expanded"] = .string(e) }
        if let f = r.forwarded { o["forwarded"] = .string(f) }
        return .object(o)
    }
}
