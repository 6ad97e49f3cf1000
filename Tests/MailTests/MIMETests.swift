import Foundation
import Testing

@testable import Mail

@Suite struct MIMETests {
    @Test func plainMessageHeadersAndText() throws {
        let raw = crlf("""
            From: Joe SixPack <joe@football.example.com>
            To: Suzie Q <suzie@shopping.example.net>, ops@example.com
            Subject: Is dinner
              ready?
            Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)
            Message-ID: <20030712040037.46341.5F8J@football.example.com>

            Hi.

            We lost the game.
            """)
        let m = try MailMessage.parse(raw)
        #expect(m.raw == raw)
        #expect(m.subject == "Is dinner  ready?")
        #expect(m.from == [MailAddress(name: "Joe SixPack", address: "joe@football.example.com")])
        #expect(m.to.map(\.address) == ["suzie@shopping.example.net", "ops@example.com"])
        #expect(m.messageID == "20030712040037.46341.5F8J@football.example.com")
        #expect(m.date == utc("2003-07-12T04:00:37Z"))
        #expect(m.text == "Hi.\n\nWe lost the game.")
        #expect(m.headers(named: "subject").first?.raw == Array("Subject: Is dinner\r\n  ready?\r\n".utf8))
        #expect(!m.textIsFromHTML)
    }

    @Test func lfLineEndingsAndMboxFromLine() throws {
        let raw = Array("From joe@x Mon Jan  1 00:00:00 2024\nFrom: a@x\nSubject: s\n\nbody\n".utf8)
        let m = try MailMessage.parse(raw)
        #expect(m.from.first?.address == "a@x")
        #expect(m.text == "body\n")
    }

    @Test func quotedPrintableBody() throws {
        let m = try MailMessage.parse(crlf("""
            From: a@example.com
            Content-Type: text/plain; charset="iso-8859-1"
            Content-Transfer-Encoding: quoted-printable

            Caf=E9 au lait, a long line that is wrapped with a soft=
             break, and =3D signs.
            """))
        #expect(m.text == "Café au lait, a long line that is wrapped with a soft break, and = signs.")
    }

    @Test func base64BodyUTF8() throws {
        let body = Data("Users affected: 300\nServices: Login, Búsqueda\n".utf8).base64EncodedString(options: .lineLength64Characters)
        let m = try MailMessage.parse(crlf("""
            From: a@example.com
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: base64

            \(body)
            """))
        #expect(m.text == "Users affected: 300\nServices: Login, Búsqueda\n")
    }

    @Test func alternativeWithHTMLOnly() throws {
        let m = try MailMessage.parse(crlf("""
            From: a@example.com
            Content-Type: multipart/alternative; boundary="b1"

            preamble
            --b1
            Content-Type: text/html; charset=windows-1252
            Content-Transfer-Encoding: quoted-printable

            <html><head><style>p {color: red}</style></head><body><p>Users affected: 300</p>=
            <p>Services:&nbsp;Login &amp; Search</p><div>It=92s down</div><!-- hidden --><br>End</body></html>
            --b1--
            epilogue
            """))
        #expect(m.textIsFromHTML)
        #expect(m.text == "Users affected: 300\n\nServices: Login & Search\n\nIt\u{2019}s down\n\nEnd")
        #expect(m.root.parts.count == 1)
    }

    @Test func alternativePrefersPlain() throws {
        let m = try MailMessage.parse(crlf("""
            From: a@example.com
            Content-Type: multipart/alternative; boundary=b1

            --b1
            Content-Type: text/html

            <p>html</p>
            --b1
            Content-Type: text/plain

            plain
            --b1--
            """))
        #expect(m.text == "plain")
        #expect(!m.textIsFromHTML)
    }

    @Test func nestedMixedWithAttachments() throws {
        let att = Data("not the text".utf8).base64EncodedString()
        let m = try MailMessage.parse(crlf("""
            From: a@example.com
            Content-Type: multipart/mixed; boundary="outer"

            --outer
            Content-Type: text/plain; name="notes.txt"
            Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.txt

            attached text, not the body
            --outer
            Content-Type: multipart/related; boundary="mid"

            --mid
            Content-Type: multipart/alternative; boundary="inner"

            --inner
            Content-Type: text/plain; charset=us-ascii; format=flowed

            Users affected: 300 and this line is =
            flowed.
            --inner
            Content-Type: text/html

            <p>html</p>
            --inner--
            --mid
            Content-Type: image/png
            Content-Transfer-Encoding: base64

            \(att)
            --mid--
            --outer
            Content-Type: message/rfc822

            From: inner@example.com
            Subject: attached

            inner body
            --outer--
            """))
        let leaves = m.root.allParts.filter { $0.parts.isEmpty }
        #expect(leaves.map(\.mediaType) == ["text/plain", "text/plain", "text/html", "image/png", "message/rfc822"])
        #expect(leaves[0].isAttachment && leaves[0].filename == "résumé.txt")
        #expect(m.text == "Users affected: 300 and this line is =\nflowed.")
        #expect(leaves[3].decodedBody == Array("not the text".utf8))
        #expect(m.attachedMessages().first?.subject == "attached")
    }

    @Test func flowedText() throws {
        let m = try MailMessage.parse(crlf("""
            From: a@example.com
            Content-Type: text/plain; format=flowed

            Users affected: 300, the first part of a long 
            line.
            Next
            """))
        #expect(m.text == "Users affected: 300, the first part of a long line.\nNext")
    }

    @Test func encodedWordSubjectAndDisplayNames() throws {
        let m = try MailMessage.parse(crlf("""
            From: =?utf-8?Q?Jos=C3=A9_P=C3=A9rez?= <jose@example.com>
            To: "=?iso-8859-1?B?U/hyZW4=?=" <soren@example.com>, =?windows-1252?Q?=93Ops=94?= <ops@example.com>
            Subject: =?utf-8?B?W1AxXSBMb2dpbiBkb3du?= =?utf-8?Q?_=E2=80=94_INC0012?=
             plain tail
            """))
        #expect(m.subject == "[P1] Login down — INC0012 plain tail")
        #expect(m.from.first?.name == "José Pérez")
        #expect(m.to.map(\.name) == ["Søren", "\u{201C}Ops\u{201D}"])
        #expect(EncodedWords.decode("=?us-ascii?q?a?= b") == "a b")
        #expect(EncodedWords.decode("=?bogus") == "=?bogus")
    }

    @Test func addressListForms() throws {
        let list = try MailAddress.parseList(
            #"Ops Team: "Doe, Jane" <jane@x.com>, bob@x.com (Bob B);, undisclosed-recipients:;, <@relay.x:carol@y.com>, Dave (the boss) <dave@z.com>, eve@w.com"#)
        #expect(list == [
            MailAddress(name: "Doe, Jane", address: "jane@x.com", group: "Ops Team"),
            MailAddress(name: "Bob B", address: "bob@x.com", group: "Ops Team"),
            MailAddress(name: nil, address: "carol@y.com"),
            MailAddress(name: "Dave", address: "dave@z.com"),
            MailAddress(name: nil, address: "eve@w.com"),
        ])
        #expect(throws: MailError("unterminated angle address <jane@x.com")) { try MailAddress.parseList("Jane <jane@x.com") }
        #expect(throws: MailError("unterminated quoted string")) { try MailAddress.parseList("\"Jane <jane@x.com>") }
    }

    @Test func threadHeaders() throws {
        let m = try MailMessage.parse(crlf("""
            From: a@example.com
            Message-ID: <c@x> (comment)
            In-Reply-To: <b@x>
            References: <a@x>
             <b@x>
            """))
        #expect(m.messageID == "c@x")
        #expect(m.inReplyTo == ["b@x"])
        #expect(m.references == ["a@x", "b@x"])
    }

    @Test func dates() throws {
        #expect(try MailDate.parse("Tue, 7 Apr 2026 14:00:00 +0000") == utc("2026-04-07T14:00:00Z"))
        #expect(try MailDate.parse("7 Apr 2026 10:00 EDT") == utc("2026-04-07T14:00:00Z"))
        #expect(try MailDate.parse("Tue,  7 Apr 26 09:00:00 EST") == utc("2026-04-07T14:00:00Z"))
        #expect(try MailDate.parse("7 Apr 126 14:00:00 GMT") == utc("2026-04-07T14:00:00Z"))
        #expect(try MailDate.parse("Tue, 07 Apr 2026 14 : 00 : 00 Z") == utc("2026-04-07T14:00:00Z"))
        #expect(try MailDate.parse("7 Apr 99 14:00:00 UT") == utc("1999-04-07T14:00:00Z"))
        #expect(try MailDate.parse("Tue, 7 Apr 2026 16:00:00 +0200 (CEST)") == utc("2026-04-07T14:00:00Z"))
        #expect(try MailDate.parse("7 Apr 2026 14:00:00 A") == utc("2026-04-07T14:00:00Z"))
        #expect(throws: MailError("Date \"31 Feb 2026 10:00 +0000\": no such day")) { try MailDate.parse("31 Feb 2026 10:00 +0000") }
        #expect(throws: MailError("Date \"yesterday\": too few parts")) { try MailDate.parse("yesterday") }
        #expect(throws: MailError("Date \"7 Apr 2026 10:00 XYZ\": unknown zone XYZ")) { try MailDate.parse("7 Apr 2026 10:00 XYZ") }
    }

    @Test func malformedInputNamesTheProblem() throws {
        #expect(throws: MailError("the message is empty")) { try MailMessage.parse([]) }
        #expect(throws: MailError("header line 2 has no colon: \"this is not a header\"")) {
            try MailMessage.parse(crlf("From: a@x\nthis is not a header\n\nbody"))
        }
        #expect(throws: MailError("header line 1 starts with whitespace but continues no field")) {
            try MailMessage.parse(crlf(" folded: x\n\nbody"))
        }
        #expect(throws: MailError("multipart/mixed without a boundary parameter")) {
            try MailMessage.parse(crlf("From: a@x\nContent-Type: multipart/mixed\n\nbody"))
        }
        #expect(throws: MailError("multipart/mixed: the boundary \"zz\" never occurs")) {
            try MailMessage.parse(crlf("From: a@x\nContent-Type: multipart/mixed; boundary=zz\n\nbody"))
        }
        #expect(throws: MailError("the message is 100 bytes, over the limit of 50")) {
            try MailMessage.parse([UInt8](repeating: 65, count: 100), limits: MailLimits(maxMessageBytes: 50))
        }
        var deep = "From: a@x\nContent-Type: multipart/mixed; boundary=b0\n\n"
        for i in 1...25 { deep += "--b\(i - 1)\nContent-Type: multipart/mixed; boundary=b\(i)\n\n" }
        #expect(throws: MailError("MIME nesting deeper than 20 levels")) { try MailMessage.parse(crlf(deep)) }
        #expect(throws: MailError("To: <nobody> is not an address (no @)")) {
            try MailMessage.parse(crlf("From: a@x\nTo: <nobody>\n\nb")).addresses("To")
        }
    }

    @Test func charsets() {
        #expect(Charset.decode([0x80, 0x93, 0x94], charset: "windows-1252").text == "€\u{201C}\u{201D}")
        #expect(Charset.decode([0xE9], charset: "ISO-8859-1").text == "é")
        #expect(Charset.decode([0xC3, 0xA9], charset: "x-unknown") == ("é", false))
        #expect(Charset.decode([0xE9], charset: "utf-8").exact == false)
    }
}
