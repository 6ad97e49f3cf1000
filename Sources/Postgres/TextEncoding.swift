/// Text encodings for values sent to PostgreSQL.
public enum PGText {
    /// A text[] literal: `{"a","b"}` with quotes and backslashes escaped.
    public static func array(_ items: [String]) -> String {
        if items.isEmpty { return "{}" }
        // Built as UTF-8 bytes: appending scalar by scalar to a String was a
        // tenth of a projection rebuild (issue 6). Quote and backslash are
        // ASCII, so escaping byte by byte is the same as by scalar.
        var bytes: [UInt8] = [0x7B]
        bytes.reserveCapacity(items.reduce(2) { $0 + $1.utf8.count + 3 })
        for (i, item) in items.enumerated() {
            if i > 0 { bytes.append(0x2C) }
            bytes.append(0x22)
            for b in item.utf8 {
                if b == 0x22 || b == 0x5C { bytes.append(0x5C) }
                bytes.append(b)
            }
            bytes.append(0x22)
        }
        bytes.append(0x7D)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends one field of a COPY text-format row: `\N` for NULL, with
    /// backslash, tab, newline and carriage return escaped.
    public static func appendCopyField(_ value: String?, to out: inout [UInt8]) {
        guard let value else {
            out.append(0x5C); out.append(0x4E)  // \N
            return
        }
        // Most fields need no escape: copy their UTF-8 whole.
        let copied = value.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard !bytes.contains(where: { $0 == 0x5C || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) else { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if copied == true { return }
        for b in value.utf8 {
            switch b {
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x09: out.append(0x5C); out.append(0x74)
            case 0x0A: out.append(0x5C); out.append(0x6E)
            case 0x0D: out.append(0x5C); out.append(0x72)
            default: out.append(b)
            }
        }
    }

    /// Appends a whole COPY text-format row (tab-separated, newline-ended).
    public static func appendCopyRow(_ fields: [String?], to out: inout [UInt8]) {
        for (i, f) in fields.enumerated() {
            if i > 0 { out.append(0x09) }
            appendCopyField(f, to: &out)
        }
        out.append(0x0A)
    }
}
