import Events
import Foundation
import Ledger
import Domain

/// The policies and directories published in the ledger, as of a position.
public struct ReferenceData: Sendable {
    public let policies: PolicyHistory
    public let directories: DirectoryHistory
    /// Every publication, for reports: version, effective date, position.
    public let policyPublications: [Publication]
    public let directoryPublications: [Publication]
    /// Events of the reference streams that could not be decoded: skipped.
    public var undecodable: [UndecodableEvent] = []
    /// Every publication and retraction of the reference streams, with who,
    /// when and what changed, in position order.
    public var records: [PublicationRecord] = []

    public struct Publication: Sendable {
        /// The policy's name (`directory` for a directory).
        public var name: String = "directory"
        public let version: String
        public let effectiveFrom: Date
        public let position: Int64
        public let eventID: String
        public let recordedAt: Date
        public let actor: String
    }

    /// Loads the `policy` and `directory` streams up to `through`.
    public static func load(_ store: EventStore, through: Int64) throws -> ReferenceData {
        let policyStream = try UndecodableEvent.events(store, caseID: Catalog.policyStream, through: through, catalog: false)
        let directoryStream = try UndecodableEvent.events(store, caseID: Catalog.directoryStream, through: through, catalog: false)
        var undecodable = policyStream.undecodable + directoryStream.undecodable
        func skipped(_ event: RecordedEvent, _ error: any Error) {
            undecodable.append(UndecodableEvent(caseID: event.caseID, position: event.position, id: event.id, type: event.type,
                                                reason: "the catalog cannot decode its data: \(error)"))
        }
        let retracted = retractedIDs(policyStream.events + directoryStream.events)
        var policies: [PolicyPublished] = []
        var policyPublications: [Publication] = []
        for event in policyStream.events
        where event.type == EventType.policyPublished && !retracted.contains(event.id) {
            let published: PolicyPublished
            do { published = try PolicyPublished(data: event.data) } catch { skipped(event, error); continue }
            policies.append(published)
            policyPublications.append(Publication(name: published.policy.name, version: published.policy.version, effectiveFrom: published.effectiveFrom,
                                                  position: event.position, eventID: event.id,
                                                  recordedAt: event.recordedAt, actor: event.actor))
        }
        var directories: [Directory] = []
        var directoryPublications: [Publication] = []
        for event in directoryStream.events
        where event.type == EventType.directoryPublished && !retracted.contains(event.id) {
            let directory: Directory
            do { directory = try Directory(json: event.data) } catch { skipped(event, error); continue }
            directories.append(directory)
            directoryPublications.append(Publication(version: "position \(event.position)", effectiveFrom: directory.effectiveFrom,
                                                     position: event.position, eventID: event.id,
                                                     recordedAt: event.recordedAt, actor: event.actor))
        }
        return ReferenceData(policies: PolicyHistory(policies), directories: DirectoryHistory(directories),
                             policyPublications: policyPublications, directoryPublications: directoryPublications,
                             undecodable: undecodable.sorted { $0.position < $1.position },
                             records: PublicationRecord.records(policyStream: policyStream.events,
                                                                directoryStream: directoryStream.events))
    }

    /// Reference publications retracted within their own streams.
    static func retractedIDs(_ events: [RecordedEvent]) -> Set<String> {
        var ids = Set<String>()
        for event in events where event.type == EventType.eventRetracted {
            if let id = event.data["event_id"]?.stringValue { ids.insert(id) }
        }
        return ids
    }
}
