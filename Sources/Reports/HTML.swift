import Foundation

/// A small HTML builder: escaping and a self-contained page (inline CSS,
/// no scripts, no network) that prints well.
enum HTML {
    static func esc(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }

    /// Writes a table to `out`, the rows handed over one by one;
    /// `rowClass` gives a row's class from the row and its index.
    static func write(_ header: [String], _ rows: TextTable.Rows, rowClass: (([String], Int) -> String?)? = nil,
                      to out: TextSink) {
        out.add("<table>\n<thead><tr>" + header.map { "<th>\(esc($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n")
        var index = 0
        rows { row in
            let cls = rowClass?(row, index).map { " class=\"\($0)\"" } ?? ""
            out.add("<tr\(cls)>" + row.map { "<td>\(esc($0))</td>" }.joined() + "</tr>\n")
            index += 1
        }
        out.add("</tbody>\n</table>\n")
    }

    /// `write` into a buffer; `classes`, one per row.
    static func table(_ header: [String], _ rows: [[String]], classes: [String?]? = nil) -> String {
        let out = TextSink()
        write(header, { body in rows.forEach(body) }, rowClass: classes.map { classes in { _, i in classes[i] } }, to: out)
        return out.text
    }

    /// A two-column key/value table with no header row.
    static func keyValues(_ rows: [[String]]) -> String {
        "<table class=\"kv\">\n<tbody>\n" + rows.map { r in
            "<tr><th scope=\"row\">\(esc(r[0]))</th><td>\(esc(r.count > 1 ? r[1] : ""))</td></tr>\n"
        }.joined() + "</tbody>\n</table>\n"
    }

    /// A page around `body`.
    static func page(title: String, body: String) -> String {
        pageHead(title: title) + body + pageTail
    }

    /// The end of a page after its body.
    static let pageTail = "\n</body>\n</html>\n"

    /// A page up to its body.
    static func pageHead(title: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(esc(title))</title>
        <style>
        body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222; max-width: 1100px; margin: 2em auto; padding: 0 1em; line-height: 1.4; }
        h1 { font-size: 1.6em; border-bottom: 2px solid #444; padding-bottom: .2em; }
        h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ccc; }
        table { border-collapse: collapse; width: 100%; margin: .6em 0; font-size: .86em; }
        th, td { border: 1px solid #ccc; padding: .25em .45em; text-align: left; vertical-align: top; }
        th { background: #f2f2f2; }
        table.kv th { width: 14em; font-weight: normal; }
        tr.missed td, tr.partial td, tr.violated td { background: #fde8e8; }
        tr.late td { background: #fff4e0; }
        tr.retracted td { color: #888; text-decoration: line-through; }
        tr.deadline td { color: #555; font-style: italic; }
        .meta { color: #555; font-size: .9em; }
        .ok { color: #1a7f37; font-weight: bold; }
        .bad { color: #c62828; font-weight: bold; }
        code, .mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85em; word-break: break-all; }
        figure { margin: 1em 0; }
        @media print {
          body { margin: 0; max-width: none; font-size: 10pt; }
          h2 { page-break-after: avoid; }
          table, figure { page-break-inside: auto; }
          tr { page-break-inside: avoid; }
        }
        </style>
        </head>
        <body>

        """
    }
}
