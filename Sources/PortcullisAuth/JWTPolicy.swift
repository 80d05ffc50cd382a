/// What a route requires of a verified token beyond a good signature. Checked on every
/// verification, cached or not, so one token cache can serve routes with different
/// policies.
public struct JWTPolicy: Sendable, Hashable {
    /// Accepted `iss` values, compared exactly (case-sensitive). Empty: any issuer,
    /// including none.
    public var issuers: [String]
    /// Accepted audiences; the token's `aud` (a string or an array) must contain one.
    /// Empty: `aud` is not checked.
    public var audiences: [String]
    /// Scopes the token must all have (all-of); else `insufficient_scope` (403).
    public var requiredScopes: [String]
    /// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds, 0...300 (RFC 7519 allows
    /// "a few minutes"; configuration caps `leeway` at 5m and values beyond are clamped).
    /// Keep it small: 30 s by default.
    public var leeway: Int64 {
        didSet { leeway = Self.clampLeeway(leeway) }
    }
    /// Top-level claims copied into `Identity.claims` by name (strings as themselves,
    /// other JSON as compact text).
    public var copiedClaims: [String]

    public init(
        issuers: [String] = [],
        audiences: [String] = [],
        requiredScopes: [String] = [],
        leeway: Int64 = 30,
        copiedClaims: [String] = []
    ) {
        self.issuers = issuers
        self.audiences = audiences
        self.requiredScopes = requiredScopes
        self.leeway = Self.clampLeeway(leeway)
        self.copiedClaims = copiedClaims
    }

    public static let maximumLeeway: Int64 = 300

    private static func clampLeeway(_ value: Int64) -> Int64 {
        min(max(value, 0), maximumLeeway)
    }
}
