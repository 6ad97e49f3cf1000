import Foundation
import Postgres
import Testing
import TestSupport

/// The libpq wrapper on a real server.
@Suite("Postgres wrapper")
struct PostgresTests {
    @Test("parameters round-trip text, NULL, quotes and multibyte characters")
    func parameters() throws {
        let c = try TestDatabase.make().connect()
        let tricky = "it's \"quoted\" \\ ünï ✓ \n; DROP TABLE x; --"
        let row = try c.query("SELECT $1::text, $2::text IS NULL, octet_length($1::text)", [tricky, nil]).row(0)
        #expect(row[0] == tricky)
        #expect(row.bool(1) == true)
        #expect(row.int64(2) == Int64(tricky.utf8.count))
    }

    @Test("prepared statements run many times")
    func prepared() throws {
        let c = try TestDatabase.make().connect()
        try c.execute("CREATE TEMP TABLE t (n int, s text)")
        try c.prepare("ins", "INSERT INTO t VALUES ($1::int, $2)")
        for i in 1...20 { try c.queryPrepared("ins", [String(i), "row \(i)"]) }
        #expect(try c.query("SELECT count(*), sum(n) FROM t").row(0)[1] == "210")
    }

    @Test("errors carry SQLSTATE, detail and constraint")
    func errors() throws {
        let c = try TestDatabase.make().connect()
        try c.execute("CREATE TEMP TABLE u (k text PRIMARY KEY)")
        try c.query("INSERT INTO u VALUES ('a')")
        do {
            try c.query("INSERT INTO u VALUES ('a')")
            Issue.record("expected a unique violation")
        } catch {
            #expect(error.sqlState == SQLState.uniqueViolation)
            #expect(error.constraint == "u_pkey")
            #expect(error.detail?.contains("already exists") == true)
            #expect(!error.isConnectionFailure)
        }
        do {
            try c.query("SELECT * FROM no_such_table")
            Issue.record("expected an undefined table")
        } catch {
            #expect(error.sqlState == SQLState.undefinedTable)
        }
        // The connection is still usable after errors.
        #expect(try c.query("SELECT 1").scalar == "1")
    }

    @Test("transactions commit on return and roll back on throw")
    func transactions() throws {
        let c = try TestDatabase.make().connect()
        try c.execute("CREATE TEMP TABLE t (n int)")
        try c.transaction { try $0.query("INSERT INTO t VALUES (1)") }
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try c.transaction { c2 -> Void in
                try c2.query("INSERT INTO t VALUES (2)")
                throw Boom()
            }
        }
        #expect(try c.query("SELECT array_agg(n)::text FROM t").scalar == "{1}")
    }

    @Test("COPY in and out, and single-row reads, carry every row exactly")
    func copyAndSingleRow() throws {
        let c = try TestDatabase.make().connect()
        try c.execute("CREATE TEMP TABLE t (n int, s text, a text[])")
        let copy = try c.beginCopyIn("COPY t (n, s, a) FROM STDIN")
        for i in 1...5000 {
            try copy.append([String(i), i % 7 == 0 ? nil : "tab\there\nnewline \\ \(i)", PGText.array(["x\"y", "z,\(i)"])])
        }
        #expect(try copy.finish() == 5000)
        var seen = 0
        var sum = 0
        try c.forEachRow("SELECT n, s, a[1], a[2] FROM t ORDER BY n") { row in
            seen += 1
            sum += Int(row[0]!)!
            let n = Int(row[0]!)!
            #expect(row[1] == (n % 7 == 0 ? nil : "tab\there\nnewline \\ \(n)"))
            #expect(row[2] == "x\"y")
            #expect(row[3] == "z,\(n)")
        }
        #expect(seen == 5000)
        #expect(sum == 5000 * 5001 / 2)
        var bytes = 0, lines = 0
        try c.copyOut("COPY t TO STDOUT") { chunk in
            bytes += chunk.count
            lines += chunk.filter { $0 == 0x0A }.count
        }
        #expect(lines == 5000)
        #expect(bytes > 5000 * 20)
        // A pull-based COPY, and an aborted one that writes nothing.
        var left = 3
        let n = try c.copyIn("COPY t (n) FROM STDIN") {
            defer { left -= 1 }
            return left > 0 ? Array("\(left + 10000)\n".utf8) : nil
        }
        #expect(n == 3)
        struct Stop: Error {}
        #expect(throws: Stop.self) { try c.copyIn("COPY t (n) FROM STDIN") { throw Stop() } }
        #expect(try c.query("SELECT count(*) FROM t").scalar == "5003")
    }

    @Test("binary COPY writes every type the read models use, the same as text would")
    func binaryCopy() throws {
        let c = try TestDatabase.make().connect()
        try c.execute("CREATE TEMP TABLE b (t text, n bigint, i integer, f boolean, at timestamptz, id uuid, a text[])")
        let tricky = "tab\tnew\nline \\ \"q\" {b},c NULL \\N é 🚨"
        var rows = BinaryCopyRows()
        rows.row(fields: 7)
        rows.text(tricky); rows.int64(-9_007_199_254_740_993); rows.int32(-7); rows.bool(true)
        rows.timestamp(unixMicroseconds: 1_772_564_700_123_456)  // 2026-03-03T19:05:00.123456Z
        rows.uuid("0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0"); rows.textArray(["a,b", "{c}", "", "\"d\"", tricky])
        rows.row(fields: 7)
        rows.text(nil); rows.int64(nil); rows.int32(nil); rows.bool(false)
        rows.timestamp(unixMicroseconds: -1)  // before both epochs
        rows.uuid(nil); rows.textArray([])
        rows.row(fields: 7)
        rows.text(""); rows.int64(0); rows.int32(Int32.max); rows.bool(false)
        rows.timestamp(unixMicroseconds: nil)
        rows.uuid("not-a-uuid"); rows.textArray(["only"])
        #expect(rows.count == 3)
        let copy = try c.beginBinaryCopyIn("COPY b FROM STDIN")
        try copy.append(binary: rows)
        #expect(try copy.finish() == 3)
        try c.execute("SET TIME ZONE 'UTC'")
        let got = try c.query("SELECT t, n, i, f, at, id, a, cardinality(a) FROM b ORDER BY i NULLS FIRST").rows
        #expect(got[0][0] == nil && got[0][1] == nil && got[0][2] == nil && got[0][3] == "f")
        #expect(got[0][4] == "1969-12-31 23:59:59.999999+00" && got[0][5] == nil && got[0][6] == "{}" && got[0][7] == "0")
        #expect(got[1][0] == tricky && got[1][1] == "-9007199254740993" && got[1][2] == "-7" && got[1][3] == "t")
        #expect(got[1][4] == "2026-03-03 19:05:00.123456+00")
        #expect(got[1][5] == "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
        #expect(try c.query("SELECT a = ARRAY['a,b', '{c}', '', '\"d\"', $1] FROM b WHERE i = -7", [tricky]).scalar == "t")
        // A malformed uuid is sent as NULL, so a NOT NULL column refuses the row.
        #expect(got[2][0] == "" && got[2][2] == "2147483647" && got[2][4] == nil && got[2][5] == nil && got[2][6] == "{only}")
    }

    @Test("binary rows read bigints, timestamps, uuids and text as the text format shows them")
    func binaryRows() throws {
        let c = try TestDatabase.make().connect()
        let tricky = "tab\tnew\nline \\ \"q\" é 🚨"
        var got: [[String?]] = []
        try c.forEachRow("""
            SELECT n, at, id, t
              FROM (VALUES
                (-9007199254740993::bigint, '2026-03-03T19:05:00.123456Z'::timestamptz,
                 '0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0'::uuid, $1::text),
                (0, '1969-12-31T23:59:59.999999Z', '00000000-0000-0000-0000-000000000000', ''),
                (9223372036854775807, '2000-01-01T00:00:00Z', 'ffffffff-ffff-ffff-ffff-ffffffffffff', NULL),
                (NULL, '0001-01-01T00:00:00Z', NULL, 'x'),
                (1, 'infinity', NULL, 'y'),
                (2, '-infinity', NULL, 'z')) AS v(n, at, id, t)
            """, [tricky], binary: true) { row in
            got.append([row.binaryInt64(0).map(String.init), row.binaryTimestampMicros(1).map(String.init),
                        row.binaryUUID(2), row[3]])
            // A column of another size is not read as a bigint or a uuid.
            #expect(row.binaryInt64(2) == nil && row.binaryUUID(0) == nil)
        }
        #expect(got.count == 6)
        #expect(got[0] == ["-9007199254740993", "1772564700123456", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", tricky])
        #expect(got[1] == ["0", "-1", "00000000-0000-0000-0000-000000000000", ""])
        #expect(got[2] == ["9223372036854775807", "946684800000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", nil])
        #expect(got[3] == [nil, "-62135596800000000", nil, "x"])
        #expect(got[4][1] == nil && got[5][1] == nil)
        // The same query in text format: the binary reads match PostgreSQL's own conversions.
        let text = try c.query("""
            SELECT (extract(epoch FROM at) * 1000000)::bigint, id
              FROM (VALUES ('2026-03-03T19:05:00.123456Z'::timestamptz, '0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0'::uuid),
                           ('0001-01-01T00:00:00Z', NULL)) AS v(at, id)
            """).rows
        #expect(text[0][0] == got[0][1] && text[0][1] == got[0][2] && text[1][0] == got[3][1])
    }

    @Test("a background binary COPY sends every row in order, reports the server's refusal, and aborts cleanly")
    func backgroundCopy() throws {
        let c = try TestDatabase.make().connect()
        try c.execute("CREATE TABLE bg (n bigint NOT NULL, t text NOT NULL, id uuid NOT NULL)")
        // About 4 MiB: sixteen 256 KiB hand-overs, more than the 4 that may wait.
        let count = 60_000
        func rows(_ range: Range<Int>, badAt: Int? = nil) -> BinaryCopyRows {
            var rows = BinaryCopyRows()
            for n in range {
                rows.row(fields: 3)
                rows.int64(Int64(n))
                rows.text("row \(n) " + String(repeating: "x", count: 40))
                rows.uuid(n == badAt ? "not-a-uuid" : "00000000-0000-0000-0000-\(String(format: "%012d", n))")
            }
            return rows
        }
        let copy = try c.beginBinaryCopyIn("COPY bg FROM STDIN", background: true)
        for start in stride(from: 0, to: count, by: 1_000) { try copy.append(binary: rows(start..<(start + 1_000))) }
        #expect(try copy.finish() == count)
        let check = try c.query("SELECT count(*), sum(n), bool_and(t = 'row ' || n || ' ' || repeat('x', 40)) FROM bg").row(0)
        #expect(check[0] == String(count) && check[1] == String(count * (count - 1) / 2) && check[2] == "t")
        // In the order sent: a fresh table keeps a single COPY's rows in insertion order.
        #expect(try c.query("SELECT bool_and(n = r - 1) FROM (SELECT n, row_number() OVER (ORDER BY ctid) AS r FROM bg) o").scalar == "t")

        // A row the server refuses (NULL in a NOT NULL column), early in a long COPY.
        try c.execute("TRUNCATE bg")
        let bad = try c.beginBinaryCopyIn("COPY bg FROM STDIN", background: true)
        var thrown: (any Error)?
        do {
            try bad.append(binary: rows(0..<1_000, badAt: 10))
            for start in stride(from: 1_000, to: count, by: 1_000) { try bad.append(binary: rows(start..<(start + 1_000))) }
            try bad.finish()
        } catch {
            thrown = error
            bad.abort()
        }
        let refusal = try #require(thrown as? PostgresError)
        #expect(refusal.description.contains("null value"))
        #expect(try c.query("SELECT count(*) FROM bg").scalar == "0")

        // Aborted by the client after several hand-overs: nothing lands, the connection is usable.
        let aborted = try c.beginBinaryCopyIn("COPY bg FROM STDIN", background: true)
        for start in stride(from: 0, to: 20_000, by: 1_000) { try aborted.append(binary: rows(start..<(start + 1_000))) }
        aborted.abort()
        #expect(try c.query("SELECT count(*) FROM bg").scalar == "0")
        #expect(try c.query("SELECT 2").scalar == "2")
    }

    @Test("an error thrown by a single-row reader stops the read and leaves the connection usable")
    func readerError() throws {
        let c = try TestDatabase.make().connect()
        struct Enough: Error {}
        var rows = 0
        #expect(throws: Enough.self) {
            try c.forEachRow("SELECT generate_series(1, 10000)") { _ in
                rows += 1
                if rows == 10 { throw Enough() }
            }
        }
        #expect(rows == 10)
        #expect(try c.query("SELECT 2").scalar == "2")
    }
}
