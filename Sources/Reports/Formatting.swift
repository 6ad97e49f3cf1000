import Events
import Foundation
import Domain

/// Small formatting helpers shared by the renderers.
public enum Fmt {
    /// `2026-04-07 13:30 EDT`-style local time, or the RFC 3339 time in the zone.
    public static func time(_ date: Date?, _ zone: TimeZone) -> String {
        guard let date else { return "-" }
        return RFC3339.format(date, in: zone)
    }

    /// `2h 5m`, `3d 4h`, `45s`.
    public static func duration(_ seconds: TimeInterval?) -> String {
        guard let seconds else { return "-" }
        var s = Int(seconds.rounded())
        let negative = s < 0
        s = abs(s)
        let d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, sec = s % 60
        var parts: [String] = []
        if d > 0 { parts.append("\(d)d") }
        if h > 0 { parts.append("\(h)h") }
        if m > 0 && d == 0 { parts.append("\(m)m") }
        if parts.isEmpty { parts.append("\(sec)s") }
        return (negative ? "-" : "") + parts.joined(separator: " ")
    }

    /// A ten-cell text bar of a rate (`██████░░░░`), empty when there is none.
    public static func bar(_ rate: Double?) -> String {
        guard let rate else { return "" }
        let n = Int((rate * 10).rounded())
        return String(repeating: "█", count: n) + String(repeating: "░", count: 10 - n)
    }

    public static func percent(_ rate: Double?) -> String {
        guard let rate else { return "n/a" }
        return String(format: "%.1f%%", rate * 100)
    }

    /// Evidence as `#12, #14` (positions), falling back to ids.
    public static func evidence(_ ids: [String], _ positions: [String: Int64]) -> String {
        ids.isEmpty ? "-" : ids.map { positions[$0].map { "#\($0)" } ?? $0 }.joined(separator: ", ")
    }

    /// An occurrence label; an anchoring event id is shown as its position.
    public static func occurrence(_ text: String?, _ positions: [String: Int64]) -> String {
        guard let text else { return "" }
        if let p = positions[text] { return "after #\(p)" }
        return text
    }

    /// What an obligation needs said about it beyond its verdict.
    public static func detail(_ o: Obligation) -> String {
        var parts: [String] = []
        if let expected = o.expected { parts.append("expected \(expected), given \(o.given ?? "none")") }
        if let lateBy = o.lateBy, lateBy > 0 { parts.append("late by \(duration(lateBy))") }
        if !o.missing.isEmpty { parts.append("missing: " + o.missing.joined(separator: ", ")) }
        // A login reason is also in `missing`: said once.
        if let reason = o.reason, !o.missing.contains(reason) { parts.append(reason) }
        if o.attestedLate { parts.append("attested late") }
        if let late = o.findings.filter({ $0.kind == .recordedAfterDeadline }).max(by: { ($0.seconds ?? 0) < ($1.seconds ?? 0) }) {
            parts.append(late.detail)
        }
        return parts.joined(separator: "; ")
    }

    /// A case's findings, one line each ("login_mismatch #5: actor sean-good
    /// recorded by login bob"), except unbound logins: one line for all of
    /// them ("unbound_login: 3 action(s) by people the directory lists no
    /// login for: sean-good, max-eng"), so a directory without logins does
    /// not flood the report. `identityOnly`: logins and provenance only.
    public static func findingLines(_ findings: [Finding], _ positions: [String: Int64], identityOnly: Bool = false) -> [String] {
        var lines: [String] = []
        var unbound: [String] = []
        var unboundCount = 0
        for f in findings where !identityOnly || f.isIdentity {
            if f.kind == .unboundLogin {
                unboundCount += 1
                let actor = String(f.detail.prefix { $0 != " " })
                if !unbound.contains(actor) { unbound.append(actor) }
                continue
            }
            let event = f.eventID.map { id in " " + (positions[id].map { "#\($0)" } ?? id) } ?? ""
            lines.append("\(f.kind.rawValue)\(event): \(f.detail)")
        }
        if unboundCount > 0 {
            lines.append("\(Finding.Kind.unboundLogin.rawValue): \(unboundCount) action(s) by people the directory lists no login for: \(unbound.joined(separator: ", "))")
        }
        return lines
    }

    /// An obligation's findings for a CSV cell: "kind: detail" joined by "; ".
    public static func findingsCell(_ findings: [Finding]) -> String {
        findings.map { "\($0.kind.rawValue): \($0.detail)" }.joined(separator: "; ")
    }

    /// An obligation's verdict label, marked "(should)" for a `should` obligation.
    public static func verdictLabel(_ o: Obligation) -> String {
        o.level == .should ? verdictLabel(o.verdict) + " (should)" : verdictLabel(o.verdict)
    }

    /// Whether an obligation is a violation: a `must` one late, partial, missed or violated.
    public static func isViolation(_ o: Obligation) -> Bool {
        o.level == .must && [.late, .partial, .missed, .violated].contains(o.verdict)
    }

    public static func verdictLabel(_ v: Verdict) -> String {
        switch v {
        case .met: "met"
        case .late: "LATE"
        case .partial: "PARTIAL"
        case .missed: "MISSED"
        case .pending: "pending"
        case .notApplicable: "n/a"
        case .violated: "VIOLATED"
        }
    }
}

/// Characters that could change what a line of a report or a terminal
/// table shows rather than show themselves: C0 controls (carriage return,
/// escape, backspace, ...), DEL, C1 controls (U+0080-U+009F), bidirectional
/// marks, embeddings, overrides and isolates (U+061C, U+200E, U+200F,
/// U+202A-U+202E, U+2066-U+2069) and the Unicode line and paragraph
/// separators (U+2028, U+2029). They are shown escaped, as `\u{202e}`, the
/// form `printable` gives C0 controls in messages.
public enum Visible {
    public static func isHostile(_ v: UInt32) -> Bool {
        v < 0x20 || (0x7F...0x9F).contains(v) || v == 0x061C || v == 0x200E || v == 0x200F
            || (0x2028...0x202E).contains(v) || (0x2066...0x2069).contains(v)
    }

    /// `s` with every hostile character escaped, cut after `limit`
    /// characters (with "…") like `printable`; printable ASCII within the
    /// limit comes back as it is, in one pass over the bytes.
    public static func escape(_ s: String, limit: Int = .max) -> String {
        if s.utf8.count <= limit, s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return s }
        var out = ""
        var count = 0
        for scalar in s.unicodeScalars {
            if count == limit { out += "…"; break }
            count += 1
            if isHostile(scalar.value) {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Whether `s` has any hostile character (a pass over the bytes for ASCII).
    static func needsEscape(_ s: String) -> Bool {
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return false }
        return s.unicodeScalars.contains { isHostile($0.value) }
    }
}

/// Markdown tables.
enum MD {
    static func cell(_ text: String) -> String {
        let cell = text.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "|", with: "\\|")
            .replacingOccurrences(of: "\n", with: " ")
            .replacingOccurrences(of: "<", with: "&lt;")
        // After the backslashes are doubled, so the escapes' own stay single.
        return Visible.needsEscape(cell) ? Visible.escape(cell) : cell
    }

    /// Writes a table to `out`, the rows handed over one by one.
    static func write(_ header: [String], _ rows: TextTable.Rows, to out: TextSink) {
        out.add("| " + header.map(cell).joined(separator: " | ") + " |\n")
        out.add("|" + header.map { _ in "---" }.joined(separator: "|") + "|\n")
        rows { row in out.add("| " + row.map(cell).joined(separator: " | ") + " |\n") }
    }

    /// `write` into a buffer.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let out = TextSink()
        write(header, { body in rows.forEach(body) }, to: out)
        return out.text
    }
}

/// CSV (RFC 4180): quote every field that needs it; neutralise cells a
/// spreadsheet would run as a formula.
enum CSV {
    static func field(_ text: String) -> String {
        var t = text
        if let first = t.first, "=+-@\t\r".contains(first) { t = "'" + t }
        if t.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + t.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return t
    }

    static func row(_ fields: [String]) -> String { fields.map(field).joined(separator: ",") }
}

/// Output built piece by piece as UTF-8 bytes; with `flush`, handed on in
/// chunks of about 64 KiB instead of kept whole (the String result of a
/// renderer is its writer writing into a sink without `flush`).
final class TextSink {
    private(set) var bytes: [UInt8] = []
    private let flush: ((String) -> Void)?

    init(flush: ((String) -> Void)? = nil) { self.flush = flush }

    /// What was written and not yet flushed.
    var text: String { String(decoding: bytes, as: UTF8.self) }

    func add(_ s: String) {
        bytes.append(contentsOf: s.utf8)
        flushIfFull()
    }

    /// Lets `write` append bytes (whole characters) directly.
    func add(_ write: (inout [UInt8]) -> Void) {
        write(&bytes)
        flushIfFull()
    }

    private func flushIfFull() {
        guard let flush, bytes.count >= 1 << 16 else { return }
        flush(text)
        bytes.removeAll(keepingCapacity: true)
    }

    func finish() {
        if let flush, !bytes.isEmpty { flush(text) }
        bytes.removeAll()
    }
}

/// A plain-text table with padded columns.
enum TextTable {
    /// Rows handed to a body one by one, in order; it may be called more
    /// than once (widths first, then the lines) and gives the same rows each time.
    typealias Rows = (_ body: ([String]) -> Void) -> Void

    /// Column widths as `write` works them out, header included, from
    /// cells seen one at a time (so a caller that sees the rows anyway can
    /// spare `write` its first pass).
    struct Widths {
        private(set) var values: [Int]
        let maxWidth: Int

        init(_ header: [String], maxWidth: Int = 60) {
            self.maxWidth = maxWidth
            values = header.map { min(maxWidth, Cell($0).width) }
        }

        mutating func add(_ row: [String]) {
            for (i, cell) in row.enumerated() { add(cell, column: i) }
        }

        mutating func add(_ cell: String, column: Int) {
            if values[column] < maxWidth { values[column] = min(maxWidth, max(values[column], Cell(cell).width)) }
        }
    }

    /// Writes the table to `out`: the header, then the rows handed over one
    /// by one (two passes: widths, then lines; one when `known` already has
    /// the widths of these rows).
    static func write(_ header: [String], _ rows: Rows, maxWidth: Int = 60, known: Widths? = nil, to out: TextSink) {
        let widths: [Int]
        if let known {
            precondition(known.maxWidth == maxWidth && known.values.count == header.count)
            widths = known.values
        } else {
            var w = Widths(header, maxWidth: maxWidth)
            rows { w.add($0) }
            widths = w.values
        }
        out.add { line(header.map(Cell.init), widths: widths, maxWidth: maxWidth, to: &$0) }
        rows { row in out.add { line(row.map(Cell.init), widths: widths, maxWidth: maxWidth, to: &$0) } }
    }

    /// `write` into a buffer.
    static func render(_ header: [String], _ rows: [[String]], maxWidth: Int = 60) -> String {
        let out = TextSink()
        write(header, { body in rows.forEach(body) }, maxWidth: maxWidth, to: out)
        return out.text
    }

    /// A cell as shown (`printable`), with its width in characters.
    struct Cell {
        let text: String
        /// Printable ASCII: characters, UTF-16 units and bytes are the same count.
        let ascii: Bool
        let width: Int

        init(_ cell: String) {
            // Printable ASCII within the limit (nearly every cell) is shown
            // as it is: one pass over the bytes instead of three.
            let count = cell.utf8.count
            if count <= 500, cell.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
                text = cell
                ascii = true
                width = count
                return
            }
            text = Visible.escape(cell, limit: 500)
            ascii = text.utf8.allSatisfy { $0 < 0x80 }
            width = ascii ? text.utf8.count : text.count
        }
    }

    /// Appends one line to `out`: every cell but the last cut to `maxWidth`
    /// (ending in "…") and padded to its column's width plus two, as
    /// Foundation's `padding(toLength:)` pads, and the line's spaces at
    /// either end trimmed, as `trimmingCharacters(in: .whitespaces)` trims.
    /// An ASCII cell that fits (nearly every cell) is copied as bytes with
    /// spaces after it, which is what Foundation would give; Foundation pads
    /// the other cells and trims a line that has any.
    static func line(_ row: [Cell], widths: [Int], maxWidth: Int, to out: inout [UInt8]) {
        let start = out.count
        var ascii = true
        for (i, cell) in row.enumerated() {
            let last = i == row.count - 1
            if cell.ascii && (last || (cell.width <= maxWidth && cell.width <= widths[i] + 2)) {
                out.append(contentsOf: cell.text.utf8)
                if !last { out.append(contentsOf: repeatElement(0x20, count: widths[i] + 2 - cell.width)) }
                continue
            }
            ascii = false
            if last {
                out.append(contentsOf: cell.text.utf8)
            } else {
                let text = cell.width > maxWidth ? String(cell.text.prefix(maxWidth - 1)) + "…" : cell.text
                out.append(contentsOf: text.padding(toLength: widths[i] + 2, withPad: " ", startingAt: 0).utf8)
            }
        }
        if ascii {
            // The ASCII members of `.whitespaces`: space and tab.
            func blank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
            while out.count > start, blank(out[out.count - 1]) { out.removeLast() }
            var lead = start
            while lead < out.count, blank(out[lead]) { lead += 1 }
            if lead > start { out.removeSubrange(start..<lead) }
        } else {
            let trimmed = String(decoding: out[start...], as: UTF8.self).trimmingCharacters(in: .whitespaces)
            out.removeSubrange(start...)
            out.append(contentsOf: trimmed.utf8)
        }
        out.append(0x0A)
    }
}
