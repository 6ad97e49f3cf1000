import Foundation

/// Calendar days in the policy's time zone, correct across daylight-saving
/// changes (a local day may last 23 or 25 hours).
struct LocalCalendar: Sendable {
    let calendar: Calendar

    init(_ zone: TimeZone) {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = zone
        calendar = c
    }

    func startOfDay(_ d: Date) -> Date { calendar.startOfDay(for: d) }

    /// Start of the local day after the one containing `d`.
    func startOfNextDay(_ d: Date) -> Date { startOfDay(startOfDay(d).addingTimeInterval(36 * 3600)) }

    /// Start of the local day before the one containing `d`.
    func startOfPreviousDay(_ d: Date) -> Date { startOfDay(startOfDay(d).addingTimeInterval(-12 * 3600)) }

    /// `2026-04-07`.
    func label(_ d: Date) -> String {
        let c = calendar.dateComponents([.year, .month, .day], from: d)
        func pad(_ v: Int?, _ n: Int) -> String {
            let s = String(v ?? 0)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))"
    }
}
