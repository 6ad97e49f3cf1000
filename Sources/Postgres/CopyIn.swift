import Dispatch
import Synchronization

/// A `COPY ... FROM STDIN` in progress: buffer rows with `append`, which
/// sends every 256 KiB; `finish` sends the rest and returns the row count.
/// A text COPY (`Connection.beginCopyIn`) takes rows of text fields; a
/// binary one (`Connection.beginBinaryCopyIn`) takes `BinaryCopyRows`.
/// In the background (`beginBinaryCopyIn(_:background:)`), each 256 KiB is
/// handed to a thread that sends it (at most 4 waiting, 1 MiB), so the
/// caller does not wait while the server takes the data in: a projection
/// rebuild's reading thread spent more than half its time blocked in
/// these sends.
public final class CopyIn {
    private let connection: Connection
    private let binary: Bool
    private var buffer: [UInt8] = []
    private var finished = false
    private var feeder: CopyFeeder?

    init(connection: Connection, binary: Bool = false, background: Bool = false) {
        self.connection = connection
        self.binary = binary
        buffer.reserveCapacity(1 << 18)
        if binary { buffer += BinaryCopyRows.header }
        if background { feeder = CopyFeeder(connection: connection) }
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
        if let feeder {
            try feeder.send(buffer)
            buffer = []
            buffer.reserveCapacity(1 << 18)
        } else {
            try connection.putCopyData(buffer)
            buffer.removeAll(keepingCapacity: true)
        }
    }

    /// Waits for the background sends; the connection is this thread's again.
    private func stopFeeder() throws(PostgresError) {
        guard let feeder else { return }
        self.feeder = nil
        try feeder.drain()
    }

    @discardableResult
    public func finish() throws(PostgresError) -> Int {
        if binary { buffer += BinaryCopyRows.trailer }
        try flush()
        try stopFeeder()
        finished = true
        return try connection.endCopy(error: nil)
    }

    /// Ends the COPY with an error, so the server discards what was sent.
    public func abort() {
        guard !finished else { return }
        finished = true
        try? stopFeeder()
        _ = try? connection.endCopy(error: "aborted by client")
    }
}

/// Sends a COPY's buffers from a serial queue of its own, in order. The
/// connection is only touched there between `init` and the end of
/// `drain` (hence `@unchecked Sendable`: `CopyIn` hands it over and takes
/// it back). After a failed send the rest are dropped, and the error is
/// thrown by the next `send` or by `drain`.
private final class CopyFeeder: @unchecked Sendable {
    private let connection: Connection
    private let queue = DispatchQueue(label: "dtledger.copy-in")
    /// Buffers handed over and not yet sent, at most `depth`.
    private let slots: DispatchSemaphore
    private let failure = Mutex<PostgresError?>(nil)

    init(connection: Connection, depth: Int = 4) {
        self.connection = connection
        slots = DispatchSemaphore(value: depth)
    }

    func send(_ bytes: [UInt8]) throws(PostgresError) {
        if let error = failure.withLock({ $0 }) { throw error }
        slots.wait()
        queue.async { [self] in
            defer { slots.signal() }
            guard failure.withLock({ $0 == nil }) else { return }
            do throws(PostgresError) {
                try connection.putCopyData(bytes)
            } catch {
                failure.withLock { $0 = error }
            }
        }
    }

    /// Waits until every buffer handed over is sent (or dropped).
    func drain() throws(PostgresError) {
        queue.sync {}
        if let error = failure.withLock({ $0 }) { throw error }
    }
}
