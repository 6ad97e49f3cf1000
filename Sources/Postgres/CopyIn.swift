/// A `COPY ... FROM STDIN` in progress: buffer rows with `append`, which
/// sends every 256 KiB; `finish` sends the rest and returns the row count.
/// A text COPY (`Connection.beginCopyIn`) takes rows of text fields; a
/// binary one (`Connection.beginBinaryCopyIn`) takes `BinaryCopyRows`.
public final class CopyIn {
    private let connection: Connection
    private let binary: Bool
    private var buffer: [UInt8] = []
    private var finished = false

    init(connection: Connection, binary: Bool = false) {
        self.connection = connection
        self.binary = binary
        buffer.reserveCapacity(1 << 18)
        if binary { buffer += BinaryCopyRows.header }
    }

    /// Appends one row of COPY text format (see `PGText.appendCopyRow`).
    public func append(_ fields: [String?]) throws(PostgresError) {
        precondition(!binary, "a binary COPY takes BinaryCopyRows")
        PGText.appendCopyRow(fields, to: &buffer)
        if buffer.count >= 1 << 18 { try flush() }
    }

    /// Appends rows encoded for a binary COPY.
    public func append(binary rows: BinaryCopyRows) throws(PostgresError) {
        precondition(binary, "a text COPY takes text fields")
        buffer += rows.bytes
        if buffer.count >= 1 << 18 { try flush() }
    }

    private func flush() throws(PostgresError) {
        guard !buffer.isEmpty else { return }
        try connection.putCopyData(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    @discardableResult
    public func finish() throws(PostgresError) -> Int {
        if binary { buffer += BinaryCopyRows.trailer }
        try flush()
        finished = true
        return try connection.endCopy(error: nil)
    }

    /// Ends the COPY with an error, so the server discards what was sent.
    public func abort() {
        guard !finished else { return }
        finished = true
        _ = try? connection.endCopy(error: "aborted by client")
    }
}
