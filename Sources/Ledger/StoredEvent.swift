import Events
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

    /// A row of `EventStore.columns` (or `judgingColumns`) read in binary format.
    init(row: Row) {
        position = row.binaryInt64(0) ?? -1
        id = row.binaryUUID(1) ?? ""
        caseID = row[2] ?? ""
        version = row.binaryInt64(3) ?? -1
        type = row[4] ?? ""
        occurredMicros = row.binaryTimestampMicros(5) ?? 0
        recordedMicros = row.binaryTimestampMicros(6) ?? 0
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
        var out: [UInt8] = []
        out.reserveCapacity(256 + dataText.utf8.count + metadataText.utf8.count)
        writeJSONLine(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `jsonLine()`'s UTF-8 bytes to `out` (no newline).
    public func writeJSONLine(to out: inout [UInt8]) {
        func raw(_ text: String) { out.append(contentsOf: text.utf8) }
        raw("{\"position\":"); raw(String(position))
        raw(",\"id\":\""); raw(id)
        raw("\",\"case\":"); JSONValue.writeString(caseID, to: &out)
        raw(",\"version\":"); raw(String(version))
        raw(",\"type\":"); JSONValue.writeString(type, to: &out)
        raw(",\"occurred_at\":\""); RFC3339.writeUTC(microseconds: occurredMicros, to: &out)
        raw("\",\"recorded_at\":\""); RFC3339.writeUTC(microseconds: recordedMicros, to: &out)
        raw("\",\"actor\":"); JSONValue.writeString(actor, to: &out)
        raw(",\"source\":"); JSONValue.writeString(source, to: &out)
        if let key {
            raw(",\"key\":"); JSONValue.writeString(key, to: &out)
        }
        raw(",\"data\":"); raw(dataText)
        raw(",\"metadata\":"); raw(metadataText)
        raw(",\"previous_hash\":\""); raw(previousHash)
        raw("\",\"hash\":\""); raw(hash)
        raw("\"}")
    }
}
