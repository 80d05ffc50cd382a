import CoreMetrics
import NIOConcurrencyHelpers

/// The edge's metrics, created once per label set and kept (labels are bounded: route
/// names, status codes, failure reasons, upstream names and configured server addresses —
/// never paths or users). A recording costs one locked dictionary lookup by a key built
/// from the labels; the metric objects themselves are made on first use.
///
/// Names and labels are listed in `docs/observability.md`; the Grafana dashboard in
/// `docs/grafana/portcullis.json` reads them, and a test checks that every name it uses is
/// one this type registers.
public final class EdgeMetrics: Sendable {
    static let shared = EdgeMetrics()

    /// Histogram buckets for every duration the edge records, 1 ms to 30 s (set on the
    /// Prometheus factory by `portcullis serve`).
    public static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]

    private let counters = NIOLockedValueBox<[String: Counter]>([:])
    private let timers = NIOLockedValueBox<[String: CoreMetrics.Timer]>([:])
    private let meters = NIOLockedValueBox<[String: Meter]>([:])
    private let requests = NIOLockedValueBox<[String: (Counter, CoreMetrics.Timer)]>([:])
    private let certificateGauges = NIOLockedValueBox<[String: Gauge]>([:])
    private let messagesIn = Counter(label: "portcullis_socket_messages_total", dimensions: [("direction", "in")])
    private let messagesOut = Counter(label: "portcullis_socket_messages_total", dimensions: [("direction", "out")])
    private let busAppends = CoreMetrics.Timer(label: "portcullis_bus_append_duration_seconds")
    /// Made at the first heartbeat, so edges without a bus show no `portcullis_redis_up`.
    private let redisUpGauge = NIOLockedValueBox<Gauge?>(nil)

    // MARK: Requests

    /// One per answered request, by route and status: the counter and the duration
    /// histogram (from the request head to the response's end, or to the 101). Recorded
    /// through each event loop's ``LoopRequestMetrics``, which caches what this returns.
    func requestMetrics(route: String, status: UInt) -> (Counter, CoreMetrics.Timer) {
        let key = route + "|" + String(status)
        return requests.withLockedValue { requests in
            if let existing = requests[key] { return existing }
            let dimensions = [("route", route), ("status", String(status))]
            let made = (
                Counter(label: "portcullis_requests_total", dimensions: dimensions),
                CoreMetrics.Timer(label: "portcullis_request_duration_seconds", dimensions: dimensions)
            )
            requests[key] = made
            return made
        }
    }

    /// One per request the strict request path refused, by reason (`duplicate_content_length`, …).
    func requestRefused(reason: String) {
        counter("portcullis_requests_refused_total", [("reason", reason)]).increment()
    }

    /// One per refused authentication, by route and reason (`expired`, `bad_signature`, …).
    func authFailure(route: String, reason: String) {
        counter("portcullis_auth_failures_total", [("route", route), ("reason", reason)]).increment()
    }

    // MARK: Upstreams

    func upstreamEjected(upstream: String) {
        counter("portcullis_upstream_ejections_total", [("upstream", upstream)]).increment()
    }

    /// `portcullis_upstream_duration_seconds` of one server: the time from writing the
    /// request head upstream to the upstream's response head. Made when a snapshot is
    /// built (``UpstreamServer/responseTimer``) and the same object on every reload.
    func upstreamTimer(upstream: String, server: String) -> CoreMetrics.Timer {
        timer("portcullis_upstream_duration_seconds", [("upstream", upstream), ("server", server)])
    }

    /// One per failed upstream attempt, by ``UpstreamErrorKind``.
    func upstreamError(upstream: String, server: String, kind: UpstreamErrorKind) {
        counter(
            "portcullis_upstream_errors_total", [("upstream", upstream), ("server", server), ("kind", kind.rawValue)]
        ).increment()
    }

    // MARK: Sockets

    /// One per socket handshake on a socket route: `accepted`, `refused` (authentication),
    /// `failed` (the pipeline could not be switched).
    func handshake(route: String, protocol wireProtocol: String, result: String) {
        counter(
            "portcullis_handshakes_total", [("route", route), ("protocol", wireProtocol), ("result", result)]
        ).increment()
    }

    func socketOpened(route: String, protocol wireProtocol: String) {
        meter("portcullis_sockets_open", [("route", route), ("protocol", wireProtocol)]).increment()
    }

    /// `reason` is one of a fixed set (`client`, `slow_consumer`, `rate_limit`, …).
    func socketClosed(route: String, protocol wireProtocol: String, reason: String) {
        meter("portcullis_sockets_open", [("route", route), ("protocol", wireProtocol)]).decrement()
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

    // MARK: Bus

    /// Time from sending an `XADD` of an inbound envelope to its answer (or failure).
    func busAppended(nanoseconds: Int64) {
        busAppends.recordNanoseconds(max(0, nanoseconds))
    }

    /// 1 while the bus's Redis connection answers, 0 once it does not.
    func redisUp(_ up: Bool) {
        let gauge = redisUpGauge.withLockedValue { gauge in
            if let gauge { return gauge }
            let made = Gauge(label: "portcullis_redis_up")
            gauge = made
            return made
        }
        gauge.record(up ? 1 : 0)
    }

    // MARK: Publishing and reloads

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

    /// Replaces the certificate expiry series with those of the snapshot now serving: one
    /// per listener certificate (`notAfter` in Unix seconds); certificates no longer
    /// configured lose their series.
    func certificates(_ expiries: [CertificateExpiry]) {
        certificateGauges.withLockedValue { gauges in
            var kept: [String: Gauge] = [:]
            for expiry in expiries {
                let key = expiry.listener + "|" + expiry.serverName
                let gauge =
                    kept[key] ?? gauges[key]
                    ?? Gauge(
                        label: "portcullis_certificate_expiry_timestamp_seconds",
                        dimensions: [("listener", expiry.listener), ("server_name", expiry.serverName)])
                gauge.record(expiry.notAfter)
                kept[key] = gauge
            }
            for (key, gauge) in gauges where kept[key] == nil {
                gauge.destroy()
            }
            gauges = kept
        }
    }

    // MARK: Cache

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        Self.cached(counters, label, dimensions) { Counter(label: label, dimensions: dimensions) }
    }

    private func timer(_ label: String, _ dimensions: [(String, String)]) -> CoreMetrics.Timer {
        Self.cached(timers, label, dimensions) { CoreMetrics.Timer(label: label, dimensions: dimensions) }
    }

    private func meter(_ label: String, _ dimensions: [(String, String)]) -> Meter {
        Self.cached(meters, label, dimensions) { Meter(label: label, dimensions: dimensions) }
    }

    /// The metric of `label` and `dimensions` in `cache`, made by `make` the first time.
    private static func cached<Metric>(
        _ cache: NIOLockedValueBox<[String: Metric]>, _ label: String, _ dimensions: [(String, String)],
        make: () -> Metric
    ) -> Metric {
        let key = key(label, dimensions)
        return cache.withLockedValue { metrics in
            if let existing = metrics[key] { return existing }
            let made = make()
            metrics[key] = made
            return made
        }
    }

    private static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        var key = label
        for (name, value) in dimensions {
            key += "|" + name + "=" + value
        }
        return key
    }
}

/// Why an upstream attempt failed, for `portcullis_upstream_errors_total{kind}`.
enum UpstreamErrorKind: String, Sendable {
    /// No connection could be made (refused, unreachable, connect timeout).
    case connectFailed = "connect_failed"
    /// The response head (or the rest of the response) did not arrive in time.
    case timeout
    /// The upstream closed the connection before the response ended.
    case reset
    /// The upstream's response was not valid HTTP/1.1.
    case invalidResponse = "invalid_response"
    /// No server of the group was available (all ejected or already tried).
    case noServer = "no_server"
}

/// One listener certificate's expiry, for `portcullis_certificate_expiry_timestamp_seconds`.
struct CertificateExpiry: Sendable, Equatable {
    var listener: String
    /// The certificate's first configured server name, else its first DNS name, else `-`.
    var serverName: String
    /// `notAfter` in seconds since the Unix epoch.
    var notAfter: Int
}
