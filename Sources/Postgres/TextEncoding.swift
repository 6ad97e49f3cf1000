/// Text encodings for values sent to PostgreSQL.
public enum PGText {
    /// A text[] literal: `{"a","b"}` with quotes and backslashes escaped.
    public static func array(_ items: [String]) -> String {
        var out = "{"
        for (i, item) in items.enumerated() {
            if i > 0 { out += "," }
            out += "\""
            for ch in item.unicodeScalars {
                if ch == "\"" || ch == "\\" { out += "\\" }
                out.unicodeScalars.append(ch)
            }
            out += "\""
        }
        return out + "}"
    }

    /// Appends one field of a COPY text-format row: `\N` for NULL, with
    /// backslash, tab, newline and carriage return escaped.
    public static func appendCopyField(_ value: String?, to out: inout [UInt8]) {
        guard let value else {
            out.append(0x5C); out.append(0x4E)  // \N
            return
        }
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
