import Foundation
import Testing

@testable import Mail

@Suite struct MailboxTests {
    static func message(_ i: Int, body: String = "") -> String {
        """
        From: sender\(i)@example.com
        To: ops@example.com
        Subject: message \(i)
        Message-ID: <m\(i)@example.com>
        Date: Tue, 7 Apr 2026 14:\(String(format: "%02d", i % 60)):00 +0000

        Body of \(i).
        \(body)
        """
    }

    @Test func mboxrdWithHundredsOfMessages() throws {
        var mbox = ""
        for i in 1...300 {
            // A body line that starts with "From " is quoted in the mbox;
            // one that was ">From " already is quoted once more (mboxrd).
            let body = i % 3 == 0 ? ">From the desk of ops\n>>From quoted" : "From here on, not a separator (no empty line before)"
            mbox += "From sender\(i)@example.com Tue Apr  7 14:00:00 2026\n" + Self.message(i, body: body) + "\n\n"
        }
        let dir = try tempDir("mbox")
        let path = dir + "/box.mbox"
        try Data(mbox.utf8).write(to: URL(fileURLWithPath: path))
        let raws = try Mailbox.read(path: path)
        #expect(raws.count == 300)
        #expect(raws[0].origin == path + "#1")
        #expect(raws[299].envelopeSender == "sender300@example.com")
        let parsed = try raws.map { try MailMessage.parse($0.bytes) }
        #expect(parsed.map(\.messageID) == (1...300).map { "m\($0)@example.com" })
        #expect(parsed[2].text == "Body of 3.\nFrom the desk of ops\n>From quoted\n")
        #expect(parsed[0].text == "Body of 1.\nFrom here on, not a separator (no empty line before)\n")

        let o = try Mailbox.read(path: path, flavor: .mboxo).map { try MailMessage.parse($0.bytes) }
        #expect(o[2].text == "Body of 3.\nFrom the desk of ops\n>>From quoted\n")
    }

    @Test func mboxFromStandardInputAndSingleMessage() throws {
        let one = Array(Self.message(1).utf8)
        let single = try Mailbox.read(bytes: one, name: "-")
        #expect(single.count == 1 && single[0].bytes == one)
        let two = Array(("From a@x Tue Apr  7 14:00:00 2026\n" + Self.message(1) + "\n\nFrom b@x Tue Apr  7 14:00:00 2026\n" + Self.message(2) + "\n").utf8)
        #expect(try Mailbox.read(bytes: two, name: "-").count == 2)
        #expect(throws: MailError("-: empty")) { try Mailbox.read(bytes: [], name: "-") }
    }

    @Test func maildirWithHundredsOfMessages() throws {
        let dir = try tempDir("maildir")
        for sub in ["cur", "new", "tmp"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true)
        }
        for i in 1...250 {
            let sub = i % 2 == 0 ? "cur" : "new"
            let name = sub == "cur" ? "1775570\(String(format: "%03d", i)).M\(i)P1.host:2,S" : "1775570\(String(format: "%03d", i)).M\(i)P1.host"
            try Data(crlf(Self.message(i))).write(to: URL(fileURLWithPath: "\(dir)/\(sub)/\(name)"))
        }
        try Data("partial".utf8).write(to: URL(fileURLWithPath: dir + "/tmp/being-delivered"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/cur/.hidden"))
        let raws = try Mailbox.read(path: dir)
        #expect(raws.count == 250)
        let ids = Set(try raws.map { try MailMessage.parse($0.bytes).messageID ?? "" })
        #expect(ids == Set((1...250).map { "m\($0)@example.com" }))
        #expect(raws.allSatisfy { !$0.origin.hasPrefix(dir + "/tmp/") })
    }

    @Test func directoryOfEmlFilesAndErrors() throws {
        let dir = try tempDir("eml")
        for i in 1...3 { try Data(crlf(Self.message(i))).write(to: URL(fileURLWithPath: "\(dir)/\(i).eml")) }
        #expect(try Mailbox.read(path: dir).map(\.origin) == (1...3).map { "\(dir)/\($0).eml" })
        let empty = try tempDir("empty")
        #expect(throws: MailError("\(empty): neither a Maildir (no cur/ or new/) nor a directory of .eml files")) {
            try Mailbox.read(path: empty)
        }
        #expect(throws: MailError("/nonexistent/x.mbox: no such file or directory")) { try Mailbox.read(path: "/nonexistent/x.mbox") }
        let big = dir + "/big.eml"
        try Data(repeating: 65, count: 2000).write(to: URL(fileURLWithPath: big))
        #expect(throws: MailError("\(big): the message is 2000 bytes, over the limit of 1000")) {
            try Mailbox.read(path: big, limits: MailLimits(maxMessageBytes: 1000))
        }
    }
}
