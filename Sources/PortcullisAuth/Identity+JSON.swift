extension Identity {
    /// The identity as one compact JSON object, for `portcullis token verify` and the
    /// admin API: `subject`, `scopes`, `claims`, `expires_at`, `issued_at`, `jti`,
    /// `source`, `kid`, and `payload` (the verified claims). The session id is left out:
    /// it is a credential.
    public var jsonDescription: String {
        var object = JSONObject()
        object["subject"] = .string(subject)
        object["scopes"] = .array(scopes.map(JSONValue.string))
        object["claims"] = .object(
            JSONObject(claims.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: .string($0.value)) }))
        object["expires_at"] = expiresAt.map { .number(String($0)) } ?? .null
        object["issued_at"] = issuedAt.map { .number(String($0)) } ?? .null
        object["jti"] = tokenId.map(JSONValue.string) ?? .null
        object["source"] = .string(source.isJWT ? "jwt" : "session")
        object["kid"] = source.keyID.map(JSONValue.string) ?? .null
        object["payload"] = JSONValue.parse(claimsJSON) ?? .null
        return JSONValue.object(object).serialized()
    }
}
