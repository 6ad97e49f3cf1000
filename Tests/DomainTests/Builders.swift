import Events
import Foundation
@testable import Domain

/// Cases the samples do not cover, built from the samples or from scratch.
enum Builders {
    static let incidentContent = obj(["summary": "MHV API returns 500s", "estimated_user_impact": "All MHV users",
                                      "start_time": "2026-05-04 08:40 ET"])

    /// An API/Platform incident done by the book.
    static func apiIncident(suspected: Bool = true) -> Scenario {
        let c = JSONValue.string("INC-2026-0200")
        func line(_ type: String, _ time: String, _ actor: String, _ key: String, _ data: JSONValue) -> JSONValue {
            obj(["type": .string(type), "case": c, "occurred_at": .string(time), "actor": .string(actor),
                 "key": .string(key), "data": data])
        }
        return Scenario(lines: [
            line("incident.opened", "2026-05-04T09:00:00-04:00", "tara-lead", "api/opened",
                 obj(["team": "api-platform", "summary": "MHV API returns 500s",
                      "estimated_user_impact": obj(["services": strs("mhv-api")]),
                      "started_at": "2026-05-04T08:40:00-04:00", "data_compromise_suspected": .bool(suspected)])),
            line("notification.sent", "2026-05-04T09:20:00-04:00", "tara-lead", "api/notify",
                 obj(["channel": "slack", "destination": "#mhv-health-portal-coordination",
                      "audience": strs("@mhv-uf-oncall", "@mhv-horizon", "sean-good", "ivy-isso", "pat-privacy",
                                       "sam-security", "tara-lead", "ana-po", "omar-vchio"),
                      "purpose": "initial", "content": incidentContent])),
            line("incident.milestone", "2026-05-04T09:40:00-04:00", "tara-lead", "api/chat",
                 obj(["kind": "group_chat_convened"])),
            line("ticket.submitted", "2026-05-04T09:50:00-04:00", "ivy-isso", "api/psets",
                 obj(["system": "psets", "number": "PSETS-1", "purpose": "security_incident"])),
            line("escalation.requested", "2026-05-04T09:55:00-04:00", "ivy-isso", "api/dbrs",
                 obj(["to": "csoc-dbrs"])),
            line("notification.sent", "2026-05-04T11:00:00-04:00", "tara-lead", "api/stakeholders",
                 obj(["channel": "email", "destination": "mhv-stakeholders@example.org",
                      "audience": strs("occ@example.org", "help-desk@example.org", "vaec@example.org"),
                      "purpose": "initial", "content": incidentContent])),
        ])
    }

    /// The sample downtime as if a user-facing team planned it, with Kim
    /// (a PM) as communication owner sending every message.
    static func userFacingDowntime() throws -> Scenario {
        var s = try Scenario.planned()
            .setting("PD-2026-0007/planned", "team", "user-facing")
            .setting("PD-2026-0007/planned", "communication_owner", "kim-pm")
        for key in ["planning-slack", "planning-email", "daybefore-slack", "daybefore-email",
                    "concluded-slack", "concluded-email"] {
            s = s.envelope("PD-2026-0007/\(key)", "actor", "kim-pm")
        }
        return s
    }
}

extension JSONValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}
