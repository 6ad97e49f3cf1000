import Foundation

/// One message as read from a mailbox, not yet parsed.
public struct RawMessage: Sendable {
    /// The message bytes (mbox quoting undone; line endings as stored).
    public let bytes: [UInt8]
    /// Where it came from: `FILE`, `FILE#N` (Nth message of an mbox, from 1)
    /// or the path of a Maildir or directory file.
    public let origin: String
    /// The sender on an mbox "From " line, if any.
    public let envelopeSender: String?

    public init(bytes: [UInt8], origin: String, envelopeSender: String? = nil) {
        self.bytes = bytes
        self.origin = origin
        self.envelopeSender = envelopeSender
    }
}

/// Mailbox readers: a single message (.eml), an mbox file (mboxrd or mboxo),
/// a Maildir (the files of cur/ and new/, tmp/ ignored), or a directory of
/// `.eml` files.
public enum Mailbox {
    /// How ">From " lines in an mbox are unquoted. mboxrd (the default):
    /// every line matching `>+From ` loses one `>`. mboxo: only `>From `
    /// (exactly one `>`) does.
    public enum MboxFlavor: Sendable { case mboxrd, mboxo }

    /// Reads `path`: a Maildir (a directory with cur/ or new/), a directory of
    /// `.eml` files (sorted by name), an mbox (a file whose first line starts
    /// with "From "), or else a single message. Files are listed in name order.
    public static func read(path: String, flavor: MboxFlavor = .mboxrd, limits: MailLimits = .standard) throws -> [RawMessage] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw MailError("\(path): no such file or directory")
        }
        if isDir.boolValue {
            let fm = FileManager.default
            let sub = ["cur", "new"].filter { d in
                var dir: ObjCBool = false
                return fm.fileExists(atPath: path + "/" + d, isDirectory: &dir) && dir.boolValue
            }
            var files: [String] = []
            if !sub.isEmpty {
                for d in sub {
                    let names = try listing(path + "/" + d).filter { !$0.hasPrefix(".") }
                    files += names.map { "\(path)/\(d)/\($0)" }
                }
            } else {
                files = try listing(path).filter { $0.lowercased().hasSuffix(".eml") }.map { "\(path)/\($0)" }
                if files.isEmpty { throw MailError("\(path): neither a Maildir (no cur/ or new/) nor a directory of .eml files") }
            }
            if files.count > limits.maxMessages {
                throw MailError("\(path): \(files.count) messages, over the limit of \(limits.maxMessages)")
            }
            var out: [RawMessage] = []
            var total = 0
            for f in files {
                let bytes = try readFile(f, max: limits.maxMessageBytes)
                total += bytes.count
                if total > limits.maxMailboxBytes {
                    throw MailError("\(path): over the limit of \(limits.maxMailboxBytes) bytes")
                }
                out.append(RawMessage(bytes: bytes, origin: f))
            }
            return out
        }
        let bytes = try readFile(path, max: limits.maxMailboxBytes)
        return try read(bytes: bytes, name: path, flavor: flavor, limits: limits)
    }

    /// Reads bytes already in memory (standard input): an mbox when the first
    /// line starts with "From ", else one message.
    public static func read(bytes: [UInt8], name: String, flavor: MboxFlavor = .mboxrd, limits: MailLimits = .standard) throws -> [RawMessage] {
        if bytes.count > limits.maxMailboxBytes {
            throw MailError("\(name): \(bytes.count) bytes, over the limit of \(limits.maxMailboxBytes)")
        }
        if bytes.starts(with: Array("From ".utf8)) {
            return try mbox(bytes, name: name, flavor: flavor, limits: limits)
        }
        if bytes.isEmpty { throw MailError("\(name): empty") }
        if bytes.count > limits.maxMessageBytes {
            throw MailError("\(name): the message is \(bytes.count) bytes, over the limit of \(limits.maxMessageBytes)")
        }
        return [RawMessage(bytes: bytes, origin: name)]
    }

    /// Splits an mbox. A separator is a line starting with "From " that is
    /// the first line or follows an empty line, and has a sender and at
    /// least one more field ("From sender date"). The empty line before a
    /// separator belongs to the mbox, not to the message.
    static func mbox(_ bytes: [UInt8], name: String, flavor: MboxFlavor, limits: MailLimits) throws -> [RawMessage] {
        var out: [RawMessage] = []
        var current: [UInt8] = []
        var sender: String?
        var started = false
        var previousEmpty = true
        let from = Array("From ".utf8)
        func flush() throws {
            guard started else { return }
            // Drop the one empty line that separates messages.
            if current.last == ASCII.lf {
                var cut = current.count - 1
                if cut > 0, current[cut - 1] == ASCII.cr { cut -= 1 }
                if cut > 0, current[cut - 1] == ASCII.lf { current.removeSubrange(cut...) }
            }
            if current.count > limits.maxMessageBytes {
                throw MailError("\(name)#\(out.count + 1): the message is over the limit of \(limits.maxMessageBytes) bytes")
            }
            out.append(RawMessage(bytes: current, origin: "\(name)#\(out.count + 1)", envelopeSender: sender))
            if out.count > limits.maxMessages {
                throw MailError("\(name): more than \(limits.maxMessages) messages")
            }
            current = []
        }
        for line in bytes.linesKeepingEndings() {
            let content = line.withoutLineEnding
            if previousEmpty, content.hasPrefix(from) {
                let fields = String(decoding: content.dropFirst(5), as: UTF8.self).split(separator: " ")
                if fields.count >= 2 || !started {
                    try flush()
                    started = true
                    sender = fields.first.map(String.init)
                    previousEmpty = false
                    continue
                }
            }
            previousEmpty = content.isEmpty
            if !started { throw MailError("\(name): not an mbox (no \"From \" line first)") }
            // Unquote >From lines.
            var gt = content.startIndex
            while gt < content.endIndex, content[gt] == UInt8(ascii: ">") { gt += 1 }
            let quotes = gt - content.startIndex
            if quotes > 0, content[gt...].hasPrefix(from), flavor == .mboxrd || quotes == 1 {
                current.append(contentsOf: line.dropFirst())
            } else {
                current.append(contentsOf: line)
            }
        }
        try flush()
        return out
    }

    private static func listing(_ dir: String) throws -> [String] {
        do { return try FileManager.default.contentsOfDirectory(atPath: dir).sorted() } catch {
            throw MailError("\(dir): cannot list the directory")
        }
    }

    private static func readFile(_ path: String, max: Int) throws -> [UInt8] {
        guard let h = FileHandle(forReadingAtPath: path) else { throw MailError("\(path): cannot open") }
        defer { try? h.close() }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        if size > max { throw MailError("\(path): \(size) bytes, over the limit of \(max)") }
        guard let d = try? h.readToEnd() else { return [] }
        return [UInt8](d)
    }
}
