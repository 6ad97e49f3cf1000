/// Rows in COPY's binary format ("COPY ... FROM STDIN (FORMAT binary)", see
/// the PostgreSQL manual, COPY, "Binary Format"): each row is a 16-bit
/// field count, then each field as a 32-bit length (-1 for NULL) and the
/// type's binary send form, all in network byte order. The server parses
/// no text: no timestamp, array or escape parsing, which is most of what a
/// text COPY costs it.
///
/// Build rows with `row(fields:)` and one call per column, in column order,
/// with the call for the column's type; hand `bytes` to
/// `CopyIn.append(binary:)` of a COPY begun with `beginBinaryCopyIn`.
public struct BinaryCopyRows: Sendable {
    public private(set) var bytes: [UInt8] = []
    public private(set) var count = 0

    /// Signature, flags (no OIDs), header extension length.
    static let header: [UInt8] = [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00,
                                  0, 0, 0, 0, 0, 0, 0, 0]
    /// A field count of -1 ends the data.
    static let trailer: [UInt8] = [0xFF, 0xFF]
    /// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01T00:00:00Z).
    static let postgresEpochMicroseconds: Int64 = 946_684_800_000_000
    /// pg_type OID of `text`, the element type of `text[]`.
    static let textOID: Int32 = 25

    public init() {}

    /// Starts a row of `fields` columns.
    public mutating func row(fields: Int) {
        be(UInt16(truncatingIfNeeded: fields))
        count += 1
    }

    public mutating func null() { be(UInt32(bitPattern: -1)) }

    /// `text`, `varchar`.
    public mutating func text(_ value: String?) {
        guard var value else { return null() }
        value.withUTF8 { utf8 in
            be(UInt32(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// `bigint`.
    public mutating func int64(_ value: Int64?) {
        guard let value else { return null() }
        be(UInt32(8))
        be(UInt64(bitPattern: value))
    }

    /// `integer`.
    public mutating func int32(_ value: Int32?) {
        guard let value else { return null() }
        be(UInt32(4))
        be(UInt32(bitPattern: value))
    }

    /// `boolean`.
    public mutating func bool(_ value: Bool) {
        be(UInt32(1))
        bytes.append(value ? 1 : 0)
    }

    /// `timestamptz` (and `timestamp`), from microseconds since 1970-01-01T00:00:00Z.
    public mutating func timestamp(unixMicroseconds value: Int64?) {
        guard let value else { return null() }
        int64(value - Self.postgresEpochMicroseconds)
    }

    /// `uuid`, from its text form (32 hex digits, dashes anywhere ignored).
    /// Anything else is written as NULL, which a NOT NULL column refuses
    /// with the server's error (ids handed here come from PostgreSQL's own
    /// `uuid` output).
    public mutating func uuid(_ value: String?) {
        guard var value else { return null() }
        // The 128 bits as two 64-bit halves, first digit highest.
        let halves: (UInt64, UInt64)? = value.withUTF8 { utf8 in
            var high: UInt64 = 0, low: UInt64 = 0
            var digits = 0
            for c in utf8 where c != 0x2D {
                let digit: UInt64
                switch c {
                case 0x30...0x39: digit = UInt64(c &- 0x30)
                case 0x61...0x66: digit = UInt64(c &- 0x57)
                case 0x41...0x46: digit = UInt64(c &- 0x37)
                default: return nil
                }
                guard digits < 32 else { return nil }
                if digits < 16 { high = high << 4 | digit } else { low = low << 4 | digit }
                digits += 1
            }
            return digits == 32 ? (high, low) : nil
        }
        guard let (high, low) = halves else { return null() }
        be(UInt32(16))
        be(high)
        be(low)
    }

    /// `text[]`: one dimension, lower bound 1, no NULL elements (an empty
    /// array has no dimensions, as PostgreSQL writes `{}`).
    public mutating func textArray(_ values: [String]) {
        let lengthAt = bytes.count
        be(UInt32(0))  // the field's length, filled in below
        be(UInt32(values.isEmpty ? 0 : 1))  // dimensions
        be(UInt32(0))  // no NULL elements
        be(UInt32(bitPattern: Self.textOID))
        if !values.isEmpty {
            be(UInt32(values.count))
            be(UInt32(1))  // lower bound
            for value in values { text(value) }
        }
        let length = UInt32(bytes.count - lengthAt - 4)
        bytes.withUnsafeMutableBufferPointer { b in
            b[lengthAt] = UInt8(length >> 24)
            b[lengthAt + 1] = UInt8(length >> 16 & 0xFF)
            b[lengthAt + 2] = UInt8(length >> 8 & 0xFF)
            b[lengthAt + 3] = UInt8(length & 0xFF)
        }
    }

    /// Appends `value` in network byte order, a byte at a time (appending
    /// the integer's raw bytes as a buffer took the generic sequence path,
    /// several times slower for 2 to 8 bytes).
    @inline(__always)
    private mutating func be<T: FixedWidthInteger>(_ value: T) {
        var shift = T.bitWidth - 8
        while shift >= 0 {
            bytes.append(UInt8(truncatingIfNeeded: value >> shift))
            shift -= 8
        }
    }
}
