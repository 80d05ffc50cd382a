import NIOCore

/// The open connections of one load generator, and the ramp that opens more.
///
/// Lives on the generator's one event loop (reach it through `NIOLoopBound`); it is every
/// connection's delegate, runs each connection's ``ClientSession`` (handshake, heartbeat
/// answers), keeps the connections past their handshake in an array for round-robin sends,
/// and forwards their application messages to the load's own delegate (`role`). A ramp
/// opens at most `rate` connections per second with at most `maxPending` handshakes
/// (WebSocket and protocol) in flight, and gives up after `maxFailures` failed attempts.
final class ConnectionPool: ClientWebSocketDelegate {
    let eventLoop: any EventLoop
    private let connector: WebSocketConnector
    private let role: any ClientWebSocketDelegate
    private(set) var connections = SlotList<ClientWebSocketHandler>()
    private var pending = 0
    private var attempts = 0
    private var failures = 0
    private var closedByPeer = 0
    private var closing = false
    private var failureKinds: [String: Int] = [:]
    private var firstError: String?
    private var ramp: Ramp?

    /// One `grow` in progress.
    private struct Ramp {
        var target: Int
        var rate: Double
        var maxPending: Int
        var maxFailures: Int
        var started: UInt64
        var startedConnections = 0
        var openedAtStart: Int
        var failuresAtStart: Int
        var lastProgress: UInt64
        var promise: EventLoopPromise<RampReport>
        var progress: (RampReport) -> Void
    }

    init(eventLoop: any EventLoop, connector: WebSocketConnector, role: any ClientWebSocketDelegate) {
        self.eventLoop = eventLoop
        self.connector = connector
        self.role = role
    }

    var openCount: Int { self.connections.count }

    // MARK: ClientWebSocketDelegate

    func opened(_ connection: ClientWebSocketHandler) {
        self.run(connection.session.upgraded(), text: nil, on: connection)
    }

    func received(text: ByteBuffer, on connection: ClientWebSocketHandler) {
        self.run(connection.session.received(text), text: text, on: connection)
    }

    func closed(_ connection: ClientWebSocketHandler) {
        connection.session.closed()
        guard self.connections.remove(connection) else { return }
        if !self.closing { self.closedByPeer += 1 }
        self.role.closed(connection)
    }

    private func run(_ action: ClientSession.Action, text: ByteBuffer?, on connection: ClientWebSocketHandler) {
        switch action {
        case .none:
            break
        case .send(let message):
            connection.sendText(ByteBuffer(string: message))
        case .ready:
            self.connections.append(connection)
            connection.markReady()
            self.role.opened(connection)
        case .deliver:
            if let text { self.role.received(text: text, on: connection) }
        case .close(let reason):
            // In its handshake, a failed attempt; once open, a connection the server closed.
            connection.fail(BenchError.sessionEnded(reason))
        }
    }

    // MARK: Ramp

    /// Opens connections until `target` are open; the future's report says how it went
    /// (`type` `ready`, or `ramp_failed` after too many failures).
    func grow(
        to target: Int,
        rate: Double,
        maxPending: Int,
        maxFailures: Int,
        progress: @escaping (RampReport) -> Void
    ) -> EventLoopFuture<RampReport> {
        self.eventLoop.preconditionInEventLoop()
        let promise = self.eventLoop.makePromise(of: RampReport.self)
        let now = MonotonicClock.now()
        self.ramp = Ramp(
            target: target,
            rate: rate,
            maxPending: maxPending,
            maxFailures: maxFailures,
            started: now,
            openedAtStart: self.connections.count,
            failuresAtStart: self.failures,
            lastProgress: now,
            promise: promise,
            progress: progress
        )
        self.tick()
        return promise.futureResult
    }

    /// Closes connections (close handshake) until `target` are left.
    func shrink(to target: Int) {
        self.closing = true
        while self.connections.count > target, let last = self.connections.last {
            last.close()
            self.closed(last)
        }
        self.closing = false
    }

    /// Closes every connection; the future completes when all are gone or after 3 s.
    func closeAll() -> EventLoopFuture<Void> {
        self.closing = true
        for connection in self.connections {
            connection.close()
        }
        let promise = self.eventLoop.makePromise(of: Void.self)
        let deadline = NIODeadline.now() + .seconds(3)
        func check() {
            if self.connections.isEmpty || NIODeadline.now() > deadline {
                promise.succeed()
            } else {
                self.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(20)) { check() }
            }
        }
        check()
        return promise.futureResult
    }

    /// The pool's counters, and the current ramp's progress if one is running.
    func report(type: String) -> RampReport {
        self.report(type: type, ramp: self.ramp)
    }

    private func report(type: String, ramp: Ramp?) -> RampReport {
        let now = MonotonicClock.now()
        let elapsed = ramp.map { MonotonicClock.seconds(from: $0.started, to: now) } ?? 0
        let opened = ramp.map { self.connections.count - $0.openedAtStart } ?? 0
        return RampReport(
            type: type,
            target: ramp?.target ?? self.connections.count,
            open: self.connections.count,
            pending: self.pending,
            attempts: self.attempts,
            failures: self.failures,
            closed: self.closedByPeer,
            elapsedS: (elapsed * 1000).rounded() / 1000,
            rate: elapsed > 0 ? (Double(opened) / elapsed).rounded() : 0,
            failureKinds: self.failureKinds,
            firstError: self.firstError
        )
    }

    private func tick() {
        guard var ramp = self.ramp else { return }
        let now = MonotonicClock.now()
        if self.connections.count >= ramp.target {
            self.ramp = nil
            ramp.promise.succeed(self.report(type: "ready", ramp: ramp))
            return
        }
        if self.failures - ramp.failuresAtStart > ramp.maxFailures {
            self.ramp = nil
            ramp.promise.succeed(self.report(type: "ramp_failed", ramp: ramp))
            return
        }
        let elapsed = MonotonicClock.seconds(from: ramp.started, to: now)
        let byRate = Int(elapsed * ramp.rate) + 1 - ramp.startedConnections
        let needed = ramp.target - self.connections.count - self.pending
        let count = min(byRate, needed, ramp.maxPending - self.pending)
        if count > 0 {
            ramp.startedConnections += count
            for _ in 0..<count {
                self.startOne()
            }
        }
        let dueProgress = now - ramp.lastProgress >= 1_000_000_000
        if dueProgress { ramp.lastProgress = now }
        self.ramp = ramp
        if dueProgress { ramp.progress(self.report(type: "progress")) }
        self.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(5)) { self.tick() }
    }

    private func startOne() {
        let index = self.attempts
        self.attempts += 1
        self.pending += 1
        let delegate = NIOLoopBound<any ClientWebSocketDelegate>(self, eventLoop: self.eventLoop)
        self.connector.connect(index: index, on: self.eventLoop, delegate: delegate)
            .assumeIsolated()
            .whenComplete { result in
                self.pending -= 1
                if case .failure(let error) = result {
                    self.failures += 1
                    let kind = (error as? BenchError)?.kind ?? String(describing: type(of: error))
                    self.failureKinds[kind, default: 0] += 1
                    if self.firstError == nil { self.firstError = "\(error)" }
                }
            }
    }
}
