/// Redis, shared by sessions, revocation and the bus; also the `redis:` of `rooms.yaml`.
/// Decoded by ``decode(_:)`` (see `RedisSettings+Config.swift`); the Redis client turns it
/// into its own configuration.
public struct RedisSettings: Sendable, Hashable {
    /// TLS for `rediss://` URLs; paths are resolved against the conf file's directory.
    public struct TLS: Sendable, Hashable {
        /// `tls.ca_file`: PEM certificates to trust; nil trusts the system's roots.
        public var caFile: String?
        /// `tls.certificate_file`: PEM client certificate, with `privateKeyFile`.
        public var certificateFile: String?
        /// `tls.private_key_file`: its PEM private key.
        public var privateKeyFile: String?
        /// `tls.server_name`: the name sent as SNI and verified; nil: the URL's host.
        public var serverName: String?

        public init(
            caFile: String? = nil,
            certificateFile: String? = nil,
            privateKeyFile: String? = nil,
            serverName: String? = nil
        ) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.privateKeyFile = privateKeyFile
            self.serverName = serverName
        }
    }

    /// Redis Sentinel discovery: the master's address comes from a sentinel, asked again
    /// on every (re)connect.
    public struct Sentinel: Sendable, Hashable {
        /// `sentinels`: asked in order until one answers.
        public var addresses: [HostPort]
        /// `master_name`: the name the sentinels monitor the master under.
        public var masterName: String

        public init(addresses: [HostPort], masterName: String) {
            self.addresses = addresses
            self.masterName = masterName
        }
    }

    /// Redis Cluster: the slot map comes from these seed nodes (``cluster`` in the conf
    /// file); every master is reached with the URL's credentials and TLS.
    public struct Cluster: Sendable, Hashable {
        /// `cluster`: nodes asked in order for the slot map until one answers.
        public var seeds: [HostPort]

        public init(seeds: [HostPort]) {
            self.seeds = seeds
        }
    }

    /// `redis://[user:password@]host:port/db`, `rediss://…` (TLS) or `unix:///path?db=N`.
    public var url: String
    /// `username`: the ACL user for `AUTH username password`; nil: the default user.
    public var username: String?
    /// The contents of `password_file` (one trailing newline trimmed); nil: none, or the
    /// password is in the URL.
    public var password: String?
    /// `tls`: set for `rediss://` URLs (all fields nil when the key is absent).
    public var tls: TLS?
    /// `sentinels` and `master_name`: nil connects to the URL's host.
    public var sentinel: Sentinel?
    /// `cluster`: nil for a single server (or Sentinel).
    public var cluster: Cluster?
    public var location: SourceLocation

    public init(
        url: String,
        username: String? = nil,
        password: String? = nil,
        tls: TLS? = nil,
        location: SourceLocation
    ) {
        self.url = url
        self.username = username
        self.password = password
        self.tls = tls
        self.location = location
    }
}
