import ArgumentParser
import Compliance
import Events
import Foundation
import Domain
import Operations

struct DirectoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "directory",
        abstract: "Publish and query the directory: people, groups, roles and products, with effective dates.",
        subcommands: [Publish.self, Show.self, Who.self])

    /// The time of `--at` (default now).
    static func time(_ at: String?) throws -> Date {
        try at.map { try parseTime($0, option: "--at") } ?? Date()
    }

    struct Publish: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish a directory YAML file into the ledger (republishing the same file is a no-op).",
            discussion: "The file's shape is that of ../shared/scenarios/directory.yaml. It takes effect at its effective_from (or --effective-from); the directory in force at a time is the latest published one whose effective date is not after it. Only a dtledger_publisher login may publish; one effective before now needs --retroactive-reason.")

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The directory YAML file.") var file: String
        @Option(name: .customLong("effective-from"), help: "Overrides the file's effective_from (RFC 3339).")
        var effectiveFrom: String?
        @Option(help: "Who publishes it (default: DTLEDGER_ACTOR, else the login name).") var actor: String?
        @Option(name: .customLong("retroactive-reason"),
                help: "Why a directory effective before now re-judges the past (required then).")
        var retroactiveReason: String?

        func run() throws {
            try guarded {
                let session = connection.session()
                let yaml = String(decoding: try session.read(file), as: UTF8.self)
                let effective = try effectiveFrom.map { try parseTime($0, option: "--effective-from") }
                let r = try session.open().publishDirectory(yaml: yaml, effectiveFrom: effective, actor: actor,
                                                            retroactiveReason: retroactiveReason).result
                print(r.duplicate ? "directory: already published at position \(r.position)"
                                  : "directory: published at position \(r.position) (event \(r.id))")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the directory in force at a time, as JSON.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The time (RFC 3339; default now).") var at: String?

        func run() throws {
            try guarded {
                let when = try DirectoryCommand.time(at)
                print(try connection.session().open().directory(at: when).json.jsonText())
            }
        }
    }

    struct Who: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Who held a role at a time (\"who was the ISSO on 3 March\").",
            discussion: "Example: dtledger directory who isso --at 2026-03-03T12:00:00-05:00")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "A role, e.g. isso, system-owner, uf-oncall.") var role: String
        @Option(help: "The time (RFC 3339; default now).") var at: String?

        func run() throws {
            try guarded {
                let when = try DirectoryCommand.time(at)
                let who = try connection.session().open().holders(of: role, at: when)
                print("\(role) at \(RFC3339.format(when)) (directory effective \(RFC3339.format(who.directory.effectiveFrom))):")
                if who.people.isEmpty { print("  nobody") }
                for p in who.people {
                    print("  \(p.handle) — \(p.name)\(p.email.map { " <\($0)>" } ?? "")")
                }
                if !who.groups.isEmpty { print("  reached by tagging: \(who.groups.joined(separator: ", "))") }
            }
        }
    }
}

struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Check, publish and show notification policies (versioned, with effective dates).",
        discussion: "A case is judged by the policy version in force when it was opened. Schema: docs/policy.md.",
        subcommands: [Check.self, Publish.self, Show.self, Diff.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a policy file without publishing it (exit 0 valid, 65 problems).",
            discussion: "Reports unknown audiences, roles, event kinds and timing forms, duplicate rule ids and bad durations, each naming its rule. Roles are checked against --directory FILE, else the directory published in the ledger when one can be reached, else not at all.")
        @Argument(help: "The policy YAML file.") var file: String
        @Option(help: "A directory YAML file to check roles and people against.") var directory: String?
        @Option(name: .customLong("database-url"), help: "Read the published directory from this database.")
        var databaseURL: String?

        func run() throws {
            try guarded {
                let env = CommandEnvironment.process
                let session = env.session(databaseURL: databaseURL)
                let yaml = String(decoding: try session.read(file), as: UTF8.self)
                let source: DirectorySource = if let directory { .file(directory) }
                    else if databaseURL != nil || env.variables["DTLEDGER_DATABASE_URL"] != nil { .ledger } else { .none }
                let check = try session.checkPolicy(yaml: yaml, directory: source)
                let policy = check.policy
                if check.problems.isEmpty {
                    print("ok: \(policy.name) v\(policy.version), \(policy.rules.count) rules\(check.directoryChecked ? "" : " (roles not checked: no directory)")")
                } else {
                    for p in check.problems { FileHandle.standardError.write(Data("\(file): \(p)\n".utf8)) }
                    throw OperationError.invalid("\(file): \(check.problems.count) problem(s) in the policy")
                }
            }
        }
    }

    struct Publish: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish a policy into the ledger, effective from a time.",
            discussion: "The policy is checked first (as 'policy check', against the directory in force at its effective date). A version can be published once; publish a changed policy under a new version. It takes effect at --effective-from, else at the file's effective_from; cases opened on or after then are judged by it. Only a dtledger_publisher login may publish; a policy effective before now needs --retroactive-reason.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The policy YAML file.") var file: String
        @Option(name: .customLong("effective-from"), help: "When it takes effect (RFC 3339); overrides the file's effective_from.")
        var effectiveFrom: String?
        @Option(help: "Who publishes it (default: DTLEDGER_ACTOR, else the login name).") var actor: String?
        @Option(name: .customLong("retroactive-reason"),
                help: "Why a policy effective before now re-judges the past (required then).")
        var retroactiveReason: String?

        func run() throws {
            try guarded {
                let session = connection.session()
                let yaml = String(decoding: try session.read(file), as: UTF8.self)
                let given = try effectiveFrom.map { try parseTime($0, option: "--effective-from") }
                let outcome = try session.open().publishPolicy(yaml: yaml, effectiveFrom: given, actor: actor,
                                                               retroactiveReason: retroactiveReason)
                let effective = outcome.effectiveFrom
                for w in outcome.warnings { FileHandle.standardError.write(Data("dtledger: warning: \(w)\n".utf8)) }
                let r = outcome.result
                print(r.duplicate ? "policy: already published at position \(r.position)"
                                  : "policy: published at position \(r.position) (event \(r.id)), effective \(RFC3339.format(effective))")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the published policy versions, or the one in force at a time.",
            discussion: "Without --at, lists every published version with its effective date. With --at TS, prints the document in force then as JSON.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The time (RFC 3339).") var at: String?

        func run() throws {
            try guarded {
                let policies = try connection.session().open().policies()
                if let at {
                    let when = try parseTime(at, option: "--at")
                    let history = policies.reference.policies
                    let scoped = history.scopedInForce(at: when)
                    var o: [String: JSONValue]
                    if let (version, policy) = history.inForce(at: when) {
                        o = ["name": .string(policy.name), "version": .string(version), "policy": policy.document]
                    } else if scoped.isEmpty {
                        _ = try policies.inForce(at: when)  // throws: no policy in force
                        return
                    } else {
                        o = ["name": .null, "version": .null, "policy": .null]
                    }
                    // The scoped policies in force then, side by side with it.
                    if !scoped.isEmpty {
                        o["scoped"] = .array(scoped.map { s in
                            .object(["name": .string(s.policy.name), "version": .string(s.version),
                                     "policy": s.policy.document])
                        })
                    }
                    print(JSONValue.object(o).jsonText())
                } else {
                    if policies.publications.isEmpty { print("no policy published") }
                    for p in policies.publications {
                        print("\(p.name) v\(p.version)  effective \(RFC3339.format(p.effectiveFrom))  published \(RFC3339.format(p.recordedAt)) by \(p.actor)  (position \(p.position))")
                    }
                }
            }
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what changed between two policies (rules added, removed, changed; parameters, audiences, other keys).",
            discussion: "A and B are each a policy YAML file or NAME@VERSION, a version published in the ledger (read from --database-url, else DTLEDGER_DATABASE_URL or the PG* variables). Exit 0 whether or not they differ; 65 when one is not a policy or not published, 66 when a file cannot be read. Example: dtledger policy diff mhv-downtime-notification@1 Policies/v2.yaml")
        @Argument(help: "The old policy: FILE or NAME@VERSION.") var old: String
        @Argument(help: "The new policy: FILE or NAME@VERSION.") var new: String
        @Option(help: "text (default) or json.") var format: String = "text"
        @Option(name: .customLong("database-url"), help: "Read NAME@VERSION policies from this database.")
        var databaseURL: String?

        func run() throws {
            try guarded {
                guard ["text", "json"].contains(format) else {
                    throw OperationError.usage("--format must be text or json, not \(format)")
                }
                let session = CommandEnvironment.process.session(databaseURL: databaseURL)
                var published: PublishedPolicies?
                /// A file when one exists at that path (or "-"), else NAME@VERSION from the ledger.
                func document(_ ref: String) throws -> JSONValue {
                    if ref == "-" || FileManager.default.fileExists(atPath: ref) || !ref.contains("@") {
                        return try Policy.parse(yaml: String(decoding: try session.read(ref), as: UTF8.self)).document
                    }
                    let at = ref.lastIndex(of: "@")!
                    let name = String(ref[..<at]), version = String(ref[ref.index(after: at)...])
                    guard !name.isEmpty, !version.isEmpty else {
                        throw OperationError.usage("\(ref): expected FILE or NAME@VERSION")
                    }
                    if published == nil { published = try session.open().policies() }
                    return try published!.policy(name: name, version: version).document
                }
                let diff = PolicyDiff.compare(try document(old), try document(new))
                print(format == "json" ? diff.json.jsonText() : diff.text, terminator: format == "json" ? "\n" : "")
            }
        }
    }
}
