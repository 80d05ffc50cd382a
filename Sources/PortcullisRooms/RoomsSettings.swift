import PortcullisBus
import PortcullisConfig

/// What a `portcullis-rooms` process runs: where Redis is, the bus prefix, this worker's
/// consumer name and retry policy, and which apps to serve. Decoded from YAML by
/// ``RoomsSettings/load(file:knownApps:environment:)`` (see `RoomsSettings+Config.swift`).
public struct RoomsSettings: Sendable, Hashable {
    /// `redis`: the URL (`redis://[:password@]host[:port][/db]`, `rediss://…` or
    /// `unix://…`), `username` and `password_file`, and `tls` (see ``RedisSettings``).
    public var redis: RedisSettings
    /// `redis.url`.
    public var redisURL: String {
        get { self.redis.url }
        set { self.redis.url = newValue }
    }
    /// `bus.prefix`: the key prefix of every stream (default `portcullis`).
    public var prefix: String
    /// `worker.id`: the consumer name in each app's group (default `<hostname>-<pid>`).
    public var workerID: String
    /// `worker.claim_idle`: pending entries idle longer than this are taken over with
    /// XAUTOCLAIM (default 30 s). Also the retry delay of an entry whose handler failed.
    public var claimIdle: Duration
    /// `worker.max_deliveries`: after this many failed deliveries an entry is dead-lettered.
    public var maxDeliveries: Int
    /// `worker.reap_interval`: how often presence cleanup looks for edges whose heartbeat
    /// expired and writes `close` for their connections (default 5 s). A dead edge's
    /// connections are closed at most its heartbeat TTL plus this long after it died.
    public var reapInterval: Duration
    /// `apps`: the apps this process serves; each has its own stream and consumer group.
    public var apps: [String]
    /// `admin.address`: where `/metrics`, `/healthz` and `/readyz` are served; nil: nowhere.
    public var adminAddress: HostPort?
    /// How long one `XREADGROUP … BLOCK` waits; also bounds how late a graceful stop is
    /// noticed and how often XAUTOCLAIM runs at most. Not a config key (tests shorten it).
    public var readBlock: Duration

    public init(
        redisURL: String,
        prefix: String = StreamNames.defaultPrefix,
        workerID: String = RoomsSettings.defaultWorkerID,
        claimIdle: Duration = .seconds(30),
        maxDeliveries: Int = 5,
        reapInterval: Duration = .seconds(5),
        apps: [String],
        readBlock: Duration = .seconds(1)
    ) {
        self.redis = RedisSettings(
            url: redisURL,
            location: SourceLocation(file: "", line: 0, keyPath: "redis.url")
        )
        self.prefix = prefix
        self.workerID = workerID
        self.claimIdle = claimIdle
        self.maxDeliveries = maxDeliveries
        self.reapInterval = reapInterval
        self.apps = apps
        self.readBlock = readBlock
    }

    /// What the worker's Redis client connects with: the URL, the ACL credentials, TLS.
    public func redisConfiguration() throws -> RedisConfiguration {
        try RedisConfiguration(settings: self.redis)
    }
}
