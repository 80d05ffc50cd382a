/// Edge-wide authentication material: JWT key sets, cookie secrets, where sessions and
/// revocations live in Redis, and the verified-token cache.
public struct AuthSettings: Sendable {
    /// Key sets by name; a route's `auth.key_set` picks one.
    public var keySets: [String: [KeySourceSettings]] = [:]
    /// express-session secrets, one per line: the first signs, every line verifies.
    public var cookieSecretsFile: String?
    /// connect-redis layout: `<prefix><sid>` holds the session JSON.
    public var sessionPrefix: String = "sess:"
    /// Dotted path of the user id inside the session JSON.
    public var sessionUserField: String = "passport.user"
    /// Revocation keys: `<prefix>jti:<jti>` and `<prefix>sub:<subject>`.
    public var revocationPrefix: String = "portcullis:revoked:"
    /// Verified tokens kept (by SHA-256 digest, until their `exp`).
    public var tokenCacheSize: Int = 100_000
    /// How often live sockets opened with a session cookie check that their session still
    /// exists (a logout deletes it); `0s` turns the check off.
    public var sessionCheckInterval: Duration = .seconds(5)
    public var location: SourceLocation?

    public init() {}
}

/// One source of JWT verification keys.
public struct KeySourceSettings: Sendable {
    public enum Kind: String, Sendable {
        /// RFC 7517 JWKS file; each key's `alg` pins it.
        case jwks
        /// PEM public key (RSA or EC); `alg` required.
        case pem
        /// HMAC secret file (raw bytes); `alg` required.
        case secret
    }

    public var kind: Kind
    public var path: String
    public var alg: String?
    public var kid: String?
    /// Used for tokens without `kid` that are signed with this key's algorithm.
    public var isDefault: Bool = false
    public var location: SourceLocation

    public init(kind: Kind, path: String, location: SourceLocation) {
        self.kind = kind
        self.path = path
        self.location = location
    }
}

/// A route's authentication policy. Routes without one are public.
public struct RouteAuth: Sendable {
    public enum Method: String, Sendable {
        case jwt
        case session
    }

    /// Where a token may come from, tried in the configured order.
    public enum TokenSource: Sendable, Equatable {
        case header
        case query(String)
        case cookie(String)
        case subprotocol
        case socketIO
    }

    /// Who opens connections on this route: browsers must send an allowed `Origin`;
    /// servers and apps may send none.
    public enum Clients: String, Sendable {
        case browser
        case server
    }

    /// Any one of these authenticates the request.
    public var methods: [Method] = [.jwt]
    public var keySet: String?
    public var tokenSources: [TokenSource] = [.header]
    public var issuers: [String] = []
    public var audiences: [String] = []
    /// Required scopes, all of them.
    public var scopes: [String] = []
    public var leeway: Duration = .seconds(30)
    /// Request header → claim name, set on requests to the upstream.
    public var claimHeaders: [ClaimHeader] = []
    public var sessionCookie: String = "connect.sid"
    /// Exact origins and `https://*.example.com` patterns; empty means no Origin check.
    public var origins: [String] = []
    public var clients: Clients = .server
    public var forwardAuthorization: Bool = false
    public var forwardCookie: Bool = true
    /// A request header in which clients name one of their own live sockets (3D Repo's
    /// `x-socket-id`), lower-cased; nil for none. The edge passes it upstream only when it
    /// names a live connection of the subject that authenticated the request, and removes
    /// client copies of it on every route.
    public var socketIDHeader: String?
    public var location: SourceLocation
    /// Where each key of the policy was written (`key_set`, `origins[1]`, ...).
    public var keyLocations: [String: SourceLocation] = [:]

    public func location(of key: String) -> SourceLocation {
        keyLocations[key] ?? location
    }

    public init(location: SourceLocation) {
        self.location = location
    }
}

/// A claim the edge copies into a request header for the upstream.
public struct ClaimHeader: Sendable, Equatable {
    public var header: String
    public var claim: String

    public init(header: String, claim: String) {
        self.header = header
        self.claim = claim
    }
}
