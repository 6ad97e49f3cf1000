import Foundation

/// ISO 8601 durations as policies write them: `PT1H`, `PT24H`, `P1D`,
/// `PT30M`, `P1DT12H`, `P2W`. A day is 24 hours (86,400 s). Years and
/// months are refused: their length depends on the calendar.
public enum ISODuration {
    public static func parse(_ text: String) -> TimeInterval? {
        var chars = Substring(text)
        guard chars.first == "P" else { return nil }
        chars = chars.dropFirst()
        guard !chars.isEmpty else { return nil }
        var total: Double = 0
        var inTime = false
        var number = ""
        var sawUnit = false
        for c in chars {
            if c == "T" {
                guard !inTime, number.isEmpty else { return nil }
                inTime = true
                continue
            }
            if c.isASCII && (c.isNumber || c == ".") {
                number.append(c)
                continue
            }
            guard let value = Double(number), value >= 0 else { return nil }
            number = ""
            switch (c, inTime) {
            case ("W", false): total += value * 7 * 86_400
            case ("D", false): total += value * 86_400
            case ("H", true): total += value * 3_600
            case ("M", true): total += value * 60
            case ("S", true): total += value
            default: return nil
            }
            sawUnit = true
        }
        guard number.isEmpty, sawUnit else { return nil }
        return total
    }

    /// `PT2H`, `P1DT4H30M`, `PT0S`.
    public static func format(_ seconds: TimeInterval) -> String {
        var rest = Int(seconds.rounded())
        let sign = rest < 0 ? "-" : ""
        rest = abs(rest)
        let days = rest / 86_400
        rest %= 86_400
        let hours = rest / 3_600
        rest %= 3_600
        let minutes = rest / 60
        let secs = rest % 60
        var out = sign + "P"
        if days > 0 { out += "\(days)D" }
        if hours > 0 || minutes > 0 || secs > 0 || days == 0 {
            out += "T"
            if hours > 0 { out += "\(hours)H" }
            if minutes > 0 { out += "\(minutes)M" }
            if secs > 0 || (hours == 0 && minutes == 0) { out += "\(secs)S" }
        }
        return out
    }
}
