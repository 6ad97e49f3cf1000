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
        // Deeper documents are refused before JSONDecoder sees them: it takes
        // seconds on a few kilobytes nested hundreds of levels deep, and the
        // database refuses them too (Migrations/functions, check_decodable).
        if data.withUnsafeBytes({ raw in Self.nestsDeeper(than: maxDepth, raw.bindMemory(to: UInt8.self)) }) {
            throw .malformed("arrays and objects nested more than \(maxDepth) levels deep")
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

    /// The deepest nesting of arrays and objects a document may have.
    public static let maxDepth = 256

    /// Whether arrays and objects nest deeper than `limit` (brackets inside
    /// strings do not count). One pass over the bytes, no allocation.
    static func nestsDeeper(than limit: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var depth = 0, inString = false, escaped = false
        for b in bytes {
            if inString {
                if escaped { escaped = false } else if b == 0x5C { escaped = true } else if b == 0x22 { inString = false }
                continue
            }
            switch b {
            case 0x22: inString = true
            case 0x5B, 0x7B:
                depth += 1
                if depth > limit { return true }
            case 0x5D, 0x7D: depth -= 1
            default: break
            }
        }
        return false
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        var text = text
        if let value = text.withUTF8({ FastJSON.parse($0) }) { return value }
        return try parse(Data(text.utf8))
    }

    /// Compact JSON text with sorted keys (stable, for output and for keys).
    public func jsonText() -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the compact JSON text's UTF-8 bytes (the same text as
    /// `jsonText()`: keys sorted, no spaces) to `out`.
    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d):
            if d.rounded() == d && abs(d) < 1e15 { out.append(contentsOf: String(Int64(d)).utf8) } else {
                out.append(contentsOf: "\(d)".utf8)
            }
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let a):
            out.append(0x5B)
            for (index, element) in a.enumerated() {
                if index > 0 { out.append(0x2C) }
                element.write(to: &out)
            }
            out.append(0x5D)
        case .object(let o):
            out.append(0x7B)
            for (index, key) in o.keys.sorted().enumerated() {
                if index > 0 { out.append(0x2C) }
                JSONValue.writeString(key, to: &out)
                out.append(0x3A)
                o[key]!.write(to: &out)
            }
            out.append(0x7D)
        }
    }

    /// The length in bytes of `jsonText()`, without building it.
    public var jsonByteCount: Int {
        switch self {
        case .null: 4
        case .bool(let b): b ? 4 : 5
        case .int, .double:
            jsonText().utf8.count
        case .string(let s): JSONValue.quotedByteCount(s)
        case .array(let a): 2 + max(0, a.count - 1) + a.reduce(0) { $0 + $1.jsonByteCount }
        case .object(let o):
            2 + max(0, o.count - 1) + o.reduce(0) { $0 + JSONValue.quotedByteCount($1.key) + 1 + $1.value.jsonByteCount }
        }
    }

    private static func quotedByteCount(_ s: String) -> Int {
        var n = 2
        for b in s.utf8 {
            switch b {
            case 0x22, 0x5C, 0x0A, 0x0D, 0x09: n += 2
            case 0..<0x20: n += 6
            default: n += 1
            }
        }
        return n
    }

    /// Appends `s` as a JSON string: quotes, backslash escapes for `"`, `\`,
    /// newline, return and tab, `\u00xx` for the other control characters.
    /// Escaping works on UTF-8 bytes: multi-byte sequences never contain
    /// ASCII bytes, so they pass through unchanged.
    public static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        for b in s.utf8 {
            switch b {
            case 0x22: out.append(0x5C); out.append(0x22)
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x0A: out.append(0x5C); out.append(0x6E)
            case 0x0D: out.append(0x5C); out.append(0x72)
            case 0x09: out.append(0x5C); out.append(0x74)
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: out.append(b)
            }
        }
        out.append(0x22)
    }

    /// The first string (key or value) holding a NUL character, as a path.
    /// PostgreSQL text and jsonb cannot store U+0000, so such input is refused.
    public func pathOfNulCharacter(_ path: String = "data") -> String? {
        guard containsNul else { return nil }
        switch self {
        case .string: return path
        case .array(let a):
            for (i, v) in a.enumerated() { if let p = v.pathOfNulCharacter("\(path)[\(i)]") { return p } }
            return nil
        case .object(let o):
            for (k, v) in o {
                if k.utf8.contains(0) { return "\(path) (a key)" }
                if let p = v.pathOfNulCharacter("\(path).\(k)") { return p }
            }
            return nil
        default: return nil
        }
    }

    /// Whether any string (key or value) holds U+0000 (a byte scan; the
    /// path is only built when one does).
    private var containsNul: Bool {
        switch self {
        case .string(let s): s.utf8.contains(0)
        case .array(let a): a.contains { $0.containsNul }
        case .object(let o): o.contains { $0.key.utf8.contains(0) || $0.value.containsNul }
        default: false
        }
    }
}
