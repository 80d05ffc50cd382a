/// Where and how a ``RedisConnection`` or ``RedisClient`` connects, and how a client behaves
/// while it is disconnected. Build one with ``init(endpoint:username:password:database:tls:)``
/// or from a URL with ``init(url:)`` (see `RedisConfiguration+URL.swift`); TLS settings are in
/// `RedisConfiguration+TLS.swift`.
public struct RedisConfiguration: Sendable, Hashable {
    /// A TCP host and port, or a Unix domain socket path.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case tcp(host: String, port: Int)
            case unixSocket(path: String)
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        public static func tcp(host: String, port: Int = 6379) -> Endpoint {
            Endpoint(.tcp(host: host, port: port))
        }

        public static func unixSocket(path: String) -> Endpoint {
            Endpoint(.unixSocket(path: path))
        }

        /// The TCP host, or nil for a Unix socket.
        public var host: String? {
            if case .tcp(let host, _) = self.base { host } else { nil }
        }

        /// The TCP port, or nil for a Unix socket.
        public var port: Int? {
            if case .tcp(_, let port) = self.base { port } else { nil }
        }

        /// The socket path, or nil for TCP.
        public var socketPath: String? {
            if case .unixSocket(let path) = self.base { path } else { nil }
        }

        public var description: String {
            switch self.base {
            case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            case .unixSocket(let path): "unix:\(path)"
            }
        }
    }

    /// Bounds on the commands a ``RedisClient`` keeps while it has no connection. A command
    /// that would exceed either bound fails at once with ``RedisError/Code/bufferFull``.
    public struct BufferLimits: Sendable, Hashable {
        /// The most commands kept.
        public var maximumCommands: Int
        /// The most argument bytes kept (the sum of every argument's length).
        public var maximumBytes: Int

        public init(maximumCommands: Int = 10_000, maximumBytes: Int = 8 << 20) {
            self.maximumCommands = maximumCommands
            self.maximumBytes = maximumBytes
        }
    }

    public var endpoint: Endpoint
    /// The ACL user for `AUTH user password`; nil sends `AUTH password` (the default user).
    public var username: String?
    /// When set, `AUTH` runs on every (re)connect before any other command.
    public var password: String?
    /// When not 0, `SELECT database` runs on every (re)connect before any other command.
    public var database: Int
    /// When set, the connection runs TLS (certificate verification always on) before AUTH.
    public var tls: TLS?
    /// When set, a ``RedisClient`` asks these sentinels for the master's address on every
    /// (re)connect instead of connecting to ``endpoint``.
    public var sentinel: Sentinel?
    /// When set, a ``RedisClient`` is a Redis Cluster client: it reads the slot map from
    /// these seed nodes and sends each command to the master that owns its key's slot
    /// (`RedisCluster.swift`); ``endpoint`` is not used.
    public var cluster: Cluster?
    /// The limit for opening the socket and for the TLS + AUTH/SELECT handshake, each.
    public var connectTimeout: Duration
    /// The waits between a client's reconnect attempts.
    public var reconnectBackoff: RedisBackoff
    /// What a client keeps while disconnected.
    public var bufferLimits: BufferLimits

    public init(
        endpoint: Endpoint,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        tls: TLS? = nil,
        connectTimeout: Duration = .seconds(5),
        reconnectBackoff: RedisBackoff = RedisBackoff(),
        bufferLimits: BufferLimits = BufferLimits()
    ) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.reconnectBackoff = reconnectBackoff
        self.bufferLimits = bufferLimits
    }
}
