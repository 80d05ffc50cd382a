import Testing

@testable import PortcullisAuth

@Suite struct JWTVerifierTests {
    let now = Double(Fixtures.now)

    @Test func rsaTokenVerifiesIntoAnIdentity() throws {
        let token = Fixtures.token(.rs256, Fixtures.claims(scopes: ["chat:read", "chat:write"]))
        let identity = try Fixtures.verifier().verify(token, now: now).get()
        #expect(identity.subject == "user-42")
        #expect(identity.scopes == ["chat:read", "chat:write"])
        #expect(identity.source == .jwt(keyID: "rsa-1"))
        #expect(identity.expiresAt == Fixtures.now + 600)
        #expect(identity.issuedAt == Fixtures.now - 10)
        #expect(identity.claimsJSON.contains("\"sub\":\"user-42\""))
    }

    @Test(arguments: [JWTAlgorithm.hs256, .rs256, .es256, .es384, .es512])
    func everySupportedAlgorithmVerifies(algorithm: JWTAlgorithm) throws {
        let identity = try Fixtures.verifier().verify(Fixtures.token(algorithm), now: now).get()
        #expect(identity.subject == "user-42")
    }

    @Test(arguments: ["none", "NONE", "None", "nOnE"])
    func algNoneIsRejectedWithOrWithoutKid(alg: String) {
        let payload = #"{"sub":"admin","exp":1900000000}"#
        let header = Base64.urlEncoded(Array(#"{"alg":"\#(alg)","kid":"hs-1"}"#.utf8))
        let withKid = header + "." + Base64.urlEncoded(Array(payload.utf8)) + "."
        #expect(Fixtures.failure(Fixtures.verifier().verify(withKid, now: now)) == .algorithmNotAllowed)
        let bare = Base64.urlEncoded(Array(#"{"alg":"\#(alg)"}"#.utf8)) + "." + Base64.urlEncoded(Array(payload.utf8))
        #expect(Fixtures.failure(Fixtures.verifier().verify(bare + ".", now: now)) == .algorithmNotAllowed)
    }

    @Test func hs256SignedWithTheRSAPublicKeyAsSecretIsRejected() throws {
        // The classic key-confusion attack: the attacker knows the public key PEM.
        let forger = try TokenMinter(algorithm: .hs256, key: Fixtures.rsaPublicPEM)
        let forged = try forger.mint(Fixtures.claims(), keyID: "rsa-1")
        let result = Fixtures.verifier().verify(forged, now: now)
        #expect(Fixtures.failure(result) == .algorithmNotAllowed)
        let withoutKid = try forger.mint(Fixtures.claims())
        #expect(Fixtures.failure(Fixtures.verifier().verify(withoutKid, now: now)) != nil)
    }

    @Test func unknownKidIsRejected() {
        let token = Fixtures.raw(
            .rs256, header: #"{"alg":"RS256","kid":"rsa-2"}"#, payload: #"{"sub":"a","exp":1900000000}"#)
        #expect(Fixtures.failure(Fixtures.verifier().verify(token, now: now)) == .unknownKey)
    }

    @Test(arguments: [
        "../../etc/passwd", "/dev/null", "' OR '1'='1' --", "rsa-1\u{0}", "rsa-1; DROP TABLE keys", "RSA-1",
    ])
    func kidIsAnOpaqueLookupNeverAPathOrQuery(kid: String) throws {
        var header = JSONObject()
        header["alg"] = .string("RS256")
        header["kid"] = .string(kid)
        let token = try Fixtures.minter(.rs256).signWithOpenSSL(header: header, payload: Fixtures.claims().json)
        let result = Fixtures.verifier().verify(token, now: now)
        guard case .failure(let failure) = result else {
            Issue.record("accepted kid \(kid)")
            return
        }
        #expect(failure.code == .unknownKey)
        #expect(failure.message.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F })
    }

    @Test func algorithmNameIsCaseSensitive() {
        let token = Fixtures.raw(
            .rs256, header: #"{"alg":"rs256","kid":"rsa-1"}"#, payload: #"{"sub":"a","exp":1900000000}"#)
        #expect(Fixtures.failure(Fixtures.verifier().verify(token, now: now)) == .algorithmNotAllowed)
    }

    @Test func algorithmMustBeTheOneTheKeyIsPinnedTo() {
        // ES384 key, token claims ES256 (signed with the P-256 key).
        let token = Fixtures.raw(
            .es256, header: #"{"alg":"ES256","kid":"ec-384"}"#, payload: #"{"sub":"a","exp":1900000000}"#)
        #expect(Fixtures.failure(Fixtures.verifier().verify(token, now: now)) == .algorithmNotAllowed)
    }

    @Test func expiredTokenIsRejected() {
        let token = Fixtures.token(
            .rs256, Fixtures.claims(issuedAt: Fixtures.now - 7200, expiresAt: Fixtures.now - 3600))
        let result = Fixtures.verifier().verify(token, now: now)
        guard case .failure(let failure) = result else {
            Issue.record("expired token accepted")
            return
        }
        #expect(failure.code == .expired)
        #expect(failure.wwwAuthenticate == #"Bearer error="invalid_token", error_description="token expired""#)
    }

    @Test func tokenWhoseNotBeforeIsInTheFutureIsRejected() {
        var claims = Fixtures.claims()
        claims.notBefore = Fixtures.now + 3600
        #expect(Fixtures.failure(Fixtures.verifier().verify(Fixtures.token(.es256, claims), now: now)) == .notYetValid)
    }

    @Test func tokenIssuedInTheFutureIsRejected() {
        let claims = Fixtures.claims(issuedAt: Fixtures.now + 3600, expiresAt: Fixtures.now + 7200)
        #expect(
            Fixtures.failure(Fixtures.verifier().verify(Fixtures.token(.hs256, claims), now: now)) == .issuedInFuture)
    }

    @Test func wrongIssuerIsRejected() {
        var claims = Fixtures.claims()
        claims.issuer = "https://evil.example"
        let policy = JWTPolicy(issuers: ["https://auth.example.com"])
        #expect(
            Fixtures.failure(Fixtures.verifier(policy).verify(Fixtures.token(.rs256, claims), now: now)) == .wrongIssuer
        )
        claims.issuer = "https://AUTH.example.com"
        #expect(
            Fixtures.failure(Fixtures.verifier(policy).verify(Fixtures.token(.rs256, claims), now: now)) == .wrongIssuer
        )
        claims.issuer = nil
        #expect(
            Fixtures.failure(Fixtures.verifier(policy).verify(Fixtures.token(.rs256, claims), now: now)) == .wrongIssuer
        )
        claims.issuer = "https://auth.example.com"
        #expect(Fixtures.failure(Fixtures.verifier(policy).verify(Fixtures.token(.rs256, claims), now: now)) == nil)
    }

    @Test func wrongAudienceIsRejectedAndAnArrayNeedsOneMatch() {
        let policy = JWTPolicy(audiences: ["edge"])
        let wrong = Fixtures.raw(
            .rs256, header: #"{"alg":"RS256","kid":"rsa-1"}"#, payload: #"{"sub":"a","exp":1900000000,"aud":"billing"}"#
        )
        #expect(Fixtures.failure(Fixtures.verifier(policy).verify(wrong, now: now)) == .wrongAudience)
        let missing = Fixtures.raw(
            .rs256, header: #"{"alg":"RS256","kid":"rsa-1"}"#, payload: #"{"sub":"a","exp":1900000000}"#)
        #expect(Fixtures.failure(Fixtures.verifier(policy).verify(missing, now: now)) == .wrongAudience)
        let array = Fixtures.raw(
            .rs256, header: #"{"alg":"RS256","kid":"rsa-1"}"#,
            payload: #"{"sub":"a","exp":1900000000,"aud":["billing","edge"]}"#)
        #expect(Fixtures.failure(Fixtures.verifier(policy).verify(array, now: now)) == nil)
        let numeric = Fixtures.raw(
            .rs256, header: #"{"alg":"RS256","kid":"rsa-1"}"#, payload: #"{"sub":"a","exp":1900000000,"aud":7}"#)
        #expect(Fixtures.failure(Fixtures.verifier(policy).verify(numeric, now: now)) == .invalidClaim)
    }

    @Test func tokenWithoutExpIsRejected() {
        let token = Fixtures.raw(.hs256, header: #"{"alg":"HS256","kid":"hs-1"}"#, payload: #"{"sub":"a"}"#)
        #expect(Fixtures.failure(Fixtures.verifier().verify(token, now: now)) == .missingClaim)
        let textual = Fixtures.raw(
            .hs256, header: #"{"alg":"HS256","kid":"hs-1"}"#, payload: #"{"sub":"a","exp":"1900000000"}"#)
        #expect(Fixtures.failure(Fixtures.verifier().verify(textual, now: now)) == .invalidClaim)
        let anonymous = Fixtures.raw(.hs256, header: #"{"alg":"HS256","kid":"hs-1"}"#, payload: #"{"exp":1900000000}"#)
        #expect(Fixtures.failure(Fixtures.verifier().verify(anonymous, now: now)) == .missingClaim)
    }

    @Test(arguments: [JWTAlgorithm.hs256, .rs256, .es256])
    func tamperedPayloadFailsTheSignature(algorithm: JWTAlgorithm) {
        let token = Fixtures.token(algorithm)
        let parts = token.split(separator: ".")
        let forgedPayload = Base64.urlEncoded(Array(#"{"sub":"admin","exp":1900000000,"scope":"admin"}"#.utf8))
        let forged = "\(parts[0]).\(forgedPayload).\(parts[2])"
        #expect(Fixtures.failure(Fixtures.verifier().verify(forged, now: now)) == .badSignature)
    }

    @Test(arguments: [JWTAlgorithm.hs256, .rs256, .es256, .es384])
    func tamperedSignatureIsRejected(algorithm: JWTAlgorithm) {
        let token = Fixtures.token(algorithm)
        let parts = token.split(separator: ".")
        var signature = Base64.urlDecoded(String(parts[2]))!
        signature[signature.count / 2] ^= 0x01
        let tampered = "\(parts[0]).\(parts[1]).\(Base64.urlEncoded(signature))"
        #expect(Fixtures.failure(Fixtures.verifier().verify(tampered, now: now)) == .badSignature)
        let stripped = "\(parts[0]).\(parts[1])."
        #expect(Fixtures.failure(Fixtures.verifier().verify(stripped, now: now)) == .badSignature)
    }

    @Test(arguments: [
        "", "abc", "a.b", "a.b.c.d", ".e30.", "!!!.e30.abc", "e30.e30.abc",
        "bm90IGpzb24.e30.abc",  // header "not json"
        "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.abc",  // payload "not json"
        "eyJhbGciOiJIUzI1NiJ9=.e30.abc",  // padding
        "eyJhbGciOiJIUzI1NiJ9 .e30.abc",
        "W10.e30.abc",  // header is an array
        "eyJhbGciOjI1Nn0.e30.abc",  // alg is a number
        "eyJhbGciOiJSUzI1NiIsImFsZyI6Im5vbmUifQ.e30.abc",  // duplicate alg
    ])
    func malformedTokensAreRejected(token: String) {
        #expect(Fixtures.failure(Fixtures.verifier().verify(token, now: now)) == .malformed)
    }

    @Test func sixtyFourKibTokenIsRefusedBeforeParsing() {
        let huge = "eyJhbGciOiJIUzI1NiJ9." + String(repeating: "A", count: 64 * 1024) + ".sig"
        let result = Fixtures.verifier().verify(huge, now: now)
        guard case .failure(let failure) = result else {
            Issue.record("huge token accepted")
            return
        }
        #expect(failure.code == .malformed)
        #expect(failure.message.contains("limit"))
    }

    @Test func critHeaderIsRejected() {
        let token = Fixtures.raw(
            .rs256, header: #"{"alg":"RS256","kid":"rsa-1","crit":["exp"],"exp":1}"#,
            payload: #"{"sub":"a","exp":1900000000}"#)
        #expect(Fixtures.failure(Fixtures.verifier().verify(token, now: now)) == .criticalHeader)
    }

    @Test func fivePartJWEIsRejected() {
        let jwe =
            "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGeipsEdY3mx_etLbbWSrFr05kLzcSr4qKAq7YN7e9jwQRb23nfa6c9d-StnImGyFDbSv04uVuxIp5Zms1gNxKKK2Da14B8S4rzVRltdYwam_lDp5XnZAYpQdb76FdIKLaVmqgfwX7XWRxv2322i-vDxRfqNzo_tETKzpVLzfiwQyeyPGLBIO56YJ7eObdv0je81860ppamavo35UgoRdbYaBcoh9QcfylQr66oc6vFWXRcZ_ZT2LawVCWTIy3brGPi6UklfCpIMfIjf7iGdXKHzg.48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A.XFBoMYUZodetZdvTiFvSkQ"
        #expect(Fixtures.failure(Fixtures.verifier().verify(jwe, now: now)) == .unsupportedToken)
    }

    @Test func accessTokenTypIsAcceptedOnlyForAsymmetricKeys() throws {
        let payload = #"{"sub":"a","exp":1900000000}"#
        for typ in ["at+jwt", "application/at+jwt", "JWT", "jwt"] {
            let token = Fixtures.raw(
                .rs256, header: #"{"alg":"RS256","kid":"rsa-1","typ":"\#(typ)"}"#, payload: payload)
            #expect(Fixtures.failure(Fixtures.verifier().verify(token, now: now)) == nil, "typ \(typ)")
        }
        let hmac = Fixtures.raw(.hs256, header: #"{"alg":"HS256","kid":"hs-1","typ":"at+jwt"}"#, payload: payload)
        #expect(Fixtures.failure(Fixtures.verifier().verify(hmac, now: now)) == .badType)
        let idToken = Fixtures.raw(
            .rs256, header: #"{"alg":"RS256","kid":"rsa-1","typ":"secevent+jwt"}"#, payload: payload)
        #expect(Fixtures.failure(Fixtures.verifier().verify(idToken, now: now)) == .badType)
        let minted = try Fixtures.minter(.es256).mint(Fixtures.claims(), keyID: "ec-256", type: "at+jwt")
        #expect(Fixtures.failure(Fixtures.verifier().verify(minted, now: now)) == nil)
    }

    @Test func defaultKeyVerifiesTokensWithoutKid() throws {
        let pem = Fixtures.write("default-rsa.pem", Fixtures.rsaPublicPEM)
        let keys = try KeySet.load([KeySource(kind: .pem, path: pem, algorithm: .rs256, isDefault: true)])
        let verifier = JWTVerifier(keys: keys)
        let token = try Fixtures.minter(.rs256).mint(Fixtures.claims())
        let identity = try verifier.verify(token, now: now).get()
        #expect(identity.source == .jwt(keyID: nil))
        // A kid the set does not know is not silently sent to the default key.
        #expect(Fixtures.failure(verifier.verify(Fixtures.token(.rs256), now: now)) == .unknownKey)
        // No default for HS256 in this set.
        #expect(
            Fixtures.failure(verifier.verify(try Fixtures.minter(.hs256).mint(Fixtures.claims()), now: now))
                == .algorithmNotAllowed)
    }

    @Test func hmacKeysRefuseEmptySecretsAndCheckTheWholeMAC() throws {
        #expect(throws: CryptoError.self) { try HMACKey(SecretBytes([UInt8]()), digest: .sha256) }
        let parts = Fixtures.token(.hs256).split(separator: ".")
        let signingInput = Array("\(parts[0]).\(parts[1])".utf8)
        let signature = try #require(Base64.urlDecoded(String(parts[2])))
        let key = try HMACKey(SecretBytes(Fixtures.hmacSecret), digest: .sha256)
        let verifies = { (signature: [UInt8]) in
            signingInput.withUnsafeBytes { key.verify(signature: signature, message: $0) }
        }
        #expect(verifies(signature))
        var flipped = signature
        flipped[31] ^= 0x01
        #expect(!verifies(flipped))
        #expect(!verifies(Array(signature.prefix(16))))
        // The same secret keyed for HS384 makes a different, longer MAC.
        let longer = try HMACKey(SecretBytes(Fixtures.hmacSecret), digest: .sha384)
        #expect(!signingInput.withUnsafeBytes { longer.verify(signature: signature, message: $0) })
    }

    @Test func ecdsaSignatureOfTheWrongLengthIsABadSignature() throws {
        let token = Fixtures.token(.es256)
        let parts = token.split(separator: ".")
        let raw = Base64.urlDecoded(String(parts[2]))!
        #expect(raw.count == 64)
        for signature in [Array(raw.prefix(63)), raw + [0], ECDSASignature.der(fromRaw: raw, coordinateSize: 32)!] {
            let altered = "\(parts[0]).\(parts[1]).\(Base64.urlEncoded(signature))"
            #expect(Fixtures.failure(Fixtures.verifier().verify(altered, now: now)) == .badSignature)
        }
    }
}
