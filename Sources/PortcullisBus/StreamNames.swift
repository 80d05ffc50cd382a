import PortcullisConfig

/// The Redis key names of the bus, all under one prefix (`portcullis` by default):
///
/// | key                              | type   | written by                 | read by                      |
/// |----------------------------------|--------|----------------------------|------------------------------|
/// | `<prefix>:in:<app>`              | stream | edges                      | rooms (group per app)        |
/// | `<prefix>:out:edge:<edge>`       | stream | rooms, backends            | that edge (XREAD)            |
/// | `<prefix>:out:bcast`             | stream | rooms, backends            | every edge (XREAD)           |
/// | `<prefix>:dead:<app>`            | stream | rooms                      | operators                    |
/// | `<prefix>:edge:<edge>:alive`     | string | the edge, with a TTL       | rooms (presence cleanup)     |
/// | `<prefix>:edge:<edge>:conns`     | hash   | the edge                   | rooms (presence cleanup)     |
///
/// | `<prefix>:app:<app>:…`           | any    | rooms (the app's state)    | rooms, backends              |
/// | `<prefix>:seen:<app>:<id>`       | string | rooms (dedupe), with a TTL | rooms                        |
///
/// With ``usesHashTags`` (Redis Cluster) the `<app>` and `<edge>` segments are written in
/// braces, `<prefix>:in:{<app>}`, `<prefix>:edge:{<edge>}:alive`: a hash tag, so that every
/// key of one app (its streams, state and dedupe keys) is in one slot, as is every key of
/// one edge, and different apps spread over the masters. `<prefix>:out:bcast` and
/// `<prefix>:edges` have a slot of their own each. Without it (one server, Sentinel) the
/// names are as they always were.
///
/// Names are checked here so that a key can never be ambiguous: app names and edge ids
/// are `[A-Za-z0-9_-]`, and a connection id is `<edge>.<local part>`, split at its first `.`.
public struct StreamNames: Sendable, Hashable {
    /// A prefix, app name, edge id or connection id that does not fit the rules above.
    public struct InvalidName: Error, Hashable, CustomStringConvertible {
        /// What was checked: `prefix`, `app`, `edge` or `conn`.
        public var what: String
        public var value: String
        public var message: String

        public var description: String { "invalid \(self.what) \"\(self.value)\": \(self.message)" }
    }

    /// The default prefix.
    public static let defaultPrefix = "portcullis"
    /// Names under ``defaultPrefix``.
    public static let standard = StreamNames(validPrefix: StreamNames.defaultPrefix)

    /// Longest prefix, app name and edge id (the edge id limit is the config's).
    public static let maximumPrefixLength = 64
    public static let maximumAppLength = 64
    public static let maximumEdgeIDLength = 32

    /// Suggested XADD trimming: inbound streams are consumed by a group, so they only need
    /// to hold a backlog; the broadcast stream is also the replay history for reconnecting
    /// clients; an edge's own stream is read live.
    public static let inboundTrim = StreamTrim.maximumLength(100_000)
    public static let broadcastTrim = StreamTrim.maximumLength(100_000)
    public static let edgeOutboundTrim = StreamTrim.maximumLength(10_000)
    public static let deadLetterTrim = StreamTrim.maximumLength(10_000)

    /// The consumer group of `portcullis-rooms` workers on `<prefix>:in:<app>` is
    /// `portcullis-rooms:<app>`.
    public static let consumerGroupPrefix = "portcullis-rooms"

    public let prefix: String
    /// Whether app and edge segments are hash tags (Redis Cluster).
    public let usesHashTags: Bool

    /// - Parameters:
    ///   - prefix: 1…64 characters from `A-Z a-z 0-9 _ - . :`.
    ///   - hashTags: write app and edge segments as hash tags (Redis Cluster).
    public init(prefix: String = StreamNames.defaultPrefix, hashTags: Bool = false) throws(InvalidName) {
        guard Self.isValid(prefix, maximumLength: Self.maximumPrefixLength, extra: Self.prefixPunctuation) else {
            throw InvalidName(
                what: "prefix",
                value: prefix,
                message: "use 1…\(Self.maximumPrefixLength) characters from A-Z a-z 0-9 _ - . :"
            )
        }
        self.prefix = prefix
        self.usesHashTags = hashTags
    }

    /// The names for a deployment whose Redis is `redis`: hash tags when it is a cluster.
    public init(prefix: String, redis: RedisSettings?) throws(InvalidName) {
        try self.init(prefix: prefix, hashTags: redis?.cluster != nil)
    }

    private static let prefixPunctuation: Set<UInt8> = [UInt8(ascii: "."), UInt8(ascii: ":")]

    private init(validPrefix: String) {
        self.prefix = validPrefix
        self.usesHashTags = false
    }

    /// `<prefix>:in:<app>`: inbound envelopes of one app.
    public func inbound(app: String) throws(InvalidName) -> StreamName {
        "\(self.prefix):in:\(self.segment(try Self.checkApp(app)))"
    }

    /// `<prefix>:out:edge:<edge>`: outbound envelopes for connections of one edge.
    public func edgeOutbound(edge: String) throws(InvalidName) -> StreamName {
        "\(self.prefix):out:edge:\(self.segment(try Self.checkEdge(edge)))"
    }

    /// The edge stream that reaches connection `connection` (`<edge>.<local>`).
    public func edgeOutbound(connection: String) throws(InvalidName) -> StreamName {
        guard let edge = Self.edgeID(ofConnection: connection) else {
            throw InvalidName(what: "conn", value: connection, message: "expected <edge id>.<local part>")
        }
        return "\(self.prefix):out:edge:\(self.segment(edge))"
    }

    /// `<prefix>:out:bcast`: outbound envelopes for users, rooms and everyone; every edge
    /// reads it.
    public var broadcast: StreamName { "\(self.prefix):out:bcast" }

    /// `<prefix>:dead:<app>`: inbound entries a worker gave up on.
    public func deadLetter(app: String) throws(InvalidName) -> StreamName {
        "\(self.prefix):dead:\(self.segment(try Self.checkApp(app)))"
    }

    /// `<prefix>:edge:<edge>:alive`: the edge's heartbeat key; it expires when the edge dies.
    public func edgeAlive(edge: String) throws(InvalidName) -> String {
        "\(self.prefix):edge:\(self.segment(try Self.checkEdge(edge))):alive"
    }

    /// `<prefix>:edge:<edge>:conns`: the edge's connection registry (hash, field = conn id).
    public func edgeConnections(edge: String) throws(InvalidName) -> String {
        "\(self.prefix):edge:\(self.segment(try Self.checkEdge(edge))):conns"
    }

    /// `<prefix>:edges`: set of edge ids that registered connections (presence cleanup
    /// walks it to find edges whose heartbeat expired).
    public var edges: String { "\(self.prefix):edges" }

    /// `<prefix>:app:<app>:`: what the keys of an app's own state start with. `app` is not
    /// checked here: the worker checks every app's name with ``inbound(app:)`` at start.
    public func appKeyPrefix(app: String) -> String {
        "\(self.prefix):app:\(self.segment(app)):"
    }

    /// `<prefix>:seen:<app>:<envelope id>`: the workers' shared dedupe key of an envelope
    /// (`app` as for ``appKeyPrefix(app:)``).
    public func seen(app: String, envelopeID: String) -> String {
        "\(self.prefix):seen:\(self.segment(app)):\(envelopeID)"
    }

    /// An app or edge name as a key segment: in braces with ``usesHashTags``.
    private func segment(_ name: String) -> String {
        self.usesHashTags ? "{\(name)}" : name
    }

    /// `portcullis-rooms:<app>`: the consumer group on `<prefix>:in:<app>`.
    public static func consumerGroup(app: String) throws(InvalidName) -> String {
        "\(Self.consumerGroupPrefix):\(try Self.checkApp(app))"
    }

    /// The edge id a connection id starts with (the text before its first `.`), or nil when
    /// the connection id is not `<edge id>.<non-empty local part>`.
    public static func edgeID(ofConnection connection: String) -> String? {
        guard let dot = connection.firstIndex(of: ".") else { return nil }
        let edge = String(connection[..<dot])
        guard Self.isValidEdgeID(edge), connection.index(after: dot) < connection.endIndex else { return nil }
        return edge
    }

    /// True for 1…64 characters from `A-Z a-z 0-9 _ -`.
    public static func isValidApp(_ app: String) -> Bool {
        Self.isValid(app, maximumLength: Self.maximumAppLength, extra: [])
    }

    /// True for 1…32 characters from `A-Z a-z 0-9 _ -` (the config's `edge.id` rule).
    public static func isValidEdgeID(_ edge: String) -> Bool {
        Self.isValid(edge, maximumLength: Self.maximumEdgeIDLength, extra: [])
    }

    private static func checkApp(_ app: String) throws(InvalidName) -> String {
        guard Self.isValidApp(app) else {
            throw InvalidName(
                what: "app",
                value: app,
                message: "use 1…\(Self.maximumAppLength) characters from A-Z a-z 0-9 _ -"
            )
        }
        return app
    }

    private static func checkEdge(_ edge: String) throws(InvalidName) -> String {
        guard Self.isValidEdgeID(edge) else {
            throw InvalidName(
                what: "edge",
                value: edge,
                message: "use 1…\(Self.maximumEdgeIDLength) characters from A-Z a-z 0-9 _ -"
            )
        }
        return edge
    }

    private static func isValid(_ name: String, maximumLength: Int, extra: Set<UInt8>) -> Bool {
        let bytes = name.utf8
        guard !bytes.isEmpty, bytes.count <= maximumLength else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default:
                extra.contains(byte)
            }
        }
    }
}
