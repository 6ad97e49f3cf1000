import Events
import Foundation

/// A JSONL file of envelopes, read as a stream: one object per line; blank
/// lines are skipped. A regular file is read in chunks, so memory stays flat
/// however long it is; standard input, pipes and devices are kept in memory
/// (they cannot be read again, and a retry after a lost connection starts
/// from the top).
/// Every line is parsed and validated before its batch is sent; a bad line
/// stops the import, whose transaction then appends nothing.
public final class EnvelopeFile {
    /// The longest line accepted (an event's data is limited to 1 MiB).
    static let maxLineBytes = 2 << 20
    static let chunkBytes = 1 << 20

    private let path: String
    private let defaults: Envelope.Defaults
    private var handle: FileHandle?
    /// Whether `buffer` holds the whole input (it cannot be read twice):
    /// then it is never trimmed, and a rewind only moves `start` back.
    private var inMemory = false
    /// Unconsumed bytes read from the input, from `start`.
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEOF = false
    public private(set) var lineNumber = 0
    /// Bytes consumed so far, and the input's size when known (for progress).
    public private(set) var bytesRead = 0
    public let totalBytes: Int?
    /// Whether every event read so far has an idempotency key.
    public private(set) var allKeyed = true

    /// Opens `path` ("-" for `standardInput`, read whole).
    public init(path: String, defaults: Envelope.Defaults, standardInput: () -> Data) throws {
        self.path = path
        self.defaults = defaults
        if path == "-" {
            buffer = [UInt8](standardInput())
            inMemory = true
            totalBytes = buffer.count
        } else {
            var info = stat()
            guard stat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFDIR else {
                throw OperationError.unreadable("cannot read \(path): no such file or not readable")
            }
            if (info.st_mode & S_IFMT) == S_IFREG {
                totalBytes = Int(info.st_size)
            } else {
                // A pipe or a device (`<(...)`, /dev/stdin) cannot be read
                // twice: keep it in memory, like standard input.
                guard let handle = FileHandle(forReadingAtPath: path) else {
                    throw OperationError.unreadable("cannot read \(path): no such file or not readable")
                }
                buffer = [UInt8](handle.readDataToEndOfFile())
                try? handle.close()
                inMemory = true
                totalBytes = buffer.count
            }
        }
        try rewind()
    }

    /// Starts again from the first line.
    public func rewind() throws {
        start = 0
        lineNumber = 0
        bytesRead = 0
        allKeyed = true
        if inMemory {
            atEOF = true
        } else {
            buffer.removeAll(keepingCapacity: true)
            try? handle?.close()
            guard let h = FileHandle(forReadingAtPath: path) else {
                throw OperationError.unreadable("cannot read \(path): no such file or not readable")
            }
            handle = h
            atEOF = false
        }
    }

    /// The next line's bytes (without the newline), or nil at the end.
    private func nextLine() throws -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                let line = buffer[start..<newline]
                bytesRead += newline + 1 - start
                start = newline + 1
                lineNumber += 1
                return line
            }
            if atEOF {
                guard start < buffer.count else { return nil }
                let line = buffer[start...]
                bytesRead += buffer.count - start
                start = buffer.count
                lineNumber += 1
                return line
            }
            if buffer.count - start > EnvelopeFile.maxLineBytes {
                throw failure(lineNumber + 1, InputError(field: nil, "line is over \(EnvelopeFile.maxLineBytes) bytes; the limit is \(EnvelopeFile.maxLineBytes)"))
            }
            // Keep the unconsumed tail, then read the next chunk.
            if start > 0 {
                buffer.removeSubrange(0..<start)
                start = 0
            }
            let chunk: Data
            do { chunk = try handle?.read(upToCount: EnvelopeFile.chunkBytes) ?? Data() } catch {
                throw OperationError.unreadable("cannot read \(path): \(error.localizedDescription)")
            }
            if chunk.isEmpty { atEOF = true } else { buffer.append(contentsOf: chunk) }
        }
    }

    private func failure(_ line: Int, _ error: InputError) -> InputError {
        var e = error
        e.line = line
        return e
    }

    /// The next batch of up to `maxEvents` events (or about `maxBytes` of
    /// input), each with its line number; nil at the end of the input.
    public func nextBatch(maxEvents: Int = 2000, maxBytes: Int = 4 << 20) throws -> [(line: Int, envelope: Envelope)]? {
        var batch: [(line: Int, envelope: Envelope)] = []
        let startBytes = bytesRead
        while batch.count < maxEvents, bytesRead - startBytes < maxBytes, let raw = try nextLine() {
            let trimmed = raw.last == 0x0D ? raw.dropLast() : raw
            if trimmed.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            guard trimmed.count <= EnvelopeFile.maxLineBytes else {
                throw failure(lineNumber, InputError(field: nil, "line is \(trimmed.count) bytes; the limit is \(EnvelopeFile.maxLineBytes)"))
            }
            let value: JSONValue
            do { value = try JSONValue.parse(Data(trimmed)) } catch {
                throw failure(lineNumber, InputError(field: nil, error.description))
            }
            do {
                let envelope = try Envelope.parse(value, defaults: defaults)
                try EventValidation.validate(envelope)
                if envelope.key == nil { allKeyed = false }
                batch.append((lineNumber, envelope))
            } catch {
                throw failure(lineNumber, error)
            }
        }
        return batch.isEmpty ? nil : batch
    }
}
