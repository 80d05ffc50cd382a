/// The seam between a socket connection and the protocol it speaks.
///
/// A protocol (raw, Engine.IO + Socket.IO, ActionCable) is one pure state machine that
/// conforms to ``SocketSession``: it takes complete client messages (already reassembled
/// and validated by the transport), clock ticks, verification results and edge decisions
/// (expiry, drain, a handler's disconnect), and answers with ``SocketSessionAction``s. It
/// does no I/O, holds no channel, and knows nothing of the bus or of NIO, so every machine
/// is tested from recorded message sequences without a socket.
///
/// The edge runs the session in a transport-free connection object: it performs the
/// actions in order (writes through whichever transport carries the session — a WebSocket
/// or Engine.IO long-polling —, appends envelopes, verifies tokens, updates the hub's
/// indexes, closes), and asks the session which encodings an outbound bus message needs
/// (``encodings(for:)``) so a fan-out encodes once per protocol and namespace present.
public protocol SocketSession: Sendable {
    /// Actions for a freshly opened connection (the Engine.IO open packet, ActionCable's
    /// `welcome`; nothing for raw). Called once, before any other event.
    mutating func start(now: ContinuousClock.Instant) -> [SocketSessionAction]

    /// A complete text message arrived from the client (valid UTF-8).
    mutating func receivedText(_ text: String, now: ContinuousClock.Instant) -> [SocketSessionAction]

    /// A complete binary message arrived from the client.
    mutating func receivedBinary(_ bytes: [UInt8], now: ContinuousClock.Instant) -> [SocketSessionAction]

    /// Clock: protocol heartbeats and timeouts (ping, pong timeout, connect timeout).
    mutating func tick(now: ContinuousClock.Instant) -> [SocketSessionAction]

    /// When the session next needs ``tick(now:)``; nil when nothing is armed. The edge
    /// sweeps every connection once a second and arms a precise timer for sooner deadlines.
    var nextDeadline: ContinuousClock.Instant? { get }

    /// The answer to a ``SocketSessionAction/verify(_:)`` the session asked for.
    mutating func verified(
        _ outcome: SocketVerificationOutcome, for request: SocketVerification, now: ContinuousClock.Instant
    ) -> [SocketSessionAction]

    /// An append of a client message failed (Redis away and the buffer full, or the entry
    /// refused): the protocol's in-band error, when it has one.
    mutating func publishFailed(_ inbound: SocketInbound, busUnavailable: Bool) -> [SocketSessionAction]

    /// The connection's rate limit refused a client message: the protocol's in-band notice,
    /// when it has one (default: nothing).
    mutating func rateLimited() -> [SocketSessionAction]

    /// The edge ends the connection for `cause` (expiry, revocation, drain, a handler's
    /// disconnect without a namespace): the protocol's notice (Socket.IO `loggedOut`-style
    /// event and DISCONNECT, ActionCable `disconnect`), then ``SocketSessionAction/close(_:)``.
    mutating func end(_ cause: SocketCloseCause, now: ContinuousClock.Instant) -> [SocketSessionAction]

    /// A handler's decision about one namespace or subscription (confirm, reject, or
    /// disconnect from it alone).
    mutating func control(_ control: SocketControl, now: ContinuousClock.Instant) -> [SocketSessionAction]

    /// The namespace a room joined without `ns` belongs to (Socket.IO `/`; nil for
    /// protocols whose rooms have none).
    var defaultNamespace: String? { get }

    /// The encodings an outbound message addressed to this connection needs: `namespace`
    /// is the envelope's `ns` (or the namespace a room was joined in); nil means the
    /// protocol's default: Socket.IO `/`, every confirmed ActionCable subscription, raw's
    /// one encoding. Empty when the connection is not in `namespace`.
    func encodings(for namespace: String?) -> [SocketEncoding]
}

extension SocketSession {
    public func rateLimited() -> [SocketSessionAction] { [] }
    public var defaultNamespace: String? { nil }
}

/// A handler's decision about one namespace or subscription of a connection (outbound
/// envelopes `confirm`, `reject`, and `disconnect` with `ns`).
public enum SocketControl: Hashable, Sendable {
    /// ActionCable: `confirm_subscription` for the pending subscription. Socket.IO
    /// namespaces are confirmed by the edge; ignored there.
    case confirm(namespace: String)
    /// ActionCable: `reject_subscription`. Socket.IO: CONNECT_ERROR `{"message": reason}`
    /// and the namespace is left.
    case reject(namespace: String, reason: String?)
    /// Leave one namespace (Socket.IO DISCONNECT `41/ns,`) or drop one subscription.
    case disconnect(namespace: String, reason: String)
}

/// A message the session writes to the client: one WebSocket message, or one Engine.IO
/// packet on long-polling.
public enum SocketOutbound: Hashable, Sendable {
    case text(String)
    case binary([UInt8])
}

/// A payload as it travels on the bus (`data` and `dataType` of an envelope).
public enum SocketPayload: Hashable, Sendable {
    /// JSON text, exactly as the client sent it (never re-serialised).
    case json(String)
    /// Plain UTF-8 text (raw opaque mode).
    case text(String)
    /// Bytes (a binary frame).
    case binary([UInt8])
}

/// What a session publishes: an inbound envelope without the edge's bookkeeping (id,
/// app, edge, connection, user, claims, timestamp are added by the edge).
public struct SocketInbound: Hashable, Sendable {
    /// `open`, `message`, `close`, `ack` or `refresh` (envelope kinds).
    public enum Kind: String, Hashable, Sendable {
        /// The connection joined a namespace or subscribed to a channel (`namespace` set),
        /// or opened (raw, `namespace` nil). `data`: JSON `{"query":{…},"auth":…}` as the
        /// protocol has them (Socket.IO: the CONNECT `auth`; ActionCable: nothing more).
        case open
        /// A client event (`event`, `data`, optional `ack`).
        case message
        /// The connection left a namespace or unsubscribed (`namespace` set).
        case close
        /// The client's answer to a server emit that asked for an ack (`ack` set).
        case ack
    }

    public var kind: Kind
    /// Socket.IO namespace or ActionCable identifier (the raw JSON string, byte for byte).
    public var namespace: String?
    public var event: String?
    public var data: SocketPayload?
    public var ack: Int?
    /// True when `data` is a JSON array of the event's arguments (Socket.IO), false when it
    /// is the one value (raw, ActionCable).
    public var arguments: Bool
    /// Binary attachments (Socket.IO BINARY_EVENT / BINARY_ACK), in placeholder order;
    /// `data` holds `{"_placeholder":true,"num":i}` where each goes.
    public var attachments: [[UInt8]]
    /// Why a namespace was left (`close`).
    public var reason: String?

    public init(
        kind: Kind, namespace: String? = nil, event: String? = nil, data: SocketPayload? = nil, ack: Int? = nil,
        arguments: Bool = false, attachments: [[UInt8]] = [], reason: String? = nil
    ) {
        self.kind = kind
        self.namespace = namespace
        self.event = event
        self.data = data
        self.ack = ack
        self.arguments = arguments
        self.attachments = attachments
        self.reason = reason
    }
}

/// A token the session wants checked by the route's guard (signature, claims, scopes,
/// revocation), with what to do with the answer.
public struct SocketVerification: Hashable, Sendable {
    public enum Purpose: Hashable, Sendable {
        /// Socket.IO CONNECT to `namespace` whose `auth` carried the token (or none, when
        /// the route reads tokens from `auth` and the handshake had none). `auth` is the
        /// CONNECT payload as sent (nil when absent).
        case connect(namespace: String, auth: String?)
        /// In-band refresh: the answer goes back in the protocol's way (Socket.IO: the ack
        /// `ack` on `namespace`, or an event; ActionCable: a reply; raw: `$refreshed`).
        case refresh(namespace: String?, ack: Int?)
    }

    /// The token offered; nil when none was (the outcome is then a refusal unless the
    /// connection already holds an identity).
    public var token: String?
    public var purpose: Purpose

    public init(token: String?, purpose: Purpose) {
        self.token = token
        self.purpose = purpose
    }
}

/// The edge's answer to a ``SocketVerification``.
public enum SocketVerificationOutcome: Hashable, Sendable {
    /// The token verified (and, for a refresh, names the same subject with at least the
    /// scopes held); `expiresAt` is the new expiry in Unix seconds (nil: none).
    case accepted(expiresAt: Int64?)
    /// No token was needed: the connection already holds an identity from the handshake
    /// (or the route is public).
    case notRequired
    /// Refused, with the auth failure's code (`expired`, `revoked`, `bad_signature`, `wrong_subject`, `fewer_scopes`, …) and a
    /// message for the client.
    case refused(code: String, message: String)
}

/// What a session asks its connection to do; performed in order.
public enum SocketSessionAction: Hashable, Sendable {
    /// Write a message to the client.
    case send(SocketOutbound)
    /// Append an inbound envelope to the app's stream.
    case publish(SocketInbound)
    /// Check a token with the route's guard and call ``SocketSession/verified(_:for:now:)``.
    case verify(SocketVerification)
    /// The connection is now in this namespace / subscription: outbound messages for it
    /// reach the connection (hub index).
    case enterNamespace(String)
    /// The connection left this namespace / subscription; its room memberships in it end.
    case leaveNamespace(String)
    /// Close the connection for this cause, after what was sent before it. The cause's
    /// close frame is used on a WebSocket; long-polling ends the session.
    case close(SocketCloseCause)
}

/// One way of encoding outbound messages: a protocol and the namespace or subscription
/// it is written for. Every connection that needs the same key gets the same bytes, so a
/// fan-out encodes once per key present.
public struct SocketEncoding: Hashable, Sendable {
    public enum Format: Hashable, Sendable {
        /// Raw json mode: `{"event":E,"data":D}` / `{"event":"ack","ack":n,"data":D}`.
        case rawJSON
        /// Raw opaque mode: the payload as it is.
        case rawOpaque
        /// Socket.IO packets (EVENT, ACK, binary forms) on the namespace.
        case socketIO
        /// ActionCable `{"identifier":…,"message":…}` for the subscription.
        case actionCable
    }

    public var format: Format
    /// The Socket.IO namespace or ActionCable identifier; nil for raw.
    public var namespace: String?

    public init(format: Format, namespace: String? = nil) {
        self.format = format
        self.namespace = namespace
    }
}

/// An outbound message from the bus, as the encoders see it (the edge builds it once per
/// envelope from `emit` or `ack`).
public struct SocketDelivery: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// Send `event` with `data`; `ack` set when the sender wants the client to answer.
        case emit
        /// Answer the client message that carried `ack`.
        case ack
    }

    public var kind: Kind
    public var event: String?
    public var data: SocketPayload?
    public var ack: Int?
    /// `data` is a JSON array of arguments (spread into a Socket.IO event), not one value.
    public var arguments: Bool
    /// Binary attachments referenced by placeholders in `data` (Socket.IO).
    public var attachments: [[UInt8]]

    public init(
        kind: Kind, event: String? = nil, data: SocketPayload? = nil, ack: Int? = nil, arguments: Bool = false,
        attachments: [[UInt8]] = []
    ) {
        self.kind = kind
        self.event = event
        self.data = data
        self.ack = ack
        self.arguments = arguments
        self.attachments = attachments
    }
}
