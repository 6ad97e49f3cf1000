import Compliance
import Domain
import Events
import Foundation

/// Events' ValidationError: an input that fails the envelope's or the catalog's checks.
typealias InputError = Events.ValidationError

/// The checks every event passes before anything touches the database:
/// the envelope's shape, its size, and the event catalog (DOMAIN.md §2).
public enum EventValidation {
    /// The largest `data` an event may carry, as JSON text.
    public static let maxDataBytes = 1 << 20

    public static func validate(_ envelope: Envelope) throws(Events.ValidationError) {
        try envelope.validate()
        let size = envelope.data.jsonByteCount
        guard size <= maxDataBytes else {
            throw InputError(field: "data", "is \(size) bytes; an event's data may be at most \(maxDataBytes) bytes (1 MiB)")
        }
        try Catalog.validate(envelope)
    }

    /// Event types that may open a case (or a reference stream) that does not exist yet.
    public static let openingTypes: [String]? = Publishing.openingTypes
}
