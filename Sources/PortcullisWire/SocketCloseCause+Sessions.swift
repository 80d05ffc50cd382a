/// The causes protocol sessions add to ``SocketCloseCause``, and what a protocol's goodbye
/// says for each.
///
/// Built only from the base type's factories, so labels, codes and endings stay in the
/// fixed set the metrics and the bus contract promise: a Socket.IO violation is a
/// protocol error, a missed pong is the ping timeout the raw protocol already reports.
extension SocketCloseCause {
    // MARK: Credentials

    /// True when the credentials the client holds are no longer good, so it must not
    /// reconnect with them: expiry, revocation, an ended session.
    public var endsCredentials: Bool {
        self == .expired || self == .revoked || self == .sessionEnded
    }

    /// The reason a protocol's goodbye names (Socket.IO's logged-out notice, ActionCable's
    /// `disconnect`): `token_expired`, `token_revoked`, `session_ended`, `server_restart`
    /// for a drain, or a handler's own reason; nil for causes that have no goodbye (the
    /// client left, broke the protocol, or stopped answering).
    public var noticeReason: String? {
        if self == .expired { return "token_expired" }
        if self == .revoked || self == .sessionEnded { return self.wireReason }
        if self == .shutdown { return "server_restart" }
        if self.isDisconnected { return self.wireReason }
        return nil
    }

    /// True for every ``disconnected(reason:)`` cause: a handler or the edge sent the
    /// connection away on purpose (revocation and ended sessions included).
    var isDisconnected: Bool {
        self.label == SocketCloseCause.disconnected(reason: "").label
    }

    // MARK: Engine.IO and Socket.IO

    /// The client sent a text or binary message that is no Engine.IO 4 packet (the
    /// reference server closes with `parse error`). 1009 when it was too large, else 1002.
    public static func engineIOParseError(_ error: EngineIOPacketError) -> SocketCloseCause {
        let code: WebSocketCloseCode = error.code == .payloadTooLarge ? .messageTooBig : .protocolError
        return .protocolError(code: code, message: "parse error (\(error.code))")
    }

    /// The client sent an invalid Socket.IO packet, or broke the attachment sequence or its
    /// bounds (the reference server closes with `parse error`). 1009 for a binary packet
    /// over its size bound, else 1002.
    public static func socketIOParseError(_ error: SocketIOPacketError) -> SocketCloseCause {
        let code: WebSocketCloseCode = error.code == .packetTooLarge ? .messageTooBig : .protocolError
        return .protocolError(code: code, message: "parse error (\(error.code))")
    }

    /// An EIO 4 client sent a ping: only the server pings in v4 (the reference server's
    /// "invalid heartbeat direction").
    public static let engineIOHeartbeatDirection = SocketCloseCause.protocolError(
        code: .protocolError, message: "invalid heartbeat direction")

    /// A Socket.IO packet the namespace's state forbids: an event, ack or DISCONNECT for a
    /// namespace not joined, a second CONNECT, a CONNECT_ERROR from the client (the
    /// reference server's "invalid state").
    public static let socketIOInvalidState = SocketCloseCause.protocolError(
        code: .protocolError, message: "invalid state")

    /// No namespace was joined within the connect timeout (reference default 45 s).
    public static let socketIOConnectTimeout = SocketCloseCause.protocolError(
        code: .policyViolation, message: "connect timeout")

    /// The client answered an Engine.IO ping with no pong within the ping timeout: 1001
    /// `ping timeout`, as the raw protocol's heartbeat reports it.
    public static let engineIOPingTimeout = SocketCloseCause.pingTimeout(
        WebSocketClose(code: .goingAway, reason: "ping timeout"))
}
