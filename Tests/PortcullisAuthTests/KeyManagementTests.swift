import Testing

@testable import PortcullisAuth

/// `keys generate` / `keys retire` / `token mint` building blocks.
@Suite struct KeyManagementTests {
    @Test func generatedKeysGoToTheJWKSAndVerifyMintedTokens() throws {
        let jwks = Fixtures.directory + "/managed-\(KeyGenerator.randomKeyID()).json"
        let rsa = try KeyGenerator.generate(.rs256)
        let ec = try KeyGenerator.generate(.es256)
        try JWKSFile.add(rsa, to: jwks)
        try JWKSFile.add(ec, to: jwks)
        #expect(FileIO.mode(of: jwks) == 0o644)
        #expect(try JWKSFile.list(jwks).map(\.keyID) == [rsa.keyID, ec.keyID])
        let text = String(decoding: try FileIO.contents(of: jwks), as: UTF8.self)
        #expect(!text.contains("\"d\""))
        #expect(!text.contains("PRIVATE"))

        let keys = try KeySet.load([KeySource(kind: .jwks, path: jwks)])
        let claims = Fixtures.claims()
        for key in [rsa, ec] {
            let token = try TokenMinter(algorithm: key.algorithm, key: key.privateMaterial).mint(
                claims, keyID: key.keyID)
            #expect(Fixtures.failure(JWTVerifier(keys: keys).verify(token, now: Double(Fixtures.now))) == nil)
        }

        try JWKSFile.remove(keyID: rsa.keyID, from: jwks)
        #expect(try JWKSFile.list(jwks).map(\.keyID) == [ec.keyID])
        #expect(throws: JWKSFile.Failure.self) { try JWKSFile.remove(keyID: ec.keyID, from: jwks) }
        #expect(throws: JWKSFile.Failure.self) { try JWKSFile.remove(keyID: "absent", from: jwks) }
        #expect(throws: JWKSFile.Failure.self) { try JWKSFile.add(ec, to: jwks) }
    }

    @Test func privateKeysAreWrittenOwnerOnlyAndNeverOverwritten() throws {
        let path = Fixtures.directory + "/private-\(KeyGenerator.randomKeyID()).pem"
        let key = try KeyGenerator.generate(.es256)
        try PrivateKeyFile.write(key.privateMaterial, to: path)
        #expect(FileIO.mode(of: path) == 0o600)
        #expect(throws: JWKSFile.Failure.self) { try PrivateKeyFile.write([1, 2, 3], to: path) }
        #expect(try FileIO.contents(of: path) == key.privateMaterial)
    }

    @Test func hmacSecretsNeverGoIntoAJWKS() throws {
        let key = try KeyGenerator.generate(.hs256)
        #expect(key.publicJWK == nil)
        #expect(throws: JWKSFile.Failure.self) { try JWKSFile.add(key, to: Fixtures.directory + "/hs-jwks.json") }
        // The secret file is base64url text plus a newline; the text is the key.
        let path = Fixtures.write("generated-\(key.keyID).secret", key.privateMaterial)
        let keys = try KeySet.load([KeySource(kind: .secret, path: path, algorithm: .hs256, keyID: key.keyID)])
        let token = try TokenMinter(algorithm: .hs256, keyFile: path).mint(Fixtures.claims(), keyID: key.keyID)
        #expect(Fixtures.failure(JWTVerifier(keys: keys).verify(token, now: Double(Fixtures.now))) == nil)
    }

    @Test func mintedTokensCarryKidTypAndTypedExtraClaims() throws {
        var claims = TokenClaims(
            subject: "svc", scopes: ["a", "b"], issuedAt: 100, expiresAt: 200, notBefore: 90, issuer: "iss",
            audience: "edge", tokenId: "j1")
        claims.setClaim("tenant", value: "42")
        claims.setClaim("role", value: "admin")
        claims.setClaim("flags", value: #"["x"]"#)
        claims.setClaim("quoted", value: #""42""#)
        claims.setClaim("exp", value: "999")  // typed claims win
        let token = try Fixtures.minter(.hs256).mint(claims, keyID: "hs-1")
        let parts = token.split(separator: ".").map { String($0) }
        let header = JSONValue.parse(Base64.urlDecoded(parts[0])!)!.objectValue!
        #expect(header["kid"] == .string("hs-1"))
        #expect(header["typ"] == .string("JWT"))
        #expect(header["alg"] == .string("HS256"))
        let payload = JSONValue.parse(Base64.urlDecoded(parts[1])!)!.objectValue!
        #expect(payload["tenant"] == .number("42"))
        #expect(payload["role"] == .string("admin"))
        #expect(payload["flags"] == .array([.string("x")]))
        #expect(payload["quoted"] == .string("42"))
        #expect(payload["exp"]?.doubleValue == 200)
        #expect(payload["scope"] == .string("a b"))
        #expect(payload["nbf"]?.doubleValue == 90)
    }

    @Test func minterRefusesWeakOrMismatchedKeys() {
        #expect(throws: TokenMinter.Failure.self) {
            try TokenMinter(algorithm: .hs256, key: [UInt8](repeating: 1, count: 31))
        }
        #expect(throws: TokenMinter.Failure.self) {
            try TokenMinter(algorithm: .es256, key: Fixtures.rsa.privateMaterial)
        }
        #expect(throws: TokenMinter.Failure.self) {
            try TokenMinter(algorithm: .es384, key: Fixtures.ec256.privateMaterial)
        }
        #expect(throws: TokenMinter.Failure.self) { try TokenMinter(algorithm: .rs256, key: Fixtures.rsaPublicPEM) }
        #expect(throws: TokenMinter.Failure.self) { try TokenMinter(algorithm: .rs256, keyFile: "/nonexistent") }
    }

    @Test func cookieSecretsAndKeyIDsAreFreshAndURLSafe() {
        let secrets = Set((0..<50).map { _ in KeyGenerator.cookieSecret() })
        #expect(secrets.count == 50)
        #expect(secrets.allSatisfy { $0.count == 43 && Base64.urlDecoded($0)?.count == 32 })
        let kids = (0..<50).map { _ in KeyGenerator.randomKeyID() }
        #expect(Set(kids).count == 50)
        #expect(kids.allSatisfy { $0.count == 16 && $0.allSatisfy(\.isHexDigit) })
    }
}
