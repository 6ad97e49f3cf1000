import Events
import Foundation
import Postgres

/// What `verify` compares in the database with the SQL this binary ships
/// (`SchemaFunction.all`, the embedded `Migrations/functions/*.sql`): each
/// function's body (`pg_proc.prosrc`), argument types, language, `SECURITY
/// DEFINER` and `SET` options; each trigger present, enabled (`tgenabled =
/// 'O'`) and defined as shipped; who may execute each function; and that the
/// writer, reader and PUBLIC hold no privilege on the ledger's tables beyond
/// what the migrations grant (SELECT for the reader). The shipped definitions
/// are read from the files generically, so a changed file needs no change
/// here. Everything it reads is in the system catalogs, which every login
/// (the reader included) can read.
public enum SchemaCheck {
    /// A function as a shipped file defines it.
    public struct ShippedFunction: Sendable, Equatable {
        /// Qualified name: `dtledger.append`.
        public let name: String
        /// Argument types as written: `text`, `bigint`, `text[]`.
        public let argumentTypes: [String]
        public let body: String
        public let language: String
        public let securityDefiner: Bool
        /// `SET` options as `name=value`, whitespace removed.
        public let settings: [String]
        /// The file it comes from.
        public let file: String
        /// `regprocedure` text to look it up: `dtledger.append(text,bigint,...)`.
        public var signature: String { "\(name)(\(argumentTypes.joined(separator: ",")))" }
    }

    /// A trigger as a shipped file defines it.
    public struct ShippedTrigger: Sendable, Equatable {
        public let name: String
        /// Qualified table: `dtledger.events`.
        public let table: String
        /// The statement, `CREATE TRIGGER ...`, without `OR REPLACE`.
        public let definition: String
        public let file: String
    }

    /// Roles whose privileges are checked: the ledger's own and PUBLIC
    /// (plus any role a shipped file grants EXECUTE to).
    static let watchedRoles = ["dtledger_writer", "dtledger_reader", "PUBLIC"]

    /// The functions, triggers and EXECUTE grants of every shipped file.
    public static let shipped: (functions: [ShippedFunction], triggers: [ShippedTrigger], executeGrants: [String: Set<String>]) = {
        var functions: [ShippedFunction] = []
        var triggers: [ShippedTrigger] = []
        var grants: [String: Set<String>] = [:]
        for file in SchemaFunction.all {
            let (f, t, g) = parse(file.sql, file: "Migrations/functions/\(String(format: "%04d", file.migration))_\(file.name).sql")
            functions += f
            triggers += t
            grants.merge(g) { $0.union($1) }
        }
        return (functions, triggers, grants)
    }()

    // MARK: Reading the shipped files

    /// The SQL with `--` comments blanked out (outside dollar quotes and
    /// string literals), so only statements are searched.
    static func statements(_ sql: String) -> [Character] {
        var out = Array(sql)
        var i = 0
        var quote: [Character]?  // the dollar tag we are inside
        var inString = false
        while i < out.count {
            if let tag = quote {
                if out[i] == "$", Array(out[i..<min(out.count, i + tag.count)]) == tag {
                    i += tag.count; quote = nil; continue
                }
                i += 1; continue
            }
            if inString {
                if out[i] == "'" { inString = false }
                i += 1; continue
            }
            if out[i] == "'" { inString = true; i += 1; continue }
            if out[i] == "-", i + 1 < out.count, out[i + 1] == "-" {
                while i < out.count, out[i] != "\n" { out[i] = " "; i += 1 }
                continue
            }
            if out[i] == "$", let tag = dollarTag(out, at: i) { quote = tag; i += tag.count; continue }
            i += 1
        }
        return out
    }

    /// The dollar-quote tag starting at `i` (`$$`, `$body$`), if any.
    static func dollarTag(_ s: [Character], at i: Int) -> [Character]? {
        guard s[i] == "$" else { return nil }
        var j = i + 1
        while j < s.count, s[j].isLetter || s[j].isNumber || s[j] == "_" { j += 1 }
        guard j < s.count, s[j] == "$" else { return nil }
        if j > i + 1, s[i + 1].isNumber { return nil }  // $1 is a parameter
        return Array(s[i...j])
    }

    static func collapse(_ text: some StringProtocol) -> String {
        text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// The functions, triggers and EXECUTE grants one file defines.
    static func parse(_ sql: String, file: String) -> ([ShippedFunction], [ShippedTrigger], [String: Set<String>]) {
        let text = statements(sql)
        let upper = text.map { Character($0.uppercased()) }
        var functions: [ShippedFunction] = []
        var triggers: [ShippedTrigger] = []
        var grants: [String: Set<String>] = [:]
        // Statements end at a `;` outside quotes; dollar-quoted bodies are
        // skipped whole.
        var start = 0
        var i = 0
        var spans: [Range<Int>] = []
        var inString = false
        while i < text.count {
            if inString { if text[i] == "'" { inString = false }; i += 1; continue }
            if text[i] == "'" { inString = true; i += 1; continue }
            if text[i] == "$", let tag = dollarTag(text, at: i) {
                var j = i + tag.count
                while j < text.count, !(text[j] == "$" && Array(text[j..<min(text.count, j + tag.count)]) == tag) { j += 1 }
                i = j + tag.count
                continue
            }
            if text[i] == ";" { spans.append(start..<i); start = i + 1 }
            i += 1
        }
        for span in spans {
            let statement = String(text[span])
            let head = collapse(String(upper[span]))
            if head.hasPrefix("CREATE OR REPLACE FUNCTION ") || head.hasPrefix("CREATE FUNCTION ") {
                if let f = function(statement, file: file) { functions.append(f) }
            } else if head.hasPrefix("CREATE OR REPLACE TRIGGER ") || head.hasPrefix("CREATE TRIGGER ") {
                let words = collapse(statement).split(separator: " ").map(String.init)
                guard let on = words.firstIndex(where: { $0.uppercased() == "ON" }), on + 1 < words.count else { continue }
                let nameIndex = words[1].uppercased() == "OR" ? 4 : 2
                let definition = collapse(statement).replacingOccurrences(of: "CREATE OR REPLACE TRIGGER", with: "CREATE TRIGGER",
                                                                         options: [.caseInsensitive, .anchored])
                triggers.append(ShippedTrigger(name: words[nameIndex], table: words[on + 1], definition: definition, file: file))
            } else if head.hasPrefix("GRANT EXECUTE ON FUNCTION ") {
                let words = collapse(statement)
                guard let open = words.firstIndex(of: "("), let to = words.range(of: " TO ", options: [.caseInsensitive, .backwards]) else { continue }
                let name = String(words[words.index(words.startIndex, offsetBy: "GRANT EXECUTE ON FUNCTION ".count)..<open])
                    .trimmingCharacters(in: .whitespaces)
                let roles = words[to.upperBound...].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                grants[name, default: []].formUnion(roles)
            }
        }
        return (functions, triggers, grants)
    }

    /// One `CREATE [OR REPLACE] FUNCTION` statement, read.
    static func function(_ statement: String, file: String) -> ShippedFunction? {
        let s = Array(statement)
        guard let open = s.firstIndex(of: "(") else { return nil }
        let name = collapse(String(s[..<open])).split(separator: " ").last.map(String.init) ?? ""
        // The argument list, to its matching parenthesis.
        var depth = 0
        var close = open
        for k in open..<s.count {
            if s[k] == "(" { depth += 1 }
            if s[k] == ")" { depth -= 1; if depth == 0 { close = k; break } }
        }
        var arguments: [String] = []
        var current = ""
        depth = 0
        for c in s[(open + 1)..<close] {
            if c == "(" { depth += 1 } else if c == ")" { depth -= 1 }
            if c == ",", depth == 0 { arguments.append(current); current = "" } else { current.append(c) }
        }
        if !collapse(current).isEmpty { arguments.append(current) }
        let types: [String] = arguments.compactMap { argument in
            var words = collapse(argument).split(separator: " ").map(String.init)
            if let d = words.firstIndex(where: { $0.uppercased() == "DEFAULT" || $0 == "=" }) { words = Array(words[..<d]) }
            if let mode = words.first?.uppercased(), ["IN", "OUT", "INOUT", "VARIADIC"].contains(mode) {
                if mode == "OUT" { return nil }  // not part of the signature
                words.removeFirst()
            }
            if words.count >= 2 { words.removeFirst() }  // the argument's name
            return words.joined(separator: " ")
        }
        // The body: the first dollar-quoted string after the arguments.
        var k = close
        var body = ""
        var bodyRange = close..<close
        while k < s.count {
            if s[k] == "$", let tag = dollarTag(s, at: k) {
                var j = k + tag.count
                while j < s.count, !(s[j] == "$" && Array(s[j..<min(s.count, j + tag.count)]) == tag) { j += 1 }
                body = String(s[(k + tag.count)..<min(j, s.count)])
                bodyRange = k..<min(s.count, j + tag.count)
                break
            }
            k += 1
        }
        let options = collapse(String(s[(close + 1)..<bodyRange.lowerBound]) + " " + String(s[bodyRange.upperBound...]))
        let words = options.split(separator: " ").map(String.init)
        let upperWords = words.map { $0.uppercased() }
        let language = upperWords.firstIndex(of: "LANGUAGE").flatMap { $0 + 1 < words.count ? words[$0 + 1].lowercased() : nil } ?? "sql"
        var settings: [String] = []
        // `SET name = value[, value]` up to the next option keyword.
        let keywords: Set<String> = ["LANGUAGE", "SECURITY", "SET", "AS", "STABLE", "IMMUTABLE", "VOLATILE", "STRICT",
                                     "PARALLEL", "COST", "ROWS", "RETURNS", "CALLED", "LEAKPROOF", "NOT", "WINDOW", "EXTERNAL"]
        var w = 0
        while w < words.count {
            if upperWords[w] == "SET", w + 1 < words.count {
                var parts: [String] = []
                var v = w + 1
                while v < words.count, !keywords.contains(upperWords[v]) { parts.append(words[v]); v += 1 }
                if parts.count > 1, parts[1].uppercased() == "TO" { parts[1] = "=" }
                settings.append(parts.joined().lowercased().replacingOccurrences(of: "'", with: ""))
                w = v
            } else { w += 1 }
        }
        let definer = options.range(of: "SECURITY DEFINER", options: .caseInsensitive) != nil
        return ShippedFunction(name: name, argumentTypes: types, body: body, language: language,
                               securityDefiner: definer, settings: settings, file: file)
    }

    // MARK: Comparing with the database

    /// The checks `verify` reports: `functions`, `triggers`, `grants`.
    static func run(_ connection: Connection) throws -> [VerificationCheck] {
        let shipped = Self.shipped
        var functions = VerificationCheck(name: "functions")
        var triggers = VerificationCheck(name: "triggers")
        var grants = VerificationCheck(name: "grants")
        var shippedOIDs = Set<String>()

        for f in shipped.functions {
            let row = try connection.query("""
                SELECT p.oid::text, p.prosrc, p.prosecdef, coalesce(array_to_string(p.proconfig, E'\\n'), ''), l.lanname,
                       coalesce((SELECT string_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, ',')
                                   FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                                  WHERE a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner), '')
                  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
                 WHERE p.oid = to_regprocedure($1)
                """, [f.signature])
            guard row.rowCount == 1 else {
                let others = try connection.query("""
                    SELECT string_agg(p.oid::regprocedure::text, ', ') FROM pg_proc p
                     WHERE p.proname = $1 AND p.pronamespace = to_regnamespace($2)
                    """, [String(f.name.split(separator: ".").last ?? ""), String(f.name.split(separator: ".").first ?? "")]).scalar
                functions.add("function \(f.name)(\(f.argumentTypes.joined(separator: ", "))) that this binary ships (\(f.file)) is missing from the database" + (others.map { "; found \($0) instead" } ?? ""))
                continue
            }
            let r = row.row(0)
            shippedOIDs.insert(r[0] ?? "")
            var differences: [String] = []
            if r[1] != f.body { differences.append("its body") }
            if (r[2] == "t") != f.securityDefiner { differences.append(f.securityDefiner ? "it is no longer SECURITY DEFINER" : "it was made SECURITY DEFINER") }
            let config = (r[3] ?? "").split(separator: "\n").map { $0.filter { !$0.isWhitespace }.lowercased() }
            if config.sorted() != f.settings.map({ $0.filter { !$0.isWhitespace } }).sorted() {
                differences.append("its SET options (\(config.isEmpty ? "none" : config.joined(separator: "; ")))")
            }
            if r[4] != f.language { differences.append("its language (\(r[4] ?? ""))") }
            if !differences.isEmpty {
                functions.add("function \(f.name) differs from the definition this binary ships (\(f.file)): \(differences.joined(separator: ", ")): it was replaced")
            }
            // Who may execute it: nobody of the watched roles beyond the grants shipped.
            let expected = shipped.executeGrants[f.name] ?? []
            let watched = Set(watchedRoles).union(expected)
            let holders = (r[5] ?? "").split(separator: ",").map(String.init)
            for holder in holders where watched.contains(holder) && !expected.contains(holder) {
                grants.add("\(holder) may execute \(f.name), which this binary does not grant")
            }
        }
        // Functions in the ledger's schema that no shipped file defines.
        for row in try connection.query("""
            SELECT p.oid::text, p.oid::regprocedure::text FROM pg_proc p
             WHERE p.pronamespace = to_regnamespace('dtledger') ORDER BY 2
            """).rows where !shippedOIDs.contains(row[0] ?? "") {
            functions.add("function \(row[1] ?? "") is in the ledger's schema but this binary ships no such function: it was added")
        }

        var shippedTriggers = Set<String>()
        for t in shipped.triggers {
            let rows = try connection.query("""
                SELECT t.tgenabled::text, pg_get_triggerdef(t.oid) FROM pg_trigger t
                 WHERE t.tgrelid = to_regclass($1) AND t.tgname = $2 AND NOT t.tgisinternal
                """, [t.table, t.name])
            shippedTriggers.insert("\(t.table).\(t.name)")
            guard rows.rowCount == 1 else {
                triggers.add("trigger \(t.name) on \(t.table) (\(t.file)) is missing: it was dropped")
                continue
            }
            let r = rows.row(0)
            if r[0] != "O" {
                triggers.add("trigger \(t.name) on \(t.table) is \(r[0] == "D" ? "disabled" : "not enabled for ordinary sessions (tgenabled '\(r[0] ?? "")')"): the table can be changed without it")
            }
            // Same words in any order: the server prints the events of a
            // trigger (UPDATE OR DELETE) in an order of its own.
            func words(_ s: String) -> [String] { collapse(s).uppercased().split(separator: " ").map(String.init).sorted() }
            if words(r[1] ?? "") != words(t.definition) {
                triggers.add("trigger \(t.name) on \(t.table) differs from the definition this binary ships (\(t.file)): \(collapse(r[1] ?? ""))")
            }
        }
        // Triggers on the ledger's tables that no shipped file defines.
        for row in try connection.query("""
            SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
             WHERE c.relnamespace = to_regnamespace('dtledger') AND NOT t.tgisinternal ORDER BY 1, 2
            """).rows where !shippedTriggers.contains("dtledger.\(row[0] ?? "").\(row[1] ?? "")") {
            triggers.add("trigger \(row[1] ?? "") on dtledger.\(row[0] ?? "") is not one this binary ships: it was added")
        }

        // Table privileges of the watched roles: the reader may SELECT; the
        // receiver may INSERT and UPDATE the pollers' cursors (migration
        // 0011); the writer, the receiver otherwise and PUBLIC hold nothing
        // (they append through the functions).
        for row in try connection.query("""
            SELECT n.nspname || '.' || c.relname,
                   CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, a.privilege_type
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
                   aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
             WHERE n.nspname IN ('dtledger', 'dtledger_read') AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
               AND (a.grantee = 0 OR pg_get_userbyid(a.grantee) IN ('dtledger_writer', 'dtledger_reader', 'dtledger_receiver'))
             ORDER BY 1, 2, 3
            """).rows {
            let (table, role, privilege) = (row[0] ?? "", row[1] ?? "", row[2] ?? "")
            if role == "dtledger_reader", privilege == "SELECT" { continue }
            if role == "dtledger_receiver", table == "dtledger.poller_state", ["INSERT", "UPDATE"].contains(privilege) { continue }
            grants.add("\(role) holds \(privilege) on \(table), which this binary does not grant")
        }
        // Membership: the writer and the reader are members of no role (a
        // membership would hand them that role's privileges).
        for row in try connection.query("""
            SELECT pg_get_userbyid(m.member), pg_get_userbyid(m.roleid) FROM pg_auth_members m
             WHERE pg_get_userbyid(m.member) IN ('dtledger_writer', 'dtledger_reader') ORDER BY 1, 2
            """).rows {
            grants.add("\(row[0] ?? "") is a member of \(row[1] ?? ""), which hands it that role's privileges")
        }
        return [functions, triggers, grants]
    }
}
