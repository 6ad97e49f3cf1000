import Foundation

/// RFC 3339 date-times, as the envelope requires them: a full date, a full
/// time and an explicit offset (`Z` or `±HH:MM`). Nothing else is accepted:
/// a time without an offset is ambiguous in an audit record.
public enum RFC3339 {
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let text: String
        public let reason: String
        public var description: String {
            "'\(text.prefix(64))' is not an RFC 3339 time with an offset (\(reason)); example: 2026-03-03T14:05:00-05:00"
        }
    }

    /// Parses `2026-03-03T14:05:00-05:00`, `2026-03-03T19:05:00.123456Z`.
    public static func parse(_ text: String) throws(ParseError) -> Date {
        let bytes = Array(text.utf8)
        func fail(_ reason: String) -> ParseError { ParseError(text: text, reason: reason) }
        var i = 0
        func digits(_ n: Int) -> Int? {
            guard i + n <= bytes.count else { return nil }
            var value = 0
            for k in 0..<n {
                let b = bytes[i + k]
                guard b >= 0x30 && b <= 0x39 else { return nil }
                value = value * 10 + Int(b - 0x30)
            }
            i += n
            return value
        }
        func expect(_ c: UInt8...) -> Bool {
            guard i < bytes.count, c.contains(bytes[i]) else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(0x2D), let month = digits(2), expect(0x2D), let day = digits(2)
        else { throw fail("expected YYYY-MM-DD") }
        guard expect(0x54, 0x74, 0x20) else { throw fail("expected 'T' between date and time") }
        guard let hour = digits(2), expect(0x3A), let minute = digits(2), expect(0x3A), let second = digits(2)
        else { throw fail("expected HH:MM:SS") }
        var nanos = 0
        if i < bytes.count, bytes[i] == 0x2E {
            i += 1
            var count = 0
            var value = 0
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                if count < 9 { value = value * 10 + Int(bytes[i] - 0x30) }
                count += 1
                i += 1
            }
            guard count > 0 else { throw fail("expected digits after '.'") }
            for _ in min(count, 9)..<9 { value *= 10 }
            nanos = value
        }
        var offsetSeconds = 0
        if expect(0x5A, 0x7A) {
            offsetSeconds = 0
        } else if i < bytes.count, bytes[i] == 0x2B || bytes[i] == 0x2D {
            let sign = bytes[i] == 0x2D ? -1 : 1
            i += 1
            guard let oh = digits(2), expect(0x3A), let om = digits(2) else { throw fail("expected offset ±HH:MM") }
            guard oh <= 23, om <= 59 else { throw fail("offset out of range") }
            offsetSeconds = sign * (oh * 3600 + om * 60)
        } else {
            throw fail("missing offset: add Z or ±HH:MM")
        }
        guard i == bytes.count else { throw fail("unexpected text after the offset") }
        guard (1...12).contains(month) else { throw fail("month out of range") }
        guard year >= 1 else { throw fail("year out of range") }
        guard day >= 1, day <= daysIn(month: month, year: year) else { throw fail("day out of range") }
        guard hour <= 23, minute <= 59, second <= 59 else { throw fail("time of day out of range") }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Double(days * 86400 + hour * 3600 + minute * 60 + second - offsetSeconds)
        return Date(timeIntervalSince1970: seconds + Double(nanos) / 1e9)
    }

    /// `2026-03-03T19:05:00.123456Z` (UTC, microseconds when not whole).
    public static func format(_ date: Date) -> String {
        format(microseconds: microseconds(date), offsetSeconds: 0)
    }

    /// Formats in a time zone, with its offset at that instant.
    public static func format(_ date: Date, in zone: TimeZone) -> String {
        format(microseconds: microseconds(date), offsetSeconds: zone.secondsFromGMT(for: date))
    }

    public static func microseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    public static func date(microseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(microseconds) / 1_000_000)
    }

    /// Appends `format(_:)`'s text (UTC) as UTF-8 bytes, without building a String.
    public static func writeUTC(microseconds us: Int64, to out: inout [UInt8]) {
        write(microseconds: us, offsetSeconds: 0, to: &out)
    }

    /// The local calendar date, second of the day and microseconds of `us`
    /// at `offsetSeconds` from UTC.
    static func fields(microseconds us: Int64, offsetSeconds: Int) -> (Int, Int, Int, Int64, Int64) {
        let local = us + Int64(offsetSeconds) * 1_000_000
        var seconds = local / 1_000_000
        var fraction = local % 1_000_000
        if fraction < 0 { fraction += 1_000_000; seconds -= 1 }
        var days = seconds / 86400
        var secOfDay = seconds % 86400
        if secOfDay < 0 { secOfDay += 86400; days -= 1 }
        let (y, m, d) = civilFromDays(Int(days))
        return (y, m, d, secOfDay, fraction)
    }

    /// The text of `us` at `offsetSeconds` from UTC: `write`'s bytes as a String.
    static func format(microseconds us: Int64, offsetSeconds: Int) -> String {
        var b: [UInt8] = []
        b.reserveCapacity(32)
        write(microseconds: us, offsetSeconds: offsetSeconds, to: &b)
        return String(decoding: b, as: UTF8.self)
    }

    /// The one formatter: appends `YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)`
    /// to `b` as bytes (projection rebuilds format several times per event).
    /// The fraction has no trailing zeros and is left out when zero. Every
    /// number is padded with zeros to its width and written whole when
    /// longer (years after 9999, offsets of 100 hours or more); a negative
    /// year is padded before its sign (`00-5`), as `String(v)` padded on the
    /// left would be.
    static func write(microseconds us: Int64, offsetSeconds: Int, to b: inout [UInt8]) {
        let (y, m, d, secOfDay, fraction) = fields(microseconds: us, offsetSeconds: offsetSeconds)
        func digits(_ v: Int, _ width: Int) {
            if v < 0 {  // a year before year 0
                let text = String(v).utf8
                b.append(contentsOf: repeatElement(0x30, count: max(0, width - text.count)))
                b.append(contentsOf: text)
                return
            }
            var v = v, div = 1, count = 1
            while count < width || v / div >= 10 { div *= 10; count += 1 }
            while div > 0 { b.append(UInt8(0x30 + v / div)); v %= div; div /= 10 }
        }
        digits(y, 4); b.append(0x2D); digits(m, 2); b.append(0x2D); digits(d, 2); b.append(0x54)
        digits(Int(secOfDay / 3600), 2); b.append(0x3A); digits(Int(secOfDay % 3600 / 60), 2); b.append(0x3A)
        digits(Int(secOfDay % 60), 2)
        if fraction != 0 {
            b.append(0x2E)
            var f = Int(fraction), n = 6
            while f % 10 == 0 { f /= 10; n -= 1 }
            digits(f, n)
        }
        if offsetSeconds == 0 {
            b.append(0x5A)
        } else {
            let a = abs(offsetSeconds)
            b.append(offsetSeconds < 0 ? 0x2D : 0x2B)
            digits(a / 3600, 2); b.append(0x3A); digits(a % 3600 / 60, 2)
        }
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
