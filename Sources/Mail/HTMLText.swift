import Foundation

/// HTML turned into plain text, enough for reading labelled lines out of a
/// message: script, style, head and comments dropped; br, p, div, li, tr,
/// h1-h6, table and blockquote boundaries become line breaks; other tags
/// removed; entities decoded (numeric and the common named ones); runs of
/// spaces collapsed; at most one empty line in a row.
public enum HTMLText {
    public static func text(fromHTML html: String) -> String {
        let s = Array(html.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        let blockTags: Set<String> = [
            "br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "ul", "ol", "pre", "hr",
        ]
        func lower(_ a: Int, _ b: Int) -> String { String(String.UnicodeScalarView(s[a..<b])).lowercased() }
        func find(_ needle: String, from: Int) -> Int? {
            let n = Array(needle.unicodeScalars)
            var k = from
            while k + n.count <= s.count {
                var ok = true
                for j in 0..<n.count where String(s[k + j]).lowercased() != String(n[j]) { ok = false; break }
                if ok { return k }
                k += 1
            }
            return nil
        }
        while i < s.count {
            let c = s[i]
            if c == "<" {
                if i + 3 < s.count, s[i + 1] == "!", s[i + 2] == "-", s[i + 3] == "-" {
                    i = (find("-->", from: i + 4).map { $0 + 3 }) ?? s.count
                    continue
                }
                var j = i + 1
                while j < s.count, s[j] != ">" { j += 1 }
                var nameStart = i + 1
                if nameStart < j, s[nameStart] == "/" { nameStart += 1 }
                var nameEnd = nameStart
                while nameEnd < j, s[nameEnd].properties.isAlphabetic || ("0"..."9").contains(s[nameEnd]) { nameEnd += 1 }
                let name = lower(nameStart, nameEnd)
                let closing = i + 1 < s.count && s[i + 1] == "/"
                i = min(j + 1, s.count)
                if !closing, ["script", "style", "head", "title"].contains(name) {
                    i = (find("</\(name)", from: i).flatMap { k in find(">", from: k).map { $0 + 1 } }) ?? s.count
                    continue
                }
                if blockTags.contains(name) { out.append("\n") }
                if name == "td" || name == "th" { out.append(" ") }
                continue
            }
            if c == "&", let semi = (i + 1..<min(s.count, i + 12)).first(where: { s[$0] == ";" }) {
                let ent = String(String.UnicodeScalarView(s[(i + 1)..<semi]))
                if let decoded = entity(ent) {
                    out.append(decoded)
                    i = semi + 1
                    continue
                }
            }
            out.append(c == "\r" ? "\n" : c)
            i += 1
        }
        // Collapse whitespace within lines, trim lines, at most one empty line.
        var lines: [String] = []
        for raw in String(out).split(separator: "\n", omittingEmptySubsequences: false) {
            let words = raw.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\u{A0}" })
            let line = words.joined(separator: " ")
            if line.isEmpty, lines.last?.isEmpty ?? true { continue }
            lines.append(line)
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    static func entity(_ e: String) -> Unicode.Scalar? {
        if e.hasPrefix("#x") || e.hasPrefix("#X") { return UInt32(e.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init) }
        if e.hasPrefix("#") { return UInt32(e.dropFirst()).flatMap(Unicode.Scalar.init) }
        let named: [String: UInt32] = [
            "amp": 38, "lt": 60, "gt": 62, "quot": 34, "apos": 39, "nbsp": 0xA0, "copy": 0xA9, "reg": 0xAE,
            "mdash": 0x2014, "ndash": 0x2013, "hellip": 0x2026, "rsquo": 0x2019, "lsquo": 0x2018,
            "rdquo": 0x201D, "ldquo": 0x201C, "bull": 0x2022, "middot": 0xB7, "euro": 0x20AC, "trade": 0x2122,
        ]
        return named[e.lowercased()].flatMap(Unicode.Scalar.init)
    }
}
