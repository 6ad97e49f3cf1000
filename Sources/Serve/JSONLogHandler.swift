import Events
import Foundation
import Logging
import Synchronization

/// Structured logs: one JSON object per line on stderr (`dtledger serve
/// --log-format json`): time (RFC 3339 UTC), level, label, message and the
/// log's metadata as strings. For log shippers; `text` stays the default.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    static let lock = Mutex(())

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var o: [String: JSONValue] = [
            "time": .string(RFC3339.format(Date())), "level": .string(event.level.rawValue),
            "label": .string(label), "message": .string(event.message.description),
        ]
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { _, b in b } }
        for (k, v) in all where o[k] == nil { o[k] = .string(v.description) }
        let line = JSONValue.object(o).jsonText() + "\n"
        Self.lock.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
    }
}
