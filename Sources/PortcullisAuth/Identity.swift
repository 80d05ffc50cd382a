/// Who a request is, as the auth phase established it. Built once per handshake or
/// request and then only read: the edge turns it into `X-Auth-*` headers for backends
/// and into the `claims` of bus envelopes for handlers.
public struct Identity: Sendable, Hashable {
    /// Where the identity came from.
    public struct Source: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case jwt(keyID: String?)
            case session
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A verified JWT; `keyID` is the `kid` of the key that verified it (nil for a
        /// default key without one).
        public static func jwt(keyID: String?) -> Source { Source(.jwt(keyID: keyID)) }
        /// A signed session cookie resolved to a stored session.
        public static let session = Source(.session)

        public var isJWT: Bool {
            if case .jwt = base { return true }
            return false
        }

        public var keyID: String? {
            if case .jwt(let keyID) = base { return keyID }
            return nil
        }

        public var description: String {
            switch base {
            case .jwt(let keyID): keyID.map { "jwt(\($0))" } ?? "jwt"
            case .session: "session"
            }
        }
    }

    /// `sub` for tokens, the configured user field for sessions.
    public var subject: String
    /// In token order, duplicates removed.
    public var scopes: [String]
    /// The claims the route asked to copy, by name: strings as themselves, other JSON
    /// values as compact JSON text.
    public var claims: [String: String]
    /// `exp` in whole seconds since the epoch (rounded down); for sessions the stored
    /// cookie expiry. Nil when the session never expires.
    public var expiresAt: Int64?
    public var issuedAt: Int64?
    /// `jti`, for per-token revocation.
    public var tokenId: String?
    public var source: Source
    /// The express-session id. A credential: never log it or forward it.
    public var sessionId: String?
    /// The verified payload as compact JSON (for bus envelopes). For sessions, a small
    /// object with `sub` and `exp`, never the stored session.
    public var claimsJSON: String

    public init(
        subject: String,
        scopes: [String] = [],
        claims: [String: String] = [:],
        expiresAt: Int64? = nil,
        issuedAt: Int64? = nil,
        tokenId: String? = nil,
        source: Source,
        sessionId: String? = nil,
        claimsJSON: String = "{}"
    ) {
        self.subject = subject
        self.scopes = scopes
        self.claims = claims
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
        self.tokenId = tokenId
        self.source = source
        self.sessionId = sessionId
        self.claimsJSON = claimsJSON
    }

    /// True when every scope in `required` is present (all-of).
    public func hasScopes(_ required: [String]) -> Bool {
        required.allSatisfy(scopes.contains)
    }
}
