extension KeySet {
    /// Reads every source and builds one set. Throws the first problem, naming the file
    /// and key; a set is all-or-nothing so a reload with a broken file keeps the old set.
    public static func load(_ sources: [KeySource]) throws(KeySetError) -> KeySet {
        var keys: [VerificationKey] = []
        var warnings: [String] = []
        for source in sources {
            switch source.kind {
            case .secret: keys.append(try loadSecret(source))
            case .pem: keys.append(try loadPEM(source))
            case .jwks:
                let loaded = try loadJWKS(source)
                keys += loaded.keys
                warnings += loaded.warnings
            }
        }
        return try KeySet(keys: keys, warnings: warnings)
    }

    static func readFile(_ path: String, keyID: String? = nil) throws(KeySetError) -> [UInt8] {
        do {
            return try FileIO.contents(of: path)
        } catch {
            throw KeySetError(.unreadableFile, file: path, keyID: keyID, message: "cannot read: \(error)")
        }
    }

    /// The bytes of a secret file: raw, with one trailing `\n` or `\r\n` removed (editors
    /// add one; `echo` adds one).
    static func trimmedSecret(_ bytes: [UInt8]) -> [UInt8] {
        var bytes = bytes
        if bytes.last == 0x0A {
            bytes.removeLast()
            if bytes.last == 0x0D { bytes.removeLast() }
        }
        return bytes
    }

    private static func loadSecret(_ source: KeySource) throws(KeySetError) -> VerificationKey {
        guard let algorithm = source.algorithm, algorithm.isSymmetric else {
            throw KeySetError(
                .missingAlgorithm, file: source.path, keyID: source.keyID,
                message: "a secret key source needs alg HS256, HS384 or HS512")
        }
        let secret = trimmedSecret(try readFile(source.path, keyID: source.keyID))
        guard !secret.isEmpty else {
            throw KeySetError(.invalidFile, file: source.path, keyID: source.keyID, message: "the secret is empty")
        }
        guard secret.count >= algorithm.minimumSecretLength else {
            throw KeySetError(
                .weakKey, file: source.path, keyID: source.keyID,
                message: "the secret is \(secret.count) bytes; \(algorithm) needs at least "
                    + "\(algorithm.minimumSecretLength) (RFC 7518 §3.2); `portcullis keys generate --alg \(algorithm)` "
                    + "makes one")
        }
        let material: VerificationKey.Material
        do {
            material = try VerificationKey.hmac(secret, algorithm)
        } catch {
            throw KeySetError(.invalidKey, file: source.path, keyID: source.keyID, message: "\(error)")
        }
        return VerificationKey(
            keyID: source.keyID, algorithm: algorithm, material: material, isDefault: source.isDefault,
            file: source.path)
    }

    private static func loadPEM(_ source: KeySource) throws(KeySetError) -> VerificationKey {
        guard let algorithm = source.algorithm, !algorithm.isSymmetric else {
            throw KeySetError(
                .missingAlgorithm, file: source.path, keyID: source.keyID,
                message: "a pem key source needs alg RS256/384/512 or ES256/384/512")
        }
        let bytes = try readFile(source.path, keyID: source.keyID)
        let key: EVPKey
        do {
            key = try EVPKey.publicKey(pem: bytes)
        } catch {
            let text = String(decoding: bytes, as: UTF8.self)
            let hint =
                text.contains("PRIVATE KEY")
                ? "this is a private key; give the public key (openssl pkey -in KEY -pubout)"
                : text.contains("BEGIN RSA PUBLIC KEY")
                    ? "PKCS#1 RSA public keys are not read; convert with openssl rsa -RSAPublicKey_in -pubout"
                    : "not a PEM public key (-----BEGIN PUBLIC KEY-----)"
            throw KeySetError(.invalidFile, file: source.path, keyID: source.keyID, message: hint)
        }
        try checkAsymmetric(key, algorithm, file: source.path, keyIndex: nil, keyID: source.keyID)
        return VerificationKey(
            keyID: source.keyID, algorithm: algorithm, material: .publicKey(key), isDefault: source.isDefault,
            file: source.path)
    }

    /// An RSA key for RS* (at least 2048 bits, RFC 7518 §3.3), an EC key on the curve the
    /// ES* algorithm names.
    static func checkAsymmetric(
        _ key: EVPKey, _ algorithm: JWTAlgorithm, file: String, keyIndex: Int?, keyID: String?
    ) throws(KeySetError) {
        switch algorithm.family {
        case .rsa:
            guard key.isRSA else {
                throw KeySetError(
                    .invalidKey, file: file, keyIndex: keyIndex, keyID: keyID, message: "\(algorithm) needs an RSA key")
            }
            guard key.bits >= 2048 else {
                throw KeySetError(
                    .weakKey, file: file, keyIndex: keyIndex, keyID: keyID,
                    message: "RSA key is \(key.bits) bits; at least 2048 are required")
            }
        case .ecdsa:
            guard key.isEC, key.curve == algorithm.curve else {
                throw KeySetError(
                    .invalidKey, file: file, keyIndex: keyIndex, keyID: keyID,
                    message: "\(algorithm) needs an EC key on \(algorithm.curve ?? "?")")
            }
        case .hmac:
            throw KeySetError(
                .invalidKey, file: file, keyIndex: keyIndex, keyID: keyID,
                message: "\(algorithm) is an HMAC algorithm; a public key cannot be an HMAC secret")
        }
    }
}
