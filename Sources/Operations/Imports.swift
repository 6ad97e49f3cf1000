import Compliance
import Domain
import Events
import Foundation
import Ingest
import Ledger
import Mail

/// Which importer maps the payloads, with its own defaults (docs/importers.md).
public enum ImportSource: Sendable {
    /// PagerDuty webhook v3 incident events and REST maintenance windows;
    /// `defaultTeam` for incidents whose service the config does not map.
    case pagerDuty(defaultTeam: Team?)
    /// Slack Events API messages; `defaultPurpose` for messages without a Purpose: line.
    case slack(defaultPurpose: NotificationPurpose?)
    /// ServiceNow Table API records (no signatures).
    case serviceNow
    /// RFC 5322 messages (an .eml, an mbox, a Maildir or a directory of
    /// .eml files); `defaultPurpose` for messages without a Purpose: line;
    /// `dkim` where the DKIM keys come from.
    case email(defaultPurpose: NotificationPurpose?, dkim: EmailDKIM)

    /// The environment variable that holds the signing secret by default.
    public var secretVariable: String? {
        switch self {
        case .pagerDuty: "PAGERDUTY_WEBHOOK_SECRET"
        case .slack: "SLACK_SIGNING_SECRET"
        case .serviceNow, .email: nil
        }
    }

    /// `emailVerifier`: `import email`'s DKIM verifier, built once (`EmailDKIM.verifier()`).
    func map(_ payloads: [RawPayload], _ context: ImportContext, emailVerifier: DKIMVerifier? = nil) -> ImportOutcome {
        var c = context
        switch self {
        case .pagerDuty(let team):
            c.defaultTeam = team
            return PagerDutyImporter.map(payloads, context: c)
        case .slack(let purpose):
            c.defaultPurpose = purpose
            return SlackImporter.map(payloads, context: c)
        case .serviceNow:
            return ServiceNowImporter.map(payloads, context: c)
        case .email(let purpose, _):
            c.defaultPurpose = purpose
            return EmailImporter.map(payloads, context: c, verifier: emailVerifier)
        }
    }
}

/// Where `import email` takes DKIM public keys from.
public enum EmailDKIM: Sendable {
    /// TXT records through the system resolver.
    case dns
    /// A key file (or directory of them), read when the import starts (`DKIMKeyFile`).
    case keyFile(String)
    /// No DKIM check: every message is imported as unverified.
    case none

    /// The verifier of these keys (nil: no check); a key file that cannot
    /// be read is refused, naming it (`--dkim-keys PATH: ...`, exit 66).
    func verifier() throws(OperationError) -> DKIMVerifier? {
        switch self {
        case .dns: return DKIMVerifier(keys: DKIMDNSKeys())
        case .keyFile(let path):
            do { return DKIMVerifier(keys: try DKIMKeyFile(path: path)) } catch {
                throw OperationError.unreadable("--dkim-keys \(path): \(error)")
            }
        case .none: return nil
        }
    }
}

public struct ImportRequest: Sendable {
    public var source: ImportSource
    /// The payload file (JSON, a JSON array or JSON Lines), "-" for standard input.
    public var file: String
    /// The importer config file (YAML or JSON).
    public var config: String?
    /// Source id to case mappings, each "ID=CASE".
    public var caseMappings: [String] = []
    /// Every event into this case.
    public var caseID: String?
    /// The actor when a payload names nobody the directory knows (default: the session's).
    public var actor: String?
    /// Write nothing when any payload cannot be mapped.
    public var strict = false
    /// Map and report only: nothing is written, the events are returned.
    public var dryRun = false
    /// Return each imported event (with its id, position, duplicate).
    public var returnEvents = false
    /// Verify each payload's signature with the secret in the environment.
    public var verifySignature = false
    /// The environment variable of the secret, instead of the source's default.
    public var secretVariable: String?

    /// Imports `file` with the `source`'s importer; the other fields are set as given.
    public init(source: ImportSource, file: String) {
        self.source = source
        self.file = file
    }
}

/// A payload reported while importing, before anything is written.
public enum ImportNotice: Sendable {
    /// Its signature failed: the import fails.
    case signatureFailure(String)
    /// It cannot be mapped: skipped (with `strict`, the import fails).
    case skipped(String)
    /// `import email`: an unmapped message kept in the service's inbox, or
    /// why the unmapped messages were not (the login cannot write receipts).
    case inbox(String)
}

public struct ImportResult: Sendable {
    /// The events, in order, when `returnEvents` or `dryRun` was asked.
    public var events: [JSONValue]
    /// payloads, events, appended, duplicates, skipped, signature_verified (and dry_run).
    public var summary: JSONValue
}

extension Session {
    /// Reads a payload file, maps it with the source's importer (Ingest),
    /// reports what cannot be mapped through `notice`, and appends the rest
    /// in one transaction (all or nothing), idempotent by the source's ids.
    public func importPayloads(_ request: ImportRequest, notice: (ImportNotice) -> Void = { _ in }) throws -> ImportResult {
        var config = IngestConfig()
        if let path = request.config {
            config = try IngestConfig.parse(String(decoding: try read(path), as: UTF8.self))
        }
        for entry in request.caseMappings {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw OperationError.usage("--map must be ID=CASE, not '\(printable(entry))'") }
            try Envelope.validateCaseID(parts[1], field: "--map")
            config.cases[parts[0]] = parts[1]
        }
        if let c = request.caseID { try Envelope.validateCaseID(c, field: "--case") }
        var secret: String?, secretName: String?
        if request.verifySignature, let defaultVariable = request.source.secretVariable {
            let name = request.secretVariable ?? defaultVariable
            guard let s = environment[name], !s.isEmpty else {
                throw OperationError.usage("--verify-signature needs the secret in the environment variable \(name)")
            }
            (secret, secretName) = (s, name)
        }
        guard let actor = request.actor ?? defaultActor else { throw OperationError.usage("missing --actor (or set DTLEDGER_ACTOR)") }
        let file: (payloads: [RawPayload], unreadable: [Unmapped])
        var emailVerifier: DKIMVerifier?
        if case .email(_, let dkim) = request.source {
            emailVerifier = try dkim.verifier()
            file = (try readMessages(request.file), [])
        } else {
            file = PayloadFile.read(try read(request.file))
        }

        let store = try store()
        // Through the writer's functions: an import needs no SELECT on the ledger.
        let directories = try WriterReads.directories(store)
        var known: [String: CaseKind] = [:]
        for c in try WriterReads.openedCases(store) {
            if let kind = Catalog.caseKind(forOpeningType: c.openedType) { known[c.caseID] = kind }
        }
        var context = ImportContext(config: config, directories: directories, defaultActor: actor,
                                    caseOverride: request.caseID, knownCases: known, secret: secret, secretName: secretName, now: now())
        // Email threads: the ledger's cases of the messages replies answer (EmailThreads).
        if case .email = request.source, request.caseID == nil { context.lookups = try EmailThreads.lookups(for: file.payloads, store) }
        var outcome = request.source.map(file.payloads, context, emailVerifier: emailVerifier)
        outcome.unmapped = (file.unreadable + outcome.unmapped).sorted { $0.item < $1.item }

        let name = request.file == "-" ? "stdin" : request.file
        for u in outcome.signatureFailures { notice(.signatureFailure("\(name): \(u)")) }
        for u in outcome.unmapped { notice(.skipped("\(name): \(u)")) }
        if !outcome.signatureFailures.isEmpty {
            throw OperationError.invalid("\(name): \(outcome.signatureFailures.count) payload(s) failed signature verification: nothing imported")
        }
        if request.strict && !outcome.unmapped.isEmpty {
            throw OperationError.invalid("\(name): \(outcome.unmapped.count) payload(s) could not be mapped (--strict): nothing imported")
        }
        // `import email`: what cannot be mapped goes to the service's inbox
        // when this login may write receipts (EmailInbox).
        var inboxMessages: [(payload: RawPayload, unmapped: Unmapped)] = []
        var inboxNote: String?
        if case .email = request.source, !request.dryRun, !outcome.unmapped.isEmpty {
            let messages = EmailInbox.messages(file.payloads, outcome.unmapped)
            if try EmailInbox.canWriteReceipts(store) {
                inboxMessages = messages
            } else {
                let login = (try? store.connection.query("SELECT session_user").scalar) ?? nil
                let note = "\(messages.count) message(s) not kept in the inbox: login \(login ?? "(unknown)") cannot write receipts (only a dtledger_receiver login can, such as dtledger serve's importer login); they are reported above only"
                inboxNote = note
                notice(.inbox("\(name): \(note)"))
            }
        }
        var kept: [EmailInbox.Kept] = []
        var appended = 0, duplicates = 0
        var events: [JSONValue] = []
        if request.dryRun {
            for e in outcome.events { events.append(.object(Self.envelopeObject(e))) }
        } else if !outcome.events.isEmpty || !inboxMessages.isEmpty {
            try store.atomically {
                var index = 0
                let all = outcome.events
                while index < all.count {
                    var end = index + 1
                    while end < all.count, all[end].envelope.caseID == all[index].envelope.caseID { end += 1 }
                    let batch = Array(all[index..<end])
                    let results: [AppendResult]
                    do {
                        results = try store.append(caseID: batch[0].envelope.caseID, events: batch.map(\.envelope),
                                                   openingTypes: EventValidation.openingTypes, metadata: batch.map(\.metadata))
                    } catch let failure as LedgerError where failure.validation != nil {
                        var error = failure.validation!
                        error.line = batch[0].item
                        throw OperationError.invalid("\(name): item \(batch[0].item): \(error.description.replacingOccurrences(of: "line \(batch[0].item): ", with: ""))")
                    }
                    for (event, r) in zip(batch, results) {
                        if r.duplicate { duplicates += 1 } else { appended += 1 }
                        if request.returnEvents {
                            var o = Self.envelopeObject(event)
                            o["id"] = .string(r.id); o["position"] = .int(r.position); o["duplicate"] = .bool(r.duplicate)
                            events.append(.object(o))
                        }
                    }
                    index = end
                }
                if case .email(let purpose, _) = request.source {
                    kept = try EmailInbox.keep(store, inboxMessages, origin: name, purpose: purpose, at: now())
                }
            }
        }
        for k in kept {
            notice(.inbox("\(name): message \(k.item): \(k.duplicate ? "already received as" : "kept in the inbox as") receipt \(k.receiptID) (\(k.unmapped.code)); place it with `dtledger inbox assign \(k.receiptID) --case CASE --reason ...`"))
        }
        let verified = outcome.events.filter { $0.metadata["import"]?["signature_verified"] == .bool(true) }.count
        var summary: [String: JSONValue] = [
            "payloads": .int(Int64(file.payloads.count + file.unreadable.count)),
            "events": .int(Int64(outcome.events.count)), "appended": .int(Int64(appended)),
            "duplicates": .int(Int64(duplicates)), "skipped": .int(Int64(outcome.unmapped.count)),
            "signature_verified": .int(Int64(verified)),
        ]
        if request.dryRun { summary["dry_run"] = .bool(true) }
        if !kept.isEmpty {
            summary["inbox"] = .int(Int64(kept.count))
            summary["inbox_receipts"] = .array(kept.map { .int($0.receiptID) })
        }
        if let inboxNote {
            summary["inbox"] = .int(0)
            summary["inbox_not_kept"] = .string(inboxNote)
        }
        return ImportResult(events: events, summary: .object(summary))
    }

    /// The messages of an .eml, an mbox, a Maildir or a directory of .eml
    /// files (or standard input), one payload each, numbered from 1.
    func readMessages(_ path: String) throws(OperationError) -> [RawPayload] {
        let raws: [RawMessage]
        do {
            if path == "-" {
                raws = try Mailbox.read(bytes: [UInt8](standardInput()), name: "stdin")
            } else {
                guard FileManager.default.fileExists(atPath: path) else {
                    throw OperationError.unreadable("cannot read \(path): no such file or not readable")
                }
                raws = try Mailbox.read(path: path)
            }
        } catch let e as OperationError {
            throw e
        } catch {
            throw .unreadable("\(path): \(error)")
        }
        return raws.enumerated().map { RawPayload(item: $0.offset + 1, body: Data($0.element.bytes)) }
    }

    static func envelopeObject(_ e: ImportedEvent) -> [String: JSONValue] {
        var o: [String: JSONValue] = [
            "type": .string(e.envelope.type), "case": .string(e.envelope.caseID),
            "occurred_at": .string(RFC3339.format(e.envelope.occurredAt)), "actor": .string(e.envelope.actor),
            "source": .string(e.envelope.source.rawValue), "data": e.envelope.data, "metadata": e.metadata,
        ]
        if let k = e.envelope.key { o["key"] = .string(k) }
        return o
    }
}
