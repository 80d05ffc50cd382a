/// Why a socket connection ends, as one typed value instead of strings set in many
/// places: it carries the close frame to send (code and reason on the wire), how the
/// connection ends, the bounded label of `portcullis_socket_closes_total{reason}` and the
/// text of the `close` envelope and the `socket closed` log line (part of the bus
/// contract, docs/bus.md).
///
/// Protocols with their own goodbye (Socket.IO's DISCONNECT, ActionCable's
/// `{"type":"disconnect","reason":…}`) will map a cause to it in one place.
public struct SocketCloseCause: Hashable, Sendable, CustomStringConvertible {
    /// How the edge ends the connection for this cause.
    public enum Ending: Hashable, Sendable {
        /// Nothing to send: the client closed, or the connection is gone.
        case none
        /// Send the close frame and wait (bounded) for the client's (RFC 6455 §7).
        case handshake
        /// Send the close frame and close TCP at once: the client broke the protocol or
        /// stopped answering.
        case fail
    }

    /// The metric label: one of a fixed set (`client`, `protocol_error`, `rate_limit`,
    /// `unavailable`, `slow_consumer`, `disconnect`, `shutdown`, `expired`, `revoked`,
    /// `session_ended`, `ping_timeout`).
    public let label: String
    /// The `close` envelope's and the log line's reason.
    public let description: String
    /// The close frame to send; nil for ``Ending/none``.
    public let code: WebSocketCloseCode?
    public let wireReason: String
    public let ending: Ending

    private init(
        label: String, description: String, code: WebSocketCloseCode? = nil, wireReason: String = "",
        ending: Ending = .none
    ) {
        self.label = label
        self.description = description
        self.code = code
        self.wireReason = wireReason
        self.ending = ending
    }

    /// The connection went away without a close frame (the starting assumption).
    public static let connectionLost = SocketCloseCause(label: "client", description: "client closed")

    /// A transport error closed the connection.
    public static let connectionError = SocketCloseCause(label: "client", description: "connection error")

    /// The client sent a close frame first.
    public static func clientClosed(code: WebSocketCloseCode) -> SocketCloseCause {
        SocketCloseCause(label: "client", description: "client closed (\(code.rawValue))")
    }

    /// The client broke RFC 6455 (or the route's limits): 1002, 1007 or 1009.
    public static func protocolError(code: WebSocketCloseCode, message: String) -> SocketCloseCause {
        SocketCloseCause(
            label: "protocol_error", description: "protocol error: \(message)", code: code, wireReason: message,
            ending: .fail)
    }

    /// The client kept sending over its rate limit: 1008.
    public static let rateLimited = SocketCloseCause(
        label: "rate_limit", description: "rate limit exceeded", code: .policyViolation,
        wireReason: "rate limit exceeded", ending: .handshake)

    /// Redis is away and the append buffer is full (opaque mode has no error event): 1013.
    public static let busUnavailable = SocketCloseCause(
        label: "unavailable", description: "message bus unavailable", code: .tryAgainLater,
        wireReason: "try again later", ending: .handshake)

    /// The client does not read what is sent to it: 1008.
    public static let slowConsumer = SocketCloseCause(
        label: "slow_consumer", description: "slow consumer", code: .policyViolation, wireReason: "slow consumer",
        ending: .handshake)

    /// A handler or backend asked for the connection to end: 4000 with its reason.
    public static func disconnected(reason: String) -> SocketCloseCause {
        SocketCloseCause(
            label: "disconnect", description: "disconnected: \(reason)", code: WebSocketCloseCode(4000),
            wireReason: reason, ending: .handshake)
    }

    /// The edge is draining: 1001.
    public static let shutdown = SocketCloseCause(
        label: "shutdown", description: "server shutting down", code: .goingAway,
        wireReason: "server shutting down", ending: .handshake)

    /// The token or session behind the connection expired: 4001.
    public static let expired = SocketCloseCause(
        label: "expired", description: "credentials expired", code: WebSocketCloseCode(4001),
        wireReason: "credentials expired", ending: .handshake)

    /// The token behind the connection was revoked (by `jti` or by subject): 4001.
    public static let revoked = SocketCloseCause(
        label: "revoked", description: "token revoked", code: WebSocketCloseCode(4001), wireReason: "token_revoked",
        ending: .handshake)

    /// The session behind the connection was destroyed (logout): 4001.
    public static let sessionEnded = SocketCloseCause(
        label: "session_ended", description: "session ended", code: WebSocketCloseCode(4001),
        wireReason: "session_ended", ending: .handshake)

    /// The client answered no ping in time.
    public static func pingTimeout(_ close: WebSocketClose) -> SocketCloseCause {
        SocketCloseCause(
            label: "ping_timeout", description: "ping timeout", code: close.code, wireReason: close.reason,
            ending: .fail)
    }
}
