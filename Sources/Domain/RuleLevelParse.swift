import Events
import Foundation

extension RuleParser {
    /// `level: must|should` (default `must`; docs/policy.md §3, "Levels").
    mutating func parseLevel() -> RuleLevel {
        guard let value = reader.value("level") else { return .must }
        if let s = value.stringValue, let level = RuleLevel(rawValue: s) { return level }
        problem("level: unknown level \(value.jsonText()) (expected must or should)")
        return .must
    }
}
