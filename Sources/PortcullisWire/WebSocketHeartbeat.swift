/// Detects dead peers by pinging idle connections.
///
/// Owned by the connection's channel handler. Any inbound frame — data, ping, pong,
/// even a pong whose payload does not match — proves the peer is alive and resets the
/// idle clock. After `pingInterval` of silence a ping is sent; if nothing arrives
/// within `pingTimeout` after that, the peer is considered gone and the connection is
/// closed with 1001 (going away: the server is dropping the endpoint, which is not a
/// protocol error on the peer's part). Because the peer is presumed unreachable we do
/// not wait for its close frame. Time is passed in; ``nextDeadline`` tells the handler
/// when to call ``tick(now:)`` next.
public struct WebSocketHeartbeat<Instant: InstantProtocol>: Sendable
where Instant: Sendable, Instant.Duration == Duration {
    public struct Configuration: Hashable, Sendable {
        public var pingInterval: Duration
        public var pingTimeout: Duration

        public init(pingInterval: Duration = .seconds(25), pingTimeout: Duration = .seconds(20)) {
            self.pingInterval = pingInterval
            self.pingTimeout = pingTimeout
        }
    }

    public enum Action: Hashable, Sendable {
        case none
        /// Send a ping frame with this payload.
        case sendPing([UInt8])
        /// Send a close frame with this code and close TCP without waiting.
        case closeUnresponsive(WebSocketClose)
    }

    private enum State: Sendable {
        case idle(lastActivity: Instant)
        case awaitingPong(pingSentAt: Instant)
        case stopped
    }

    public let configuration: Configuration
    private var state: State
    private var pingsSent: UInt64 = 0

    public init(configuration: Configuration = Configuration(), now: Instant) {
        self.configuration = configuration
        self.state = .idle(lastActivity: now)
    }

    /// When the handler should next call ``tick(now:)``; nil once stopped.
    public var nextDeadline: Instant? {
        switch self.state {
        case .idle(let last): last.advanced(by: self.configuration.pingInterval)
        case .awaitingPong(let sent): sent.advanced(by: self.configuration.pingTimeout)
        case .stopped: nil
        }
    }

    /// Event: any frame arrived from the peer.
    public mutating func inboundTraffic(now: Instant) {
        switch self.state {
        case .idle, .awaitingPong: self.state = .idle(lastActivity: now)
        case .stopped: break
        }
    }

    /// Event: the heartbeat timer fired (possibly early or late).
    public mutating func tick(now: Instant) -> Action {
        switch self.state {
        case .idle(let last):
            guard now >= last.advanced(by: self.configuration.pingInterval) else { return .none }
            self.state = .awaitingPong(pingSentAt: now)
            self.pingsSent &+= 1
            return .sendPing(Self.bigEndian(self.pingsSent))
        case .awaitingPong(let sent):
            guard now >= sent.advanced(by: self.configuration.pingTimeout) else { return .none }
            self.state = .stopped
            return .closeUnresponsive(WebSocketClose(code: .goingAway, reason: "ping timeout"))
        case .stopped:
            return .none
        }
    }

    /// Event: the connection is closing; no more pings or timeouts.
    public mutating func stop() {
        self.state = .stopped
    }

    private static func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).reversed().map { UInt8(truncatingIfNeeded: value >> (UInt64($0) * 8)) }
    }
}
