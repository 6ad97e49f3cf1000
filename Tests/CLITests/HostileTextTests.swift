import Events
import Foundation
import Ledger
import Operations
@testable import Reports
import Testing
import TestSupport

/// Carriage returns, C0 and C1 controls and bidirectional overrides in an
/// event's text cannot change what a Markdown report or a terminal table
/// shows: they come out escaped, visibly (`\u{202e}`).
@Suite("Reports: hostile text is shown, not obeyed")
struct HostileTextTests {
    static let incident = "INC-2026-0142"
    /// A note meant to rewrite the line it is on, clear the screen, and flip text right to left.
    static let hostile = "ok\rREWRITTEN \u{1B}[2J \u{85}nel \u{9B}31m \u{202E}exe.txt\u{202C} \u{2066}iso\u{2069} \u{200F}\u{061C}\u{2028}end"
    /// An actor handle: no spaces, but a right-to-left override.
    static let actor = "eve\u{202E}evil"

    static func hasHostile(_ text: String) -> Bool {
        text.unicodeScalars.contains { Visible.isHostile($0.value) && $0 != "\n" }
    }

    @Test("the cell and table writers escape every hostile character")
    func writers() {
        let md = MD.cell(Self.hostile)
        #expect(!Self.hasHostile(md))
        for code in ["d", "1b", "85", "9b", "202e", "202c", "2066", "2069", "200f", "61c", "2028"] {
            #expect(md.contains("\\u{\(code)}"), "\(code): \(md)")
        }
        let table = TextTable.render(["A", "B"], [[Self.hostile, Self.actor], ["x", "y"]])
        #expect(!Self.hasHostile(table))
        #expect(table.contains("\\u{202e}"))
        #expect(table.split(separator: "\n").count == 3)
        // Ordinary text is untouched.
        #expect(MD.cell("Priority changed P3 → P1") == "Priority changed P3 → P1")
        #expect(Visible.escape("直接 é 😀") == "直接 é 😀")
    }

    @Test("an event with hostile text: the review and timeline (Markdown and table) and read --format table show it escaped")
    func endToEnd() throws {
        let db = try CLIComplianceTests.loaded()
        let note = Envelope(type: "note.added", caseID: Self.incident, occurredAt: try RFC3339.parse("2026-04-08T15:00:00Z"),
                            actor: Self.actor, source: .cli, key: "hostile-note", data: .object(["text": .string(Self.hostile)]))
        _ = try db.store().append(caseID: Self.incident, events: [note])
        let ledger = try db.session().open()
        let outputs = [
            try ledger.review(caseID: Self.incident, asOf: nil, format: .markdown),
            try ledger.timeline(caseID: Self.incident, asOf: nil, format: .markdown),
            try ledger.timeline(caseID: Self.incident, asOf: nil, format: .table),
        ]
        for out in outputs {
            #expect(!Self.hasHostile(out), "\(out.debugDescription.prefix(300))")
            #expect(out.contains("REWRITTEN"))
            #expect(out.contains("\\u{202e}"))
        }
        let read = InProcess.run(["read", "--format", "table", "--case", Self.incident], database: db)
        #expect(read.status == 0)
        #expect(!Self.hasHostile(read.stdout))
        #expect(read.stdout.contains("eve\\u{202e}evil"))
    }
}
