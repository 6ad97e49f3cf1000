import Envelope
import Foundation

/// A JSONL file of envelopes: one object per line; blank lines are skipped.
/// Every line is parsed and validated before anything is appended.
enum EnvelopeFile {
    /// The longest line accepted (an event's data is limited to 1 MiB).
    static let maxLineBytes = 2 << 20

    static func parse(_ data: Data, name: String, defaults: Envelope.Defaults) throws -> [(line: Int, envelope: Envelope)] {
        var envelopes: [(line: Int, envelope: Envelope)] = []
        var lineNumber = 0
        for lineBytes in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            let trimmed = lineBytes.last == 0x0D ? lineBytes.dropLast() : lineBytes
            if trimmed.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            func failure(_ error: InputError) -> InputError {
                var e = error
                e.line = lineNumber
                return e
            }
            guard trimmed.count <= maxLineBytes else {
                throw failure(InputError(field: nil, "line is \(trimmed.count) bytes; the limit is \(maxLineBytes)"))
            }
            let value: JSONValue
            do { value = try JSONValue.parse(Data(trimmed)) } catch {
                throw failure(InputError(field: nil, error.description))
            }
            do {
                let envelope = try Envelope.parse(value, defaults: defaults)
                try EventValidation.validate(envelope)
                envelopes.append((lineNumber, envelope))
            } catch {
                throw failure(error)
            }
        }
        return envelopes
    }
}
