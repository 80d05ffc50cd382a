/// A socket route: the edge terminates the WebSocket itself and moves its messages over
/// the bus to the `portcullis-rooms` handlers of `app`.
public struct SocketAction: Sendable {
    /// The wire protocol clients speak on the route.
    public enum WireProtocol: String, Sendable, CaseIterable {
        /// Plain WebSocket messages (`mode` says how they map to envelopes).
        case raw
        /// Socket.IO protocol v5 on Engine.IO 4, over WebSocket and HTTP long-polling.
        case socketio
        /// Rails ActionCable (`actioncable-v1-json`).
        case actioncable
    }

    /// Socket.IO on the route (`socket.socketio:`).
    public struct SocketIO: Sendable, Hashable {
        public enum Transport: String, Sendable, Hashable, CaseIterable {
            case polling
            case websocket
        }

        /// The Engine.IO path; requests to it with or without the trailing slash are served.
        public var path = "/socket.io/"
        /// Namespaces clients may connect to; `*` allows any.
        public var namespaces: [String] = ["/"]
        public var transports: [Transport] = [.polling, .websocket]
        /// The server pings every `pingInterval`; a client that does not answer within
        /// `pingTimeout` is closed.
        public var pingInterval: Duration = .seconds(25)
        public var pingTimeout: Duration = .seconds(20)
        /// The largest message (and polling request body) accepted, advertised as `maxPayload`.
        public var maxPayload: Int = 1_000_000
        /// A connection that joins no namespace within this is closed.
        public var connectTimeout: Duration = .seconds(45)
        /// The member of the CONNECT `auth` object holding a token (with the route's token
        /// source `socketio`).
        public var authTokenField = "token"
        /// An event clients send to refresh their token in band (`verify_user`), answered
        /// through its ack with `{"status": true|false}`; nil: none.
        public var refreshEvent: String?
        /// An event sent before the DISCONNECT when the token expires or is revoked
        /// (`loggedOut` with `{"reason": …}`); nil: none.
        public var expiryEvent: String?
        /// Binary attachments per packet.
        public var maxAttachments = 10

        public init() {}
    }

    /// ActionCable on the route (`socket.actioncable:`).
    public struct ActionCable: Sendable, Hashable {
        /// How often `{"type":"ping"}` is sent (Rails: 3 s; clients call a connection stale
        /// after two missed pings).
        public var pingInterval: Duration = .seconds(3)
        /// Subscriptions per connection.
        public var maxSubscriptions = 100

        public init() {}
    }

    /// How the raw protocol maps messages to envelopes.
    public enum Mode: String, Sendable, CaseIterable {
        /// Text frames carry `{"event": …, "data": …, "ack": n?}`.
        case json
        /// Every message is forwarded as it is (text stays text, binary stays binary).
        case opaque
    }

    /// Per-connection message rate limit: a token bucket refilled at `messagesPerSecond`
    /// holding at most `burst`; `closeAfter` refused messages in a row close the socket.
    public struct RateLimit: Sendable, Hashable {
        public var messagesPerSecond: Double
        public var burst: Int
        public var closeAfter: Int

        public init(messagesPerSecond: Double, burst: Int, closeAfter: Int) {
            self.messagesPerSecond = messagesPerSecond
            self.burst = burst
            self.closeAfter = closeAfter
        }
    }

    /// The handler app: the inbound stream is `<prefix>:in:<app>`.
    public var app: String
    public var wireProtocol: WireProtocol = .raw
    public var mode: Mode = .json
    /// Largest reassembled message accepted; bigger ones close the socket with 1009.
    public var maxMessageSize: Int = 1 << 20
    /// A ping is sent after this long without traffic from the client.
    public var pingInterval: Duration = .seconds(25)
    /// The socket is closed when nothing arrives this long after a ping.
    public var pingTimeout: Duration = .seconds(20)
    /// From the upgrade request's head to the 101 (authentication included).
    public var handshakeTimeout: Duration = .seconds(10)
    /// Bytes queued for a client that is not reading; a client whose backlog stays past this
    /// for a second (not back under half of it) is closed as a slow consumer (1008).
    public var sendQueue: Int = 1 << 20
    public var rateLimit: RateLimit? = RateLimit(messagesPerSecond: 100, burst: 200, closeAfter: 50)
    /// Subprotocols the route speaks; the first one the client offers is chosen.
    public var subprotocols: [String] = []
    /// Set when `wireProtocol` is `socketio`.
    public var socketIO: SocketIO?
    /// Set when `wireProtocol` is `actioncable`.
    public var actionCable: ActionCable?
    /// Set when the publish API's `/emit` endpoints deliver to this route's connections.
    public var emitEndpoints: EmitEndpoints?
    /// permessage-deflate; nil: off (the default).
    public var compression: Compression?

    public init(app: String) {
        self.app = app
    }
}

/// The edge's side of the bus: key prefix and presence heartbeat.
public struct BusSettings: Sendable {
    /// Prefix of every stream and key (must match `portcullis-rooms`' `bus.prefix`).
    public var prefix: String = "portcullis"
    /// How often the edge refreshes `<prefix>:edge:<id>:alive`.
    public var heartbeatInterval: Duration = .seconds(5)
    /// The TTL of that key: when the edge stops refreshing it, handlers reap its
    /// connections this long after the last refresh.
    public var heartbeatTTL: Duration = .seconds(15)
    /// Appends buffered per event loop while Redis is unreachable; past this, socket
    /// messages are refused with the protocol's error.
    public var maxBufferedAppends: Int = 10_000
    public var location: SourceLocation?

    public init() {}
}
