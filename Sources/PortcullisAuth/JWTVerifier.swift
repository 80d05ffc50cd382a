/// Verifies compact JWS tokens against one key set and one policy (RFC 7519, RFC 8725).
///
/// Order: size cap → three base64url parts → header JSON → key chosen by `kid` (or the
/// algorithm's default key) → `alg` must equal, case-sensitively, the one algorithm that
/// key is pinned to (so never `none`, never HMAC with a public key) → no `crit` → `typ`
/// → signature (through OpenSSL with the key prepared at load) → registered claims → the policy (times, issuer, audience, scopes).
///
/// A value type holding immutable references; build one per route and key-set
/// snapshot and use it from any thread. Time is passed in (`now`), never read here.
public struct JWTVerifier: Sendable {
    public var keys: KeySet
    public var policy: JWTPolicy
    /// Optional verified-token cache; see `TokenCache`. Shareable between verifiers:
    /// entries are tied to the key set's generation, and the policy is re-applied on
    /// every hit.
    public var cache: TokenCache?
    /// Tokens longer than this (UTF-8 bytes) are refused as malformed before any parsing.
    public var maximumTokenSize: Int

    public static let defaultMaximumTokenSize = 8 * 1024

    public init(
        keys: KeySet, policy: JWTPolicy = JWTPolicy(), cache: TokenCache? = nil,
        maximumTokenSize: Int = JWTVerifier.defaultMaximumTokenSize
    ) {
        self.keys = keys
        self.policy = policy
        self.cache = cache
        self.maximumTokenSize = maximumTokenSize
    }

    /// Verifies `token` at time `now` (seconds since the epoch, fractions allowed).
    ///
    /// A success says the token is authentic and within policy; revocation (`jti`,
    /// subject) is the caller's check and must run on cache hits too.
    public func verify(_ token: String, now: Double) -> Result<Identity, AuthFailure> {
        let size = token.utf8.count
        guard size <= maximumTokenSize else {
            return .failure(AuthFailure(.malformed, "token is \(size) bytes; the limit is \(maximumTokenSize)"))
        }
        let bytes = Array(token.utf8)
        let cacheKey = cache.map { _ in TokenCache.Key(token: bytes) }
        if let cache, let cacheKey, let claims = cache.lookup(cacheKey, generation: keys.generation, now: now) {
            return claims.check(policy, now: now)
        }
        switch verifiedClaims(bytes) {
        case .failure(let failure):
            return .failure(failure)
        case .success(let claims):
            if let cache, let cacheKey {
                cache.insert(cacheKey, claims, generation: keys.generation, now: now)
            }
            return claims.check(policy, now: now)
        }
    }

    /// Everything up to and including the registered claims' types; no policy.
    func verifiedClaims(_ bytes: [UInt8]) -> Result<VerifiedClaims, AuthFailure> {
        let jws: CompactJWS
        switch CompactJWS.parse(bytes) {
        case .success(let parsed): jws = parsed
        case .failure(let failure): return .failure(failure)
        }
        let key: VerificationKey
        switch selectKey(jws.header) {
        case .success(let selected): key = selected
        case .failure(let failure): return .failure(failure)
        }
        if jws.header["crit"] != nil {
            return .failure(AuthFailure(.criticalHeader, "crit header present; no extension is supported"))
        }
        if let failure = checkType(jws.header, key: key) {
            return .failure(failure)
        }
        guard verifySignature(jws, key: key) else {
            return .failure(AuthFailure(.badSignature, "signature does not verify with kid \(Self.describe(key))"))
        }
        return VerifiedClaims.extract(from: jws.payload, keyID: key.keyID)
    }

    /// Chooses the key by `kid` (an opaque lookup string, never a path or query), or
    /// the default key for the token's algorithm, and pins `alg` to that key's.
    private func selectKey(_ header: JSONObject) -> Result<VerificationKey, AuthFailure> {
        guard let alg = header["alg"]?.stringValue else {
            return .failure(AuthFailure(.malformed, "header has no alg string"))
        }
        let key: VerificationKey
        if let kidValue = header["kid"] {
            guard let kid = kidValue.stringValue else {
                return .failure(AuthFailure(.malformed, "kid is not a string"))
            }
            guard let found = keys.key(id: kid) else {
                return .failure(AuthFailure(.unknownKey, "kid \(AuthFailure.quoted(kid)) is not in the key set"))
            }
            key = found
        } else {
            guard let algorithm = JWTAlgorithm(name: alg), keys.allows(algorithm) else {
                return .failure(AuthFailure(.algorithmNotAllowed, "alg \(AuthFailure.quoted(alg)) is not accepted"))
            }
            guard let found = keys.defaultKey(for: algorithm) else {
                return .failure(AuthFailure(.unknownKey, "no kid and no default key for \(algorithm)"))
            }
            key = found
        }
        guard alg == key.algorithm.name else {
            return .failure(
                AuthFailure(
                    .algorithmNotAllowed,
                    "alg \(AuthFailure.quoted(alg)) but kid \(Self.describe(key)) is pinned to \(key.algorithm)"))
        }
        return .success(key)
    }

    /// `typ` absent or `JWT`; RFC 9068 access-token types only with asymmetric keys
    /// (libjwt, which verifies HS*, refuses any `typ` but `JWT` anyway). Media types
    /// compare case-insensitively (RFC 7515 §4.1.9).
    private func checkType(_ header: JSONObject, key: VerificationKey) -> AuthFailure? {
        guard let value = header["typ"] else { return nil }
        guard let type = value.stringValue?.lowercased() else {
            return AuthFailure(.malformed, "typ is not a string")
        }
        if type == "jwt" { return nil }
        if !key.algorithm.isSymmetric, type == "at+jwt" || type == "application/at+jwt" { return nil }
        return AuthFailure(.badType, "typ \(AuthFailure.quoted(type)) is not accepted for \(key.algorithm)")
    }

    static func describe(_ key: VerificationKey) -> String {
        key.keyID.map(AuthFailure.quoted) ?? "(default \(key.algorithm))"
    }
}
