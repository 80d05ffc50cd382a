extension KeySet {
    /// Reads a JWK Set (RFC 7517 §5). Keys with `use: "enc"`, `key_ops` without
    /// `verify`, or an algorithm this edge does not verify are skipped with a warning;
    /// anything malformed in a key that would be used is an error. Private members
    /// (`d`, `p`, ...) are ignored, never loaded.
    static func loadJWKS(_ source: KeySource) throws(KeySetError) -> (keys: [VerificationKey], warnings: [String]) {
        let file = source.path
        guard let document = JSONValue.parse(try readFile(file)), let object = document.objectValue else {
            throw KeySetError(.invalidFile, file: file, message: "not a JSON object")
        }
        guard let list = object["keys"]?.arrayValue else {
            throw KeySetError(.invalidFile, file: file, message: "not a JWK Set: no \"keys\" array")
        }
        var keys: [VerificationKey] = []
        var warnings: [String] = []
        for (index, element) in list.enumerated() {
            guard let jwk = element.objectValue else {
                throw KeySetError(.invalidKey, file: file, keyIndex: index, message: "not a JSON object")
            }
            let keyID = jwk["kid"]?.stringValue
            if jwk["kid"] != nil, keyID == nil {
                throw KeySetError(.invalidKey, file: file, keyIndex: index, message: "kid is not a string")
            }
            let skip = { (reason: String) in
                warnings.append(
                    KeySetError(.invalidKey, file: file, keyIndex: index, keyID: keyID, message: "skipped: \(reason)")
                        .description)
            }
            if let use = jwk["use"]?.stringValue, use != "sig" {
                skip("use is \(AuthFailure.quoted(use))")
                continue
            }
            if let operations = jwk["key_ops"]?.arrayValue, !operations.contains(.string("verify")) {
                skip("key_ops has no \"verify\"")
                continue
            }
            let algorithm: JWTAlgorithm
            switch (jwk["alg"], source.algorithm) {
            case (nil, nil):
                throw KeySetError(
                    .missingAlgorithm, file: file, keyIndex: index, keyID: keyID,
                    message:
                        "the key has no alg and the key source pins none; add \"alg\" to the key or alg to the source")
            case (nil, let pinned?):
                algorithm = pinned
            case (let value?, let pinned):
                guard let name = value.stringValue else {
                    throw KeySetError(
                        .invalidKey, file: file, keyIndex: index, keyID: keyID, message: "alg is not a string")
                }
                guard let named = JWTAlgorithm(name: name) else {
                    skip("alg \(AuthFailure.quoted(name)) is not verified by this edge")
                    continue
                }
                if let pinned, pinned != named {
                    throw KeySetError(
                        .invalidKey, file: file, keyIndex: index, keyID: keyID,
                        message: "alg \(named) disagrees with the source's alg \(pinned)")
                }
                algorithm = named
            }
            let isDefault = source.isDefault && (source.keyID == nil || source.keyID == keyID)
            let material = try jwkMaterial(jwk, algorithm, file: file, keyIndex: index, keyID: keyID)
            keys.append(
                VerificationKey(
                    keyID: keyID, algorithm: algorithm, material: material, isDefault: isDefault, file: file))
        }
        if let wanted = source.keyID, source.isDefault, !keys.contains(where: { $0.keyID == wanted }) {
            throw KeySetError(
                .conflictingDefault, file: file, keyID: wanted, message: "the default kid is not in the key set")
        }
        guard !keys.isEmpty else {
            throw KeySetError(.noUsableKeys, file: file, message: "no key in the file can verify JWS signatures")
        }
        return (keys, warnings)
    }

    private static func jwkMaterial(
        _ jwk: JSONObject, _ algorithm: JWTAlgorithm, file: String, keyIndex: Int, keyID: String?
    ) throws(KeySetError) -> VerificationKey.Material {
        func fail(_ code: KeySetError.Code, _ message: String) -> KeySetError {
            KeySetError(code, file: file, keyIndex: keyIndex, keyID: keyID, message: message)
        }
        func member(_ name: String) throws(KeySetError) -> [UInt8] {
            guard let text = jwk[name]?.stringValue else { throw fail(.invalidKey, "missing \"\(name)\"") }
            guard let bytes = Base64.urlDecoded(text), !bytes.isEmpty else {
                throw fail(.invalidKey, "\"\(name)\" is not base64url")
            }
            return bytes
        }
        let keyType = jwk["kty"]?.stringValue
        let expected: String
        switch algorithm.family {
        case .hmac: expected = "oct"
        case .rsa: expected = "RSA"
        case .ecdsa: expected = "EC"
        }
        guard keyType == expected else {
            throw fail(
                .invalidKey, "alg \(algorithm) needs kty \(expected), got \(keyType.map(AuthFailure.quoted) ?? "none")")
        }
        switch algorithm.family {
        case .hmac:
            let secret = try member("k")
            guard secret.count >= algorithm.minimumSecretLength else {
                throw fail(
                    .weakKey,
                    "the secret is \(secret.count) bytes; \(algorithm) needs at least \(algorithm.minimumSecretLength)")
            }
            do {
                return try VerificationKey.hmac(secret, algorithm)
            } catch {
                throw fail(.invalidKey, "\(error)")
            }
        case .rsa:
            let modulus = try member("n")
            let exponent = try member("e")
            let key: EVPKey
            do {
                key = try EVPKey.rsaPublicKey(modulus: modulus, exponent: exponent)
            } catch {
                throw fail(.invalidKey, "not a valid RSA public key")
            }
            try checkAsymmetric(key, algorithm, file: file, keyIndex: keyIndex, keyID: keyID)
            return .publicKey(key)
        case .ecdsa:
            let curve = jwk["crv"]?.stringValue
            guard curve == algorithm.curve, let curve else {
                throw fail(.invalidKey, "alg \(algorithm) needs crv \(algorithm.curve ?? "?")")
            }
            let x = try member("x")
            let y = try member("y")
            guard x.count == algorithm.coordinateSize, y.count == algorithm.coordinateSize else {
                throw fail(.invalidKey, "x and y must be \(algorithm.coordinateSize) bytes for \(curve)")
            }
            do {
                return .publicKey(try EVPKey.ecPublicKey(curve: curve, x: x, y: y))
            } catch {
                throw fail(.invalidKey, "not a point on \(curve)")
            }
        }
    }
}
