#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Compliance
import Events
import Foundation
import Ledger

/// The one renderer of a period's compliance (`dtledger compliance --from
/// --to`, every format) and of the audit (`dtledger report audit`). Cases
/// are handed over one at a time (`add`, from `Compliance.streamPeriod`, in
/// any order) and written in opening order by `finish`; what the output
/// needs of each case waits in a spool, a temporary file when streaming
/// (memory stays flat: about 32 bytes per case, file offsets and, for the
/// text table, the opening time) or memory when a whole `PeriodReport` is
/// rendered into a String (`render`).
public final class PeriodStreamRenderer {
    /// What the period is rendered as: a compliance format, or one of the
    /// audit's own layouts (its JSON and CSV are the compliance ones).
    enum Layout: Equatable {
        case table, markdown, json, csv, auditMarkdown, auditHTML

        init(_ format: ComplianceFormat) {
            switch format {
            case .table: self = .table
            case .markdown: self = .markdown
            case .json: self = .json
            case .csv: self = .csv
            }
        }
    }

    /// What an audit adds to the period: the chain verification.
    struct AuditFacts {
        let verification: VerificationReport
        /// The digest the chain was verified against, when one was given.
        let digestChecked: Digest?
    }

    let layout: Layout
    let audit: AuditFacts?
    private let spool: Spool
    /// Where each case's record is in the spool, by index in opening order.
    private var records: [(offset: Int64, length: Int)] = []
    /// Text tables: column widths of the rows kept, worked out as they come
    /// (OPENED, whose time zone is known at the end, from `opened`), so
    /// `finish` reads the spool once per table instead of twice.
    private var caseWidths = TextTable.Widths(ComplianceRenderer.caseHeader)
    private var violationWidths = TextTable.Widths(ComplianceRenderer.violationHeader)
    private var opened: [Date?] = []

    /// A renderer for `dtledger compliance --from --to`, spooling to a temporary file.
    public convenience init(format: ComplianceFormat) throws {
        self.init(layout: Layout(format), audit: nil, spool: try Spool(file: ()))
    }

    init(layout: Layout, audit: AuditFacts?, spool: Spool) {
        precondition(audit != nil || (layout != .auditMarkdown && layout != .auditHTML), "an audit layout needs the audit")
        self.layout = layout
        self.audit = audit
        self.spool = spool
    }

    /// A whole period rendered into a String: this renderer, its spool in memory.
    static func render(_ report: PeriodReport, layout: Layout, audit: AuditFacts? = nil) -> String {
        let renderer = PeriodStreamRenderer(layout: layout, audit: audit, spool: Spool())
        var summary = PeriodSummary(from: report.from, to: report.to, asOf: report.asOf, digest: report.digest,
                                    totals: report.periodTotals, unjudged: report.unjudged,
                                    policyPublications: report.policyPublications, chain: report.chain)
        summary.undecodable = report.undecodable
        summary.publications = report.publications
        summary.retroactiveCases = report.cases.flatMap { c in c.retroactive.map { (c.evaluation.caseID, $0.eventID) } }
            .sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map { (caseID: $0.0, publication: $0.1) }
        let out = TextSink()
        // Only a spool's file I/O throws; this one is in memory.
        try! renderer.addAll(report.cases)
        try! renderer.write(summary, to: out)
        return out.text
    }

    private func addAll(_ cases: [CaseReport]) throws {
        for (index, c) in cases.enumerated() { try add(c, index: index) }
    }

    /// Keeps what the output needs of the case at `index` (opening order).
    public func add(_ c: CaseReport, index: Int) throws {
        var rows: [[String]]
        switch layout {
        case .table, .markdown, .auditMarkdown, .auditHTML:
            // The record: the count of case rows and of violation rows, the
            // case rows (one per evaluation: the primary policy's, then each
            // scoped policy's), the violation rows, then the case's finding rows.
            // The case row's OPENED column is formatted in the zone of the
            // period's first case, known at the end: kept as the exact Date.
            var caseRows: [[String]] = []
            var violations: [[String]] = []
            for (k, evaluation) in c.all.enumerated() {
                var row = ComplianceRenderer.caseRow(evaluation, .gmt, named: k > 0)
                row[3] = evaluation.evaluation.openedAt.map { String($0.timeIntervalSince1970.bitPattern) } ?? ""
                caseRows.append(row)
                violations += ComplianceRenderer.violationRows(evaluation, named: k > 0)
            }
            let findings = findingRows(c)
            if !findings.isEmpty { hasFindings = true }
            rows = [[String(caseRows.count), String(violations.count)]] + caseRows + violations + findings
            if layout == .table {
                for row in caseRows {
                    for (i, cell) in row.enumerated() where i != 3 { caseWidths.add(cell, column: i) }
                    opened.append(c.evaluation.openedAt)
                }
                violations.forEach { violationWidths.add($0) }
            }
        case .json:
            // The case's JSON, then (for an audit) its identity finding rows.
            rows = [[ComplianceRenderer.json(c).jsonText()]] + (audit == nil ? [] : findingRows(c))
            if rows.count > 1 { hasFindings = true }
        case .csv:
            // One field per CSV row (obligations, then the case's own findings): the chain columns, known at the end, follow each.
            rows = [c.all.flatMap(ComplianceRenderer.csvRows)]
        }
        if records.count <= index {
            records.append(contentsOf: repeatElement((offset: Int64(-1), length: 0), count: index + 1 - records.count))
        }
        records[index] = try spool.write(rows)
    }

    /// Some case has finding rows (the Findings / Identity and provenance section is written).
    private var hasFindings = false

    /// [case, finding line] per finding line of the case: every finding for
    /// compliance, logins and provenance only for an audit.
    private func findingRows(_ c: CaseReport) -> [[String]] {
        Fmt.findingLines(c.evaluation.findings, c.positions, identityOnly: audit != nil).map { [c.evaluation.caseID, $0] }
    }

    /// Writes the whole output, in pieces of about 64 KiB, to `write`.
    public func finish(_ summary: PeriodSummary, write: @escaping (String) -> Void) throws {
        let out = TextSink(flush: write)
        try self.write(summary, to: out)
        out.finish()
    }

    /// Writes the whole output to `out`.
    func write(_ summary: PeriodSummary, to out: TextSink) throws {
        var failure: (any Error)?
        /// Each stored case's rows, in opening order (a read error ends the walk and is thrown after).
        func forEachCase(_ body: ([[String]]) -> Void) {
            for r in records where r.offset >= 0 && failure == nil {
                do { body(try spool.read(r)) } catch { failure = error }
            }
        }
        let tz = ComplianceRenderer.zone(summary)
        /// A record's counts of case rows and violation rows (see `add`).
        func sizes(_ rows: [[String]]) -> (cases: Int, violations: Int) {
            (Int(rows[0][0]) ?? 0, Int(rows[0][1]) ?? 0)
        }
        let caseRows: TextTable.Rows = { body in
            forEachCase { rows in
                for var row in rows[1..<(1 + sizes(rows).cases)] {
                    row[3] = Fmt.time(UInt64(row[3]).map { Date(timeIntervalSince1970: Double(bitPattern: $0)) }, tz)
                    body(row)
                }
            }
        }
        let violationRows: TextTable.Rows = { body in
            forEachCase { rows in
                let (k, n) = sizes(rows)
                rows[(1 + k)..<(1 + k + n)].forEach(body)
            }
        }
        let findingRows: TextTable.Rows? = !hasFindings ? nil : { body in
            forEachCase { rows in
                let (k, n) = sizes(rows)
                rows[(1 + k + n)...].forEach(body)
            }
        }
        switch layout {
        case .table, .markdown:
            var caseWidths = caseWidths
            for date in opened { caseWidths.add(Fmt.time(date, tz), column: 3) }
            ComplianceRenderer.periodText(
                summary, markdown: layout == .markdown, out: out, caseRows: caseRows, violationRows: violationRows,
                caseWidths: layout == .table ? caseWidths : nil,
                violationWidths: layout == .table ? violationWidths : nil, findingRows: findingRows)
        case .auditMarkdown, .auditHTML:
            AuditRenderer.write(summary, audit!, html: layout == .auditHTML, out: out, caseRows: caseRows,
                                violationRows: violationRows, findingRows: findingRows)
        case .json:
            // One object, keys in sorted order as `JSONValue.jsonText` writes
            // them; the cases, already JSON text, streamed in their place.
            var fields = ComplianceRenderer.jsonFields(summary)
            if let audit { fields.merge(AuditRenderer.jsonFields(summary, audit)) { _, added in added } }
            // An audit's identity findings, streamed from the cases' records.
            let identityKey = "identity_and_provenance"
            let streamed = ["cases"] + (audit == nil ? [] : [identityKey])
            out.add("{")
            for (i, key) in (Array(fields.keys) + streamed).sorted().enumerated() {
                out.add { b in
                    if i > 0 { b.append(0x2C) }
                    JSONValue.writeString(key, to: &b)
                    b.append(0x3A)
                }
                if let value = fields[key] {
                    out.add { value.write(to: &$0) }
                } else if key == identityKey {
                    out.add("[")
                    var first = true
                    forEachCase { rows in
                        for row in rows.dropFirst() {
                            let item: JSONValue = .object(["case": .string(row[0]), "finding": .string(row[1])])
                            out.add(first ? item.jsonText() : "," + item.jsonText())
                            first = false
                        }
                    }
                    out.add("]")
                } else {
                    out.add("[")
                    var first = true
                    forEachCase { rows in
                        out.add(first ? rows[0][0] : "," + rows[0][0])
                        first = false
                    }
                    out.add("]")
                }
            }
            out.add("}\n")
        case .csv:
            out.add(ComplianceRenderer.csvHeader)
            let chain = ComplianceRenderer.chainColumns(summary.chain) + "\n"
            forEachCase { rows in for row in rows[0] { out.add(row); out.add(chain) } }
            for row in ComplianceRenderer.recordRows(publications: summary.publications, undecodable: summary.undecodable,
                                                     retroactive: summary.retroactiveCases) {
                out.add(row); out.add(chain)
            }
        }
        if let failure { throw failure }
    }
}

/// Rows of strings, each record written once and read back by offset: in
/// an anonymous temporary file (removed when closed), or in memory.
final class Spool {
    private let file: UnsafeMutablePointer<FILE>?
    private var memory: [UInt8] = []
    private var end: Int64 = 0

    /// In memory.
    init() { file = nil }

    /// In a temporary file.
    init(file: Void) throws {
        guard let f = tmpfile() else {
            throw ReportError(code: .spool, message: "compliance: cannot create a temporary file (\(String(cString: strerror(errno))))")
        }
        self.file = f
    }

    deinit { if let file { fclose(file) } }

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
        if let file {
            guard fseeko(file, off_t(end), SEEK_SET) == 0,
                  bytes.withUnsafeBytes({ fwrite($0.baseAddress, 1, $0.count, file) }) == bytes.count else {
                throw ReportError(code: .spool, message: "compliance: cannot write the temporary file (\(String(cString: strerror(errno))))")
            }
        } else {
            memory.append(contentsOf: bytes)
        }
        defer { end += Int64(bytes.count) }
        return (end, bytes.count)
    }

    func read(_ record: (offset: Int64, length: Int)) throws -> [[String]] {
        let bytes: [UInt8]
        if let file {
            var read = [UInt8](repeating: 0, count: record.length)
            guard fseeko(file, off_t(record.offset), SEEK_SET) == 0,
                  read.withUnsafeMutableBytes({ fread($0.baseAddress, 1, $0.count, file) }) == record.length else {
                throw ReportError(code: .spool, message: "compliance: cannot read the temporary file (\(String(cString: strerror(errno))))")
            }
            bytes = read
        } else {
            bytes = Array(memory[Int(record.offset)..<(Int(record.offset) + record.length)])
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
