import Compliance
import Foundation
import Testing

/// Cases judged on worker threads come back in the order submitted, with
/// the same results as on the calling thread (issue 6).
@Suite struct OrderedWorkTests {
    static func run(threads: Int, limit: Int, chunk: Int = 16, items: Int) throws -> [String] {
        var out: [String] = []
        let work = OrderedWork<Int, String>(threads: threads, limit: limit, chunk: chunk) { n in
            // Uneven work, so later items often finish first.
            usleep(UInt32((n * 7919) % 13) * 100)
            return "item \(n) -> \(n * n)"
        }
        for n in 0..<items { try work.submit(n) { out.append($0) } }
        try work.finish { out.append($0) }
        return out
    }

    @Test(arguments: [(1, 1), (1, 64), (2, 3), (2, 64), (4, 8)])
    func sameResultsInOrder(_ setting: (threads: Int, limit: Int)) throws {
        let serial = try Self.run(threads: 0, limit: 1, items: 300)
        #expect(serial == (0..<300).map { "item \($0) -> \($0 * $0)" })
        #expect(try Self.run(threads: setting.threads, limit: setting.limit, items: 300) == serial)
    }

    /// Chunks of 1, of sizes that do not divide the item count, and larger
    /// than the whole run: every item comes back once, in order.
    @Test(arguments: [1, 7, 16, 299, 300, 1000])
    func chunkSizes(_ chunk: Int) throws {
        let serial = (0..<300).map { "item \($0) -> \($0 * $0)" }
        #expect(try Self.run(threads: 2, limit: 2, chunk: chunk, items: 300) == serial)
        #expect(try Self.run(threads: 1, limit: 1, chunk: chunk, items: 300) == serial)
        #expect(try Self.run(threads: 2, limit: 3, chunk: chunk, items: 0) == [])
    }

    @Test func anErrorFromTheConsumerStopsTheWalk() throws {
        struct Stop: Error {}
        let work = OrderedWork<Int, Int>(threads: 2, limit: 4, chunk: 3) { $0 }
        var seen: [Int] = []
        #expect(throws: Stop.self) {
            for n in 0..<100 {
                try work.submit(n) { v in
                    if v == 10 { throw Stop() }
                    seen.append(v)
                }
            }
        }
        #expect(seen == Array(0..<10))
    }
}
