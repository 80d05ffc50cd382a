/// The whole edge configuration after loading and validation.
///
/// Values are plain structs so a loaded configuration can be shared between event loops
/// and swapped atomically on reload. Every struct that came from a conf file keeps the
/// `SourceLocation` of its keys, so the validation pass can name file, line and key.
public struct Configuration: Sendable {
    public var version: Int
    public var edge: EdgeSettings
    public var listeners: [Listener]
    public var admin: Admin
    /// Upstream pools by name.
    public var upstreams: [String: Upstream]
    /// Routes in declaration order (includes expanded in place).
    public var routes: [Route]
    /// Every file that contributed to this configuration, main file first.
    public var files: [String]
    /// Key sets, cookie secrets and Redis key layouts for route auth policies.
    public var auth: AuthSettings = AuthSettings()
    /// Redis for sessions and revocation (and the bus); nil when not configured.
    public var redis: RedisSettings?
    /// Stream prefix and presence timings for socket routes.
    public var bus: BusSettings = BusSettings()

    public init(
        version: Int = 1,
        edge: EdgeSettings = EdgeSettings(),
        listeners: [Listener] = [],
        admin: Admin = Admin(),
        upstreams: [String: Upstream] = [:],
        routes: [Route] = [],
        files: [String] = []
    ) {
        self.version = version
        self.edge = edge
        self.listeners = listeners
        self.admin = admin
        self.upstreams = upstreams
        self.routes = routes
        self.files = files
    }
}

/// Where a key was written: file, 1-based line, and the key path inside that file
/// (`routes[0].proxy.upstream`).
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var keyPath: String

    public init(file: String, line: Int, keyPath: String) {
        self.file = file
        self.line = line
        self.keyPath = keyPath
    }

    public var description: String { "\(file):\(line): \(keyPath)" }
}

/// A host and port as written in the conf file (`"0.0.0.0:8443"`, `"[::1]:8080"`).
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

public struct EdgeSettings: Sendable {
    /// Embedded in connection ids; unique per edge process in a deployment.
    public var id: String = "edge-1"
    /// How long in-flight requests may run after SIGTERM before connections are closed.
    public var drainTimeout: Duration = .seconds(20)
    /// Event loop threads; 0 means one per core.
    public var eventLoops: Int = 0
    /// One info line per request on stderr (route, status, upstream, duration, bytes, id).
    public var accessLog: Bool = true
    /// How every log line is written to stderr.
    public var logFormat: LogFormat = .text
    /// How often conf files, certificates and keys are checked for changes (a change
    /// reloads); zero turns the check off.
    public var watchInterval: Duration = .seconds(2)

    public init() {}
}

/// `edge.log_format`: `text` is swift-log's stream handler (`2026-01-02T03:04:05+0000 info
/// portcullis: key=value [module] message`), `logfmt` one `ts=… level=… msg="…" key=value`
/// line, `json` one JSON object per line.
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case logfmt
    case json
}

public struct Listener: Sendable {
    public var name: String
    public var address: HostPort
    public var tls: TLSSettings?
    /// Largest request head (request line plus headers) accepted; larger gets 431.
    public var maxHeaderSize: Int = 32 * 1024
    /// Keep-alive connections idle this long are closed.
    public var idleTimeout: Duration = .seconds(60)
    /// Longest request line (method, target, version); longer gets 414.
    public var maxRequestLine: Int = 8 * 1024
    /// Most header fields in a request head; more gets 431.
    public var maxHeaders: Int = 100
    /// Runs of `/` in a path become one before routing (`//admin` is `/admin`).
    public var mergeSlashes: Bool = true
    /// What happens to request headers whose names hold `_`.
    public var underscoreHeaders: UnderscoreHeaderPolicy = .keep
    /// The `Host` given to HTTP/1.0 requests that send none; nil: the listener's address.
    public var serverName: String?
    /// Peers (load balancers) whose `X-Forwarded-*` and `Forwarded` headers are believed
    /// and extended; from anyone else they are replaced.
    public var trustedProxies: [CIDRBlock] = []
    /// Every connection starts with a PROXY protocol (v1 or v2) header naming the client.
    public var proxyProtocol: Bool = false
    public var location: SourceLocation

    /// The `Host` for HTTP/1.0 requests without one.
    public var defaultHost: String { serverName ?? address.description }

    public init(name: String, address: HostPort, tls: TLSSettings? = nil, location: SourceLocation) {
        self.name = name
        self.address = address
        self.tls = tls
        self.location = location
    }
}

public struct TLSSettings: Sendable {
    /// The first certificate is the default when SNI names no other.
    public var certificates: [CertificateSettings]
    /// Protocol versions and cipher suites offered, for every certificate of the listener.
    public var profile: TLSProfile = .intermediate
    public var location: SourceLocation

    public init(certificates: [CertificateSettings], location: SourceLocation) {
        self.certificates = certificates
        self.location = location
    }
}

public struct CertificateSettings: Sendable {
    /// PEM file with the leaf certificate first, then intermediates.
    public var certificatePath: String
    /// PEM private key file.
    public var privateKeyPath: String
    /// Names this certificate serves under SNI (`api.example.com`, `*.example.com`).
    /// Empty: taken from the certificate's subject alternative names.
    public var serverNames: [String]
    public var location: SourceLocation

    public init(certificatePath: String, privateKeyPath: String, serverNames: [String] = [], location: SourceLocation) {
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
        self.serverNames = serverNames
        self.location = location
    }
}

public struct Admin: Sendable {
    public var address: HostPort = HostPort(host: "127.0.0.1", port: 9090)
    /// Serve the admin listener over TLS, with the same keys and certificate reloads as a
    /// listener's `tls:`; nil: plain HTTP. Needed for publishing from other hosts.
    public var tls: TLSSettings?
    /// The publish API (`POST /publish`, `/emit/…`, `/_broadcast`); nil: its endpoints
    /// answer 404.
    public var publish: PublishSettings?
    public var location: SourceLocation?

    public init() {}
}

public struct Upstream: Sendable {
    public var name: String
    public var servers: [HostPort]
    public var connectTimeout: Duration = .seconds(2)
    /// Time from the whole request having been sent (so a slow upload does not count) to
    /// the response head, and the longest silence between response body reads.
    public var responseTimeout: Duration = .seconds(30)
    /// Idle upstream keep-alive connections are closed after this long.
    public var idleTimeout: Duration = .seconds(60)
    /// Idle keep-alive connections kept per server and event loop.
    public var maxIdlePerServer: Int = 32
    /// Consecutive connect failures that eject a server.
    public var maxFails: Int = 3
    /// How long an ejected server is skipped.
    public var failTimeout: Duration = .seconds(10)
    public var location: SourceLocation

    public init(name: String, servers: [HostPort], location: SourceLocation) {
        self.name = name
        self.servers = servers
        self.location = location
    }
}

public struct Route: Sendable {
    public var name: String
    /// Listener names this route is served on; empty means every listener.
    public var listeners: [String] = []
    public var match: RouteMatch
    /// Exactly one of `proxy` and `socket` is set: forward to an upstream, or terminate
    /// WebSockets at the edge and move their messages over the bus.
    public var proxy: ProxyAction?
    public var socket: SocketAction?
    /// Request bodies larger than this get 413.
    public var maxBodySize: Int = 16 * 1024 * 1024
    /// Who may use the route; nil means public.
    public var auth: RouteAuth?
    /// Whether a normalized path may hold `%2F` or `%5C`.
    public var escapedSlashes: EscapedSlashes = .reject
    /// Where the route was declared; `keyPaths` maps a key path relative to the route
    /// (`proxy.upstream`) to where that key was written.
    public var location: SourceLocation
    public var keyLocations: [String: SourceLocation] = [:]

    public init(name: String, match: RouteMatch, proxy: ProxyAction, location: SourceLocation) {
        self.name = name
        self.match = match
        self.proxy = proxy
        self.location = location
    }

    public init(name: String, match: RouteMatch, socket: SocketAction, location: SourceLocation) {
        self.name = name
        self.match = match
        self.socket = socket
        self.location = location
    }

    /// The location of `key` inside this route, or the route's own location.
    public func location(of key: String) -> SourceLocation {
        keyLocations[key] ?? location
    }
}

public struct RouteMatch: Sendable {
    /// Exact host (`api.example.com`) or wildcard (`*.example.com`); nil matches any host.
    public var host: String?
    /// Path prefix, always starting with `/`.
    public var path: String = "/"
    /// Upper-case methods; empty matches any method.
    public var methods: [String] = []

    public init(host: String? = nil, path: String = "/", methods: [String] = []) {
        self.host = host
        self.path = path
        self.methods = methods
    }
}

public struct ProxyAction: Sendable {
    public var upstream: String
    /// Remove the matched path prefix before forwarding (`/api/users` → `/users`).
    public var stripPrefix: Bool = false
    /// Tunnel WebSocket upgrades on this route to the upstream.
    public var websocket: Bool = true

    public init(upstream: String, stripPrefix: Bool = false, websocket: Bool = true) {
        self.upstream = upstream
        self.stripPrefix = stripPrefix
        self.websocket = websocket
    }
}

/// What a listener does with request header names holding `_`.
public enum UnderscoreHeaderPolicy: String, Sendable, CaseIterable {
    /// Forwarded, except copies of headers the edge sets (always removed).
    case keep
    /// Removed (nginx's `underscores_in_headers off`).
    case drop
    /// The request is refused with 400.
    case reject
}

/// What a route does with `%2F` and `%5C` in a path: backends that decode them into
/// separators would see a path the edge did not route.
public enum EscapedSlashes: String, Sendable, CaseIterable {
    /// Refused with 400.
    case reject
    /// Forwarded as sent (upper-cased); for backends that treat them as data.
    case keep
}
