import Events
import Foundation
import Domain
import Testing

/// PurposeInference: every rule for incidents and planned downtime, and the
/// day-before boundary in the policy's time zone.
@Suite("Domain: purpose inference from the case's state")
struct PurposeInferenceTests {
    static let incident = "INC-2026-0300"
    static let downtime = "PD-2026-0300"

    /// Events of one case, positions in order.
    struct Case {
        let id: String
        var events: [RecordedEvent] = []
        mutating func add(_ payload: any CatalogPayload, _ time: String) {
            let at = try! RFC3339.parse(time)
            events.append(RecordedEvent(id: "e\(events.count + 1)", position: Int64(events.count + 1), caseID: id,
                                        version: Int64(events.count + 1), type: payload.eventType.rawValue,
                                        occurredAt: at, recordedAt: at, actor: "tara-lead", source: "cli",
                                        key: "k\(events.count + 1)", data: payload.json))
        }
        func infer(_ time: String, zone: TimeZone = TimeZone(identifier: "America/New_York")!) -> (purpose: NotificationPurpose, rule: String)? {
            PurposeInference.infer(caseID: id, events: events, at: try! RFC3339.parse(time), timeZone: zone)
        }
    }

    static func message(_ purpose: NotificationPurpose) -> NotificationSent {
        NotificationSent(channel: .slack, destination: "#mhv-health-portal-coordination", audience: ["ana-po"],
                         purpose: purpose, content: ["summary": "Medications list fails to load"])
    }

    static func openedIncident() -> Case {
        var c = Case(id: incident)
        c.add(IncidentOpened(team: .userFacing, summary: "Medications list fails to load",
                             estimatedUserImpact: Impact(services: ["medications"]),
                             startedAt: try! RFC3339.parse("2026-04-07T12:55:00Z")), "2026-04-07T13:00:00Z")
        return c
    }

    @Test("Incident: nil before it is opened; initial with no earlier message; update otherwise")
    func incidentInitialAndUpdate() {
        var c = Self.openedIncident()
        #expect(c.infer("2026-04-07T12:59:59Z") == nil)
        #expect(PurposeInference.infer(caseID: "INC-2026-9999", events: c.events, at: try! RFC3339.parse("2026-04-07T14:00:00Z")) == nil)
        #expect(c.infer("2026-04-07T13:05:00Z")! == (.initial, "first_message"))
        c.add(Self.message(.initial), "2026-04-07T13:10:00Z")
        // The message itself (same instant) is not its own predecessor.
        #expect(c.infer("2026-04-07T13:10:00Z")! == (.initial, "first_message"))
        #expect(c.infer("2026-04-07T13:30:00Z")! == (.update, "incident_open"))
    }

    @Test("Incident: a priority set after the last message -> priority; before it -> update; priority beats milestone")
    func incidentPriority() {
        var c = Self.openedIncident()
        c.add(PrioritySet(priority: .p3, reason: "triage"), "2026-04-07T13:05:00Z")
        c.add(Self.message(.initial), "2026-04-07T13:10:00Z")
        #expect(c.infer("2026-04-07T13:20:00Z")! == (.update, "incident_open"))
        c.add(PrioritySet(priority: .p2, reason: "more users"), "2026-04-07T13:30:00Z")
        #expect(c.infer("2026-04-07T13:29:00Z")! == (.update, "incident_open"))
        #expect(c.infer("2026-04-07T13:40:00Z")! == (.priority, "priority_changed_since_last_message"))
        c.add(IncidentMilestone(kind: .solutionDetermined), "2026-04-07T13:35:00Z")
        #expect(c.infer("2026-04-07T13:40:00Z")! == (.priority, "priority_changed_since_last_message"))
        c.add(Self.message(.priority), "2026-04-07T13:45:00Z")
        #expect(c.infer("2026-04-07T13:50:00Z")! == (.update, "incident_open"))
    }

    @Test("Incident: a milestone after the last message -> milestone")
    func incidentMilestone() {
        var c = Self.openedIncident()
        c.add(Self.message(.initial), "2026-04-07T13:10:00Z")
        c.add(IncidentMilestone(kind: .solutionDetermined, note: "purge the cache"), "2026-04-07T14:00:00Z")
        #expect(c.infer("2026-04-07T13:59:00Z")! == (.update, "incident_open"))
        #expect(c.infer("2026-04-07T14:05:00Z")! == (.milestone, "milestone_since_last_message"))
        c.add(Self.message(.milestone), "2026-04-07T14:10:00Z")
        #expect(c.infer("2026-04-07T14:20:00Z")! == (.update, "incident_open"))
    }

    @Test("Incident: resolved -> resolved, even with no earlier message; reopened -> open again")
    func incidentResolved() {
        var c = Self.openedIncident()
        c.add(IncidentResolved(resolution: "cache purged"), "2026-04-07T15:00:00Z")
        #expect(c.infer("2026-04-07T14:59:00Z")! == (.initial, "first_message"))
        #expect(c.infer("2026-04-07T15:00:00Z")! == (.resolved, "incident_resolved"))
        #expect(c.infer("2026-04-07T15:10:00Z")! == (.resolved, "incident_resolved"))
        c.add(IncidentReopened(reason: "errors again"), "2026-04-07T16:00:00Z")
        #expect(c.infer("2026-04-07T15:30:00Z")! == (.resolved, "incident_resolved"))
        #expect(c.infer("2026-04-07T16:10:00Z")! == (.initial, "first_message"))
        c.add(Self.message(.update), "2026-04-07T16:20:00Z")
        #expect(c.infer("2026-04-07T16:30:00Z")! == (.update, "incident_open"))
    }

    @Test("Incident: a retracted message does not count as an earlier message")
    func incidentRetracted() {
        var c = Self.openedIncident()
        c.add(Self.message(.initial), "2026-04-07T13:10:00Z")
        let target = c.events.last!.id
        c.add(EventRetracted(eventID: target, reason: "wrong case"), "2026-04-07T13:12:00Z")
        #expect(c.infer("2026-04-07T13:20:00Z")! == (.initial, "first_message"))
    }

    /// A downtime planned on 2026-03-01 for 2026-03-10 02:00-04:00 New York
    /// time (EDT is in force from 2026-03-08).
    static func plannedDowntime(planned: String = "2026-03-01T15:00:00Z") -> Case {
        var c = Case(id: downtime)
        c.add(DowntimePlanned(team: .apiPlatform, title: "MHV API database upgrade", reason: "upgrade",
                              anticipatedImpact: Impact(services: ["mhv-api"]),
                              window: TimeWindow(start: try! RFC3339.parse("2026-03-10T02:00:00-04:00"),
                                                 end: try! RFC3339.parse("2026-03-10T04:00:00-04:00")),
                              rollbackPlan: "restore the snapshot"), planned)
        return c
    }

    @Test("Planned downtime: planning, day before (local day, both edges), during, after the window")
    func downtimeWindow() {
        let c = Self.plannedDowntime()
        #expect(c.infer("2026-03-01T14:59:00Z") == nil)
        #expect(c.infer("2026-03-02T12:00:00Z")! == (.planning, "before_window"))
        // The local day before the start is 2026-03-09 00:00 to 24:00 EDT (04:00Z to 04:00Z).
        #expect(c.infer("2026-03-09T03:59:59Z")! == (.planning, "before_window"))
        #expect(c.infer("2026-03-09T04:00:00Z")! == (.dayBefore, "day_before_window"))
        #expect(c.infer("2026-03-10T03:59:59Z")! == (.dayBefore, "day_before_window"))
        // The start day before the start: planning (the policy's day_before occurrence ends at midnight).
        #expect(c.infer("2026-03-10T04:00:00Z")! == (.planning, "before_window"))
        #expect(c.infer("2026-03-10T06:00:00Z")! == (.update, "during_window"))
        #expect(c.infer("2026-03-10T07:59:59Z")! == (.update, "during_window"))
        #expect(c.infer("2026-03-10T08:00:00Z")! == (.concluded, "window_ended"))
    }

    @Test("Planned downtime: the local day is the given time zone's, not UTC's")
    func downtimeTimeZone() {
        let c = Self.plannedDowntime()
        let utc = TimeZone(identifier: "UTC")!
        // Window start 06:00Z on 03-10: the UTC day before is 03-09 00:00Z to 03-10 00:00Z.
        #expect(c.infer("2026-03-09T00:00:00Z", zone: utc)! == (.dayBefore, "day_before_window"))
        #expect(c.infer("2026-03-09T00:00:00Z")! == (.planning, "before_window"))
        #expect(c.infer("2026-03-10T01:00:00Z", zone: utc)! == (.planning, "before_window"))
        #expect(c.infer("2026-03-10T01:00:00Z")! == (.dayBefore, "day_before_window"))
    }

    @Test("Planned downtime: planned on the day before -> planning (no day-before message is owed)")
    func downtimePlannedLate() {
        let c = Self.plannedDowntime(planned: "2026-03-09T14:00:00Z")
        #expect(c.infer("2026-03-09T15:00:00Z")! == (.planning, "planned_on_day_before"))
    }

    @Test("Planned downtime: concluded or cancelled -> concluded, even before the window ends")
    func downtimeClosed() {
        var c = Self.plannedDowntime()
        c.add(DowntimeConcluded(outcome: .completed), "2026-03-10T07:00:00Z")
        #expect(c.infer("2026-03-10T06:59:00Z")! == (.update, "during_window"))
        #expect(c.infer("2026-03-10T07:05:00Z")! == (.concluded, "downtime_concluded"))
        var d = Self.plannedDowntime()
        d.add(DowntimeCancelled(reason: "vendor postponed"), "2026-03-05T12:00:00Z")
        #expect(d.infer("2026-03-05T11:00:00Z")! == (.planning, "before_window"))
        #expect(d.infer("2026-03-05T12:30:00Z")! == (.concluded, "downtime_cancelled"))
    }

    @Test("openKind: open from the opening event until resolved, concluded or cancelled; reopened is open again")
    func openKind() {
        var c = Self.openedIncident()
        func kind(_ t: String) -> CaseKind? { PurposeInference.openKind(caseID: c.id, events: c.events, at: try! RFC3339.parse(t)) }
        #expect(kind("2026-04-07T12:59:00Z") == nil)
        #expect(kind("2026-04-07T13:00:00Z") == .incident)
        c.add(IncidentResolved(resolution: "fixed"), "2026-04-07T15:00:00Z")
        c.add(IncidentReopened(reason: "again"), "2026-04-07T16:00:00Z")
        #expect(kind("2026-04-07T14:59:00Z") == .incident)
        #expect(kind("2026-04-07T15:30:00Z") == nil)
        #expect(kind("2026-04-07T16:00:00Z") == .incident)
        #expect(PurposeInference.openKind(caseID: "INC-2026-9999", events: c.events, at: Date()) == nil)
        var d = Self.plannedDowntime()
        d.add(DowntimeCancelled(reason: "postponed"), "2026-03-05T12:00:00Z")
        #expect(PurposeInference.openKind(caseID: d.id, events: d.events, at: try! RFC3339.parse("2026-03-04T00:00:00Z")) == .plannedDowntime)
        #expect(PurposeInference.openKind(caseID: d.id, events: d.events, at: try! RFC3339.parse("2026-03-06T00:00:00Z")) == nil)
    }
}
