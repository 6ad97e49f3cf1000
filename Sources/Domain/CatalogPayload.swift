import Events
import Foundation

/// The typed `data` of one catalog event type.
///
/// Two ways in, one way out:
/// - `init(data:)` reads a `JSONValue` with the catalog's validation (errors
///   name the field, `data.window.start`). The rule engine and
///   `Catalog.decode` use it directly: it is the hot path.
/// - `Decodable` decodes a `JSONValue` and calls `init(data:)`, so a
///   `JSONDecoder` gives the same checks and the same errors.
/// - `json` is the event's data as the CLI and the importers store it
///   (snake_case keys, times as RFC 3339 via `RFC3339.format`, optional
///   fields left out when nil); `Encodable` encodes `json`, so the two agree.
public protocol CatalogPayload: Codable, Sendable {
    /// The event type whose data this is.
    static var eventType: EventType { get }
    init(data: JSONValue) throws(ValidationError)
    var json: JSONValue { get }
}

extension CatalogPayload {
    public init(from decoder: any Decoder) throws {
        try self.init(data: JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try json.encode(to: encoder)
    }

    /// The type of this payload's event (`Self.eventType`).
    public var eventType: EventType { Self.eventType }
}

/// Builds a payload's JSON object: nil values are left out.
struct JSONObjectBuilder {
    private(set) var members: [String: JSONValue] = [:]

    var json: JSONValue { .object(members) }

    mutating func add(_ key: String, _ value: JSONValue?) {
        if let value { members[key] = value }
    }

    mutating func add(_ key: String, _ value: String?) {
        if let value { members[key] = .string(value) }
    }

    mutating func add(_ key: String, _ value: Bool?) {
        if let value { members[key] = .bool(value) }
    }

    mutating func add(_ key: String, _ value: Int64?) {
        if let value { members[key] = .int(value) }
    }

    /// As RFC 3339 text.
    mutating func add(_ key: String, _ value: Date?) {
        if let value { members[key] = .string(RFC3339.format(value)) }
    }

    mutating func add(_ key: String, _ value: [String]?) {
        if let value { members[key] = .array(value.map(JSONValue.string)) }
    }

    /// A closed value as its raw value.
    mutating func add<E: RawRepresentable>(_ key: String, _ value: E?) where E.RawValue == String {
        if let value { members[key] = .string(value.rawValue) }
    }
}
