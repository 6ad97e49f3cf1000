import Domain
import Events
import Foundation
import Ledger

/// A stored event a reader could not decode (JSON the parser refuses:
/// nesting deeper than it reads, a number out of range; or data the
/// catalog cannot decode): skipped by every judgement and listed in every
/// report, with why, so one bad write cannot stop an audit.
public struct UndecodableEvent: Sendable, Equatable {
    public let caseID: String
    public let position: Int64
    public let id: String
    public let type: String
    /// Why, one line.
    public let reason: String

    public init(caseID: String, position: Int64, id: String, type: String, reason: String) {
        self.caseID = caseID
        self.position = position
        self.id = id
        self.type = type
        self.reason = String(reason.map { $0.isNewline ? " " : $0 })
    }

    public var json: JSONValue {
        .object(["case": .string(caseID), "position": .int(position), "id": .string(id), "type": .string(type),
                 "reason": .string(reason)])
    }

    /// One line for a text report.
    public var line: String { "position \(position), event \(id) (\(type)), case \(caseID): \(reason)" }

    /// `stored` decoded, each event its JSON parsed and (with `catalog`) its
    /// data decoded by the catalog. One whose JSON cannot be parsed is left
    /// out; one the catalog cannot decode stays (nil in `decoded`, which the
    /// engine passes over); both are returned in `undecodable`. The
    /// catalog decoding is returned too, for the engine (which would
    /// otherwise decode each event again).
    static func decode(_ stored: [StoredEvent], catalog: Bool)
        -> (events: [RecordedEvent], decoded: [CatalogEvent?]?, undecodable: [UndecodableEvent]) {
        var events: [RecordedEvent] = []
        events.reserveCapacity(stored.count)
        var decoded: [CatalogEvent?] = []
        if catalog { decoded.reserveCapacity(stored.count) }
        var undecodable: [UndecodableEvent] = []
        for s in stored {
            let event: RecordedEvent
            do { event = try s.decoded() } catch {
                undecodable.append(UndecodableEvent(caseID: s.caseID, position: s.position, id: s.id, type: s.type,
                                                    reason: "its stored JSON cannot be read: \(error)"))
                continue
            }
            if catalog {
                // Kept for the engine, which passes over what the catalog
                // cannot decode (as it always has); listed.
                do { decoded.append(try Catalog.decode(type: event.type, data: event.data)) } catch {
                    decoded.append(nil)
                    undecodable.append(UndecodableEvent(caseID: s.caseID, position: s.position, id: s.id, type: s.type,
                                                        reason: "the catalog cannot decode its data: \(error)"))
                }
            }
            events.append(event)
        }
        return (events, catalog ? decoded : nil, undecodable)
    }

    /// The events of one case (or stream) up to `through`, decoded;
    /// undecodable ones apart.
    static func events(_ store: EventStore, caseID: String, through: Int64, catalog: Bool)
        throws -> (events: [RecordedEvent], decoded: [CatalogEvent?]?, undecodable: [UndecodableEvent]) {
        var stored: [StoredEvent] = []
        try store.forEachEvent(caseID: caseID, through: through) { stored.append($0) }
        return decode(stored, catalog: catalog)
    }
}
