import Events
import Foundation

/// Source ids carried by a raw payload (placeholder until the case-inference branch lands).
public enum Refs {
    public static func of(source: EventSource, body: Data) -> [String] { [] }

    public static func deliveryID(source: EventSource, body: Data) -> String? {
        guard let json = try? JSONValue.parse(body) else { return nil }
        switch source {
        case .slack: return json["event_id"]?.stringValue
        case .pagerduty: return json["event"]?["id"]?.stringValue
        case .servicenow:
            guard let id = json["sys_id"]?.stringValue else { return nil }
            return "\(id)/\(json["sys_updated_on"]?.stringValue ?? json["sys_mod_count"]?.stringValue ?? "")"
        default: return nil
        }
    }
}
