import COpenSSL

/// Owns one OpenSSL `EVP_PKEY` (public, or private for minting and key generation),
/// freed in `deinit`. Keys are parsed once, when a key set is loaded, and then shared
/// by every verifying thread.
final class EVPKey: @unchecked Sendable {
    // Unchecked: the handle is never modified after init. OpenSSL 3 allows concurrent
    // sign/verify operations on one EVP_PKEY; each operation gets its own EVP_MD_CTX.
    let handle: OpaquePointer

    init(taking handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        EVP_PKEY_free(handle)
    }

    var isRSA: Bool { EVP_PKEY_is_a(handle, "RSA") == 1 }
    var isEC: Bool { EVP_PKEY_is_a(handle, "EC") == 1 }
    var bits: Int { Int(EVP_PKEY_get_bits(handle)) }

    /// The JOSE curve name (`P-256`, `P-384`, `P-521`) of an EC key, nil for others.
    var curve: String? {
        guard isEC else { return nil }
        var buffer = [CChar](repeating: 0, count: 64)
        var length = 0
        guard EVP_PKEY_get_group_name(handle, &buffer, buffer.count, &length) == 1 else { return nil }
        let name = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return Self.joseCurveNames[name]
    }

    private static let joseCurveNames = [
        "prime256v1": "P-256", "P-256": "P-256", "secp256r1": "P-256",
        "secp384r1": "P-384", "P-384": "P-384",
        "secp521r1": "P-521", "P-521": "P-521",
    ]

    /// JOSE curve name to OpenSSL group name.
    static func openSSLGroup(forCurve curve: String) -> String? {
        switch curve {
        case "P-256": "prime256v1"
        case "P-384": "secp384r1"
        case "P-521": "secp521r1"
        default: nil
        }
    }

    // MARK: Parsing

    /// A SubjectPublicKeyInfo PEM (`BEGIN PUBLIC KEY`).
    static func publicKey(pem: [UInt8]) throws -> EVPKey {
        try withMemoryBIO(pem) { bio in
            guard let key = PEM_read_bio_PUBKEY(bio, nil, nil, nil) else {
                throw CryptoError.openSSL("not a PEM public key (BEGIN PUBLIC KEY)")
            }
            return EVPKey(taking: key)
        }
    }

    /// An unencrypted private key PEM (PKCS#8 `BEGIN PRIVATE KEY`, or the traditional
    /// RSA/EC forms). A passphrase-protected key fails rather than prompting.
    static func privateKey(pem: [UInt8]) throws -> EVPKey {
        try withMemoryBIO(pem) { bio in
            guard let key = PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil) else {
                throw CryptoError.openSSL("not an unencrypted PEM private key")
            }
            return EVPKey(taking: key)
        }
    }

    /// An RSA public key from its big-endian modulus and exponent (a JWK's `n`, `e`).
    static func rsaPublicKey(modulus: [UInt8], exponent: [UInt8]) throws -> EVPKey {
        guard let n = BN_bin2bn(modulus, Int32(modulus.count), nil) else { throw CryptoError.openSSL("BN_bin2bn") }
        defer { BN_free(n) }
        guard let e = BN_bin2bn(exponent, Int32(exponent.count), nil) else { throw CryptoError.openSSL("BN_bin2bn") }
        defer { BN_free(e) }
        return try fromParameters(type: ParameterName.rsa) { builder in
            OSSL_PARAM_BLD_push_BN(builder, ParameterName.n.cString, n) == 1
                && OSSL_PARAM_BLD_push_BN(builder, ParameterName.e.cString, e) == 1
        }
    }

    /// An EC public key from its JOSE curve and affine coordinates (a JWK's `x`, `y`).
    static func ecPublicKey(curve: String, x: [UInt8], y: [UInt8]) throws -> EVPKey {
        guard let group = openSSLGroup(forCurve: curve) else {
            throw CryptoError(operation: "unsupported curve", reason: nil)
        }
        let point: [UInt8] = [0x04] + x + y
        return try group.withCString { groupName in
            try point.withUnsafeBytes { pointBytes in
                try fromParameters(type: ParameterName.ec) { builder in
                    OSSL_PARAM_BLD_push_utf8_string(builder, ParameterName.group.cString, groupName, 0) == 1
                        && OSSL_PARAM_BLD_push_octet_string(
                            builder, ParameterName.publicKey.cString, pointBytes.baseAddress, pointBytes.count) == 1
                }
            }
        }
    }

    /// OSSL_PARAM_BLD and EVP_PKEY_CTX keep the name and value pointers they are given
    /// (by reference, not copied), so names are static strings and values outlive
    /// `fromParameters` in the callers above.
    private enum ParameterName {
        static let n: StaticString = "n"
        static let e: StaticString = "e"
        static let group: StaticString = "group"
        static let publicKey: StaticString = "pub"
        static let rsa: StaticString = "RSA"
        static let ec: StaticString = "EC"
    }

    private static func fromParameters(type: StaticString, _ push: (OpaquePointer) -> Bool) throws -> EVPKey {
        guard let builder = OSSL_PARAM_BLD_new() else { throw CryptoError.openSSL("OSSL_PARAM_BLD_new") }
        defer { OSSL_PARAM_BLD_free(builder) }
        guard push(builder), let parameters = OSSL_PARAM_BLD_to_param(builder) else {
            throw CryptoError.openSSL("building \(type) key parameters")
        }
        defer { OSSL_PARAM_free(parameters) }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, type.cString, nil) else {
            throw CryptoError.openSSL("EVP_PKEY_CTX_new_from_name")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        try CryptoError.check(EVP_PKEY_fromdata_init(context), "EVP_PKEY_fromdata_init")
        try CryptoError.check(
            EVP_PKEY_fromdata(context, &key, portcullis_evp_pkey_public_key_selection(), parameters),
            "not a valid \(type) public key")
        guard let key else { throw CryptoError.openSSL("EVP_PKEY_fromdata") }
        let result = EVPKey(taking: key)
        try result.checkPublicKey()
        return result
    }

    /// OpenSSL's public-key sanity check (point on the curve; odd modulus and exponent).
    func checkPublicKey() throws {
        guard let context = EVP_PKEY_CTX_new_from_pkey(nil, handle, nil) else {
            throw CryptoError.openSSL("EVP_PKEY_CTX_new_from_pkey")
        }
        defer { EVP_PKEY_CTX_free(context) }
        try CryptoError.check(EVP_PKEY_public_check(context), "public key check failed")
    }

    /// Runs `body` with a read-only memory BIO over `bytes` (not copied, so it lives
    /// only inside this call).
    static func withMemoryBIO<Result>(_ bytes: [UInt8], _ body: (OpaquePointer) throws -> Result) throws -> Result {
        guard !bytes.isEmpty else { throw CryptoError(operation: "empty input", reason: nil) }
        return try bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else {
                throw CryptoError.openSSL("BIO_new_mem_buf")
            }
            defer { BIO_free(bio) }
            return try body(bio)
        }
    }

    // MARK: Signatures

    /// Verifies `signature` (DER for ECDSA, PKCS#1 v1.5 for RSA) over `message`.
    func verify(signature: [UInt8], message: UnsafeRawBufferPointer, digest: MessageDigest) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, digest.handle, nil, handle) == 1 else {
            ERR_clear_error()
            return false
        }
        let result = signature.withUnsafeBufferPointer { signatureBytes in
            EVP_DigestVerify(
                context, signatureBytes.baseAddress, signatureBytes.count,
                message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count)
        }
        if result != 1 { ERR_clear_error() }
        return result == 1
    }

    /// Signs `message`; DER for ECDSA, PKCS#1 v1.5 for RSA.
    func sign(message: [UInt8], digest: MessageDigest) throws -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw CryptoError.openSSL("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(context) }
        try CryptoError.check(EVP_DigestSignInit(context, nil, digest.handle, nil, handle), "EVP_DigestSignInit")
        var length = 0
        try CryptoError.check(EVP_DigestSign(context, nil, &length, message, message.count), "EVP_DigestSign")
        var signature = [UInt8](repeating: 0, count: length)
        try CryptoError.check(
            EVP_DigestSign(context, &signature, &length, message, message.count), "EVP_DigestSign")
        return Array(signature.prefix(length))
    }
}

extension StaticString {
    /// The literal as a C string; static storage, NUL-terminated, valid forever.
    fileprivate var cString: UnsafePointer<CChar> {
        UnsafeRawPointer(utf8Start).assumingMemoryBound(to: CChar.self)
    }
}
