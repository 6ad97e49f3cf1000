import Events
import Foundation

/// The purpose of a message that does not say it (a Slack message without a
/// `Purpose:` line received by `dtledger serve`), inferred from its case's
/// state when it was sent. Rules, in order (docs/importers.md, "Case and
/// purpose inference (dtledger serve)"); the rule's name is returned with
/// the purpose and kept in the event's metadata (`purpose_inferred`):
///
/// Incident:
/// 1. resolved at that time (not reopened since) -> `resolved` (`incident_resolved`);
/// 2. no earlier notification in the case -> `initial` (`first_message`);
/// 3. a priority set after the last notification -> `priority` (`priority_changed_since_last_message`);
/// 4. a milestone after the last notification -> `milestone` (`milestone_since_last_message`);
/// 5. otherwise -> `update` (`incident_open`).
///
/// Planned downtime:
/// 1. concluded or cancelled by then -> `concluded` (`downtime_concluded` / `downtime_cancelled`);
/// 2. at or after the window's end -> `concluded` (`window_ended`);
/// 3. on the local calendar day before the window's start -> `day_before` (`day_before_window`),
///    except when the case was opened on or after that day: the policy owes
///    no day-before message then (the engine's `day_before` is not
///    applicable), so it is the planning message -> `planning` (`planned_on_day_before`);
/// 4. before the window's start -> `planning` (`before_window`);
/// 5. during the window -> `update` (`during_window`).
///
/// A case of a declared kind (`case.opened`): 1. closed by then -> `concluded`
/// (`case_closed`); 2. no earlier notification -> `initial` (`first_message`);
/// 3. otherwise -> `update` (`case_open`).
///
/// No rule of the seed policy selects messages by purpose (the notification
/// rules match channel, destination, audience, content and time), so the
/// inferred purpose never changes a verdict; it labels the message and
/// decides whether the review counts it as an update. The rules follow the
/// policy's occurrences so the label says which obligation the message
/// answers: `day_before` is the policy's `day_before: window.start` (the
/// whole local day before the start, in the policy's time zone), a message
/// later on the start day is still `planning`.
public enum PurposeInference {
    /// nil when the case has no opening event by `at`.
    public static func infer(caseID: String, events: [RecordedEvent], at: Date,
                             timeZone: TimeZone = TimeZone(identifier: Policy.defaultTimezone)!)
        -> (purpose: NotificationPurpose, rule: String)? {
        let state = CaseState(caseID: caseID, events: events, asOf: at)
        guard let kind = state.kind else { return nil }
        switch kind {
        case .incident:
            return incident(state, at: at)
        case .plannedDowntime:
            return plannedDowntime(state, at: at, calendar: LocalCalendar(timeZone))
        default:
            return declaredKind(state, at: at)
        }
    }

    /// The case's kind when it is open at `at` (opened by then, and not
    /// resolved, concluded or cancelled since; a reopened case is open),
    /// else nil: what a receiver's `CaseLookups.openCases` answers per case.
    public static func openKind(caseID: String, events: [RecordedEvent], at: Date) -> CaseKind? {
        let state = CaseState(caseID: caseID, events: events, asOf: at)
        guard let kind = state.kind, !state.isClosed(at: at) else { return nil }
        return kind
    }

    static func incident(_ state: CaseState, at: Date) -> (purpose: NotificationPurpose, rule: String) {
        // `resolvedAt` is cleared by a later reopening.
        if state.resolvedAt != nil { return (.resolved, "incident_resolved") }
        // Strictly earlier: the message being placed is not its own predecessor.
        let earlier = state.events.filter { $0.type == EventType.notificationSent.rawValue && $0.time < at }
        guard let last = earlier.last else { return (.initial, "first_message") }
        if state.priorities.contains(where: { $0.at > last.time }) {
            return (.priority, "priority_changed_since_last_message")
        }
        if state.events.contains(where: { $0.type == EventType.incidentMilestone.rawValue && $0.time > last.time }) {
            return (.milestone, "milestone_since_last_message")
        }
        return (.update, "incident_open")
    }

    /// A case of a declared kind (`case.opened`): closed by then ->
    /// `concluded` (`case_closed`); no earlier notification -> `initial`
    /// (`first_message`); otherwise -> `update` (`case_open`).
    static func declaredKind(_ state: CaseState, at: Date) -> (purpose: NotificationPurpose, rule: String) {
        if state.isClosed(at: at) { return (.concluded, "case_closed") }
        let earlier = state.events.contains { $0.type == EventType.notificationSent.rawValue && $0.time < at }
        return earlier ? (.update, "case_open") : (.initial, "first_message")
    }

    static func plannedDowntime(_ state: CaseState, at: Date, calendar: LocalCalendar) -> (purpose: NotificationPurpose, rule: String) {
        if state.concludedAt != nil { return (.concluded, "downtime_concluded") }
        if state.cancelledAt != nil { return (.concluded, "downtime_cancelled") }
        guard let window = state.window else { return (.planning, "before_window") }
        if at >= window.end { return (.concluded, "window_ended") }
        if at >= window.start { return (.update, "during_window") }
        let startDay = calendar.startOfDay(window.start)
        let dayBefore = calendar.startOfPreviousDay(window.start)
        if at >= dayBefore && at < startDay {
            // As the engine: planning that started on or after the day
            // before owes no day-before message; this one is its planning message.
            if let opened = state.openedAt, opened >= dayBefore { return (.planning, "planned_on_day_before") }
            return (.dayBefore, "day_before_window")
        }
        return (.planning, "before_window")
    }
}
