import Crypto
import Events
import Foundation

/// The hash chain: each event's hash is SHA-256 over the previous event's
/// hash followed by the event's canonical bytes. The canonical bytes are a
/// fixed header and length-prefixed fields, each taken from a stored column
/// (jsonb columns as the server's text output of the stored value), so the
/// verifier can rebuild them from what it reads and needs no database
/// function. `Migrations/functions/0001_event_hash.sql` builds the same bytes
/// on append (the one place in SQL that does).
public enum ChainHash {
    public static let genesis = [UInt8](repeating: 0, count: 32)
    static let header = Array("dtledger-event-v1".utf8)

    /// The stored columns that the hash covers, as text.
    public struct Fields {
        public var id: String
        public var position: Int64
        public var caseID: String
        public var version: Int64
        public var type: String
        public var occurredMicros: Int64
        public var recordedMicros: Int64
        public var actor: String
        public var source: String
        public var key: String?
        public var dataText: String
        public var metadataText: String

        public init(id: String, position: Int64, caseID: String, version: Int64, type: String,
                    occurredMicros: Int64, recordedMicros: Int64, actor: String, source: String,
                    key: String?, dataText: String, metadataText: String) {
            self.id = id
            self.position = position
            self.caseID = caseID
            self.version = version
            self.type = type
            self.occurredMicros = occurredMicros
            self.recordedMicros = recordedMicros
            self.actor = actor
            self.source = source
            self.key = key
            self.dataText = dataText
            self.metadataText = metadataText
        }
    }

    public static func canonicalBytes(_ f: Fields) -> [UInt8] {
        var out = header
        out.reserveCapacity(256 + f.dataText.utf8.count + f.metadataText.utf8.count)
        func field(_ text: String?) {
            out.append(0x0A)
            guard let text else { out.append(0x7E); return }  // "~" for NULL
            out.append(contentsOf: String(text.utf8.count).utf8)
            out.append(0x3A)
            out.append(contentsOf: text.utf8)
        }
        field(f.id)
        field(String(f.position))
        field(f.caseID)
        field(String(f.version))
        field(f.type)
        field(String(f.occurredMicros))
        field(String(f.recordedMicros))
        field(f.actor)
        field(f.source)
        field(f.key)
        field(f.dataText)
        field(f.metadataText)
        return out
    }

    public static func hash(previous: [UInt8], fields: Fields) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: canonicalBytes(fields))
        return Array(hasher.finalize())
    }

    public static func sha256Hex(_ text: String) -> String {
        hex(Array(SHA256.hash(data: Array(text.utf8))))
    }

    public static func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }

    public static func bytes(hex: String) -> [UInt8]? { Hex.decode(hex) }
}
