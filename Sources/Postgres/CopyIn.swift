/// A `COPY ... FROM STDIN` in progress: buffer rows with `append`, which
/// sends every 256 KiB; `finish` sends the rest and returns the row count.
public final class CopyIn {
    private let connection: Connection
    private var buffer: [UInt8] = []
    private var finished = false

    init(connection: Connection) {
        self.connection = connection
        buffer.reserveCapacity(1 << 18)
    }

    /// Appends one row of COPY text format (see `PGText.appendCopyRow`).
    public func append(_ fields: [String?]) throws(PostgresError) {
        PGText.appendCopyRow(fields, to: &buffer)
        if buffer.count >= 1 << 18 { try flush() }
    }

    private func flush() throws(PostgresError) {
        guard !buffer.isEmpty else { return }
        try connection.putCopyData(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    @discardableResult
    public func finish() throws(PostgresError) -> Int {
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
