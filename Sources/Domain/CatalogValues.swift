/// The closed value sets of the event catalog (DOMAIN.md §2).

public enum CaseKind: String, Sendable, CaseIterable, Codable {
    case plannedDowntime = "planned_downtime"
    case incident
}

public enum Team: String, Sendable, CaseIterable, Codable {
    case apiPlatform = "api-platform"
    case userFacing = "user-facing"
    case vagovPlatform = "vagov-platform"
    case vahbPlatform = "vahb-platform"
}

public enum Priority: String, Sendable, CaseIterable, Codable, Comparable {
    case p1 = "P1", p2 = "P2", p3 = "P3", p4 = "P4"

    public static func < (a: Priority, b: Priority) -> Bool { a.rawValue < b.rawValue }
}

public enum Channel: String, Sendable, CaseIterable, Codable {
    case slack, email
}

public enum NotificationPurpose: String, Sendable, CaseIterable, Codable {
    case planning, dayBefore = "day_before", concluded, initial, priority, update, milestone, resolved, other
}

public enum MilestoneKind: String, Sendable, CaseIterable, Codable {
    case groupChatConvened = "group_chat_convened"
    case solutionDetermined = "solution_determined"
    case rootCauseRuledOut = "root_cause_ruled_out"
    case contained, eradicated, recovered
    case mimTriggered = "mim_triggered"
}

public enum DowntimeOutcome: String, Sendable, CaseIterable, Codable {
    case completed
    case rolledBack = "rolled_back"
}

public enum ApprovalDecision: String, Sendable, CaseIterable, Codable {
    case approved, rejected
}

public enum TicketPurpose: String, Sendable, CaseIterable, Codable {
    case downtimeApproval = "downtime_approval"
    case securityIncident = "security_incident"
    case other
}

/// The flags a case carries that rules can depend on.
public enum CaseFlag: String, Sendable, CaseIterable, Codable {
    case dataCompromiseSuspected = "data_compromise_suspected"
    case impactsMobile = "impacts_mobile"
}
