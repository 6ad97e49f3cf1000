import Foundation

/// A JSON value as the ledger stores it. Object keys keep no order: the
/// database's `jsonb` normalises them, and the hash chain is computed over
/// what the database returns, not over what a client sent.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.0e15: return Int64(d)
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The JSON kind, for error messages ("expected a string, got an array").
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? container.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? container.decode(Double.self) {
            self = .double(d)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let a = try? container.decode([JSONValue].self) {
            self = .array(a)
        } else if let o = try? container.decode([String: JSONValue].self) {
            self = .object(o)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .int(let i): try container.encode(i)
        case .double(let d): try container.encode(d)
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }
}

public enum JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(String)
    case invalidUTF8

    public var description: String {
        switch self {
        case .malformed(let detail): "malformed JSON: \(detail)"
        case .invalidUTF8: "malformed JSON: the text is not valid UTF-8"
        }
    }
}

extension JSONValue {
    /// Parses JSON text. Errors name the problem in one line.
    public static func parse(_ data: Data) throws(JSONParseError) -> JSONValue {
        guard String(data: data, encoding: .utf8) != nil else { throw .invalidUTF8 }
        if let value = data.withUnsafeBytes({ raw in FastJSON.parse(raw.bindMemory(to: UInt8.self)) }) {
            return value
        }
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch let DecodingError.dataCorrupted(context) {
            var detail = context.debugDescription
            if let underlying = context.underlyingError {
                let text = (underlying as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
                    ?? String(describing: underlying)
                detail = text
            }
            throw .malformed(detail.replacingOccurrences(of: "\n", with: " "))
        } catch {
            throw .malformed(String(describing: error).replacingOccurrences(of: "\n", with: " "))
        }
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        var text = text
        if let value = text.withUTF8({ FastJSON.parse($0) }) { return value }
        return try parse(Data(text.utf8))
    }

    /// Compact JSON text with sorted keys (stable, for output and for keys).
    public func jsonText() -> String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if d.rounded() == d && abs(d) < 1e15 { out += String(Int64(d)) } else { out += "\(d)" }
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let a):
            out += "["
            for (index, element) in a.enumerated() {
                if index > 0 { out += "," }
                element.write(to: &out)
            }
            out += "]"
        case .object(let o):
            out += "{"
            for (index, key) in o.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                JSONValue.writeString(key, to: &out)
                out += ":"
                o[key]!.write(to: &out)
            }
            out += "}"
        }
    }

    public static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// The first string (key or value) holding a NUL character, as a path.
    /// PostgreSQL text and jsonb cannot store U+0000, so such input is refused.
    public func pathOfNulCharacter(_ path: String = "data") -> String? {
        switch self {
        case .string(let s): return s.contains("\u{0}") ? path : nil
        case .array(let a):
            for (i, v) in a.enumerated() { if let p = v.pathOfNulCharacter("\(path)[\(i)]") { return p } }
            return nil
        case .object(let o):
            for (k, v) in o {
                if k.contains("\u{0}") { return "\(path) (a key)" }
                if let p = v.pathOfNulCharacter("\(path).\(k)") { return p }
            }
            return nil
        default: return nil
        }
    }
}
