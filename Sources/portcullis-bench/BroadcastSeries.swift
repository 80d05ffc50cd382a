import NIOCore

/// Runs one broadcast measurement on a held set of subscribers: probe until the room
/// joins took effect, then warm-up and measured broadcasts, one at a time.
///
/// One broadcast at a time, each waited for until every subscriber has it (or the delivery
/// timeout), then a gap: the figures are the latency of one broadcast on an otherwise idle
/// system, and the last subscriber's delay is the fan-out time of the whole room.
struct BroadcastSeries: Sendable {
    let load: ClientLoad<Subscribers>
    let publisher: any TickPublisher
    let label: String
    let wireProtocol: String
    let gap: TimeAmount
    let deliveryTimeout: TimeAmount
    let probeTimeout: Double

    func measure(requested: Int, broadcasts: Int, warmup: Int) async throws -> BroadcastResult {
        let started = MonotonicClock.now()
        let (probes, allJoined) = try await self.probe()
        let probed = MonotonicClock.now()
        try await self.load.onLoop { _, role in role.tracker.resetMeasurement() }
        let cpuBefore = ProcessCPU.seconds()
        var lastSubscriber = LatencyHistogram()
        var publishTimes = LatencyHistogram()
        var deliveries = 0
        var expected = 0
        var connections = 0
        for index in 0..<(warmup + broadcasts) {
            let measured = index >= warmup
            let open = try await self.load.openCount
            let (delivery, publishTime, t) = try await self.broadcast(
                expected: open, measured: measured, timeout: self.deliveryTimeout)
            if measured {
                connections = open
                expected += open
                deliveries += delivery.deliveries
                publishTimes.record(publishTime)
                if delivery.deliveries > 0 { lastSubscriber.record(delivery.last &- t) }
            }
            try await Task.sleep(nanoseconds: UInt64(self.gap.nanoseconds))
        }
        let cpu = ProcessCPU.seconds() - cpuBefore
        let (latency, strays) = try await self.load.onLoop { _, role in
            (role.tracker.latency.summary, role.tracker.strays)
        }
        let finished = MonotonicClock.now()
        return BroadcastResult(
            label: self.label,
            wireProtocol: self.wireProtocol,
            requested: requested,
            connections: connections,
            broadcasts: broadcasts,
            deliveries: deliveries,
            expectedDeliveries: expected,
            missing: expected - deliveries,
            strays: strays,
            latency: latency,
            lastSubscriber: lastSubscriber.summary,
            publish: publishTimes.summary,
            probes: probes,
            probeS: Self.rounded(MonotonicClock.seconds(from: started, to: probed)),
            allJoined: allJoined,
            elapsedS: Self.rounded(MonotonicClock.seconds(from: started, to: finished)),
            clientCpuS: Self.rounded(cpu)
        )
    }

    /// Probe broadcasts (not measured) until one reaches every open subscriber.
    private func probe() async throws -> (probes: Int, allJoined: Bool) {
        let started = MonotonicClock.now()
        var probes = 0
        while MonotonicClock.seconds(from: started, to: MonotonicClock.now()) < self.probeTimeout {
            let open = try await self.load.openCount
            probes += 1
            let (delivery, _, _) = try await self.broadcast(expected: open, measured: false, timeout: .seconds(2))
            if open > 0, delivery.deliveries >= open {
                return (probes, true)
            }
        }
        return (probes, false)
    }

    /// One broadcast: register `t`, publish it, wait for `expected` deliveries.
    private func broadcast(
        expected: Int,
        measured: Bool,
        timeout: TimeAmount
    ) async throws -> (TickDelivery, publishTime: UInt64, t: UInt64) {
        let t = MonotonicClock.now()
        try await self.load.onLoop { _, role in role.tracker.expect(t, measured: measured) }
        let sendStart = MonotonicClock.now()
        try await self.publisher.publish(t: t)
        let publishTime = MonotonicClock.now() - sendStart
        let delivery = try await self.load.onLoopLater { _, role in
            role.tracker.wait(for: t, expected: expected, timeout: timeout)
        }
        return (delivery, publishTime, t)
    }

    private static func rounded(_ value: Double) -> Double {
        (value * 1000).rounded() / 1000
    }
}
