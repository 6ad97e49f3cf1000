/// The value sets of the event catalog (DOMAIN.md §2): closed enums, and
/// the open sets (channels, case kinds) a policy extends.

/// A lowercase identifier, `[a-z][a-z0-9_]{0,31}`: the names of the open
/// value sets (channels, case kinds, decisions) a policy may declare.
public enum Identifier {
    public static let maxLength = 32
    public static let pattern = "[a-z][a-z0-9_]{0,31}"

    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, bytes.count <= maxLength, first &- 0x61 < 26 else { return false }
        return bytes.allSatisfy { $0 &- 0x61 < 26 || $0 &- 0x30 < 10 || $0 == 0x5F }
    }
}

/// An open value set of the catalog: a lowercase identifier with a few
/// built-in constants; a policy declares the others.
public protocol OpenValue: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible
where RawValue == String {
    /// The values the catalog knows without a policy, in order.
    static var builtIn: [Self] { get }
    /// No check (the built-in constants).
    init(unchecked rawValue: String)
}

extension OpenValue {
    /// Nil unless `rawValue` is a lowercase identifier (`Identifier.pattern`).
    public init?(rawValue: String) {
        guard Identifier.isValid(rawValue) else { return nil }
        self.init(unchecked: rawValue)
    }

    /// The built-in values (what the closed enum's `allCases` was).
    public static var allCases: [Self] { builtIn }

    public var isBuiltIn: Bool { Self.builtIn.contains(self) }

    public var description: String { rawValue }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// The kind of a case: the two built-in kinds, opened by `downtime.planned`
/// and `incident.opened`, and the kinds a policy declares (`case_kinds:`),
/// opened by `case.opened`.
public struct CaseKind: OpenValue {
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }

    public static let plannedDowntime = CaseKind(unchecked: "planned_downtime")
    public static let incident = CaseKind(unchecked: "incident")
    public static let builtIn: [CaseKind] = [.plannedDowntime, .incident]
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

/// The channel of a `notification.sent`: Slack and email are built in; a
/// policy declares others (`channels: [phone_bridge, status_page]`), and the
/// catalog accepts any lowercase identifier.
public struct Channel: OpenValue {
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }

    public static let slack = Channel(unchecked: "slack")
    public static let email = Channel(unchecked: "email")
    public static let builtIn: [Channel] = [.slack, .email]

    /// As a report names it: "Slack", "Email", "Phone bridge".
    public var displayName: String {
        switch self {
        case .slack: return "Slack"
        case .email: return "Email"
        default:
            let words = rawValue.replacingOccurrences(of: "_", with: " ")
            return words.prefix(1).uppercased() + words.dropFirst()
        }
    }
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
