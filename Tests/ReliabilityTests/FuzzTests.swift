import Events
import Foundation
import Ledger
import Postgres
import Testing
import TestSupport

/// Hostile input: hand-picked nasties plus seeded random mutations of valid
/// envelopes, through Envelope.parse + EventStore.append in-process and
/// through the CLI binary. Every input either appends or is refused with a
/// clean one-line error, and a refused input leaves the ledger unchanged.
/// DTLEDGER_FUZZ_ITERATIONS / DTLEDGER_FUZZ_CLI_ITERATIONS / DTLEDGER_FUZZ_SEED
/// make longer or different runs (docs/reliability.md).
@Suite("Hostile input (fuzz)")
struct FuzzTests {
    static let seed = UInt64(environmentInt("DTLEDGER_FUZZ_SEED", default: 20_260_407))
    static let iterations = environmentInt("DTLEDGER_FUZZ_ITERATIONS", default: 300)
    static let cliIterations = environmentInt("DTLEDGER_FUZZ_CLI_ITERATIONS", default: 30)
    /// A file that shell metacharacters would create if anything ran them.
    static let canary = "/tmp/dtledger-fuzz-canary-\(getpid())"

    static func line(_ fields: [String: String], data: String = #"{"text":"hello"}"#) -> [UInt8] {
        var base: [String: String] = [
            "type": #""note.added""#, "case": #""FZ-1""#, "occurred_at": #""2026-03-03T14:05:00-05:00""#,
            "actor": #""jdoe""#, "source": #""cli""#,
        ]
        for (k, v) in fields { base[k] = v }
        let body = base.keys.sorted().map { "\"\($0)\":\(base[$0]!)" } + ["\"data\":\(data)"]
        return Array(("{" + body.joined(separator: ",") + "}").utf8)
    }

    static func str(_ s: String) -> String { JSONValue.string(s).jsonText() }

    /// Hand-picked hostile inputs (each one JSONL line, as bytes).
    static let nasties: [(String, [UInt8])] = {
        var list: [(String, [UInt8])] = []
        func add(_ name: String, _ bytes: [UInt8]) { list.append((name, bytes)) }
        let metas = ["'; DROP TABLE dtledger.events; --", "$1", "\"); DELETE FROM dtledger.events; --",
                     "$(touch \(canary))", "`touch \(canary)`", "; touch \(canary)", "| touch \(canary)",
                     "&& touch \(canary)", "\\x00", "%s%s%n", "{{7*7}}", "<script>", "../../etc/passwd", "\\\\'\\\""]
        for (i, m) in metas.enumerated() {
            add("metachar in case #\(i)", line(["case": str(m)]))
            add("metachar in type #\(i)", line(["type": str(m)]))
            add("metachar in actor #\(i)", line(["actor": str(m)]))
            add("metachar in key #\(i)", line(["key": str("k-\(i)-" + m)]))
            add("metachar in data #\(i)", line([:], data: "{\(str(m)):\(str(m))}"))
        }
        add("2 MiB string", line([:], data: "{\"text\":\"\(String(repeating: "a", count: 2 << 20))\"}"))
        add("10,000 keys", line([:], data: "{" + (0..<10_000).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}"))
        add("300-byte key", line(["key": str(String(repeating: "k", count: 300))]))
        add("200-byte type", line(["type": str(String(repeating: "t", count: 200))]))
        add("65-character case", line(["case": str("C" + String(repeating: "1", count: 64))]))
        add("multibyte type at the limit", line(["type": str(String(repeating: "é", count: 64))]))
        for depth in [100, 500, 513, 2_000, 100_000] {
            add("nesting \(depth) arrays", line([:], data: "{\"a\":" + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"))
            add("nesting \(depth) objects", line([:], data: String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth)))
        }
        add("invalid UTF-8 0xFF", Array(#"{"type":"note.added","case":"FZ-1","#.utf8) + [0xFF, 0xFE] + Array(#""actor":"a"}"#.utf8))
        add("invalid UTF-8 in a string", line([:], data: "{\"t\":\"") + [0xC0, 0xAF] + Array("\"}}".utf8))
        add("truncated multibyte", Array(#"{"type":"note.added","case":"FZ-1","actor":"\#u{e9}"#.utf8.dropLast()) + Array("\"}".utf8))
        add("lone surrogate escape", line([:], data: #"{"t":"\ud800"}"#))
        add("reversed surrogates", line([:], data: #"{"t":"\udc00\ud800"}"#))
        add("raw NUL byte", line([:], data: "{\"t\":\"a") + [0] + Array("b\"}".utf8))
        add("escaped NUL in data", line([:], data: #"{"t":"a\u0000b"}"#))
        add("escaped NUL in a data key", line([:], data: #"{"a\u0000":1}"#))
        add("escaped NUL in type", line(["type": #""note\u0000.added""#]))
        add("escaped NUL in key", line(["key": #""k\u0000""#]))
        add("escaped NUL in actor", line(["actor": #""a\u0000""#]))
        add("escaped NUL in case", line(["case": #""FZ\u00001""#]))
        for ts in ["0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "1899-12-31T23:59:59Z", "1900-01-01T00:00:00Z",
                   "1900-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59.999999-14:00",
                   "10000-01-01T00:00:00Z", "2026-02-29T00:00:00Z", "2024-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
                   "2026-01-01T24:00:00Z", "2016-12-31T23:59:60Z", "2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00+99:99",
                   "2026-01-01T00:00:00.123456789012Z", "2026-01-01T00:00:00", "2026-01-01", "", " 2026-01-01T00:00:00Z",
                   "2026-01-01T00:00:00z", "2026-01-01t00:00:00Z", "-2026-01-01T00:00:00Z", "+002026-01-01T00:00:00Z",
                   "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00,5Z", "１２３４-01-01T00:00:00Z"] {
            add("timestamp \(ts)", line(["occurred_at": str(ts)]))
        }
        add("timestamp as a number", line(["occurred_at": "1767225600"]))
        for n in ["1e400", "-1e400", "1e-400", "-0", "123456789012345678901234567890", "9223372036854775808",
                  "-9223372036854775809", "0.1e1", "1E+2", "01", "+1", ".5", "NaN", "Infinity", "0x10"] {
            add("number \(n)", line([:], data: "{\"n\":\(n)}"))
        }
        add("duplicate field", Array(#"{"type":"note.added","type":"other","case":"FZ-1","occurred_at":"2026-03-03T14:05:00Z","actor":"a","data":{}}"#.utf8))
        add("unknown field", line(["bogus": "1"]))
        add("case is a number", line(["case": "5"]))
        add("data is a string", line([:], data: #""text""#))
        add("data is null", line([:], data: "null"))
        add("key is an array", line(["key": "[]"]))
        add("source unknown", line(["source": #""carrier-pigeon""#]))
        add("empty object", Array("{}".utf8))
        add("array", Array("[]".utf8))
        add("null", Array("null".utf8))
        add("BOM", [0xEF, 0xBB, 0xBF] + line([:]))
        add("CR at the end", line([:]) + [0x0D])
        add("two objects on a line", line([:]) + line([:]))
        add("trailing garbage", line([:]) + Array(" xyz".utf8))
        add("only spaces", Array("   ".utf8))
        add("control characters", line([:], data: "{\"t\":\"\u{1}\u{1b}[31m\u{7f}\"}"))
        add("unicode everywhere", line(["actor": str("ünï"), "type": str("tÿpe.✓"), "key": str("🔑-1")], data: #"{"😀":"\u2028\u2029"}"#))
        return list
    }()

    static let mutations: [String] = [
        "'", "\"", "\\", "$(touch \(canary))", "`", ";", "\u{0}", "\\u0000", "\\ud800", "{", "}", "[", "]", ",", ":",
        "\n", "\r", "\u{FEFF}", "%", "--", "/*", "\u{FF}", "null", "-1", "1e999",
    ]

    /// A random mutation of a valid line: flips, inserts, deletes, repeats, truncates.
    static func mutate(_ bytes: [UInt8], _ rng: inout SeededRandom) -> [UInt8] {
        var b = bytes
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            guard !b.isEmpty else { break }
            let at = Int.random(in: 0..<b.count, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: b[at] = UInt8.random(in: 0...255, using: &rng)
            case 1: b.insert(contentsOf: Array(mutations.randomElement(using: &rng)!.utf8), at: at)
            case 2: b.removeSubrange(at..<min(b.count, at + Int.random(in: 1...8, using: &rng)))
            case 3:
                let end = min(b.count, at + Int.random(in: 1...16, using: &rng))
                b.insert(contentsOf: Array(b[at..<end]), at: end)
            case 4: b = Array(b.prefix(at))
            default: b[at] ^= 1 << UInt8.random(in: 0...7, using: &rng)
            }
        }
        return b
    }

    /// Valid lines with varied fields, to mutate.
    static func valid(_ i: Int, _ rng: inout SeededRandom) -> [UInt8] {
        let key = Bool.random(using: &rng) ? ["key": str("fz-\(i)")] : [:]
        let data = [#"{"text":"hello"}"#, #"{"a":[1,2,{"b":null}],"c":true,"d":-0.5}"#, #"{"nested":{"x":"y"}}"#, "{}"]
        return line(key.merging(["case": str("FZ-\(i % 7)")]) { a, _ in a }, data: data.randomElement(using: &rng)!)
    }

    enum Outcome { case appended, refusedBeforeDatabase, refusedByDatabase }

    @Test("in-process: Envelope.parse + EventStore.append refuse hostile input cleanly and leave the ledger unchanged")
    func inProcess() throws {
        let db = try TestDatabase.make()
        let store = try db.store()
        _ = try store.append(caseID: "FZ-0", events: [envelope("FZ-0", key: nil)])
        var rng = SeededRandom(seed: Self.seed)
        var inputs = Self.nasties
        for i in 0..<max(0, Self.iterations - inputs.count) {
            inputs.append(("mutation \(i)", Self.mutate(Self.valid(i, &rng), &rng)))
        }
        var counts: [Outcome: Int] = [:]
        var slowest = 0.0
        for (name, bytes) in inputs {
            let before = try store.digest()
            let started = Date()
            var outcome = Outcome.appended
            do {
                let value = try JSONValue.parse(Data(bytes))
                let env = try Envelope.parse(value, defaults: .init(occurredAt: nil, actor: "fuzz"))
                do {
                    let r = try store.append(caseID: env.caseID, events: [env])
                    // What was accepted reads back as given.
                    // Read back just this event (reading its whole case would
                    // parse the 2 MiB and deeply nested events again each time).
                    var read: RecordedEvent?
                    try store.forEachEvent(after: r[0].position - 1, through: r[0].position) { read = try $0.decoded() }
                    let stored = try #require(read)
                    #expect(stored.id == r[0].id, "\(name)")
                    #expect(stored.type == env.type && stored.actor == env.actor && stored.key == env.key, "\(name)")
                    #expect(stored.data.jsonText() == env.data.jsonText() || name.hasPrefix("number") || name.hasPrefix("mutation"),
                            "\(name): data changed on the way in")
                } catch let error as LedgerError {
                    guard error.code == .invalid else {
                        Issue.record("\(name): not a clean refusal: \(error) (code \(error.code))")
                        continue
                    }
                    #expect(!error.description.isEmpty, "\(name)")
                    #expect(try store.digest() == before, "\(name): a refused input changed the ledger")
                    outcome = .refusedByDatabase
                }
            } catch let error as JSONParseError {
                #expect(!error.description.contains("\n"), "\(name): \(error)")
                outcome = .refusedBeforeDatabase
            } catch let error as ValidationError {
                #expect(!error.description.contains("\n"), "\(name): \(error)")
                outcome = .refusedBeforeDatabase
            }
            if outcome != .appended { #expect(try store.digest() == before, "\(name)") }
            counts[outcome, default: 0] += 1
            let elapsed = Date().timeIntervalSince(started)
            slowest = max(slowest, elapsed)
            #expect(elapsed < 15, "\(name) took \(elapsed)s")
        }
        #expect(try store.verify().ok)
        #expect(!FileManager.default.fileExists(atPath: Self.canary), "a shell metacharacter was executed")
        report("fuzz in-process (seed \(Self.seed)): \(inputs.count) inputs, \(counts[.appended] ?? 0) appended, \(counts[.refusedBeforeDatabase] ?? 0) refused by parse/validation, \(counts[.refusedByDatabase] ?? 0) refused by the database, slowest \(String(format: "%.2f", slowest))s, chain verifies, ledger unchanged by every refusal")
    }

    @Test("CLI: hostile lines and --data values exit 0, 64 or 65 with one error line, and refused input changes nothing")
    func throughCLI() throws {
        let db = try TestDatabase.make()
        let store = try db.store()
        // Open the fuzzed cases, so valid inputs reach the append path
        // rather than stopping at "case never opened".
        for caseID in ["FZ-1", "FZ-D"] {
            _ = try store.append(caseID: caseID, events: openingEachCase([envelope(caseID, key: "open-\(caseID)")]))
        }
        var rng = SeededRandom(seed: Self.seed &+ 1)
        // A spread of the nasties plus mutations, as files on stdin.
        var inputs: [(String, [String], Data?)] = []
        let picked = Self.nasties.shuffled(using: &rng).prefix(Self.cliIterations * 2 / 3)
        for (name, bytes) in picked { inputs.append((name, ["append", "--file", "-"], Data(bytes))) }
        var i = 0
        while inputs.count < Self.cliIterations {
            let bytes = Self.mutate(Self.valid(1000 + i, &rng), &rng)
            if i % 3 == 0, let text = String(bytes: bytes, encoding: .utf8), !text.contains("\u{0}") {
                inputs.append(("--data mutation \(i)", ["append", "--case", "FZ-D", "--type", "note.added", "--data", text], nil))
            } else {
                inputs.append(("file mutation \(i)", ["append", "--file", "-"], Data(bytes)))
            }
            i += 1
        }
        var statuses: [Int32: Int] = [:]
        for (name, arguments, stdin) in inputs {
            let before = try store.digest()
            guard let result = try BackgroundCLI.run(arguments, database: db.url, stdin: stdin, timeout: 60) else {
                Issue.record("\(name): the CLI hung")
                continue
            }
            statuses[result.status, default: 0] += 1
            #expect([0, 64, 65].contains(result.status), "\(name): exit \(result.status): \(result.stderr.prefix(300))")
            if result.status != 0 {
                let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
                #expect(lines.count == 1 && lines[0].hasPrefix("dtledger: error:") || result.status == 64,
                        "\(name): \(result.stderr.prefix(300))")
                #expect(try store.digest() == before, "\(name): a refused input changed the ledger")
            }
        }
        #expect(try store.verify().ok)
        #expect(!FileManager.default.fileExists(atPath: Self.canary), "a shell metacharacter was executed")
        report("fuzz CLI (seed \(Self.seed)): \(inputs.count) inputs, exit codes \(statuses.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")), ledger unchanged by every refusal")
    }
}
