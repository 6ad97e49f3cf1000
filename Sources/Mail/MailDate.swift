import Foundation

/// RFC 5322 §3.3 dates, with the obsolete forms of §4.3: two- and
/// three-digit years, alphabetic zones (UT, GMT, EST/EDT, CST/CDT,
/// MST/MDT, PST/PDT; military letters as -0000), missing seconds,
/// comments, any day-of-week (not checked against the date), extra
/// whitespace. Also accepted: a missing zone (as -0000) and a
/// `+hh:mm` zone.
public enum MailDate {
    public static func parse(_ input: String) throws -> Date {
        let cleaned = stripComments(input).replacingOccurrences(of: ",", with: " ")
        var toks = cleaned.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r\n" || $0 == "\n" }).map(String.init)
        func fail(_ why: String) -> MailError { MailError("Date \"\(trimWSP(input))\": \(why)") }
        if let f = toks.first, f.count >= 3, Int(f) == nil, monthNumber(f) == nil { toks.removeFirst() }  // day of week
        guard toks.count >= 4 else { throw fail("too few parts") }
        var day: Int, month: Int
        if let d = Int(toks[0]), let m = monthNumber(toks[1]) {
            day = d; month = m
        } else if let m = monthNumber(toks[0]), let d = Int(toks[1]) {
            day = d; month = m  // "Jul 11 2003" seen from some clients
        } else {
            throw fail("no day and month")
        }
        guard var year = Int(toks[2]) else { throw fail("no year") }
        if toks[2].count == 2 { year += year < 50 ? 2000 : 1900 } else if toks[2].count == 3 { year += 1900 }
        var timeTok = toks[3]
        var zoneIndex = 4
        // "hh : mm" with spaces around the colons (obsolete FWS)
        while zoneIndex < toks.count, timeTok.hasSuffix(":") || toks[zoneIndex].hasPrefix(":") {
            timeTok += toks[zoneIndex]
            zoneIndex += 1
        }
        let hms = timeTok.split(separator: ":").map { Int($0) }
        guard hms.count == 2 || hms.count == 3, hms.allSatisfy({ $0 != nil }) else { throw fail("no time of day") }
        let hour = hms[0]!, minute = hms[1]!, second = hms.count == 3 ? hms[2]! : 0
        guard (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second),
            year >= 1900, year <= 9999
        else { throw fail("a field is out of range") }
        var offset = 0
        if zoneIndex < toks.count {
            guard let o = zoneOffset(toks[zoneIndex]) else { throw fail("unknown zone \(toks[zoneIndex])") }
            offset = o
        }
        var comps = DateComponents()
        comps.year = year; comps.month = month; comps.day = day
        comps.hour = hour; comps.minute = minute; comps.second = min(second, 59)
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(secondsFromGMT: 0)!
        guard let utc = cal.date(from: comps), cal.component(.day, from: utc) == day else { throw fail("no such day") }
        return utc.addingTimeInterval(TimeInterval(-offset))
    }

    static func monthNumber(_ s: String) -> Int? {
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        guard s.count >= 3 else { return nil }
        return months.firstIndex(of: String(s.prefix(3)).lowercased()).map { $0 + 1 }
    }

    /// Seconds east of UTC.
    static func zoneOffset(_ z: String) -> Int? {
        let u = z.uppercased()
        if let sign = u.first, sign == "+" || sign == "-" {
            let digits = u.dropFirst().replacingOccurrences(of: ":", with: "")
            guard digits.count == 4, let v = Int(digits) else { return nil }
            let secs = (v / 100) * 3600 + (v % 100) * 60
            return sign == "-" ? -secs : secs
        }
        let named: [String: Int] = [
            "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5,
            "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
        ]
        if let h = named[u] { return h * 3600 }
        if u.count == 1, let c = u.unicodeScalars.first, c.value >= 65, c.value <= 90, c != "J" { return 0 }
        return nil
    }
}
