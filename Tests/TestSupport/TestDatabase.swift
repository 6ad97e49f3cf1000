import Foundation
import Ledger
import Postgres

/// A fresh database for one test, cloned from a migrated template on the
/// throwaway server that Scripts/test starts (DTLEDGER_TEST_ADMIN_URL).
public struct TestDatabase: Sendable {
    public let name: String
    public let url: String

    public static var adminURL: String {
        guard let url = ProcessInfo.processInfo.environment["DTLEDGER_TEST_ADMIN_URL"] else {
            fatalError("DTLEDGER_TEST_ADMIN_URL is not set: run the tests with Scripts/test, which starts a PostgreSQL server")
        }
        return url
    }

    public static func url(database: String) -> String { "\(adminURL.replacingOccurrences(of: "dbname=postgres", with: "")) dbname=\(database)" }

    /// The migrated template, made once per test process.
    static let template: Result<String, PostgresError> = {
        do {
            let admin = try Connection(conninfo: adminURL)
            let name = "dtl_template_\(UInt32.random(in: 0...UInt32.max))"
            try admin.execute("CREATE DATABASE \(name)")
            let connection = try Connection(conninfo: url(database: name))
            do { _ = try Migrator().migrate(connection) } catch {
                fatalError("migrating the test template failed: \(error)")
            }
            return .success(name)
        } catch let error as PostgresError {
            return .failure(error)
        } catch {
            fatalError("\(error)")
        }
    }()

    /// A new database with every migration applied.
    public static func make() throws -> TestDatabase {
        let template = try template.get()
        let name = "dtl_t_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        let admin = try Connection(conninfo: adminURL)
        for attempt in 0... {
            do {
                try admin.execute("CREATE DATABASE \(name) TEMPLATE \(template)")
                break
            } catch {
                // 55006 "source database is being accessed by other users":
                // another clone is in progress; try again shortly.
                guard error.sqlState == SQLState.objectInUse, attempt < 50 else { throw error }
                usleep(50_000)
            }
        }
        return TestDatabase(name: name, url: url(database: name))
    }

    /// An empty database with nothing applied (for migration tests).
    public static func makeEmpty() throws -> TestDatabase {
        let name = "dtl_e_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        try Connection(conninfo: adminURL).execute("CREATE DATABASE \(name)")
        return TestDatabase(name: name, url: url(database: name))
    }

    public func connect() throws -> Connection { try Connection(conninfo: url) }

    /// The reason tests give for publishing the sample directory and
    /// policies, all effective in the past (the append functions refuse a
    /// retroactive publication without one).
    public static let sampleReason = "sample data: published after the fact"

    public func store() throws -> EventStore { EventStore(connection: try connect()) }
}

/// Runs `body(i)` on `count` real threads at once (not the cooperative
/// pool: these block in libpq) and waits for all of them.
public func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for i in 0..<count {
        group.enter()
        let thread = Thread {
            body(i)
            group.leave()
        }
        thread.start()
    }
    group.wait()
}

/// A value shared between threads, behind a lock.
public final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    public init(_ value: Value) { self.value = value }
    public func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
    public var current: Value { withLock { $0 } }
}
