import ArgumentParser
import Events
import Foundation
import Ledger
import Operations
import Projections
import Synchronization

/// Set by SIGINT/SIGTERM so `projections run --follow` stops between batches.
let stopRequested = Atomic<Bool>(false)

struct ProjectionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projections",
        abstract: "Keep the read models (cases, timelines, obligation verdicts) current in PostgreSQL.",
        discussion: "The read models live in schema dtledger_read for SQL consumers (dashboards, psql). See docs/projections.md.",
        subcommands: [Run.self, Rebuild.self, Status.self])

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply the events after the checkpoint; with --follow, keep applying as events arrive.",
            discussion: "Each batch is applied in one transaction with the checkpoint. Only one projector runs at a time: run exits 75 when another holds the lock; --follow waits for it (a standby). --follow wakes on LISTEN/NOTIFY and at the next pending deadline; stop it with Ctrl-C or SIGTERM.")
        @OptionGroup var connection: ConnectionOptions
        @Flag(help: "Keep running and apply new events as they are appended.") var follow = false
        @Option(help: "Events per transaction (default: adapts to the backlog, 500 to 10,000).") var batch: Int?

        func validate() throws {
            if let batch, batch < 1 { throw ArgumentParser.ValidationError("--batch must be at least 1") }
        }

        func run() throws {
            try guarded {
                if follow {
                    signal(SIGINT) { _ in stopRequested.store(true, ordering: .relaxed) }
                    signal(SIGTERM) { _ in stopRequested.store(true, ordering: .relaxed) }
                    // A parent may have spawned us with these blocked; unblock them.
                    var unblock = sigset_t()
                    sigemptyset(&unblock)
                    sigaddset(&unblock, SIGINT)
                    sigaddset(&unblock, SIGTERM)
                    sigprocmask(SIG_UNBLOCK, &unblock, nil)
                }
                try connection.session().runProjections(batch: batch, follow: follow,
                                                        shouldStop: { stopRequested.load(ordering: .relaxed) }) { event in
                    switch event {
                    case .following:
                        FileHandle.standardError.write(Data("projections: following (Ctrl-C to stop)\n".utf8))
                    case .applied(let r):
                        print("projections: applied \(r.applied) events, re-judged \(r.casesEvaluated) cases; checkpoint \(r.checkpoint)")
                    }
                }
            }
        }
    }

    struct Rebuild: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild every read model from the first event, then swap it in.",
            discussion: "Builds into schema dtledger_read_next and replaces dtledger_read in one transaction when complete, so readers keep the old read models until then. Shows a progress bar on a terminal.")
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            try guarded {
                let r = try connection.session().rebuildProjections()
                print("projections: rebuilt from \(r.applied) events of \(r.casesEvaluated) cases; checkpoint \(r.checkpoint)")
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the projector's checkpoint and lag.")
        @OptionGroup var connection: ConnectionOptions
        @Flag(help: "One JSON line.") var json = false

        func run() throws {
            try guarded {
                let s = try connection.session().projectionStatus()
                if json {
                    print(JSONValue.object([
                        "checkpoint": .int(s.checkpoint), "head": .int(s.head), "lag": .int(s.lag),
                        "cases": .int(Int64(s.cases)),
                        "updated_at": s.updatedAt.map { .string(RFC3339.format($0)) } ?? .null,
                    ]).jsonText())
                } else {
                    print("checkpoint \(s.checkpoint) of \(s.head) (lag \(s.lag) events); \(s.cases) cases; last update \(s.updatedAt.map { RFC3339.format($0) } ?? "never")")
                }
            }
        }
    }
}
