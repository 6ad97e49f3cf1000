import Crypto
import Events
import Foundation

/// One payload as it was saved: its raw body bytes, and the HTTP headers and
/// receipt time when it was saved with them (docs/importers.md, "Input files").
public struct RawPayload: Sendable, Equatable {
    /// 1-based item number in the input (the line of a JSONL file, else 1..n).
    public var item: Int
    /// The body exactly as received: what signatures and the payload hash cover.
    public var body: Data
    /// Header names lowercased.
    public var headers: [String: String]
    /// When the receiver saved it (`received_at`), if it said.
    public var receivedAt: Date?

    public init(item: Int, body: Data, headers: [String: String] = [:], receivedAt: Date? = nil) {
        self.item = item
        self.body = body
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        self.receivedAt = receivedAt
    }

    /// Hex SHA-256 of the raw body.
    public var sha256: String {
        SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined()
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// A payload (or one record of a payload) the importer cannot map, with why:
/// the importers' error type. `code` says which kind of problem (for
/// callers that branch on it); `reason` is the message.
public struct Unmapped: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of problem. Extensible: a new importer may add its own.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The input, a saved payload or a body is not readable (not JSON, a malformed wrapper).
        public static let unreadable = Code(rawValue: "unreadable")
        /// The payload's signature does not verify (fails the whole import).
        public static let signature = Code(rawValue: "signature")
        /// The importer does not map this payload (an unsupported type, a missing field).
        public static let notMapped = Code(rawValue: "not_mapped")
        /// The event maps to no case.
        public static let noCase = Code(rawValue: "no_case")
        /// The mapped event fails the envelope or catalog checks.
        public static let invalidEvent = Code(rawValue: "invalid_event")
        /// The event's case was never opened.
        public static let caseNotOpened = Code(rawValue: "case_not_opened")
    }

    public var item: Int
    /// The source's id of the thing (event id, record number), when known.
    public var sourceID: String?
    public var reason: String
    public var code: Code

    public init(item: Int, sourceID: String? = nil, reason: String, code: Code = .notMapped) {
        self.item = item
        self.sourceID = sourceID
        self.reason = reason
        self.code = code
    }

    public var description: String {
        "item \(item)\(sourceID.map { " (\(printable($0)))" } ?? ""): \(reason)"
    }
}

/// Reads an input file: a single JSON payload, a JSON array of payloads, or
/// JSON Lines; any payload may be wrapped as
/// `{"headers": {...}, "body": "<raw body>", "received_at": "<RFC 3339>"}`.
public enum PayloadFile {
    public static func read(_ data: Data) -> (payloads: [RawPayload], unreadable: [Unmapped]) {
        var payloads: [RawPayload] = []
        var unreadable: [Unmapped] = []
        func add(_ value: JSONValue, raw: Data, item: Int) {
            if let wrapper = value.objectValue, let body = wrapper["body"], wrapper["headers"] != nil {
                guard let text = body.stringValue else {
                    unreadable.append(Unmapped(item: item, reason: "saved payload: body must be the raw body as a string, got \(body.kindName)",
                                               code: .unreadable))
                    return
                }
                var headers: [String: String] = [:]
                for (name, v) in wrapper["headers"]?.objectValue ?? [:] {
                    if let s = v.stringValue { headers[name] = s } else if let a = v.arrayValue?.compactMap(\.stringValue) {
                        headers[name] = a.joined(separator: ",")
                    }
                }
                var received: Date?
                if let r = wrapper["received_at"]?.stringValue {
                    do { received = try RFC3339.parse(r) } catch {
                        unreadable.append(Unmapped(item: item, reason: "saved payload: received_at: \(error.description)", code: .unreadable))
                        return
                    }
                }
                payloads.append(RawPayload(item: item, body: Data(text.utf8), headers: headers, receivedAt: received))
            } else {
                payloads.append(RawPayload(item: item, body: raw))
            }
        }
        if let whole = try? JSONValue.parse(data) {
            if let array = whole.arrayValue {
                for (i, element) in array.enumerated() { add(element, raw: Data(element.jsonText().utf8), item: i + 1) }
            } else {
                add(whole, raw: data, item: 1)
            }
            return (payloads, unreadable)
        }
        var line = 0
        for bytes in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
            line += 1
            let trimmed = bytes.last == 0x0D ? bytes.dropLast() : bytes
            if trimmed.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            do {
                add(try JSONValue.parse(Data(trimmed)), raw: Data(trimmed), item: line)
            } catch {
                unreadable.append(Unmapped(item: line, reason: error.description, code: .unreadable))
            }
        }
        return (payloads, unreadable)
    }
}

/// The body of a payload as JSON, or why not.
func parsedBody(_ payload: RawPayload) -> Result<JSONValue, Unmapped> {
    do { return .success(try JSONValue.parse(payload.body)) } catch {
        return .failure(Unmapped(item: payload.item, reason: "body: \(error.description)", code: .unreadable))
    }
}
