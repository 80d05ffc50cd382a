import Atomics
import CoreMetrics
import NIOConcurrencyHelpers

/// The edge's counters, created once per label set and kept (labels are bounded: route
/// names, status codes, failure reasons, upstream names — never paths or users).
final class EdgeMetrics: Sendable {
    static let shared = EdgeMetrics()

    private let counters = NIOLockedValueBox<[String: Counter]>([:])
    private let openSockets = ManagedAtomic<Int>(0)
    private let socketsGauge = Gauge(label: "portcullis_sockets_open")
    private let messagesIn = Counter(label: "portcullis_socket_messages_total", dimensions: [("direction", "in")])
    private let messagesOut = Counter(label: "portcullis_socket_messages_total", dimensions: [("direction", "out")])

    func socketOpened() {
        socketsGauge.record(openSockets.wrappingIncrementThenLoad(ordering: .relaxed))
    }

    /// `reason` is one of a fixed set (`client`, `slow_consumer`, `rate_limit`, …).
    func socketClosed(reason: String) {
        socketsGauge.record(openSockets.wrappingDecrementThenLoad(ordering: .relaxed))
        counter("portcullis_socket_closes_total", [("reason", reason)]).increment()
    }

    /// Messages from clients appended to the bus.
    func socketMessageIn() {
        messagesIn.increment()
    }

    /// Frames written to clients, counted once per target connection.
    func socketMessagesOut(_ count: Int) {
        messagesOut.increment(by: Int64(count))
    }

    /// One per answered request, by route and status.
    func request(route: String, status: UInt) {
        counter("portcullis_requests_total", [("route", route), ("status", String(status))]).increment()
    }

    /// One per request the strict request path refused, by reason (`duplicate_content_length`, …).
    func requestRefused(reason: String) {
        counter("portcullis_requests_refused_total", [("reason", reason)]).increment()
    }

    /// One per refused authentication, by route and reason (`expired`, `bad_signature`, …).
    func authFailure(route: String, reason: String) {
        counter("portcullis_auth_failures_total", [("route", route), ("reason", reason)]).increment()
    }

    func upstreamEjected(upstream: String) {
        counter("portcullis_upstream_ejections_total", [("upstream", upstream)]).increment()
    }

    /// One per publish API request, by endpoint (`publish`, `emit_user`, `emit_users`,
    /// `broadcast`) and result (`published` or a ``PublishError/Code``: `invalid`,
    /// `unauthorized`, `forbidden`, `unavailable`, …).
    func publishRequest(endpoint: String, result: String) {
        counter("portcullis_publish_requests_total", [("endpoint", endpoint), ("result", result)]).increment()
    }

    /// Envelopes the publish API appended to the bus, by endpoint.
    func published(endpoint: String, count: Int) {
        counter("portcullis_published_messages_total", [("endpoint", endpoint)]).increment(by: Int64(count))
    }

    func reload(applied: Bool) {
        counter("portcullis_reloads_total", [("result", applied ? "applied" : "refused")]).increment()
    }

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        var key = label
        for (name, value) in dimensions {
            key += "|" + name + "=" + value
        }
        return counters.withLockedValue { counters in
            if let existing = counters[key] { return existing }
            let made = Counter(label: label, dimensions: dimensions)
            counters[key] = made
            return made
        }
    }
}
