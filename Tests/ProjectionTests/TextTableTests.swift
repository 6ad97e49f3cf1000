import Events
import Foundation
import Testing
@testable import Reports

/// The text tables of the reports are padded without Foundation for ASCII
/// rows (issue 6); they must come out exactly as Foundation pads them.
@Suite struct TextTableTests {
    /// The implementation before the fast path, kept as the reference.
    static func reference(_ header: [String], _ rows: [[String]], maxWidth: Int = 60) -> String {
        let all = [header] + rows
        var widths = Array(repeating: 0, count: header.count)
        for row in all {
            for (i, cell) in row.enumerated() { widths[i] = min(maxWidth, max(widths[i], printable(cell, limit: 500).count)) }
        }
        var out = ""
        for row in all {
            var line = ""
            for (i, cell) in row.enumerated() {
                var text = printable(cell, limit: 500)
                if text.count > maxWidth && i < row.count - 1 { text = String(text.prefix(maxWidth - 1)) + "…" }
                line += i == row.count - 1 ? text : text.padding(toLength: widths[i] + 2, withPad: " ", startingAt: 0)
            }
            out += line.trimmingCharacters(in: .whitespaces) + "\n"
        }
        return out
    }

    static let cells = [
        "", " ", "a", "INC-B10", "  leading", "trailing  ", "tab\there", "new\nline", "é", "e\u{301}", "直接", "😀 emoji",
        "\u{00A0}nbsp", "ends in nbsp\u{00A0}", String(repeating: "x", count: 59), String(repeating: "y", count: 60),
        String(repeating: "z", count: 61), String(repeating: "é", count: 70), String(repeating: "😀", count: 65),
        String(repeating: "w", count: 600), "control \u{7F}\u{1}", "missing: role:isso, person:greg-kirk",
    ]

    /// 60 tables of each width from 1 to 4 columns, of `cells` picked by a
    /// linear congruential generator started at `seed` (0 to 15 rows each).
    static func randomTables(seed start: UInt64) -> [(header: [String], rows: [[String]])] {
        var seed = start
        func pick() -> String {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return cells[Int(seed >> 33) % cells.count]
        }
        var tables: [(header: [String], rows: [[String]])] = []
        for columns in 1...4 {
            for _ in 0..<60 {
                let header = (0..<columns).map { _ in pick() }
                let rows = (0..<Int(seed >> 60)).map { _ in (0..<columns).map { _ in pick() } }
                tables.append((header, rows))
            }
        }
        return tables
    }

    @Test func agreesWithFoundationPadding() {
        for (header, rows) in Self.randomTables(seed: 7) {
            #expect(TextTable.render(header, rows) == Self.reference(header, rows), "\(header) \(rows)")
        }
        // Every cell in every position of a two-column table.
        for a in Self.cells {
            for b in Self.cells {
                #expect(TextTable.render(["A", "B"], [[a, b], [b, a]]) == Self.reference(["A", "B"], [[a, b], [b, a]]))
            }
        }
    }

    /// Widths worked out cell by cell (as the streamed compliance report
    /// does while collecting rows) write the same table as two passes.
    @Test func knownWidthsWriteTheSameTable() {
        for (header, rows) in Self.randomTables(seed: 11) {
            var known = TextTable.Widths(header)
            for row in rows.reversed() {  // any order
                for column in (0..<header.count).reversed() { known.add(row[column], column: column) }
            }
            let twoPasses = TextSink(flush: nil), onePass = TextSink(flush: nil)
            TextTable.write(header, { body in rows.forEach(body) }, to: twoPasses)
            TextTable.write(header, { body in rows.forEach(body) }, known: known, to: onePass)
            #expect(onePass.text == twoPasses.text, "\(header) \(rows)")
            #expect(twoPasses.text == Self.reference(header, rows))
        }
    }

    @Test func printableFastPathAgrees() {
        for cell in Self.cells + ["x" + String(repeating: "a", count: 80), String(repeating: "a", count: 80)] {
            for limit in [1, 60, 80, 500] {
                var slow = ""
                for scalar in cell.unicodeScalars.prefix(limit) {
                    if scalar.value < 0x20 || scalar.value == 0x7F {
                        slow += "\\u{\(String(scalar.value, radix: 16))}"
                    } else {
                        slow.unicodeScalars.append(scalar)
                    }
                }
                if cell.unicodeScalars.count > limit { slow += "…" }
                #expect(printable(cell, limit: limit) == slow)
            }
        }
    }
}
