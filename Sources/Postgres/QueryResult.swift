import CLibPQ

/// The rows of a finished query, in text format. Frees itself.
public final class QueryResult {
    private let result: OpaquePointer

    init(result: OpaquePointer) { self.result = result }
    deinit { PQclear(result) }

    public var rowCount: Int { Int(PQntuples(result)) }
    public var columnCount: Int { Int(PQnfields(result)) }
    /// Rows touched by INSERT/UPDATE/DELETE/COPY.
    public var affectedRows: Int { Int(String(cString: PQcmdTuples(result))) ?? 0 }

    public func columnName(_ column: Int) -> String { String(cString: PQfname(result, Int32(column))) }

    public func row(_ index: Int) -> Row { Row(result: result, index: Int32(index), owner: self) }

    public var rows: [Row] { (0..<rowCount).map { row($0) } }

    /// The single value of a one-row, one-column result.
    public var scalar: String? { rowCount > 0 && columnCount > 0 ? row(0)[0] : nil }
}

/// One row of a result. A row from a `QueryResult` keeps its result alive;
/// a row handed to a `forEachRow` body is only valid during that call.
public struct Row {
    let result: OpaquePointer
    let index: Int32
    let owner: QueryResult?

    init(result: OpaquePointer, index: Int32, owner: QueryResult? = nil) {
        self.result = result
        self.index = index
        self.owner = owner
    }

    public var count: Int { Int(PQnfields(result)) }

    public subscript(_ column: Int) -> String? {
        let c = Int32(column)
        if PQgetisnull(result, index, c) == 1 { return nil }
        guard let value = PQgetvalue(result, index, c) else { return nil }
        return String(cString: value)
    }

    /// The value's raw bytes (without a copy into a String).
    public func withBytes<R>(_ column: Int, _ body: (UnsafeBufferPointer<UInt8>?) throws -> R) rethrows -> R {
        let c = Int32(column)
        if PQgetisnull(result, index, c) == 1 { return try body(nil) }
        let length = Int(PQgetlength(result, index, c))
        guard let value = PQgetvalue(result, index, c) else { return try body(nil) }
        return try value.withMemoryRebound(to: UInt8.self, capacity: length) {
            try body(UnsafeBufferPointer(start: $0, count: length))
        }
    }

    public func int64(_ column: Int) -> Int64? { self[column].flatMap { Int64($0) } }
    public func bool(_ column: Int) -> Bool? { self[column].map { $0 == "t" } }

    // Binary-format rows (`forEachRow(..., binary: true)`). A text, varchar
    // or name column reads with the subscript in either format (its binary
    // form is its text); these read the others. Nil for NULL or for a value
    // that is not of the expected size.

    /// A `bigint` (8 bytes, big-endian).
    public func binaryInt64(_ column: Int) -> Int64? {
        withBytes(column) { bytes in
            guard let bytes, bytes.count == 8 else { return nil }
            var value: UInt64 = 0
            for byte in bytes { value = value << 8 | UInt64(byte) }
            return Int64(bitPattern: value)
        }
    }

    /// A `timestamptz` as microseconds since 1970-01-01 UTC (the binary form
    /// counts from 2000-01-01). Nil for `infinity`, `-infinity` and values
    /// that do not fit.
    public func binaryTimestampMicros(_ column: Int) -> Int64? {
        guard let since2000 = binaryInt64(column), since2000 != .max, since2000 != .min else { return nil }
        let (micros, overflow) = since2000.addingReportingOverflow(BinaryCopyRows.postgresEpochMicroseconds)
        return overflow ? nil : micros
    }

    /// A `uuid` (16 bytes) in its canonical text form, lower-case with
    /// hyphens, as PostgreSQL writes it.
    public func binaryUUID(_ column: Int) -> String? {
        withBytes(column) { bytes in
            guard let bytes, bytes.count == 16 else { return nil }
            return String(unsafeUninitializedCapacity: 36) { out in
                var i = 0
                for n in 0..<16 {
                    if n == 4 || n == 6 || n == 8 || n == 10 { out[i] = 0x2D; i += 1 }
                    out[i] = hexDigit(bytes[n] >> 4)
                    out[i + 1] = hexDigit(bytes[n] & 0x0F)
                    i += 2
                }
                return i
            }
        }
    }
}

/// The lower-case ASCII hex digit of a nibble.
@inline(__always) private func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 + nibble : 0x57 + nibble }
