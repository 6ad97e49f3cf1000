import Foundation

/// DKIM canonicalisation (RFC 6376 §3.4). Input is CRLF-normalised.
public enum DKIMCanonicalization: String, Sendable {
    case simple, relaxed

    /// One header field (`raw` includes its CRLF) canonicalised, ending in CRLF.
    func header(_ raw: ArraySlice<UInt8>) -> [UInt8] {
        switch self {
        case .simple:
            return Array(raw)
        case .relaxed:
            guard let colon = raw.firstIndex(of: ASCII.colon) else { return Array(raw) }
            var out: [UInt8] = []
            out.reserveCapacity(raw.count)
            for b in raw[raw.startIndex..<colon] where !ASCII.isWSP(b) && b != ASCII.cr && b != ASCII.lf {
                out.append(b >= 65 && b <= 90 ? b + 32 : b)
            }
            out.append(ASCII.colon)
            var pendingSpace = false
            var any = false
            for b in raw[(colon + 1)...] {
                if b == ASCII.cr || b == ASCII.lf { continue }
                if ASCII.isWSP(b) { pendingSpace = any; continue }
                if pendingSpace { out.append(ASCII.sp); pendingSpace = false }
                out.append(b)
                any = true
            }
            out.append(ASCII.cr)
            out.append(ASCII.lf)
            return out
        }
    }

    /// The body canonicalised (trailing empty lines removed; simple: an empty
    /// body is one CRLF; relaxed: an empty body is empty).
    func body(_ body: ArraySlice<UInt8>) -> [UInt8] {
        var lines: [ArraySlice<UInt8>] = []
        var start = body.startIndex
        var i = body.startIndex
        while i < body.endIndex {
            if body[i] == ASCII.lf, i > body.startIndex, body[i - 1] == ASCII.cr {
                lines.append(body[start..<(i - 1)])
                start = i + 1
            }
            i += 1
        }
        if start < body.endIndex { lines.append(body[start..<body.endIndex]) }
        var out: [UInt8] = []
        out.reserveCapacity(body.count + 2)
        var processed: [[UInt8]] = lines.map { line in
            switch self {
            case .simple: return Array(line)
            case .relaxed:
                var l: [UInt8] = []
                l.reserveCapacity(line.count)
                var pending = false
                for b in line {
                    if ASCII.isWSP(b) { pending = true; continue }
                    if pending { l.append(ASCII.sp); pending = false }
                    l.append(b)
                }
                return l
            }
        }
        while processed.last?.isEmpty == true { processed.removeLast() }
        if processed.isEmpty { return self == .simple ? [ASCII.cr, ASCII.lf] : [] }
        for l in processed {
            out.append(contentsOf: l)
            out.append(ASCII.cr)
            out.append(ASCII.lf)
        }
        return out
    }
}

/// Bare LF becomes CRLF (mbox and Maildir files usually store LF).
func crlfNormalized(_ bytes: [UInt8]) -> [UInt8] {
    var needs = false
    for (i, b) in bytes.enumerated() where b == ASCII.lf && (i == 0 || bytes[i - 1] != ASCII.cr) {
        needs = true
        break
    }
    guard needs else { return bytes }
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count + bytes.count / 20)
    var prev: UInt8 = 0
    for b in bytes {
        if b == ASCII.lf, prev != ASCII.cr { out.append(ASCII.cr) }
        out.append(b)
        prev = b
    }
    return out
}
