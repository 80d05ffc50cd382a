import CoreMetrics

/// The request counters and duration histograms of one event loop's connections.
///
/// Every answered request records one; looking its pair up in ``EdgeMetrics`` takes a lock
/// shared by all loops and a key string built per request, so each loop keeps the pairs it
/// has used, keyed by route and status without allocating. Labels are bounded (route names
/// and statuses), and so is this cache.
final class LoopRequestMetrics {
    private struct Key: Hashable {
        let route: String
        let status: UInt
    }

    private var pairs: [Key: (Counter, CoreMetrics.Timer)] = [:]

    func record(route: String, status: UInt, nanoseconds: Int64) {
        let key = Key(route: route, status: status)
        let pair: (Counter, CoreMetrics.Timer)
        if let cached = pairs[key] {
            pair = cached
        } else {
            pair = EdgeMetrics.shared.requestMetrics(route: route, status: status)
            pairs[key] = pair
        }
        pair.0.increment()
        pair.1.recordNanoseconds(max(0, nanoseconds))
    }
}
