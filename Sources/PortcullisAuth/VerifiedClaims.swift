/// The claims of a token whose signature verified and whose registered claims have the
/// right JSON types. Route-independent, so this is what the token cache stores; the
/// route's `JWTPolicy` is applied afterwards by `check(_:now:)`.
struct VerifiedClaims: Sendable {
    var subject: String
    var scopes: [String]
    var expiration: Double
    var notBefore: Double?
    var issuedAt: Double?
    var issuer: String?
    var audiences: [String]?
    var tokenId: String?
    var keyID: String?
    var payload: JSONObject
    var payloadJSON: String

    /// Reads the registered claims. `exp` and `sub` are required; the rest are optional
    /// but must have their RFC 7519 types when present.
    static func extract(from payload: JSONObject, keyID: String?) -> Result<VerifiedClaims, AuthFailure> {
        func number(_ name: String) -> Result<Double?, AuthFailure> {
            guard let value = payload[name] else { return .success(nil) }
            guard let number = value.doubleValue, number.isFinite else {
                return .failure(AuthFailure(.invalidClaim, "\(name) is not a number"))
            }
            return .success(number)
        }
        func string(_ name: String) -> Result<String?, AuthFailure> {
            guard let value = payload[name] else { return .success(nil) }
            guard let text = value.stringValue else {
                return .failure(AuthFailure(.invalidClaim, "\(name) is not a string"))
            }
            return .success(text)
        }
        do throws(AuthFailure) {
            guard let expiration = try number("exp").get() else {
                return .failure(AuthFailure(.missingClaim, "the token has no exp"))
            }
            guard let subject = try string("sub").get() else {
                return .failure(AuthFailure(.missingClaim, "the token has no sub"))
            }
            let audiences: [String]?
            switch payload["aud"] {
            case nil: audiences = nil
            case .string(let single): audiences = [single]
            case .array(let list):
                let strings = list.compactMap(\.stringValue)
                guard strings.count == list.count else {
                    return .failure(AuthFailure(.invalidClaim, "aud is not a string or an array of strings"))
                }
                audiences = strings
            default: return .failure(AuthFailure(.invalidClaim, "aud is not a string or an array of strings"))
            }
            return .success(
                VerifiedClaims(
                    subject: subject,
                    scopes: scopes(in: payload),
                    expiration: expiration,
                    notBefore: try number("nbf").get(),
                    issuedAt: try number("iat").get(),
                    issuer: try string("iss").get(),
                    audiences: audiences,
                    tokenId: try string("jti").get(),
                    keyID: keyID,
                    payload: payload,
                    payloadJSON: JSONValue.object(payload).serialized()
                ))
        } catch {
            return .failure(error)
        }
    }

    /// Scopes from the first of `scope`, `scp`, `scopes` that is present and not null
    /// (issuers written in Python often send `"scope": null`): a string is split on
    /// spaces (empties ignored), an array must hold only strings; any other shape means
    /// no scopes. Duplicates are dropped, order kept.
    static func scopes(in payload: JSONObject) -> [String] {
        let candidates = ["scope", "scp", "scopes"].lazy.compactMap { payload[$0] }.filter { $0 != .null }
        guard let value = candidates.first else { return [] }
        var found: [String]
        switch value {
        case .string(let text):
            found = text.split(separator: " ").map(String.init)
        case .array(let list):
            found = list.compactMap(\.stringValue)
            guard found.count == list.count else { return [] }
        default:
            return []
        }
        var seen = Set<String>()
        found = found.filter { seen.insert($0).inserted }
        return found
    }

    /// Applies a route's policy at time `now` (seconds since the epoch).
    func check(_ policy: JWTPolicy, now: Double) -> Result<Identity, AuthFailure> {
        let leeway = Double(policy.leeway)
        if now >= expiration + leeway {
            return .failure(AuthFailure(.expired, "expired \(Int64(now - expiration))s ago"))
        }
        if let notBefore, now < notBefore - leeway {
            return .failure(AuthFailure(.notYetValid, "valid in \(Int64(notBefore - now))s"))
        }
        if let issuedAt, issuedAt > now + leeway {
            return .failure(AuthFailure(.issuedInFuture, "issued \(Int64(issuedAt - now))s in the future"))
        }
        if !policy.issuers.isEmpty {
            guard let issuer, policy.issuers.contains(issuer) else {
                return .failure(
                    AuthFailure(.wrongIssuer, "iss \(issuer.map(AuthFailure.quoted) ?? "absent") is not accepted"))
            }
        }
        if !policy.audiences.isEmpty {
            guard let audiences, audiences.contains(where: policy.audiences.contains) else {
                return .failure(AuthFailure(.wrongAudience, "aud has none of the accepted audiences"))
            }
        }
        let missing = policy.requiredScopes.filter { !scopes.contains($0) }
        if !missing.isEmpty {
            return .failure(
                AuthFailure(
                    .insufficientScope, "missing scope \(missing.map(AuthFailure.quoted).joined(separator: ", "))",
                    requiredScopes: policy.requiredScopes))
        }
        var copied: [String: String] = [:]
        for name in policy.copiedClaims {
            if let value = payload[name] { copied[name] = value.textValue }
        }
        return .success(
            Identity(
                subject: subject,
                scopes: scopes,
                claims: copied,
                expiresAt: Self.wholeSeconds(expiration),
                issuedAt: issuedAt.map(Self.wholeSeconds),
                tokenId: tokenId,
                source: .jwt(keyID: keyID),
                claimsJSON: payloadJSON
            ))
    }

    /// Rounds down and clamps to Int64 (a token may say `exp: 1e300`).
    private static func wholeSeconds(_ value: Double) -> Int64 {
        guard value < 9.2e18 else { return Int64.max }
        guard value > -9.2e18 else { return Int64.min }
        return Int64(value.rounded(.down))
    }
}
