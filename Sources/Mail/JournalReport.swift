import Foundation

/// A journaling copy of a message: the original attached (message/rfc822)
/// to an outer message that also says who the message was delivered to (the
/// envelope, where Bcc'd addresses and expanded lists appear).
/// docs/importers.md, "Journal reports (envelope recipients)".
///
/// Two shapes are recognised:
/// - **Exchange / Microsoft 365 envelope journal reports**: the outer message
///   has `X-MS-Journal-Report` or `Content-Identifier: ExJournalReport`; its
///   text part lists `Sender:`, `Subject:`, `Message-Id:` and one line per
///   envelope recipient, `To:`, `Cc:`, `Bcc:` or `Recipient:` followed by
///   the address, optionally `, Expanded: <list>` or `, Forwarded: <address>`.
/// - **A generic journaling copy**: an outer message with no text of its
///   own, one attached message, and envelope recipients in `X-Envelope-To`,
///   `Envelope-To`, `X-Original-To` or `Delivered-To` fields (the outer
///   message's own To and Cc, the journaling mailbox, are not recipients of
///   the original).
public struct JournalReport: Sendable {
    public enum Kind: String, Sendable { case exchange, generic }

    /// One envelope recipient as the report gives it.
    public struct Recipient: Sendable, Equatable {
        /// `to`, `cc`, `bcc`, `recipient` (Exchange could not tell which) or,
        /// for a generic copy, the field's name lowercased (`x-envelope-to`).
        public let field: String
        /// The address, lowercased.
        public let address: String
        /// Exchange `Expanded:`: the distribution list that was addressed and
        /// expanded to `address`.
        public let expanded: String?
        /// Exchange `Forwarded:`: the recipient that was forwarded to `address`.
        public let forwarded: String?

        public init(field: String, address: String, expanded: String? = nil, forwarded: String? = nil) {
            self.field = field
            self.address = address
            self.expanded = expanded
            self.forwarded = forwarded
        }

        /// Every address this line names: the recipient, then the list it
        /// was expanded from or the address it was forwarded from.
        public var addresses: [String] { [address] + [expanded, forwarded].compactMap { $0 } }
    }

    public let kind: Kind
    /// The journaled message; nil when the report has none attached (or
    /// none that parses).
    public let original: MailMessage?
    /// The envelope recipients, in order, without repeats.
    public let recipients: [Recipient]
    /// Exchange: the report's `Message-Id:` line (without angle brackets).
    public let reportedMessageID: String?
    /// Exchange: the report's `Sender:` line.
    public let sender: String?

    /// Envelope-recipient fields of a generic journaling copy.
    public static let envelopeFields = ["X-Envelope-To", "Envelope-To", "X-Original-To", "Delivered-To"]

    /// Whether these top-level fields mark an Exchange journal report.
    public static func isExchangeReport(_ headers: [MailHeader]) -> Bool {
        headers.contains { $0.is("X-MS-Journal-Report") }
            || headers.contains { $0.is("Content-Identifier") && trimWSP($0.value).caseInsensitiveCompare("ExJournalReport") == .orderedSame }
    }

    /// The journal report `message` is, or nil when it is an ordinary message.
    public static func of(_ message: MailMessage) -> JournalReport? {
        if isExchangeReport(message.headers) { return exchange(message) }
        return generic(message)
    }

    static func exchange(_ message: MailMessage) -> JournalReport {
        var recipients: [Recipient] = []
        var reportedID: String?
        var sender: String?
        for raw in (message.text ?? "").split(whereSeparator: \.isNewline) {
            let line = trimWSP(Substring(raw))
            guard let colon = line.firstIndex(of: ":") else { continue }
            let label = line[..<colon].lowercased()
            let value = String(trimWSP(line[line.index(after: colon)...]))
            switch label {
            case "sender": if sender == nil { sender = firstAddress(value) }
            case "message-id": if reportedID == nil { reportedID = MessageIDs.parse(value).first }
            case "to", "cc", "bcc", "recipient":
                // "addr" or "addr, Expanded: list" or "addr, Forwarded: orig".
                var address = value
                var expanded: String?, forwarded: String?
                if let comma = value.firstIndex(of: ",") {
                    address = String(trimWSP(value[..<comma]))
                    let rest = trimWSP(value[value.index(after: comma)...])
                    if let c = rest.firstIndex(of: ":") {
                        let kind = trimWSP(rest[..<c]).lowercased()
                        let source = firstAddress(String(trimWSP(rest[rest.index(after: c)...])))
                        if kind == "expanded" { expanded = source } else if kind == "forwarded" { forwarded = source }
                    }
                }
                if let a = firstAddress(address) {
                    let r = Recipient(field: label, address: a, expanded: expanded, forwarded: forwarded)
                    if !recipients.contains(r) { recipients.append(r) }
                }
            default: continue
            }
        }
        let attached = message.attachedMessages()
        // The attachment that is the reported message, else the only one.
        let original = attached.first { reportedID != nil && $0.messageID == reportedID } ?? (attached.count == 1 ? attached[0] : nil)
        return JournalReport(kind: .exchange, original: original, recipients: recipients, reportedMessageID: reportedID, sender: sender)
    }

    static func generic(_ message: MailMessage) -> JournalReport? {
        let fields = message.headers.filter { h in envelopeFields.contains { h.is($0) } }
        guard !fields.isEmpty else { return nil }
        // A wrapper: exactly one attached message, and no text of its own (a
        // person's "forward as attachment" says something).
        guard message.root.allParts.filter({ $0.mediaType == "message/rfc822" }).count == 1,
              (message.text ?? "").allSatisfy(\.isWhitespace) else { return nil }
        guard let original = message.attachedMessages().first else { return nil }
        let mailbox = Set((message.to + message.cc).map(\.normalized))
        var recipients: [Recipient] = []
        for f in fields {
            for a in addressList(f.value) where !mailbox.contains(a) {
                let r = Recipient(field: f.name.lowercased(), address: a)
                if !recipients.contains(where: { $0.address == a }) { recipients.append(r) }
            }
        }
        return JournalReport(kind: .generic, original: original, recipients: recipients, reportedMessageID: nil, sender: nil)
    }

    /// The addresses of a field value, lowercased: an address list when it
    /// parses, else every whitespace- or comma-separated token with an `@`.
    static func addressList(_ value: String) -> [String] {
        if let list = try? MailAddress.parseList(value), !list.isEmpty { return list.map(\.normalized) }
        return value.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" || $0 == ";" })
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "<>")).lowercased() }
            .filter { $0.contains("@") }
    }

    static func firstAddress(_ value: String) -> String? { addressList(value).first }
}

extension MailMessage {
    /// The top-level header fields of a message, without parsing its body
    /// (cheap: for computing a received message's refs). Throws as `parse`
    /// does for a malformed header section.
    public static func headerFields(_ bytes: [UInt8], limits: MailLimits = .standard) throws -> [MailHeader] {
        if bytes.isEmpty { throw MailError("the message is empty") }
        return try HeaderSection.split(bytes[...], limits: limits, top: true)?.fields ?? []
    }

    /// The message ids of a Message-ID, In-Reply-To or References value,
    /// without angle brackets.
    public static func messageIDs(in value: String) -> [String] { MessageIDs.parse(value) }
}
