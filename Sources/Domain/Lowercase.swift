extension String {
    /// `lowercased()` without its Unicode machinery in the common case, for
    /// the rule engine's hot paths (handles, emails, channel names and system
    /// names compared without case, several times per message and rule): an
    /// ASCII string without capitals is returned as is (no copy), another
    /// ASCII string is mapped byte by byte, and anything else is
    /// `lowercased()`. The result is always equal to `lowercased()`.
    var lowercasedFast: String {
        let scan: (ascii: Bool, upper: Bool)? = utf8.withContiguousStorageIfAvailable { bytes in
            var upper = false
            for b in bytes {
                if b >= 0x80 { return (false, false) }
                if b &- 0x41 < 26 { upper = true }
            }
            return (true, upper)
        }
        guard let scan, scan.ascii else { return lowercased() }
        guard scan.upper else { return self }
        let count = utf8.count
        return String(unsafeUninitializedCapacity: count) { out in
            var i = 0
            for b in utf8 {
                out[i] = b &- 0x41 < 26 ? b | 0x20 : b
                i += 1
            }
            return i
        }
    }
}
