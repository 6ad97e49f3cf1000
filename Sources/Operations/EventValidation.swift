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

    /// How far ahead of the clock an `occurred_at` may be (the append
    /// functions refuse the same, by the database clock).
    public static let maxFutureSeconds: TimeInterval = 300

    public static func validate(_ envelope: Envelope, now: Date = Date()) throws(Events.ValidationError) {
        try envelope.validate()
        guard envelope.occurredAt.timeIntervalSince(now) <= maxFutureSeconds else {
            throw InputError(field: "occurred_at", "\(RFC3339.format(envelope.occurredAt)) is more than 5 minutes in the future; an event records what has happened")
        }
        let size = envelope.data.jsonByteCount
        guard size <= maxDataBytes else {
            throw InputError(field: "data", "is \(size) bytes; an event's data may be at most \(maxDataBytes) bytes (1 MiB)")
        }
        try Catalog.validate(envelope)
    }

    /// Event types that may open a case (or a reference stream) that does not exist yet.
    public static let openingTypes: [String]? = Publishing.openingTypes
}
