import CJWT

extension JWTVerifier {
    /// Checks the signature with the already-pinned key: HMAC through libjwt, RSA and
    /// ECDSA through OpenSSL with the `EVP_PKEY` parsed at load.
    func verifySignature(_ jws: CompactJWS, bytes: [UInt8], key: VerificationKey) -> Bool {
        switch key.material {
        case .secret(let secret):
            return Self.verifyHMAC(bytes, secret: secret, algorithm: key.algorithm)
        case .publicKey(let publicKey):
            var signature = jws.signature
            if key.algorithm.family == .ecdsa {
                // JOSE sends R‖S; OpenSSL verifies DER. A wrong length is a bad signature.
                guard
                    let der = ECDSASignature.der(fromRaw: signature, coordinateSize: key.algorithm.coordinateSize)
                else { return false }
                signature = der
            }
            return jws.signingInput.withUnsafeBytes { message in
                publicKey.verify(signature: signature, message: message, digest: key.algorithm.digest)
            }
        }
    }

    /// libjwt 1.10 takes the algorithm from the token and skips verification entirely
    /// when given a NULL or zero-length key (it then treats the token as `alg: none`). So
    /// the algorithm was pinned before this call, the key is never empty, and the
    /// algorithm libjwt used is checked again afterwards.
    static func verifyHMAC(_ token: [UInt8], secret: SecretBytes, algorithm: JWTAlgorithm) -> Bool {
        guard secret.count > 0 else { return false }
        var decoded: OpaquePointer?
        let result = secret.withUnsafeBytes { key in
            var cString = token
            cString.append(0)
            return cString.withUnsafeBufferPointer { tokenPointer in
                tokenPointer.withMemoryRebound(to: CChar.self) { characters in
                    jwt_decode(
                        &decoded, characters.baseAddress, key.baseAddress?.assumingMemoryBound(to: UInt8.self),
                        Int32(key.count))
                }
            }
        }
        guard let decoded else { return false }
        defer { jwt_free(decoded) }
        return result == 0 && jwt_get_alg(decoded) == libJWTAlgorithm(algorithm)
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
