#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Compliance
import Events
import Foundation

/// Renders a period's compliance from cases handed over one at a time
/// (`Compliance.streamPeriod`), byte for byte as `ComplianceRenderer.render`
/// renders the whole `PeriodReport`, without keeping the cases: each case's
/// rows go to a temporary file (issue 6: compliance memory grew with the
/// number of cases). Cases may come in any order; they are written in
/// opening order. Memory: about 32 bytes per case (file offsets and, for
/// the text table, the opening time).
public final class PeriodStreamRenderer {
    let format: ComplianceFormat
    private let spool: Spool
    /// Where each case's record is in the spool, by index in opening order.
    private var records: [(offset: Int64, length: Int)] = []
    /// Text tables: column widths of the rows kept, worked out as they come
    /// (OPENED, whose time zone is known at the end, from `opened`), so
    /// `finish` reads the spool once per table instead of twice.
    private var caseWidths = TextTable.Widths(ComplianceRenderer.caseHeader)
    private var violationWidths = TextTable.Widths(ComplianceRenderer.violationHeader)
    private var opened: [Date?] = []

    public init(format: ComplianceFormat) throws {
        self.format = format
        spool = try Spool()
    }

    /// Keeps what the output needs of the case at `index` (opening order).
    public func add(_ c: CaseReport, index: Int) throws {
        var rows: [[String]]
        switch format {
        case .table, .markdown:
            // The case row's OPENED column is formatted in the zone of the
            // period's first case, known at the end: kept as the exact Date.
            var row = ComplianceRenderer.caseRow(c, .gmt)
            row[3] = c.evaluation.openedAt.map { String($0.timeIntervalSince1970.bitPattern) } ?? ""
            let violations = ComplianceRenderer.violationRows(c)
            rows = [row] + violations
            if format == .table {
                for (i, cell) in row.enumerated() where i != 3 { caseWidths.add(cell, column: i) }
                violations.forEach { violationWidths.add($0) }
                opened.append(c.evaluation.openedAt)
            }
        case .json:
            rows = [[ComplianceRenderer.json(c).jsonText()]]
        case .csv:
            rows = [[c.evaluation.obligations.map { ComplianceRenderer.csvRow(c, $0) }.joined()]]
        }
        if records.count <= index {
            records.append(contentsOf: repeatElement((offset: Int64(-1), length: 0), count: index + 1 - records.count))
        }
        records[index] = try spool.write(rows)
    }

    /// Writes the whole output, in pieces, to `write`.
    public func finish(_ summary: PeriodSummary, write: @escaping (String) -> Void) throws {
        let out = TextSink(flush: write)
        var failure: (any Error)?
        /// Each stored case's rows, in opening order (a read error ends the walk and is thrown after).
        func forEachCase(_ body: ([[String]]) -> Void) {
            for r in records where r.offset >= 0 && failure == nil {
                do { body(try spool.read(r)) } catch { failure = error }
            }
        }
        switch format {
        case .table, .markdown:
            let tz = ComplianceRenderer.zone(summary)
            var caseWidths = caseWidths
            for date in opened { caseWidths.add(Fmt.time(date, tz), column: 3) }
            ComplianceRenderer.periodText(
                summary, markdown: format == .markdown, out: out,
                caseRows: { body in
                    forEachCase { rows in
                        var row = rows[0]
                        row[3] = Fmt.time(UInt64(row[3]).map { Date(timeIntervalSince1970: Double(bitPattern: $0)) }, tz)
                        body(row)
                    }
                },
                violationRows: { body in forEachCase { rows in rows.dropFirst().forEach(body) } },
                caseWidths: format == .table ? caseWidths : nil,
                violationWidths: format == .table ? violationWidths : nil)
        case .json:
            let text = ComplianceRenderer.json(summary).jsonText()
            // The top-level "cases" is the first such key: the keys are sorted
            // and the ones before it ("as_of", "by_rule", "by_team") hold no
            // unescaped quote inside their strings.
            guard let range = text.range(of: "\"cases\":[]") else { preconditionFailure("no cases key in \(text)") }
            out.add(String(text[..<range.lowerBound]) + "\"cases\":[")
            var first = true
            forEachCase { rows in
                out.add(first ? rows[0][0] : "," + rows[0][0])
                first = false
            }
            out.add("]" + String(text[range.upperBound...]) + "\n")
        case .csv:
            out.add(ComplianceRenderer.csvHeader)
            forEachCase { rows in out.add(rows[0][0]) }
        }
        if let failure { throw failure }
        out.finish()
    }
}

/// An anonymous temporary file (removed when closed) holding rows of
/// strings, each record written once and read back by offset.
private final class Spool {
    private let file: UnsafeMutablePointer<FILE>
    private var end: Int64 = 0

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init() throws {
        guard let f = tmpfile() else {
            throw Failure(description: "compliance: cannot create a temporary file (\(String(cString: strerror(errno))))")
        }
        file = f
    }

    deinit { fclose(file) }

    /// Record: row count; per row, field count; per field, byte count and bytes (counts as 4-byte integers).
    func write(_ rows: [[String]]) throws -> (offset: Int64, length: Int) {
        var bytes: [UInt8] = []
        func count(_ n: Int) {
            let v = UInt32(n)
            bytes.append(UInt8(v & 0xFF)); bytes.append(UInt8(v >> 8 & 0xFF))
            bytes.append(UInt8(v >> 16 & 0xFF)); bytes.append(UInt8(v >> 24))
        }
        count(rows.count)
        for row in rows {
            count(row.count)
            for field in row {
                count(field.utf8.count)
                bytes.append(contentsOf: field.utf8)
            }
        }
        guard fseeko(file, off_t(end), SEEK_SET) == 0,
              bytes.withUnsafeBytes({ fwrite($0.baseAddress, 1, $0.count, file) }) == bytes.count else {
            throw Failure(description: "compliance: cannot write the temporary file (\(String(cString: strerror(errno))))")
        }
        defer { end += Int64(bytes.count) }
        return (end, bytes.count)
    }

    func read(_ record: (offset: Int64, length: Int)) throws -> [[String]] {
        var bytes = [UInt8](repeating: 0, count: record.length)
        guard fseeko(file, off_t(record.offset), SEEK_SET) == 0,
              bytes.withUnsafeMutableBytes({ fread($0.baseAddress, 1, $0.count, file) }) == record.length else {
            throw Failure(description: "compliance: cannot read the temporary file (\(String(cString: strerror(errno))))")
        }
        var i = 0
        func count() -> Int {
            defer { i += 4 }
            return Int(bytes[i]) | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2]) << 16 | Int(bytes[i + 3]) << 24
        }
        var rows: [[String]] = []
        for _ in 0..<count() {
            var row: [String] = []
            for _ in 0..<count() {
                let n = count()
                row.append(String(decoding: bytes[i..<(i + n)], as: UTF8.self))
                i += n
            }
            rows.append(row)
        }
        return rows
    }
}
