import CJWT

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Signs tokens for operators (`portcullis token mint`) and tests. HS* with a secret,
/// RS*/ES* with a PEM private key; signing goes through libjwt, which always writes
/// `typ: "JWT"`. A token with another `typ` (RFC 9068 `at+jwt`) is signed with OpenSSL
/// directly, because libjwt cannot write one.
///
/// Not used on the request path; the edge only verifies.
public struct TokenMinter: Sendable {
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public let algorithm: JWTAlgorithm
    /// The secret, or the private key PEM, as libjwt wants it.
    private let keyBytes: SecretBytes
    /// RS*/ES*: the parsed private key, for `typ` other than JWT.
    private let privateKey: EVPKey?

    /// A minter from key bytes: the raw secret for HS* (at least the hash size), or a
    /// PEM private key of the algorithm's type for RS*/ES*.
    public init(algorithm: JWTAlgorithm, key: [UInt8]) throws(Failure) {
        self.algorithm = algorithm
        if algorithm.isSymmetric {
            guard key.count >= algorithm.minimumSecretLength else {
                throw Failure(
                    message: "the secret is \(key.count) bytes; \(algorithm) needs at least "
                        + "\(algorithm.minimumSecretLength)")
            }
            privateKey = nil
        } else {
            let parsed: EVPKey
            do {
                parsed = try EVPKey.privateKey(pem: key)
            } catch {
                throw Failure(message: "not an unencrypted PEM private key")
            }
            do {
                try KeySet.checkAsymmetric(parsed, algorithm, file: "key", keyIndex: nil, keyID: nil)
            } catch {
                throw Failure(message: error.message)
            }
            privateKey = parsed
        }
        keyBytes = SecretBytes(key)
    }

    /// A minter from a key file: a secret file (one trailing newline trimmed, as
    /// `KeySource.secret` reads it) for HS*, a PEM private key for RS*/ES*.
    public init(algorithm: JWTAlgorithm, keyFile: String) throws(Failure) {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.contents(of: keyFile)
        } catch {
            throw Failure(message: "\(keyFile): cannot read: \(error)")
        }
        do {
            try self.init(algorithm: algorithm, key: algorithm.isSymmetric ? KeySet.trimmedSecret(bytes) : bytes)
        } catch {
            throw Failure(message: "\(keyFile): \(error.message)")
        }
    }

    /// A signed compact JWS for `claims`, with `kid` when given.
    public func mint(_ claims: TokenClaims, keyID: String? = nil, type: String? = nil) throws(Failure) -> String {
        var header = JSONObject()
        if let keyID { header["kid"] = .string(keyID) }
        if let type, type != "JWT" {
            header["typ"] = .string(type)
            return try signWithOpenSSL(header: header, payload: claims.json)
        }
        return try signWithLibJWT(extraHeader: header, payload: claims.json)
    }

    private func signWithLibJWT(extraHeader: JSONObject, payload: JSONObject) throws(Failure) -> String {
        var handle: OpaquePointer?
        guard jwt_new(&handle) == 0, let jwt = handle else { throw Failure(message: "jwt_new failed") }
        defer { jwt_free(jwt) }
        let status = keyBytes.withUnsafeBytes { key in
            jwt_set_alg(
                jwt, Self.libJWTAlgorithm(algorithm), key.baseAddress?.assumingMemoryBound(to: UInt8.self),
                Int32(key.count))
        }
        guard status == 0 else { throw Failure(message: "libjwt refused the \(algorithm) key (error \(status))") }
        if !extraHeader.members.isEmpty {
            guard jwt_add_headers_json(jwt, JSONValue.object(extraHeader).serialized()) == 0 else {
                throw Failure(message: "libjwt refused the header")
            }
        }
        guard jwt_add_grants_json(jwt, JSONValue.object(payload).serialized()) == 0 else {
            throw Failure(message: "libjwt refused the claims")
        }
        guard let encoded = jwt_encode_str(jwt) else { throw Failure(message: "libjwt could not sign the token") }
        defer { free(encoded) }
        return String(cString: encoded)
    }

    /// `BASE64URL(header).BASE64URL(payload).BASE64URL(signature)` with `alg` set to this
    /// minter's algorithm and members in the order given. Tests use it to build headers
    /// libjwt will not write.
    func signWithOpenSSL(header: JSONObject, payload: JSONObject) throws(Failure) -> String {
        var fullHeader = JSONObject([.init(name: "alg", value: .string(algorithm.name))])
        for member in header.members where member.name != "alg" {
            fullHeader[member.name] = member.value
        }
        return try compact(
            headerJSON: JSONValue.object(fullHeader).serialized(), payloadJSON: JSONValue.object(payload).serialized())
    }

    /// Signs exactly the given header and payload text, whatever they say.
    func compact(headerJSON: String, payloadJSON: String) throws(Failure) -> String {
        let signingInput = Base64.urlEncoded(Array(headerJSON.utf8)) + "." + Base64.urlEncoded(Array(payloadJSON.utf8))
        let message = Array(signingInput.utf8)
        let signature: [UInt8]
        switch algorithm.family {
        case .hmac:
            signature = keyBytes.withUnsafeBytes { key in
                message.withUnsafeBytes { algorithm.digest.hmac(key: key, message: $0) }
            }
        case .rsa, .ecdsa:
            guard let privateKey else { throw Failure(message: "no private key") }
            do {
                let raw = try privateKey.sign(message: message, digest: algorithm.digest)
                if algorithm.family == .ecdsa {
                    guard let joined = ECDSASignature.raw(fromDER: raw, coordinateSize: algorithm.coordinateSize) else {
                        throw Failure(message: "unexpected ECDSA signature")
                    }
                    signature = joined
                } else {
                    signature = raw
                }
            } catch let failure as Failure {
                throw failure
            } catch {
                throw Failure(message: "signing failed: \(error)")
            }
        }
        return signingInput + "." + Base64.urlEncoded(signature)
    }

    static func libJWTAlgorithm(_ algorithm: JWTAlgorithm) -> jwt_alg_t {
        switch algorithm {
        case .hs256: JWT_ALG_HS256
        case .hs384: JWT_ALG_HS384
        case .hs512: JWT_ALG_HS512
        case .rs256: JWT_ALG_RS256
        case .rs384: JWT_ALG_RS384
        case .rs512: JWT_ALG_RS512
        case .es256: JWT_ALG_ES256
        case .es384: JWT_ALG_ES384
        case .es512: JWT_ALG_ES512
        default: JWT_ALG_TERM
        }
    }
}
