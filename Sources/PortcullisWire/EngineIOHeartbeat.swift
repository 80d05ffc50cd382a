/// The Engine.IO 4 heartbeat of one session: the server pings, the client pongs.
///
/// Owned by ``SocketIOSession``. Unlike ``WebSocketHeartbeat``, which pings idle WebSocket
/// connections and takes any frame as a sign of life, EIO 4 has a rhythm that clients
/// check: the server sends `2` every `pingInterval` whatever else flows, and only a `3`
/// answers it. As in the reference server, a ping arms a `pingTimeout` deadline; a pong
/// clears it and the next ping is due `pingInterval` after the pong (so the period is the
/// interval plus the round trip). Clients close when no ping arrives within
/// `pingInterval + pingTimeout` of the last one, so a ping may be late by less than
/// `pingTimeout`; the edge's one-second sweep is well inside that.
///
/// Time is passed in; ``nextDeadline`` says when ``tick(now:)`` is next needed.
public struct EngineIOHeartbeat<Instant: InstantProtocol>: Sendable
where Instant: Sendable, Instant.Duration == Duration {
    public enum Action: Hashable, Sendable {
        case none
        /// Send the ping packet `2`.
        case sendPing
        /// No pong came within the timeout: close the session (`ping timeout`).
        case timedOut
    }

    private enum State: Sendable {
        case stopped
        case waiting(pingAt: Instant)
        case awaitingPong(deadline: Instant)
    }

    public let pingInterval: Duration
    public let pingTimeout: Duration
    private var state: State = .stopped

    public init(pingInterval: Duration, pingTimeout: Duration) {
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
    }

    /// When the owner should next call ``tick(now:)``; nil unless running.
    public var nextDeadline: Instant? {
        switch self.state {
        case .stopped: nil
        case .waiting(let pingAt): pingAt
        case .awaitingPong(let deadline): deadline
        }
    }

    /// Event: the session opened; the first ping is due one interval later.
    public mutating func start(now: Instant) {
        self.state = .waiting(pingAt: now.advanced(by: self.pingInterval))
    }

    /// Event: the client sent `3`. Like the reference server, an unasked pong also
    /// restarts the interval: it proves the client alive all the same.
    public mutating func pongReceived(now: Instant) {
        switch self.state {
        case .waiting, .awaitingPong: self.state = .waiting(pingAt: now.advanced(by: self.pingInterval))
        case .stopped: break
        }
    }

    /// Event: the clock reached (or passed) ``nextDeadline``; early calls do nothing.
    public mutating func tick(now: Instant) -> Action {
        switch self.state {
        case .waiting(let pingAt):
            guard now >= pingAt else { return .none }
            self.state = .awaitingPong(deadline: now.advanced(by: self.pingTimeout))
            return .sendPing
        case .awaitingPong(let deadline):
            guard now >= deadline else { return .none }
            self.state = .stopped
            return .timedOut
        case .stopped:
            return .none
        }
    }

    /// Event: the session is closing; no more pings or timeouts.
    public mutating func stop() {
        self.state = .stopped
    }
}
