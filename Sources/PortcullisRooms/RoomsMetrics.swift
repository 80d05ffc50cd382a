import CoreMetrics
import NIOConcurrencyHelpers

/// What the worker counts, by app (labels are bounded: app names and fixed results).
///
/// - `portcullis_rooms_envelopes_total{app,result}`: `handled`, `duplicate`, `input_refused`
///   (a client's unusable input), `failed` (left pending for a retry), `dead_lettered`,
///   `skipped` (unknown kind, deleted entry);
/// - `portcullis_rooms_handler_duration_seconds{app}`: time in the app's handler;
/// - `portcullis_rooms_outputs_total{app}`: envelopes written for it;
/// - `portcullis_rooms_pending{app}`, `portcullis_rooms_lag{app}`: the consumer group's
///   delivered-unacknowledged and not-yet-delivered entries (``GroupMonitor``);
/// - `portcullis_rooms_redis_up`: 1 while Redis answers.
final class RoomsMetrics: Sendable {
    static let shared = RoomsMetrics()

    private let counters = NIOLockedValueBox<[String: Counter]>([:])
    private let timers = NIOLockedValueBox<[String: CoreMetrics.Timer]>([:])
    private let gauges = NIOLockedValueBox<[String: Gauge]>([:])

    enum Result: String {
        case handled, duplicate, skipped, failed
        case inputRefused = "input_refused"
        case deadLettered = "dead_lettered"
    }

    func envelope(app: String, _ result: Result) {
        self.counter("portcullis_rooms_envelopes_total", [("app", app), ("result", result.rawValue)]).increment()
    }

    func outputs(app: String, count: Int) {
        guard count > 0 else { return }
        self.counter("portcullis_rooms_outputs_total", [("app", app)]).increment(by: Int64(count))
    }

    func handlerDuration(app: String, _ duration: Duration) {
        let key = app
        let timer = self.timers.withLockedValue { timers in
            if let timer = timers[key] { return timer }
            let timer = CoreMetrics.Timer(
                label: "portcullis_rooms_handler_duration_seconds", dimensions: [("app", app)],
                preferredDisplayUnit: .seconds)
            timers[key] = timer
            return timer
        }
        let (seconds, attoseconds) = duration.components
        timer.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    func group(app: String, pending: Int, lag: Int?) {
        self.gauge("portcullis_rooms_pending", [("app", app)]).record(pending)
        if let lag { self.gauge("portcullis_rooms_lag", [("app", app)]).record(lag) }
    }

    func redis(up: Bool) {
        self.gauge("portcullis_rooms_redis_up", []).record(up ? 1 : 0)
    }

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        Self.cached(self.counters, label, dimensions) { Counter(label: label, dimensions: dimensions) }
    }

    private func gauge(_ label: String, _ dimensions: [(String, String)]) -> Gauge {
        Self.cached(self.gauges, label, dimensions) { Gauge(label: label, dimensions: dimensions) }
    }

    /// One metric object per label set, made on first use and kept.
    private static func cached<Metric>(
        _ box: NIOLockedValueBox<[String: Metric]>, _ label: String, _ dimensions: [(String, String)],
        make: () -> Metric
    ) -> Metric {
        let key = label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        return box.withLockedValue { metrics in
            if let metric = metrics[key] { return metric }
            let metric = make()
            metrics[key] = metric
            return metric
        }
    }
}
