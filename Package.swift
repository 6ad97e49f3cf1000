// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "dtledger",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "dtledger", targets: ["dtledger"]),
        .executable(name: "dtledger-bench", targets: ["dtledger-bench"]),
        .executable(name: "dtledger-send", targets: ["dtledger-send"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // dtledger serve (docs/serve.md): HTTP server, start/stop, logs,
        // outbound calls of the pollers, Prometheus metrics.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // libpq, as the system provides it (Debian: libpq-dev).
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // The only module that imports CLibPQ.
        .target(name: "Postgres", dependencies: ["CLibPQ"]),
        // Pure value types shared by every layer: JSON values, the event
        // envelope, RFC 3339 times, stored events. No database, no rules.
        .target(name: "Events"),
        // The system resolver (res_query), for DKIM key look-ups in DNS.
        .target(name: "CResolv", linkerSettings: [.linkedLibrary("resolv", .when(platforms: [.linux]))]),
        // Email as evidence (issue 18): RFC 5322 / MIME parsing, mailbox
        // readers (.eml, mbox, Maildir) and DKIM verification. Pure code:
        // no database.
        .target(
            name: "Mail",
            dependencies: [
                "CResolv",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // The event store: append, read, hash chain, digest, verify, migrations.
        .target(
            name: "Ledger",
            dependencies: [
                "Postgres", "Events",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            plugins: [.plugin(name: "EmbedFiles")]
        ),
        // The domain (was Process): catalog, directory, policy, rule engine. Pure code.
        .target(
            name: "Domain",
            dependencies: ["Events", .product(name: "Yams", package: "Yams")],
            plugins: [.plugin(name: "EmbedFiles")]
        ),
        // Judging cases from the ledger: loads reference data and events at a
        // ledger position and calls the rule engine; publishes policies.
        .target(name: "Compliance", dependencies: ["Ledger", "Domain", "Events"]),
        // Read models kept current from the ledger by the projector.
        .target(name: "Projections", dependencies: ["Compliance", "Ledger", "Postgres", "Domain", "Events"]),
        // Rendering: compliance tables, Markdown, CSV, JSON.
        .target(name: "Reports", dependencies: ["Compliance", "Domain", "Ledger", "Events"]),
        // PagerDuty, Slack and ServiceNow payloads -> catalog events, with
        // signature checks. Pure code: no database.
        .target(
            name: "Ingest",
            dependencies: ["Events", "Domain", "Mail", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The use cases every front end performs (append, runbook actions,
        // imports, publishing, compliance and reports, projections, verify):
        // typed requests in, typed results and errors out. No argument
        // parsing, no printing, no process environment.
        .target(
            name: "Operations",
            dependencies: ["Ledger", "Postgres", "Domain", "Events", "Compliance", "Reports", "Projections", "Ingest", "Mail"]
        ),
        // What `dtledger serve` does with what it receives, without HTTP:
        // its config, the durable receipts and the inbox, mapping receipts
        // to events (case and purpose inference), the pollers' state. Blocking
        // libpq code, run by Serve on its own threads.
        .target(
            name: "Receiving",
            dependencies: ["Ledger", "Postgres", "Domain", "Events", "Ingest", "Operations", "Compliance", "Mail"]
        ),
        // `dtledger serve`: the Hummingbird 2 service (routes, signatures at
        // receipt, group commit of receipts, the mapper loop, pollers,
        // health, metrics, graceful shutdown).
        .target(
            name: "Serve",
            dependencies: [
                "Receiving", "Operations", "Ledger", "Postgres", "Domain", "Events", "Ingest", "Mail",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Fake vendor senders (demo, tests, docs/serve.md): a realistic incident
        // as Slack, PagerDuty and ServiceNow send it, signed; the same incident
        // as runbook commands. Not part of the product.
        .target(
            name: "VendorReplay",
            dependencies: ["Events", "Ingest", .product(name: "AsyncHTTPClient", package: "async-http-client")]
        ),
        .executableTarget(name: "dtledger-send", dependencies: ["VendorReplay"]),
        // The command-line interface: parses arguments, calls Operations,
        // prints, and maps errors to exit codes (ExitCodes.swift).
        .executableTarget(
            name: "dtledger",
            dependencies: [
                "Operations", "Ledger", "Domain", "Events", "Compliance", "Reports", "Projections",
                "Receiving", "Serve",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The measuring tool behind Scripts/bench (docs/benchmarks.md): library
        // appends and raw libpq baselines in-process, and dtledger serve over
        // HTTP on loopback (ServeBench.swift). Not part of the CLI.
        .executableTarget(
            name: "dtledger-bench",
            dependencies: [
                "Ledger", "Postgres", "Events", "Compliance", "Serve", "Receiving", "Ingest",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Build tool that turns Migrations/*.sql and policies/*.yaml into
        // string constants, so the binary carries them.
        .executableTarget(name: "embed-files", path: "Plugins/embed-files"),
        .plugin(name: "EmbedFiles", capability: .buildTool(), dependencies: ["embed-files"], path: "Plugins/EmbedFiles"),

        .testTarget(name: "EventsTests", dependencies: ["Events"]),
        // Fixtures/Migrations-0.1.0: the migrations as released before issue 14 (LegacyLedger).
        .target(name: "TestSupport", dependencies: ["Ledger", "Postgres", "Operations"], path: "Tests/TestSupport", exclude: ["Fixtures"]),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "Postgres", "Events", "TestSupport"]),
        .testTarget(name: "DomainTests", dependencies: ["Domain", "Events"]),
        .testTarget(name: "ProjectionTests", dependencies: ["Projections", "Compliance", "Reports", "Ledger", "Postgres", "Events", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: [
            "dtledger", "Operations", "Events", "Ledger", "Postgres", "Domain", "Reports", "TestSupport", "Receiving",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "IngestTests", dependencies: [
            "Ingest", "Events", "Domain", "Ledger", "Operations", "dtledger", "TestSupport", "Mail", "Reports", "Postgres",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], exclude: ["Fixtures"]),
        // Faults, load, hostile input, secrets and TLS (SECURITY.md, docs/reliability.md).
        // dtledger serve over real HTTP on loopback, with local fakes of the vendors' APIs.
        .testTarget(name: "ServeTests", dependencies: [
            "Serve", "Receiving", "Ingest", "Events", "Domain", "Ledger", "Postgres", "Operations", "TestSupport", "VendorReplay", "Mail",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // Oracle/: the dkimpy helper script (an independent DKIM implementation, tests only).
        .testTarget(name: "MailTests", dependencies: [
            "Mail",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ], exclude: ["Oracle"]),
        .testTarget(name: "ReliabilityTests", dependencies: ["Events", "Ledger", "Postgres", "Projections", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
