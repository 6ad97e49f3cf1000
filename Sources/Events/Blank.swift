import Foundation

/// Blank-text checks without Foundation's trimming (which copies the string
/// through NSString; issue 6: it was a quarter of rebuild and compliance).
public enum Blank {
    /// The same as `text.trimmingCharacters(in: newlines ? .whitespacesAndNewlines : .whitespaces).isEmpty`:
    /// true when every Unicode scalar of `text` is in that set (so also for "").
    public static func isBlank(_ text: String, newlines: Bool) -> Bool {
        for u in text.unicodeScalars {
            switch u.value {
            case 0x20, 0x09: continue
            case 0x0A...0x0D where newlines: continue
            case 0..<0x80: return false
            default:
                // Outside ASCII the sets are Unicode's Zs (and, with newlines,
                // U+0085, U+2028, U+2029): ask CharacterSet, as trimming does.
                if !(newlines ? CharacterSet.whitespacesAndNewlines : CharacterSet.whitespaces).contains(u) { return false }
            }
        }
        return true
    }
}
