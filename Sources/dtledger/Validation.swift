import Compliance
import Events
import Foundation
import Domain

/// The checks every event passes before anything touches the database:
/// the envelope's shape, its size, and the event catalog (DOMAIN.md §2).
enum EventValidation {
    /// The largest `data` an event may carry, as JSON text.
    static let maxDataBytes = 1 << 20

    static func validate(_ envelope: Envelope) throws(InputError) {
        try envelope.validate()
        let size = envelope.data.jsonByteCount
        guard size <= maxDataBytes else {
            throw InputError(field: "data", "is \(size) bytes; an event's data may be at most \(maxDataBytes) bytes (1 MiB)")
        }
        try Catalog.validate(envelope)
    }

    /// Event types that may open a case (or a reference stream) that does not exist yet.
    static let openingTypes: [String]? = Publishing.openingTypes
}
