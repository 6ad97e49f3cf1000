// dtledger-bench: the in-process half of Scripts/bench (docs/benchmarks.md).
// A measuring tool, not part of the CLI: it generates the synthetic workload,
// and measures the library's appends and raw libpq baselines (prepared
// INSERT, COPY in, COPY out) on the same server in the same run.
//
//   dtledger-bench generate --events N --out FILE [--scenarios DIR] [--prefix P] [--concurrent K]
//   dtledger-bench append --url URL --mode ledger|raw --writers K --seconds S [--scenarios DIR]
//   dtledger-bench copy-in --url URL --file FILE      COPY of the file's rows into bench.raw_import
//   dtledger-bench copy-out --url URL --sql SELECT    COPY (SELECT) TO STDOUT, discarded
//   dtledger-bench select --url URL --sql SELECT      single-row-mode read of every row, discarded
//   dtledger-bench serve-ingest|serve-memory ...      dtledger serve over HTTP (ServeBench.swift)
//
// Each measuring command prints one line: "<count> <seconds>".
import Compliance
import Events
import Foundation
import Ledger
import Postgres

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

func option(_ name: String, _ args: [String]) -> String? {
    guard let i = args.firstIndex(of: "--" + name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

func require(_ name: String, _ args: [String]) throws -> String {
    guard let v = option(name, args) else { throw BenchError("missing --\(name)") }
    return v
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

// MARK: Workload

/// The sample scenarios' cases, as templates: each template is the lines of
/// one case, with its case id to be replaced.
struct Templates {
    let cases: [(caseID: String, lines: [String])]

    init(directory: String) throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(".jsonl") }.sorted()
        var cases: [(String, [String])] = []
        for file in files {
            let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            var byCase: [String: [String]] = [:]
            var order: [String] = []
            for line in text.split(separator: "\n") where !line.allSatisfy(\.isWhitespace) {
                let value = try JSONValue.parse(String(line))
                guard let id = value["case"]?.stringValue else { continue }
                if byCase[id] == nil { order.append(id) }
                byCase[id, default: []].append(String(line))
            }
            for id in order { cases.append((id, byCase[id]!)) }
        }
        guard !cases.isEmpty else { throw BenchError("no scenario cases in \(directory)") }
        self.cases = cases
    }

    /// Case number `n` of the workload: template n % count with a new id
    /// (ids and idempotency keys stay unique).
    func lines(case n: Int, prefix: String) -> [String] {
        let t = cases[n % cases.count]
        let kind = t.caseID.hasPrefix("PD") ? "PD" : "INC"
        let id = "\(kind)-\(prefix)\(n)"
        return t.lines.map { $0.replacingOccurrences(of: t.caseID, with: id) }
    }

    func envelopes(case n: Int, prefix: String) throws -> [Envelope] {
        try lines(case: n, prefix: prefix).map { try Envelope.parse(try JSONValue.parse($0)) }
    }
}

func scenariosDirectory(_ args: [String]) -> String {
    option("scenarios", args) ?? ProcessInfo.processInfo.environment["DTLEDGER_SCENARIOS"] ?? "../shared/scenarios"
}

/// The workload file: cases overlap as they do in a real ledger (incidents
/// and downtimes run at the same time): `--concurrent` cases (default 32)
/// are in progress at once, their events interleaved round-robin, and a new
/// case starts when one ends. Each case's own events stay in order.
func generate(_ args: [String]) throws {
    let total = Int(try require("events", args)) ?? 0
    let out = try require("out", args)
    let prefix = option("prefix", args) ?? "B"
    let concurrent = max(1, Int(option("concurrent", args) ?? "32") ?? 32)
    let templates = try Templates(directory: scenariosDirectory(args))
    var text = ""
    text.reserveCapacity(total * 700)
    var written = 0, n = 0
    // In-progress cases: their remaining lines, next first.
    var active: [ArraySlice<String>] = []
    var queued = 0, turn = 0
    while written < total {
        while active.count < concurrent && written + queued < total {
            let lines = templates.lines(case: n, prefix: prefix)
            active.append(lines[...])
            queued += lines.count
            n += 1
        }
        guard !active.isEmpty else { break }
        turn %= active.count
        let line = active[turn].removeFirst()
        queued -= 1
        text += line
        text += "\n"
        written += 1
        if active[turn].isEmpty { active.remove(at: turn) } else { turn += 1 }
    }
    try text.write(toFile: out, atomically: false, encoding: .utf8)
    print("\(written) events, \(n) cases started, \(concurrent) at a time")
}

// MARK: Appends

final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var count = 0
    private(set) var errors: [String] = []
    func add(_ n: Int) { lock.lock(); count += n; lock.unlock() }
    func fail(_ e: String) { lock.lock(); errors.append(e); lock.unlock() }
}

/// Row values of the raw baseline: the same columns the ledger stores.
func rawRow(_ e: Envelope, position: Int64, version: Int64) -> [String?] {
    let hash = "\\x" + String(repeating: "ab", count: 32)
    let metadata = #"{"db_role": "dtledger", "client_addr": "local", "tool_version": "0.1.0", "application_name": "dtledger-bench"}"#
    return [String(position), UUID().uuidString.lowercased(), e.caseID, String(version), e.type,
            RFC3339.format(e.occurredAt), e.actor, e.source.rawValue, e.key, e.data.jsonText(), metadata, hash, hash]
}

enum SQL {
    static let rawInsert = """
    INSERT INTO bench.raw_events (position, id, case_id, version, type, occurred_at, recorded_at, actor, source,
                                  idempotency_key, data, metadata, previous_hash, hash)
    VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp(), $7, $8, $9, $10, $11, $12, $13)
    """
}

func append(_ args: [String]) throws {
    let url = try require("url", args)
    let mode = try require("mode", args)
    let writers = Int(option("writers", args) ?? "1") ?? 1
    let seconds = Double(option("seconds", args) ?? "5") ?? 5
    let run = option("run", args) ?? "0"
    let templates = try Templates(directory: scenariosDirectory(args))
    // Pre-parse one copy of each template; cases get new ids by field edits.
    let parsed: [[Envelope]] = try (0..<templates.cases.count).map { try templates.envelopes(case: $0, prefix: "T") }
    let tally = Tally()
    let done = DispatchGroup()
    let start = DispatchSemaphore(value: 0)
    let ready = DispatchSemaphore(value: 0)
    var threads: [Thread] = []
    for w in 0..<writers {
        done.enter()
        let thread = Thread {
            defer { done.leave() }
            do {
                let connection = try Connection(conninfo: url, applicationName: "dtledger-bench")
                let store = EventStore(connection: connection)
                if mode == "raw" { try connection.prepare("raw_insert", SQL.rawInsert) }
                ready.signal()
                start.wait()
                let deadline = now() + seconds
                var n = 0
                var position = Int64(w + 1) * 1_000_000_000 + (Int64(run) ?? 0) * 10_000_000
                var local = 0
                outer: while true {
                    let template = parsed[n % parsed.count]
                    let caseID = "\(template[0].caseID.hasPrefix("PD") ? "PD" : "INC")-A\(run)W\(w)N\(n)"
                    var version: Int64 = 0
                    for var e in template {
                        if now() >= deadline { break outer }
                        let oldID = e.caseID
                        e.caseID = caseID
                        e.key = e.key.map { $0.replacingOccurrences(of: oldID, with: caseID) }
                        version += 1
                        if mode == "raw" {
                            position += 1
                            try connection.queryPrepared("raw_insert", rawRow(e, position: position, version: version))
                        } else {
                            _ = try store.append(caseID: caseID, events: [e], openingTypes: Publishing.openingTypes)
                        }
                        local += 1
                    }
                    n += 1
                }
                tally.add(local)
            } catch {
                tally.fail("\(error)")
                ready.signal()
            }
        }
        thread.stackSize = 4 << 20
        threads.append(thread)
        thread.start()
    }
    for _ in 0..<writers { ready.wait() }
    let t0 = now()
    for _ in 0..<writers { start.signal() }
    done.wait()
    let elapsed = now() - t0
    if let e = tally.errors.first { throw BenchError(e) }
    print("\(tally.count) \(elapsed)")
}

// MARK: COPY and reads

func copyIn(_ args: [String]) throws {
    let url = try require("url", args)
    let file = try require("file", args)
    let data = try Data(contentsOf: URL(fileURLWithPath: file))
    var rows: [UInt8] = []
    rows.reserveCapacity(data.count + data.count / 4)
    var position: Int64 = 0
    var versions: [String: Int64] = [:]
    for line in data.split(separator: 0x0A) {
        let e = try Envelope.parse(try JSONValue.parse(Data(line)))
        position += 1
        let v = (versions[e.caseID] ?? 0) + 1
        versions[e.caseID] = v
        var row = rawRow(e, position: position, version: v)
        row.insert(RFC3339.format(Date()), at: 6)
        PGText.appendCopyRow(row, to: &rows)
    }
    let connection = try Connection(conninfo: url)
    try connection.execute("DROP TABLE IF EXISTS bench.raw_import; CREATE TABLE bench.raw_import (LIKE dtledger.events INCLUDING ALL)")
    var chunks = stride(from: 0, to: rows.count, by: 1 << 18).map { Array(rows[$0..<min($0 + (1 << 18), rows.count)]) }.makeIterator()
    let t0 = now()
    let copied = try connection.transaction { c in
        try c.copyIn("COPY bench.raw_import (position, id, case_id, version, type, occurred_at, recorded_at, actor, source, idempotency_key, data, metadata, previous_hash, hash) FROM STDIN") { chunks.next() }
    }
    let elapsed = now() - t0
    print("\(copied) \(elapsed)")
}

func copyOut(_ args: [String]) throws {
    let url = try require("url", args)
    let sql = try require("sql", args)
    let connection = try Connection(conninfo: url)
    var rows = 0, bytes = 0
    let t0 = now()
    try connection.copyOut("COPY (\(sql)) TO STDOUT") { buffer in rows += 1; bytes += buffer.count }
    print("\(rows) \(now() - t0)")
}

func select(_ args: [String]) throws {
    let url = try require("url", args)
    let sql = try require("sql", args)
    let connection = try Connection(conninfo: url)
    var rows = 0, bytes = 0
    let t0 = now()
    try connection.forEachRow(sql) { row in
        rows += 1
        for c in 0..<row.count { row.withBytes(c) { bytes += $0?.count ?? 0 } }
    }
    print("\(rows) \(now() - t0)")
}

let args = Array(CommandLine.arguments.dropFirst())
do {
    switch args.first {
    case "generate": try generate(args)
    case "append": try append(args)
    case "copy-in": try copyIn(args)
    case "copy-out": try copyOut(args)
    case "select": try select(args)
    case "serve-ingest": try ServeBench.ingest(args)
    case "serve-memory": try ServeBench.memory(args)
    default:
        FileHandle.standardError.write(Data("usage: dtledger-bench generate|append|copy-in|copy-out|select|serve-ingest|serve-memory ...\n".utf8))
        exit(64)
    }
} catch {
    FileHandle.standardError.write(Data("dtledger-bench: error: \(error)\n".utf8))
    exit(1)
}
