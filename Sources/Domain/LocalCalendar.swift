import Foundation
import Synchronization

/// Calendar days in the policy's time zone, correct across daylight-saving
/// changes (a local day may last 23 or 25 hours).
struct LocalCalendar: Sendable {
    let calendar: Calendar
    let zone: TimeZone
    /// Start of each local day met so far, by local day number; shared by
    /// the copies of this calendar (a policy keeps one for all its cases).
    private let starts = Starts()

    private final class Starts: Sendable {
        let byDay = Mutex<[Int64: Date]>([:])
    }

    init(_ zone: TimeZone) {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = zone
        calendar = c
        self.zone = zone
    }

    /// `Calendar.startOfDay`, remembered per local day (issue 6: it was a
    /// tenth of judging a period). The local day of `d` follows from the
    /// zone's offset at `d`, and the start of a day depends only on the day.
    func startOfDay(_ d: Date) -> Date {
        let seconds = d.timeIntervalSince1970 + Double(zone.secondsFromGMT(for: d))
        guard seconds.isFinite, abs(seconds) < 1e14 else { return calendar.startOfDay(for: d) }
        let day = Int64((seconds / 86400).rounded(.down))
        if let start = starts.byDay.withLock({ $0[day] }) { return start }
        let start = calendar.startOfDay(for: d)
        starts.byDay.withLock { $0[day] = start }
        return start
    }

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
