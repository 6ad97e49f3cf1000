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

    public struct Publication: Sendable {
        public let version: String
        public let effectiveFrom: Date
        public let position: Int64
        public let eventID: String
        public let recordedAt: Date
        public let actor: String
    }

    /// Loads the `policy` and `directory` streams up to `through`.
    public static func load(_ store: EventStore, through: Int64) throws -> ReferenceData {
        let retracted = try retractedIDs(store, through: through)
        var policies: [PolicyPublished] = []
        var policyPublications: [Publication] = []
        for event in try store.events(caseID: Catalog.policyStream, through: through)
        where event.type == EventType.policyPublished && !retracted.contains(event.id) {
            let published = try PolicyPublished(data: event.data)
            policies.append(published)
            policyPublications.append(Publication(version: published.policy.version, effectiveFrom: published.effectiveFrom,
                                                  position: event.position, eventID: event.id,
                                                  recordedAt: event.recordedAt, actor: event.actor))
        }
        var directories: [Directory] = []
        var directoryPublications: [Publication] = []
        for event in try store.events(caseID: Catalog.directoryStream, through: through)
        where event.type == EventType.directoryPublished && !retracted.contains(event.id) {
            let directory = try Directory(json: event.data)
            directories.append(directory)
            directoryPublications.append(Publication(version: "position \(event.position)", effectiveFrom: directory.effectiveFrom,
                                                     position: event.position, eventID: event.id,
                                                     recordedAt: event.recordedAt, actor: event.actor))
        }
        return ReferenceData(policies: PolicyHistory(policies), directories: DirectoryHistory(directories),
                             policyPublications: policyPublications, directoryPublications: directoryPublications)
    }

    /// Reference publications retracted within their own streams.
    static func retractedIDs(_ store: EventStore, through: Int64) throws -> Set<String> {
        var ids = Set<String>()
        for stream in [Catalog.policyStream, Catalog.directoryStream] {
            for event in try store.events(caseID: stream, through: through) where event.type == EventType.eventRetracted {
                if let id = event.data["event_id"]?.stringValue { ids.insert(id) }
            }
        }
        return ids
    }
}
