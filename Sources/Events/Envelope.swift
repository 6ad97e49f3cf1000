import Foundation

/// Where an event came from (DOMAIN.md §1).
public enum EventSource: String, Sendable, CaseIterable, Codable {
    case cli, pagerduty, slack, servicenow, email, `import`
}

/// A problem with an event's envelope or data, naming the field.
/// The CLI maps it to exit code 65 (invalid input).
public struct ValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The field at fault, as a path (`case`, `data.window.start`), or nil.
    public let field: String?
    public let message: String
    /// 1-based line in an input file, when the event came from one.
    public var line: Int?

    public init(field: String?, _ message: String, line: Int? = nil) {
        self.field = field
        self.message = message
        self.line = line
    }

    public var description: String {
        var s = ""
        if let line { s += "line \(line): " }
        if let field { s += "\(field): " }
        return s + message
    }
}

/// An event as a client submits it (DOMAIN.md §1), validated for shape.
public struct Envelope: Sendable, Equatable {
    public var type: String
    public var caseID: String
    public var occurredAt: Date
    public var actor: String
    public var source: EventSource
    public var key: String?
    public var data: JSONValue

    public init(type: String, caseID: String, occurredAt: Date, actor: String,
                source: EventSource = .cli, key: String? = nil, data: JSONValue = .object([:])) {
        self.type = type
        self.caseID = caseID
        self.occurredAt = occurredAt
        self.actor = actor
        self.source = source
        self.key = key
        self.data = data
    }

    /// Defaults the CLI fills in when an envelope leaves them out.
    public struct Defaults: Sendable {
        public var occurredAt: Date?
        public var actor: String?
        public var source: EventSource
        public init(occurredAt: Date? = nil, actor: String? = nil, source: EventSource = .cli) {
            self.occurredAt = occurredAt
            self.actor = actor
            self.source = source
        }
    }

    public static let casePattern = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
    public static let maxKeyLength = 256
    public static let maxActorLength = 128
    public static let maxTypeLength = 128

    /// True when `id` matches `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`.
    public static func isValidCaseID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard (1...64).contains(bytes.count) else { return false }
        for (i, b) in bytes.enumerated() {
            let alnum = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            if alnum { continue }
            if i > 0 && (b == 0x2E || b == 0x5F || b == 0x2D) { continue }
            return false
        }
        return true
    }

    public static func validateCaseID(_ id: String, field: String = "case") throws(ValidationError) {
        guard isValidCaseID(id) else {
            throw ValidationError(field: field, "'\(printable(id))' is not a valid case id (pattern \(casePattern))")
        }
    }

    /// Builds an envelope from one JSON object, applying `defaults`, and
    /// checks its shape: required fields, types, case id, RFC 3339 time,
    /// known source, data an object, no NUL characters.
    public static func parse(_ value: JSONValue, defaults: Defaults = Defaults()) throws(ValidationError) -> Envelope {
        guard let object = value.objectValue else {
            throw ValidationError(field: nil, "an event must be a JSON object, got \(value.kindName)")
        }
        for name in object.keys.sorted() where !knownFields.contains(name) {
            throw ValidationError(field: printable(name), "unknown envelope field; expected \(knownFields.sorted().joined(separator: ", ")) (put event details under data)")
        }
        func string(_ name: String) throws(ValidationError) -> String? {
            guard let v = object[name], v != .null else { return nil }
            guard let s = v.stringValue else {
                throw ValidationError(field: name, "expected a string, got \(v.kindName)")
            }
            return s
        }
        guard let type = try string("type"), !type.isEmpty else {
            throw ValidationError(field: "type", "required field is missing")
        }
        guard let caseID = try string("case") else {
            throw ValidationError(field: "case", "required field is missing")
        }
        let occurredAt: Date
        if let text = try string("occurred_at") {
            do { occurredAt = try RFC3339.parse(text) } catch {
                throw ValidationError(field: "occurred_at", error.description)
            }
        } else if let d = defaults.occurredAt {
            occurredAt = d
        } else {
            throw ValidationError(field: "occurred_at", "required field is missing")
        }
        guard let actor = try string("actor") ?? defaults.actor else {
            throw ValidationError(field: "actor", "required field is missing")
        }
        var source = defaults.source
        if let s = try string("source") {
            guard let known = EventSource(rawValue: s) else {
                throw ValidationError(field: "source", "unknown source '\(printable(s))'; expected one of \(EventSource.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            source = known
        }
        let key = try string("key")
        let data = object["data"] ?? .object([:])
        let envelope = Envelope(type: type, caseID: caseID, occurredAt: occurredAt, actor: actor,
                                source: source, key: key, data: data)
        try envelope.validate()
        return envelope
    }

    static let knownFields: Set<String> = ["type", "case", "occurred_at", "actor", "source", "key", "data"]

    /// Checks the envelope's own fields (not the catalog: see `Process`).
    public func validate() throws(ValidationError) {
        guard !type.isEmpty, type.utf8.count <= Envelope.maxTypeLength, !type.utf8.contains(0) else {
            throw ValidationError(field: "type", "must be 1 to \(Envelope.maxTypeLength) characters")
        }
        try Envelope.validateCaseID(caseID)
        guard !actor.isEmpty, actor.utf8.count <= Envelope.maxActorLength, !actor.utf8.contains(0),
              !actor.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw ValidationError(field: "actor", "must be a directory handle: 1 to \(Envelope.maxActorLength) characters, no spaces")
        }
        if let key {
            guard !key.isEmpty, key.utf8.count <= Envelope.maxKeyLength, !key.utf8.contains(0) else {
                throw ValidationError(field: "key", "must be 1 to \(Envelope.maxKeyLength) bytes with no NUL character")
            }
        }
        guard case .object = data else {
            throw ValidationError(field: "data", "expected a JSON object, got \(data.kindName)")
        }
        if let path = data.pathOfNulCharacter() {
            throw ValidationError(field: path, "contains a NUL character, which the ledger cannot store")
        }
        // Years 1900-9999 in UTC: 1900-01-01T00:00:00Z up to 10000-01-01T00:00:00Z.
        let seconds = occurredAt.timeIntervalSince1970
        guard seconds >= -2_208_988_800, seconds < 253_402_300_800 else {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let year = calendar.component(.year, from: occurredAt)
            throw ValidationError(field: "occurred_at", "year \(year) is outside 1900-9999")
        }
    }
}

/// Shows a user-supplied string safely in a one-line message.
public func printable(_ s: String, limit: Int = 80) -> String {
    // Printable ASCII within the limit comes out unchanged (the common case;
    // the report tables call this for every cell).
    if s.utf8.count <= limit, s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return s }
    var out = ""
    for scalar in s.unicodeScalars.prefix(limit) {
        if scalar.value < 0x20 || scalar.value == 0x7F {
            out += "\\u{\(String(scalar.value, radix: 16))}"
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
    if s.unicodeScalars.count > limit { out += "…" }
    return out
}

/// An event as the ledger stored it.
public struct RecordedEvent: Sendable, Equatable {
    public var id: String
    public var position: Int64
    public var caseID: String
    public var version: Int64
    public var type: String
    public var occurredAt: Date
    public var recordedAt: Date
    public var actor: String
    public var source: String
    public var key: String?
    public var data: JSONValue
    public var metadata: JSONValue
    /// Hex SHA-256 of the previous event's hash and this event's canonical bytes.
    public var hash: String
    public var previousHash: String

    public init(id: String, position: Int64, caseID: String, version: Int64, type: String,
                occurredAt: Date, recordedAt: Date, actor: String, source: String, key: String?,
                data: JSONValue, metadata: JSONValue = .object([:]), hash: String = "", previousHash: String = "") {
        self.id = id
        self.position = position
        self.caseID = caseID
        self.version = version
        self.type = type
        self.occurredAt = occurredAt
        self.recordedAt = recordedAt
        self.actor = actor
        self.source = source
        self.key = key
        self.data = data
        self.metadata = metadata
        self.hash = hash
        self.previousHash = previousHash
    }

    /// The event as one JSON object (stable key order), for `read` and reports.
    public func json(duplicate: Bool? = nil) -> JSONValue {
        var o: [String: JSONValue] = [
            "id": .string(id), "position": .int(position), "case": .string(caseID),
            "version": .int(version), "type": .string(type),
            "occurred_at": .string(RFC3339.format(occurredAt)),
            "recorded_at": .string(RFC3339.format(recordedAt)),
            "actor": .string(actor), "source": .string(source),
            "data": data, "metadata": metadata, "hash": .string(hash), "previous_hash": .string(previousHash),
        ]
        if let key { o["key"] = .string(key) }
        if let duplicate { o["duplicate"] = .bool(duplicate) }
        return .object(o)
    }
}
