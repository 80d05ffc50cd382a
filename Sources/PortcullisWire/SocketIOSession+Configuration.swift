extension SocketIOSession {
    /// What the edge knows of one Engine.IO session when it opens it: the ids it made, the
    /// route's Socket.IO settings, and what the HTTP handshake already established.
    ///
    /// Built by the edge once per connection from the route's configuration and the
    /// handshake request; the session never changes it.
    public struct Configuration: Hashable, Sendable {
        /// The namespace list entry that allows every namespace.
        public static let anyNamespace = "*"

        /// The Engine.IO session id of the open packet (the edge makes it, e.g. with
        /// ``EngineIOOpenPacket/makeSessionID(using:)``).
        public var engineSessionID: String
        /// The socket id of every CONNECT reply (the client's `socket.id`, python-socketio's
        /// `get_sid()`). The edge passes the connection id, so that the id a client reports
        /// (3D Repo's `x-socket-id`) is the one the bus's `conn`, connection targets and
        /// `except` take; the bus tells a connection's namespaces apart by `ns`, so it is the
        /// same in each. Never the Engine.IO sid, which is a polling session's secret.
        public var socketID: String
        /// How often the server pings (reference default 25 s).
        public var pingInterval: Duration
        /// How long a pong may take (reference default 20 s).
        public var pingTimeout: Duration
        /// Largest Engine.IO packet accepted, in bytes, as the open packet advertises it
        /// (reference default 1 000 000).
        public var maxPayload: Int
        /// The connection is closed when no namespace is joined within this (reference
        /// default 45 s).
        public var connectTimeout: Duration
        /// The namespaces clients may join; ``anyNamespace`` allows all. Others are refused
        /// with `44/ns,{"message":"Invalid namespace"}` and the connection stays up.
        public var allowedNamespaces: [String]
        /// The open packet's `upgrades`: `["websocket"]` on a polling session that may
        /// upgrade, `[]` on a WebSocket.
        public var upgrades: [String]
        /// The HTTP handshake authenticated the connection (a JWT from a header, the query
        /// or a cookie, or a session cookie): CONNECTs without a token join at once.
        public var hasHandshakeIdentity: Bool
        /// The route reads tokens from the CONNECT `auth` object (auth source `socketio`).
        public var readsAuthToken: Bool
        /// The member of the `auth` object that carries the token.
        public var authTokenField: String
        /// The handshake's query parameters (the client's `query` option), passed to
        /// handlers in each `open` as `socket.handshake.query` would hold them.
        public var handshakeQuery: [EngineIORequestQuery.Parameter]
        /// The edge-owned event that refreshes the connection's credentials in band
        /// (e.g. `verify_user`), nil for none. Never published.
        public var refreshEvent: String?
        /// The member of the refresh event's first argument that carries the token.
        public var refreshTokenField: String
        /// The event sent on each namespace before the DISCONNECT that ends a connection
        /// whose credentials ended (e.g. `loggedOut`, with `{"reason":"token_expired"}`);
        /// nil for none.
        public var expiryNoticeEvent: String?
        /// Most attachments one binary event or ack may announce (reference default 10).
        public var maxAttachments: Int
        /// Most bytes one Socket.IO packet may hold: its text plus, for a binary event or
        /// ack, all its attachments. Bounds what a client can make the session buffer.
        public var maxPacketSize: Int

        public init(
            engineSessionID: String,
            socketID: String,
            pingInterval: Duration = .seconds(25),
            pingTimeout: Duration = .seconds(20),
            maxPayload: Int = 1_000_000,
            connectTimeout: Duration = .seconds(45),
            allowedNamespaces: [String] = ["/"],
            upgrades: [String] = [],
            hasHandshakeIdentity: Bool = false,
            readsAuthToken: Bool = false,
            authTokenField: String = "token",
            handshakeQuery: [EngineIORequestQuery.Parameter] = [],
            refreshEvent: String? = nil,
            refreshTokenField: String = "token",
            expiryNoticeEvent: String? = nil,
            maxAttachments: Int = SocketIOPacket.defaultMaxAttachments,
            maxPacketSize: Int = 1_000_000
        ) {
            self.engineSessionID = engineSessionID
            self.socketID = socketID
            self.pingInterval = pingInterval
            self.pingTimeout = pingTimeout
            self.maxPayload = maxPayload
            self.connectTimeout = connectTimeout
            self.allowedNamespaces = allowedNamespaces
            self.upgrades = upgrades
            self.hasHandshakeIdentity = hasHandshakeIdentity
            self.readsAuthToken = readsAuthToken
            self.authTokenField = authTokenField
            self.handshakeQuery = handshakeQuery
            self.refreshEvent = refreshEvent
            self.refreshTokenField = refreshTokenField
            self.expiryNoticeEvent = expiryNoticeEvent
            self.maxAttachments = maxAttachments
            self.maxPacketSize = maxPacketSize
        }

        /// True when clients may join `namespace`.
        func allows(_ namespace: SocketIONamespace) -> Bool {
            self.allowedNamespaces.contains { $0 == Self.anyNamespace || $0 == namespace.name }
        }

        /// The `open` data's `query` object. A name given more than once becomes an array of
        /// its values, as Node's query parser gives it to handlers; names keep their order.
        var handshakeQueryJSON: String {
            var names: [String] = []
            var values: [String: [String]] = [:]
            for parameter in self.handshakeQuery {
                if values[parameter.name] == nil { names.append(parameter.name) }
                values[parameter.name, default: []].append(parameter.value)
            }
            var json = "{"
            for (index, name) in names.enumerated() {
                if index > 0 { json += "," }
                JSONString.encode(name, into: &json)
                json += ":"
                let nameValues = values[name] ?? []
                if nameValues.count == 1 {
                    JSONString.encode(nameValues[0], into: &json)
                } else {
                    json += "["
                    for (valueIndex, value) in nameValues.enumerated() {
                        if valueIndex > 0 { json += "," }
                        JSONString.encode(value, into: &json)
                    }
                    json += "]"
                }
            }
            return json + "}"
        }
    }
}
