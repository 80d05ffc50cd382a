/// Makes new signing keys and secrets with OpenSSL's key generation and CSPRNG, for
/// `portcullis keys generate` and `portcullis secret generate`.
public enum KeyGenerator {
    /// A freshly generated key: the private part for the signer, the public JWK for the
    /// edge's JWKS (nil for HMAC, whose secret must never go into a JWKS file that is
    /// published or shared).
    public struct GeneratedKey: Sendable {
        public let keyID: String
        public let algorithm: JWTAlgorithm
        /// RS*/ES*: PKCS#8 PEM (`BEGIN PRIVATE KEY`). HS*: the secret, as base64url text
        /// of random bytes (the text itself is the HMAC key; see docs/keys.md).
        public let privateMaterial: [UInt8]
        /// RS*/ES*: `{"kty":..., "kid":..., "use":"sig", "alg":..., n/e or crv/x/y}`.
        public let publicJWK: String?
        let publicJWKObject: JSONObject?
    }

    /// RSA keys are generated at this size (RFC 7518 §3.3 minimum is 2048).
    public static let rsaBits = 2048

    public static func generate(_ algorithm: JWTAlgorithm, keyID: String? = nil) throws -> GeneratedKey {
        let keyID = keyID ?? randomKeyID()
        switch algorithm.family {
        case .hmac:
            // Hash-size random bytes; base64url so the file survives editors and the
            // trailing-newline trimming every reader applies.
            let secret = Base64.urlEncoded(SecureRandom.bytes(algorithm.minimumSecretLength))
            return GeneratedKey(
                keyID: keyID, algorithm: algorithm, privateMaterial: Array(secret.utf8) + [0x0A], publicJWK: nil,
                publicJWKObject: nil)
        case .rsa, .ecdsa:
            let key =
                algorithm.family == .rsa
                ? try EVPKey.generateRSA(bits: rsaBits) : try EVPKey.generateEC(curve: algorithm.curve!)
            var jwk = JSONObject(try key.publicJWKMembers())
            jwk["kid"] = .string(keyID)
            jwk["use"] = .string("sig")
            jwk["alg"] = .string(algorithm.name)
            return GeneratedKey(
                keyID: keyID, algorithm: algorithm, privateMaterial: try key.privatePEM(),
                publicJWK: JSONValue.object(jwk).serialized(), publicJWKObject: jwk)
        }
    }

    /// 8 random bytes as lowercase hex (16 characters): unique, opaque, safe in logs,
    /// file names and shells (base64url could start with `-` and read as an option).
    public static func randomKeyID() -> String {
        let digits = Array("0123456789abcdef".utf8)
        let bytes = SecureRandom.bytes(8).flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A cookie secret: 32 random bytes as base64url (43 characters).
    public static func cookieSecret() -> String {
        Base64.urlEncoded(SecureRandom.bytes(32))
    }
}
