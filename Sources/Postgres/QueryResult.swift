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
}
