import Envelope
import Foundation
import Postgres

/// One stored event as read, with its JSON columns still as text (cheap to
/// stream, exact for hashing). `decoded()` parses them.
public struct StoredEvent: Sendable {
    public let position: Int64
    public let id: String
    public let caseID: String
    public let version: Int64
    public let type: String
    public let occurredMicros: Int64
    public let recordedMicros: Int64
    public let actor: String
    public let source: String
    public let key: String?
    public let dataText: String
    public let metadataText: String
    public let previousHash: String
    public let hash: String

    init(row: Row) {
        position = row.int64(0) ?? -1
        id = row[1] ?? ""
        caseID = row[2] ?? ""
        version = row.int64(3) ?? -1
        type = row[4] ?? ""
        occurredMicros = row.int64(5) ?? 0
        recordedMicros = row.int64(6) ?? 0
        actor = row[7] ?? ""
        source = row[8] ?? ""
        key = row[9]
        dataText = row[10] ?? ""
        metadataText = row[11] ?? ""
        previousHash = row[12] ?? ""
        hash = row[13] ?? ""
    }

    public var hashFields: ChainHash.Fields {
        ChainHash.Fields(id: id, position: position, caseID: caseID, version: version, type: type,
                         occurredMicros: occurredMicros, recordedMicros: recordedMicros, actor: actor,
                         source: source, key: key, dataText: dataText, metadataText: metadataText)
    }

    public func decoded() throws -> RecordedEvent {
        RecordedEvent(id: id, position: position, caseID: caseID, version: version, type: type,
                      occurredAt: RFC3339.date(microseconds: occurredMicros),
                      recordedAt: RFC3339.date(microseconds: recordedMicros),
                      actor: actor, source: source, key: key,
                      data: try JSONValue.parse(dataText), metadata: try JSONValue.parse(metadataText),
                      hash: hash, previousHash: previousHash)
    }

    /// One JSON line, with `data` and `metadata` copied verbatim.
    public func jsonLine() -> String {
        var out = "{\"position\":\(position),\"id\":\"\(id)\",\"case\":"
        JSONValue.writeString(caseID, to: &out)
        out += ",\"version\":\(version),\"type\":"
        JSONValue.writeString(type, to: &out)
        out += ",\"occurred_at\":\"\(RFC3339.format(RFC3339.date(microseconds: occurredMicros)))\""
        out += ",\"recorded_at\":\"\(RFC3339.format(RFC3339.date(microseconds: recordedMicros)))\",\"actor\":"
        JSONValue.writeString(actor, to: &out)
        out += ",\"source\":"
        JSONValue.writeString(source, to: &out)
        if let key {
            out += ",\"key\":"
            JSONValue.writeString(key, to: &out)
        }
        out += ",\"data\":\(dataText),\"metadata\":\(metadataText),\"previous_hash\":\"\(previousHash)\",\"hash\":\"\(hash)\"}"
        return out
    }
}
