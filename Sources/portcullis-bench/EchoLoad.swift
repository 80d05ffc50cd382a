import NIOCore

/// The echo load: timestamped messages `{"event":"echo","data":{"t":…}}` sent on the
/// pool's connections, round trip = receive − `t` of the answer.
///
/// Fixed rate (open loop): a 1 ms timer sends whatever the rate makes due, round robin
/// over the connections, regardless of answers — a slow server shows as latency, not as a
/// lower send rate. Closed loop: each connection keeps `inflight` messages outstanding and
/// sends the next on each answer — its completions per second are the sustained maximum.
/// Only messages sent inside the measurement window count; the window's answers may
/// arrive after it ends (the drain). Lives on the load generator's loop.
final class EchoLoad: ClientWebSocketDelegate {
    enum Mode: Sendable {
        case fixedRate(perSecond: Double)
        case closedLoop(inflight: Int)
    }

    private let eventLoop: any EventLoop
    private let event: String
    private let padding: String
    private let allocator = ByteBufferAllocator()
    private var closedLoop = false
    private var sending = false
    private var windowStart: UInt64 = .max
    private var windowEnd: UInt64 = .max
    private var nextConnection = 0
    private(set) var latency = LatencyHistogram()
    private(set) var sentInWindow = 0
    private(set) var answeredInWindow = 0
    private(set) var completedInWindow = 0
    private(set) var otherFrames = 0

    init(eventLoop: any EventLoop, event: String, padding: String = "") {
        self.eventLoop = eventLoop
        self.event = event
        self.padding = padding
    }

    func opened(_ connection: ClientWebSocketHandler) {}

    func received(text: ByteBuffer, on connection: ClientWebSocketHandler) {
        let now = MonotonicClock.now()
        guard let t = TickMessage.timestamp(in: text) else {
            // An answer without `t` is an error event (e.g. `rate_limited`): the message was
            // dropped, so the closed loop sends another to keep its messages in flight.
            self.otherFrames += 1
            if self.closedLoop, self.sending {
                self.send(on: connection)
            }
            return
        }
        if t >= self.windowStart, t < self.windowEnd {
            self.answeredInWindow += 1
            self.latency.record(now &- t)
        }
        if now >= self.windowStart, now < self.windowEnd {
            self.completedInWindow += 1
        }
        if self.closedLoop, self.sending {
            self.send(on: connection)
        }
    }

    func closed(_ connection: ClientWebSocketHandler) {}

    /// Starts sending on `pool`'s connections: `warmup` unmeasured, then the window.
    func start(pool: ConnectionPool, mode: Mode, warmup: TimeAmount, window: TimeAmount) {
        let now = MonotonicClock.now()
        self.windowStart = now + UInt64(warmup.nanoseconds)
        self.windowEnd = self.windowStart + UInt64(window.nanoseconds)
        self.sending = true
        switch mode {
        case .closedLoop(let inflight):
            self.closedLoop = true
            for connection in pool.connections {
                for _ in 0..<inflight { self.send(on: connection) }
            }
        case .fixedRate(let perSecond):
            self.closedLoop = false
            self.tick(pool: pool, perSecond: perSecond, started: now, sent: 0)
        }
    }

    /// Stops sending; the future completes when every message of the window has been
    /// answered, or after `timeout`.
    func stop(drainTimeout timeout: TimeAmount) -> EventLoopFuture<Void> {
        self.sending = false
        let promise = self.eventLoop.makePromise(of: Void.self)
        let deadline = NIODeadline.now() + timeout
        func check() {
            if self.answeredInWindow >= self.sentInWindow || NIODeadline.now() >= deadline {
                promise.succeed()
            } else {
                self.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(10)) { check() }
            }
        }
        check()
        return promise.futureResult
    }

    private func tick(pool: ConnectionPool, perSecond: Double, started: UInt64, sent: Int) {
        guard self.sending else { return }
        let now = MonotonicClock.now()
        if now >= self.windowEnd {
            self.sending = false
            return
        }
        var sent = sent
        let due = Int(MonotonicClock.seconds(from: started, to: now) * perSecond) + 1 - sent
        let connections = pool.connections
        if due > 0, !connections.isEmpty {
            for _ in 0..<due {
                self.nextConnection = (self.nextConnection + 1) % connections.count
                self.send(on: connections[self.nextConnection])
            }
            sent += due
        }
        self.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(1)) {
            self.tick(pool: pool, perSecond: perSecond, started: started, sent: sent)
        }
    }

    private func send(on connection: ClientWebSocketHandler) {
        let t = MonotonicClock.now()
        connection.sendText(
            TickMessage.encode(event: self.event, t: t, padding: self.padding, allocator: self.allocator))
        if t >= self.windowStart, t < self.windowEnd {
            self.sentInWindow += 1
        }
    }
}
