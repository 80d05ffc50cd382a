#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@testable import PortcullisAuth

/// Throwaway test keys, generated once per test run (never committed), written to a
/// temporary directory as the files an operator would configure: one JWKS with RSA,
/// EC and oct keys, plus PEM and secret files.
enum Fixtures {
    /// The injected clock every test uses unless it says otherwise.
    static let now: Int64 = 1_800_000_000

    static let directory: String = {
        var template = Array("/tmp/portcullis-auth-tests-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) != nil }
        precondition(created, "mkdtemp failed")
        atexit { Fixtures.removeDirectory() }
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    /// Deletes the (flat) fixture directory when the test process exits, so no test
    /// private keys are left in /tmp.
    private static func removeDirectory() {
        guard let handle = opendir(directory) else { return }
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { unlink(directory + "/" + name) }
        }
        closedir(handle)
        rmdir(directory)
    }

    static let rsa = try! KeyGenerator.generate(.rs256, keyID: "rsa-1")
    static let ec256 = try! KeyGenerator.generate(.es256, keyID: "ec-256")
    static let ec384 = try! KeyGenerator.generate(.es384, keyID: "ec-384")
    static let ec521 = try! KeyGenerator.generate(.es512, keyID: "ec-521")
    static let hmacSecret: [UInt8] = Array("test-only-hmac-secret-0123456789abcdef".utf8)

    /// The JWKS every verifier test uses: rsa-1 (RS256), ec-256/384/521, hs-1 (HS256).
    static let jwksPath: String = {
        var keys: [JSONValue] = [rsa, ec256, ec384, ec521].map { .object($0.publicJWKObject!) }
        keys.append(
            .object(
                JSONObject([
                    .init(name: "kty", value: .string("oct")), .init(name: "kid", value: .string("hs-1")),
                    .init(name: "alg", value: .string("HS256")),
                    .init(name: "k", value: .string(Base64.urlEncoded(hmacSecret))),
                ])))
        return write("jwks.json", JSONValue.object(JSONObject([.init(name: "keys", value: .array(keys))])).serialized())
    }()

    static let keySet: KeySet = try! KeySet.load([KeySource(kind: .jwks, path: jwksPath)])

    /// The RSA public key as PEM, and the file holding it.
    static let rsaPublicPEM: [UInt8] = try! EVPKey.privateKey(pem: rsa.privateMaterial).publicPEM()

    static func write(_ name: String, _ text: String) -> String {
        write(name, Array(text.utf8))
    }

    static func write(_ name: String, _ bytes: [UInt8]) -> String {
        let path = directory + "/" + name
        unlink(path)
        try! FileIO.writeAtomically(bytes, to: path, mode: 0o600)
        return path
    }

    static func claims(
        subject: String = "user-42", scopes: [String] = ["chat:read"], issuedAt: Int64 = now - 10,
        expiresAt: Int64 = now + 600
    ) -> TokenClaims {
        TokenClaims(subject: subject, scopes: scopes, issuedAt: issuedAt, expiresAt: expiresAt)
    }

    static func minter(_ algorithm: JWTAlgorithm) -> TokenMinter {
        switch algorithm.family {
        case .hmac: return try! TokenMinter(algorithm: algorithm, key: hmacSecret)
        case .rsa: return try! TokenMinter(algorithm: algorithm, key: rsa.privateMaterial)
        case .ecdsa:
            let key = algorithm == .es256 ? ec256 : algorithm == .es384 ? ec384 : ec521
            return try! TokenMinter(algorithm: algorithm, key: key.privateMaterial)
        }
    }

    /// A token signed with the fixture key for `algorithm` under the matching kid.
    static func token(_ algorithm: JWTAlgorithm = .rs256, _ claims: TokenClaims = claims()) -> String {
        let kid: String
        switch algorithm {
        case .hs256: kid = "hs-1"
        case .rs256: kid = "rsa-1"
        case .es256: kid = "ec-256"
        case .es384: kid = "ec-384"
        default: kid = "ec-521"
        }
        return try! minter(algorithm).mint(claims, keyID: kid)
    }

    /// A token with exactly this header and payload JSON, signed with the fixture key.
    static func raw(_ algorithm: JWTAlgorithm, header: String, payload: String) -> String {
        try! minter(algorithm).compact(headerJSON: header, payloadJSON: payload)
    }

    static func verifier(_ policy: JWTPolicy = JWTPolicy(), cache: TokenCache? = nil) -> JWTVerifier {
        JWTVerifier(keys: keySet, policy: policy, cache: cache)
    }

    static func failure<Success>(_ result: Result<Success, AuthFailure>) -> AuthFailure.Code? {
        if case .failure(let failure) = result { return failure.code }
        return nil
    }
}
