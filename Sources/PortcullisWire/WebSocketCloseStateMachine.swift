/// The closing handshake of one WebSocket connection (RFC 6455 §5.5.1, §7).
///
/// Owned by the connection's channel handler, which feeds it events and runs the
/// returned ``Action``; the machine never touches I/O or reads a clock — `now` is
/// passed in, and the deadline it returns is what the handler schedules a timer for.
/// Invariants:
/// - We send at most one close frame, and never a reserved code (1005, 1006, 1015).
/// - Peer-initiated close: we echo the peer's code (1000 if it sent none) and close
///   TCP at once — the server closes the connection first, per RFC 6455 §7.1.1.
/// - Server-initiated close: after our close frame we wait for the peer's until the
///   deadline, then close TCP whether or not it came.
/// - Whenever an action sends a close frame, the handler also calls
///   ``WebSocketMessageAssembler/closeSent()`` so no further data is delivered.
public struct WebSocketCloseStateMachine<Instant: InstantProtocol>: Sendable
where Instant: Sendable, Instant.Duration == Duration {
    public enum Action: Hashable, Sendable {
        case none
        /// Send a close frame, then start a timer that fires ``timerFired(now:)`` at `deadline`.
        case sendCloseAndStartTimer(WebSocketClose, deadline: Instant)
        /// Send a close frame and close TCP once it is flushed.
        case sendCloseAndCloseConnection(WebSocketClose)
        /// The handshake finished: cancel the close timer and close TCP.
        case cancelTimerAndCloseConnection
        /// Close TCP now (timer expired; no frame can or need be sent).
        case closeConnection
        /// TCP went away on its own while the timer was running; cancel it.
        case cancelTimer
    }

    private enum State: Sendable {
        case open
        case closeSent(deadline: Instant)
        case closed
    }

    /// How long to wait for the peer's close after sending ours.
    public let closeTimeout: Duration
    private var state: State = .open

    public init(closeTimeout: Duration = .seconds(5)) {
        self.closeTimeout = closeTimeout
    }

    /// True once we may no longer send data frames.
    public var isClosing: Bool {
        if case .open = self.state { return false }
        return true
    }

    /// Event: the server wants to close (shutdown, auth expiry, heartbeat policy…).
    public mutating func closeRequested(code: WebSocketCloseCode, reason: String = "", now: Instant) -> Action {
        switch self.state {
        case .open:
            let deadline = now.advanced(by: self.closeTimeout)
            self.state = .closeSent(deadline: deadline)
            return .sendCloseAndStartTimer(Self.outbound(code, reason), deadline: deadline)
        case .closeSent, .closed:
            return .none
        }
    }

    /// Event: the assembler reported a valid close frame from the peer.
    public mutating func closeReceived(_ close: WebSocketClose) -> Action {
        switch self.state {
        case .open:
            self.state = .closed
            let echo: WebSocketCloseCode = close.code.isSendable ? close.code : .normalClosure
            return .sendCloseAndCloseConnection(WebSocketClose(code: echo))
        case .closeSent:
            self.state = .closed
            return .cancelTimerAndCloseConnection
        case .closed:
            return .none
        }
    }

    /// Event: the assembler failed the connection (or the heartbeat gave up); send
    /// this code if we still may, then close TCP without waiting for the peer.
    public mutating func failed(code: WebSocketCloseCode, reason: String = "") -> Action {
        switch self.state {
        case .open:
            self.state = .closed
            return .sendCloseAndCloseConnection(Self.outbound(code, reason))
        case .closeSent:
            self.state = .closed
            return .cancelTimerAndCloseConnection
        case .closed:
            return .none
        }
    }

    /// Event: the close timer fired. Stale firings (after the handshake finished, or
    /// before the deadline) are ignored.
    public mutating func timerFired(now: Instant) -> Action {
        switch self.state {
        case .closeSent(let deadline) where now >= deadline:
            self.state = .closed
            return .closeConnection
        case .open, .closeSent, .closed:
            return .none
        }
    }

    /// Event: the TCP connection closed (by the peer or an error).
    public mutating func connectionClosed() -> Action {
        let wasWaiting: Bool
        if case .closeSent = self.state { wasWaiting = true } else { wasWaiting = false }
        self.state = .closed
        return wasWaiting ? .cancelTimer : .none
    }

    private static func outbound(_ code: WebSocketCloseCode, _ reason: String) -> WebSocketClose {
        let payload = WebSocketClose.encodePayload(code: code, reason: reason)
        return WebSocketClose(
            code: WebSocketCloseCode(UInt16(payload[0]) << 8 | UInt16(payload[1])),
            reason: String(decoding: payload[2...], as: UTF8.self)
        )
    }
}
