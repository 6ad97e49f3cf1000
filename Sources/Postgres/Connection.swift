import CLibPQ
import Foundation

/// One libpq connection. Not Sendable: use it from one task at a time.
/// All parameters and results travel in text format.
public final class Connection {
    private let handle: OpaquePointer

    /// Opens a connection from a conninfo string or a `postgresql://` URL.
    /// An empty string means libpq's defaults (the `PG*` variables, ~/.pgpass).
    public init(conninfo: String, applicationName: String? = nil) throws(PostgresError) {
        // dbname is expanded as a conninfo string or URL; the application
        // name is a fallback, so a conninfo that names one wins.
        var keywords = ["dbname"]
        var values = [conninfo]
        if let applicationName {
            keywords.append("fallback_application_name")
            values.append(applicationName)
        }
        let opened: OpaquePointer? = Connection.withCStrings(keywords) { k in
            Connection.withCStrings(values) { v in PQconnectdbParams(k, v, 1) }
        }
        guard let handle = opened else {
            throw PostgresError(kind: .client, message: "libpq could not allocate a connection")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = Connection.clean(PQerrorMessage(handle))
            PQfinish(handle)
            throw PostgresError(kind: .connection, message: message.isEmpty ? "could not connect" : message)
        }
        self.handle = handle
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
    }

    deinit {
        PQfinish(handle)
    }

    /// The server's version number, e.g. 150018.
    public var serverVersion: Int { Int(PQserverVersion(handle)) }

    /// The backend process id serving this connection.
    public var backendPID: Int32 { PQbackendPID(handle) }

    /// False once the connection is known to be broken.
    public var isOK: Bool { PQstatus(handle) == CONNECTION_OK }

    // MARK: Queries

    /// Runs one statement with `$1, $2...` parameters (text; nil is NULL).
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> QueryResult {
        let result = withParameters(parameters) { values, lengths in
            PQexecParams(handle, sql, Int32(parameters.count), nil, values, lengths, nil, 0)
        }
        return try check(result)
    }

    /// Runs statements with no parameters (several may be separated by `;`).
    @discardableResult
    public func execute(_ sql: String) throws(PostgresError) -> QueryResult {
        try check(PQexec(handle, sql))
    }

    /// Prepares a named statement on this connection.
    public func prepare(_ name: String, _ sql: String) throws(PostgresError) {
        _ = try check(PQprepare(handle, name, sql, 0, nil))
    }

    /// Runs a statement prepared with `prepare`.
    @discardableResult
    public func queryPrepared(_ name: String, _ parameters: [String?]) throws(PostgresError) -> QueryResult {
        let result = withParameters(parameters) { values, lengths in
            PQexecPrepared(handle, name, Int32(parameters.count), values, lengths, nil, 0)
        }
        return try check(result)
    }

    /// Streams the rows of a query one at a time (libpq single-row mode), so
    /// memory stays flat however many rows there are. `body` sees each row
    /// once; the row is only valid during the call. With `binary`, the rows
    /// come in PostgreSQL's binary format (read them with `Row`'s `binary...`
    /// accessors; text columns read as usual): the server formats no
    /// numbers, timestamps or uuids and the client parses none.
    public func forEachRow(_ sql: String, _ parameters: [String?] = [], binary: Bool = false,
                           _ body: (Row) throws -> Void) throws {
        let sent = withParameters(parameters) { values, lengths in
            PQsendQueryParams(handle, sql, Int32(parameters.count), nil, values, lengths, nil, binary ? 1 : 0)
        }
        guard sent == 1 else { throw connectionError() }
        PQsetSingleRowMode(handle)
        var failure: (any Error)?
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            if failure != nil { continue }  // drain the rest after an error
            switch PQresultStatus(result) {
            case PGRES_SINGLE_TUPLE:
                do { try body(Row(result: result, index: 0)) } catch { failure = error }
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK:
                break
            default:
                failure = resultError(result)
            }
        }
        if let failure { throw failure }
    }

    /// Asks the server to stop the statement running on this connection
    /// (libpq's PQcancel, over a connection of its own); the statement then
    /// ends with SQLSTATE 57014, which the reader in progress still drains.
    /// Best effort: a statement that has already finished is not affected.
    public func cancelRunningQuery() {
        guard let cancel = PQgetCancel(handle) else { return }
        defer { PQfreeCancel(cancel) }
        var message = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancel, &message, Int32(message.count))
    }

    // MARK: Pipeline

    /// Runs the prepared statement `name` once per parameter list that `next`
    /// produces (until it returns nil), with libpq's pipeline mode: up to
    /// `window` executions are in flight, so the client builds the next
    /// parameters while the server runs the previous ones, and there is no
    /// round trip per execution. `result` sees each execution's result in
    /// order. The first failure (a refused execution, or an error thrown by
    /// `next` or `result`) stops sending; the one with the lowest index is
    /// thrown as `PipelineFailure`. Use it inside a transaction when all must
    /// land or none. Keep each execution's result small: results are read
    /// while later executions are being sent.
    public func pipelinePrepared(_ name: String, window: Int = 3,
                                 next: () throws -> [String?]?,
                                 result: (Int, QueryResult) throws -> Void) throws {
        guard PQenterPipelineMode(handle) == 1 else { throw connectionError() }
        var failure: PipelineFailure?
        func fail(_ index: Int, _ error: any Error) {
            if failure == nil || index < failure!.index { failure = PipelineFailure(index: index, error: error) }
        }
        var sent = 0, received = 0
        var exhausted = false
        // Reads the result of execution `received` (blocking until it is in).
        func receive() {
            let index = received
            received += 1
            guard let r = PQgetResult(handle) else { fail(index, connectionError()); return }
            while let extra = PQgetResult(handle) { PQclear(extra) }
            let status = PQresultStatus(r)
            if status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK {
                let wrapped = QueryResult(result: r)
                if failure == nil {
                    do { try result(index, wrapped) } catch { fail(index, error) }
                }
            } else {
                if status != PGRES_PIPELINE_ABORTED { fail(index, resultError(r)) }
                PQclear(r)
            }
        }
        while failure == nil && !exhausted {
            while failure == nil && !exhausted && sent - received < max(1, window) {
                let values: [String?]?
                do { values = try next() } catch { fail(sent, error); break }
                guard let values else { exhausted = true; break }
                let ok = withParameters(values) { v, l in
                    PQsendQueryPrepared(handle, name, Int32(values.count), v, l, nil, 0)
                }
                // Ask the server to send this result as soon as it has it.
                guard ok == 1, PQsendFlushRequest(handle) == 1, PQflush(handle) == 0 else {
                    fail(sent, connectionError()); break
                }
                sent += 1
            }
            if failure == nil && !exhausted && received < sent { receive() }
        }
        // Close the pipeline: a sync, the results still in flight, the sync's own.
        if PQpipelineSync(handle) == 1 {
            while received < sent { receive() }
            while let r = PQgetResult(handle) {
                let status = PQresultStatus(r)
                PQclear(r)
                if status == PGRES_PIPELINE_SYNC { break }
            }
        } else {
            fail(received, connectionError())
        }
        if PQexitPipelineMode(handle) != 1 { fail(sent, connectionError()) }
        if let failure { throw failure }
    }

    // MARK: COPY

    /// `COPY ... FROM STDIN`: sends `data` chunks produced by `produce` (it
    /// returns nil when done). Returns the number of rows copied. When
    /// `produce` throws, the COPY is aborted and its error rethrown.
    @discardableResult
    public func copyIn(_ sql: String, _ produce: () throws -> [UInt8]?) throws -> Int {
        _ = try beginCopyIn(sql)
        do {
            while let chunk = try produce() {
                if !chunk.isEmpty { try putCopyData(chunk) }
            }
        } catch let error as PostgresError {
            throw error
        } catch {
            _ = try? endCopy(error: "aborted by client")
            throw error
        }
        return try endCopy(error: nil)
    }

    /// Starts `COPY ... FROM STDIN` and returns a writer to push rows into.
    /// Nothing else may run on this connection until `finish()`.
    public func beginCopyIn(_ sql: String) throws -> CopyIn {
        guard let start = PQexec(handle, sql) else { throw connectionError() }
        defer { PQclear(start) }
        guard PQresultStatus(start) == PGRES_COPY_IN else { throw resultError(start) }
        return CopyIn(connection: self)
    }

    /// Begins `COPY table (columns) FROM STDIN (FORMAT binary)`: `sql` is
    /// the statement up to and including `FROM STDIN`; rows are appended as
    /// `BinaryCopyRows`.
    /// With `background`, the data is sent from a thread of the COPY's own
    /// (`CopyIn`), so the caller goes on building rows while the server
    /// takes them in; the connection must not be used otherwise until the
    /// COPY is finished or aborted.
    public func beginBinaryCopyIn(_ sql: String, background: Bool = false) throws -> CopyIn {
        guard let start = PQexec(handle, sql + " (FORMAT binary)") else { throw connectionError() }
        defer { PQclear(start) }
        guard PQresultStatus(start) == PGRES_COPY_IN else { throw resultError(start) }
        return CopyIn(connection: self, binary: true, background: background)
    }

    func putCopyData(_ bytes: [UInt8]) throws(PostgresError) {
        let sent = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { PQputCopyData(handle, $0.baseAddress, Int32($0.count)) }
        }
        guard sent == 1 else { throw connectionError() }
    }

    func endCopy(error: String?) throws(PostgresError) -> Int {
        guard PQputCopyEnd(handle, error) == 1 else { throw connectionError() }
        var copied = 0
        var failure: PostgresError?
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            if PQresultStatus(result) == PGRES_COMMAND_OK {
                copied = Int(String(cString: PQcmdTuples(result))) ?? 0
            } else if failure == nil {
                failure = resultError(result)
            }
        }
        if let failure { throw failure }
        return copied
    }

    /// `COPY ... TO STDOUT`: hands each row's bytes to `body`.
    public func copyOut(_ sql: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        guard let start = PQexec(handle, sql) else { throw connectionError() }
        defer { PQclear(start) }
        guard PQresultStatus(start) == PGRES_COPY_OUT else { throw resultError(start) }
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let n = PQgetCopyData(handle, &buffer, 0)
            if n > 0, let buffer {
                defer { PQfreemem(buffer) }
                try buffer.withMemoryRebound(to: UInt8.self, capacity: Int(n)) {
                    try body(UnsafeBufferPointer(start: $0, count: Int(n)))
                }
            } else if n == -1 {
                break
            } else {
                throw connectionError()
            }
        }
        var failure: PostgresError?
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            if PQresultStatus(result) != PGRES_COMMAND_OK, failure == nil { failure = resultError(result) }
        }
        if let failure { throw failure }
    }

    // MARK: Transactions

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws.
    @discardableResult
    public func transaction<T>(_ isolation: String = "READ COMMITTED",
                               _ body: (Connection) throws -> T) throws -> T {
        try execute("BEGIN ISOLATION LEVEL \(isolation)")
        let value: T
        do {
            value = try body(self)
        } catch {
            if isOK { _ = try? execute("ROLLBACK") }
            throw error
        }
        try execute("COMMIT")
        return value
    }

    // MARK: Notifications

    /// Waits up to `timeout` seconds for a NOTIFY on a channel this
    /// connection LISTENs to; returns the channel and payload, or nil.
    public func waitForNotification(timeout: Double) throws(PostgresError) -> (channel: String, payload: String)? {
        if let n = nextNotification() { return n }
        let socket = PQsocket(handle)
        guard socket >= 0 else { throw connectionError() }
        var fds = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let ready = poll(&fds, 1, Int32(timeout * 1000))
        if ready > 0 {
            guard PQconsumeInput(handle) == 1 else { throw connectionError() }
        }
        return nextNotification()
    }

    private func nextNotification() -> (channel: String, payload: String)? {
        guard let notify = PQnotifies(handle) else { return nil }
        defer { PQfreemem(notify) }
        return (String(cString: notify.pointee.relname), String(cString: notify.pointee.extra))
    }

    /// Quotes a string as an SQL literal for this connection.
    public func literal(_ text: String) -> String {
        guard let quoted = PQescapeLiteral(handle, text, text.utf8.count) else { return "NULL" }
        defer { PQfreemem(quoted) }
        return String(cString: quoted)
    }

    // MARK: Internals

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) } + [nil]
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    private func withParameters<R>(_ parameters: [String?],
                                   _ body: (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?) -> R) -> R {
        // Copy every parameter into one NUL-separated buffer that lives for
        // the whole call, then point into it.
        var storage: [CChar] = []
        var offsets: [Int?] = []
        var lengths: [Int32] = []
        storage.reserveCapacity(parameters.reduce(0) { $0 + ($1?.utf8.count ?? 0) + 1 })
        for parameter in parameters {
            if let parameter {
                offsets.append(storage.count)
                let utf8 = parameter.utf8
                lengths.append(Int32(utf8.count))
                storage.append(contentsOf: utf8.map { CChar(bitPattern: $0) })
                storage.append(0)
            } else {
                offsets.append(nil)
                lengths.append(0)
            }
        }
        return storage.withUnsafeBufferPointer { buffer in
            let pointers: [UnsafePointer<CChar>?] = offsets.map { offset in
                offset.map { buffer.baseAddress! + $0 }
            }
            return pointers.withUnsafeBufferPointer { p in
                lengths.withUnsafeBufferPointer { l in body(p.baseAddress, l.baseAddress) }
            }
        }
    }

    private func check(_ result: OpaquePointer?) throws(PostgresError) -> QueryResult {
        guard let result else { throw connectionError() }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return QueryResult(result: result)
        default:
            let error = resultError(result)
            PQclear(result)
            throw error
        }
    }

    private func resultError(_ result: OpaquePointer) -> PostgresError {
        func field(_ code: Int32) -> String? {
            guard let value = PQresultErrorField(result, code) else { return nil }
            return String(cString: value)
        }
        let sqlState = field(Int32(UInt8(ascii: "C")))  // PG_DIAG_SQLSTATE
        let primary = field(Int32(UInt8(ascii: "M")))   // PG_DIAG_MESSAGE_PRIMARY
        let message = primary ?? Connection.clean(PQresultErrorMessage(result))
        if sqlState == nil && PQstatus(handle) != CONNECTION_OK {
            return PostgresError(kind: .connection, message: message.isEmpty ? "connection lost" : message)
        }
        return PostgresError(kind: .server, sqlState: sqlState, message: message,
                             detail: field(Int32(UInt8(ascii: "D"))), hint: field(Int32(UInt8(ascii: "H"))),
                             constraint: field(Int32(UInt8(ascii: "n"))))
    }

    private func connectionError() -> PostgresError {
        let message = Connection.clean(PQerrorMessage(handle))
        return PostgresError(kind: PQstatus(handle) == CONNECTION_OK ? .client : .connection,
                             message: message.isEmpty ? "connection lost" : message)
    }

    static func clean(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "" }
        return String(cString: text)
            .split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .joined(separator: "; ")
    }
}
