import Foundation
import Prometheus

/// The service's Prometheus metrics (`GET /metrics`; docs/serve.md, "Metrics").
/// One registry per running service (no process-wide bootstrap, so tests
/// can run several services in one process).
final class ServeMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let commit: DurationHistogram
    let batchSize: ValueHistogram
    let mapperPass: DurationHistogram
    let appended: Counter
    let inbox: Gauge
    let unmapped: Gauge
    let answer: DurationHistogram

    static let latency: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
    ]

    static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "dtledger", metricName: metric, unitName: unit, helpText: help)
    }

    init() {
        commit = registry.makeDurationHistogram(
            descriptor: Self.name("receipt_commit", "seconds", "Time to make one batch of receipts durable (group commit)"),
            buckets: Self.latency)
        batchSize = registry.makeValueHistogram(
            descriptor: Self.name("receipt_batch", "size", "Receipts made durable per commit"),
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256])
        mapperPass = registry.makeDurationHistogram(
            descriptor: Self.name("append", "seconds", "Time to map and append one pass of receipts (one transaction)"),
            buckets: Self.latency)
        appended = registry.makeCounter(descriptor: Self.name("appended_events", "total", "Events appended to the ledger by the service"))
        inbox = registry.makeGauge(descriptor: Self.name("inbox", "size", "Receipts waiting in the inbox for a person"))
        unmapped = registry.makeGauge(descriptor: Self.name("receipts_unmapped", "count", "Durable receipts not mapped yet"))
        answer = registry.makeDurationHistogram(
            descriptor: Self.name("request", "seconds", "Time from a request's arrival to its answer"), buckets: Self.latency)
    }

    func request(route: String, status: Int) {
        registry.makeCounter(descriptor: Self.name("requests", "total", "Requests answered, by route and HTTP status"),
                             labels: [("route", route), ("status", String(status))]).increment()
    }

    func received(source: String, duplicate: Bool) {
        registry.makeCounter(descriptor: Self.name("receipts", "total", "Receipts made durable, by source"),
                             labels: [("source", source), ("duplicate", duplicate ? "true" : "false")]).increment()
    }

    func pollerLag(_ poller: String, seconds: Double) {
        registry.makeGauge(descriptor: Self.name("poller_lag", "seconds", "Seconds since the poller's last successful run"),
                           labels: [("poller", poller)]).set(seconds)
    }

    func pollerError(_ poller: String) {
        registry.makeCounter(descriptor: Self.name("poller_errors", "total", "Failed poller runs"),
                             labels: [("poller", poller)]).increment()
    }

    func text() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
