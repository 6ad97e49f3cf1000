import Foundation
import Ledger
import Projections

/// What the projector reports while it runs.
public enum ProjectionEvent {
    /// `follow`: the lock is held and it is waiting for new events.
    case following
    /// A batch (or, without `follow`, the whole catch-up) was applied.
    case applied(Projector.RunResult)
}

extension Session {
    /// Applies the events after the checkpoint, holding the projector's lock
    /// (a second projector fails with ProjectionError). With `follow` it waits
    /// for the lock instead and keeps applying new events until `shouldStop`.
    public func runProjections(batch: Int?, follow: Bool, shouldStop: () -> Bool,
                               report: (ProjectionEvent) -> Void) throws {
        let projector = try Projector(settings: settings, batchSize: batch)
        if follow {
            try projector.lock(wait: true)
            defer { projector.unlock() }
            report(.following)
            try projector.follow(shouldStop: shouldStop) { report(.applied($0)) }
        } else {
            try projector.lock(wait: false)
            defer { projector.unlock() }
            let r = try projector.catchUp(progress: { p in progress.update("applied \(p.applied) events; checkpoint \(p.checkpoint)/\(p.head)") })
            progress.done()
            report(.applied(r))
        }
    }

    /// Rebuilds every read model from the first event, then swaps it in.
    public func rebuildProjections() throws -> Projector.RunResult {
        let projector = try Projector(settings: settings)
        try projector.lock(wait: false)
        defer { projector.unlock() }
        let r = try projector.rebuild { done, total in progress.bar(done, total, label: "rebuilding") }
        progress.done()
        return r
    }

    /// The projector's checkpoint and lag.
    public func projectionStatus() throws -> Projector.Status {
        try Projector(settings: settings).status()
    }
}
