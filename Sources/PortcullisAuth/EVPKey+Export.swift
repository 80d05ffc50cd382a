import COpenSSL

extension EVPKey {
    /// A new RSA key pair (public exponent 65537).
    static func generateRSA(bits: Int) throws -> EVPKey {
        guard let key = portcullis_rsa_generate(UInt32(bits)) else { throw CryptoError.openSSL("RSA key generation") }
        return EVPKey(taking: key)
    }

    /// A new EC key pair on a JOSE curve (`P-256`).
    static func generateEC(curve: String) throws -> EVPKey {
        guard let group = openSSLGroup(forCurve: curve), let key = portcullis_ec_generate(group) else {
            throw CryptoError.openSSL("EC key generation")
        }
        return EVPKey(taking: key)
    }

    /// The public key as SubjectPublicKeyInfo PEM.
    func publicPEM() throws -> [UInt8] {
        try writePEM { PEM_write_bio_PUBKEY($0, handle) }
    }

    /// The private key as unencrypted PKCS#8 PEM (`BEGIN PRIVATE KEY`).
    func privatePEM() throws -> [UInt8] {
        try writePEM { PEM_write_bio_PrivateKey($0, handle, nil, nil, 0, nil, nil) }
    }

    private func writePEM(_ write: (OpaquePointer) -> Int32) throws -> [UInt8] {
        guard let bio = BIO_new(BIO_s_mem()) else { throw CryptoError.openSSL("BIO_new") }
        defer { BIO_free(bio) }
        try CryptoError.check(write(bio), "writing PEM")
        let pending = Int(BIO_ctrl_pending(bio))
        var output = [UInt8](repeating: 0, count: pending)
        let read = output.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32(pending)) }
        guard read == pending else { throw CryptoError.openSSL("BIO_read") }
        return output
    }

    /// An unsigned big-endian integer parameter (`n`, `e`, `qx`, `qy`), left-padded to
    /// `width` bytes when given.
    func integerParameter(_ name: String, width: Int? = nil) throws -> [UInt8] {
        var number: OpaquePointer?
        try CryptoError.check(EVP_PKEY_get_bn_param(handle, name, &number), "reading key parameter \(name)")
        guard let number else { throw CryptoError.openSSL("reading key parameter \(name)") }
        defer { BN_free(number) }
        let natural = (Int(BN_num_bits(number)) + 7) / 8
        let size = max(width ?? natural, natural)
        var output = [UInt8](repeating: 0, count: size)
        guard BN_bn2binpad(number, &output, Int32(size)) == Int32(size) else {
            throw CryptoError.openSSL("BN_bn2binpad")
        }
        return output
    }

    /// The public JWK members for this key (`kty` and `n`/`e` or `crv`/`x`/`y`).
    func publicJWKMembers() throws -> [JSONObject.Member] {
        if isRSA {
            return [
                .init(name: "kty", value: .string("RSA")),
                .init(name: "n", value: .string(Base64.urlEncoded(try integerParameter("n")))),
                .init(name: "e", value: .string(Base64.urlEncoded(try integerParameter("e")))),
            ]
        }
        guard let curve else { throw CryptoError(operation: "unsupported key type for a JWK", reason: nil) }
        let size = curve == "P-256" ? 32 : curve == "P-384" ? 48 : 66
        return [
            .init(name: "kty", value: .string("EC")),
            .init(name: "crv", value: .string(curve)),
            .init(name: "x", value: .string(Base64.urlEncoded(try integerParameter("qx", width: size)))),
            .init(name: "y", value: .string(Base64.urlEncoded(try integerParameter("qy", width: size)))),
        ]
    }
}
