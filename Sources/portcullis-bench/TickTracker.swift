import NIOCore

/// Who received which broadcast, and when: the broadcast load's bookkeeping.
///
/// The publisher registers each broadcast's `t` before sending it; every subscriber that
/// receives a frame carrying that `t` adds one delivery. Receive − send goes into the
/// histogram for measured broadcasts (not for probes). ``wait(for:expected:timeout:)``
/// completes when `expected` subscribers have it, or at the timeout with what arrived.
/// Lives on the load generator's loop.
final class TickTracker {
    private struct Broadcast {
        var measured: Bool
        var deliveries = 0
        var last: UInt64 = 0
        var expected = Int.max
        var waiter: EventLoopPromise<TickDelivery>?
    }

    private let eventLoop: any EventLoop
    private var broadcasts: [UInt64: Broadcast] = [:]
    private(set) var latency = LatencyHistogram()
    /// Frames with a `t` no broadcast in flight had (late arrivals after a timeout).
    private(set) var strays = 0

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func expect(_ t: UInt64, measured: Bool) {
        self.broadcasts[t] = Broadcast(measured: measured)
    }

    func received(_ t: UInt64, at now: UInt64) {
        guard var broadcast = self.broadcasts[t] else {
            self.strays += 1
            return
        }
        broadcast.deliveries += 1
        broadcast.last = now
        if broadcast.measured {
            self.latency.record(now &- t)
        }
        if broadcast.deliveries >= broadcast.expected, let waiter = broadcast.waiter {
            broadcast.waiter = nil
            waiter.succeed(TickDelivery(deliveries: broadcast.deliveries, last: broadcast.last))
        }
        self.broadcasts[t] = broadcast
    }

    /// Completes once `expected` deliveries of `t` arrived, or after `timeout` with the count
    /// so far; the broadcast is then forgotten (later frames count as strays).
    func wait(for t: UInt64, expected: Int, timeout: TimeAmount) -> EventLoopFuture<TickDelivery> {
        guard var broadcast = self.broadcasts[t] else {
            return self.eventLoop.makeSucceededFuture(TickDelivery(deliveries: 0, last: 0))
        }
        if broadcast.deliveries >= expected {
            self.broadcasts[t] = nil
            return self.eventLoop.makeSucceededFuture(
                TickDelivery(deliveries: broadcast.deliveries, last: broadcast.last))
        }
        let promise = self.eventLoop.makePromise(of: TickDelivery.self)
        broadcast.expected = expected
        broadcast.waiter = promise
        self.broadcasts[t] = broadcast
        let timer = self.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            guard let late = self.broadcasts[t], let waiter = late.waiter else { return }
            self.broadcasts[t]?.waiter = nil
            waiter.succeed(TickDelivery(deliveries: late.deliveries, last: late.last))
        }
        return promise.futureResult.always { _ in
            timer.cancel()
        }.assumeIsolated().map { delivery in
            self.broadcasts[t] = nil
            return delivery
        }.nonisolated()
    }

    /// Starts a new measurement: an empty histogram, no strays.
    func resetMeasurement() {
        self.latency = LatencyHistogram()
        self.strays = 0
    }
}

/// How far one broadcast got: deliveries and the last one's receive time (ns).
struct TickDelivery: Sendable {
    var deliveries: Int
    var last: UInt64
}
