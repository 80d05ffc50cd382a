import Testing

@testable import PortcullisAuth

@Suite struct KeySetTests {
    private func jwks(_ name: String, _ keys: String) -> String {
        Fixtures.write(name, #"{"keys":[\#(keys)]}"#)
    }

    private func loadError(_ sources: [KeySource]) -> KeySetError? {
        do {
            _ = try KeySet.load(sources)
            return nil
        } catch {
            return error
        }
    }

    private var rsaJWK: JSONObject { Fixtures.rsa.publicJWKObject! }

    private func rsaJWKText(removing: [String] = [], adding: [String: String] = [:]) -> String {
        var jwk = rsaJWK
        for name in removing { jwk[name] = nil }
        for (name, value) in adding { jwk[name] = .string(value) }
        return JSONValue.object(jwk).serialized()
    }

    @Test func fixtureSetLoadsEveryKeyType() {
        let keys = Fixtures.keySet
        #expect(keys.count == 5)
        #expect(Set(keys.entries.map(\.algorithm)) == [.rs256, .es256, .es384, .es512, .hs256])
        #expect(keys.key(id: "rsa-1")?.algorithm == .rs256)
        #expect(keys.warnings.isEmpty)
    }

    @Test func jwkWithoutAlgIsRefusedUnlessTheSourcePinsOne() throws {
        let path = jwks("no-alg.json", rsaJWKText(removing: ["alg"]))
        let error = loadError([KeySource(kind: .jwks, path: path)])
        #expect(error?.code == .missingAlgorithm)
        #expect(error?.description.hasPrefix(path + ": key 0 (kid \"rsa-1\"): ") == true)
        let pinned = try KeySet.load([KeySource(kind: .jwks, path: path, algorithm: .rs256)])
        #expect(pinned.key(id: "rsa-1")?.algorithm == .rs256)
        #expect(loadError([KeySource(kind: .jwks, path: path, algorithm: .es256)])?.code == .invalidKey)
    }

    @Test func jwkAlgMustAgreeWithThePinnedAlg() {
        let path = jwks("disagree.json", rsaJWKText())
        #expect(loadError([KeySource(kind: .jwks, path: path, algorithm: .rs384)])?.code == .invalidKey)
    }

    @Test func encryptionAndUnsupportedKeysAreSkippedWithAWarning() throws {
        let enc = rsaJWKText(adding: ["use": "enc", "kid": "enc-1"])
        let pss = rsaJWKText(adding: ["alg": "PS256", "kid": "pss-1"])
        let wrap = rsaJWKText(adding: ["alg": "RSA-OAEP", "kid": "oaep-1"])
        let keys = try KeySet.load([
            KeySource(kind: .jwks, path: jwks("mixed.json", [enc, pss, wrap, rsaJWKText()].joined(separator: ",")))
        ])
        #expect(keys.count == 1)
        #expect(keys.warnings.count == 3)
        #expect(keys.warnings[0].contains("key 0 (kid \"enc-1\")"))
        let none = jwks("unusable.json", [enc, pss].joined(separator: ","))
        #expect(loadError([KeySource(kind: .jwks, path: none)])?.code == .noUsableKeys)
    }

    @Test func privateMembersAreIgnored() throws {
        let withPrivate = rsaJWKText(adding: ["d": "AQAB", "p": "AQAB", "q": "AQAB"])
        let keys = try KeySet.load([KeySource(kind: .jwks, path: jwks("private.json", withPrivate))])
        #expect(keys.count == 1)
    }

    @Test func ecKeyMustBeOnTheCurveItsAlgorithmNames() {
        var jwk = Fixtures.ec256.publicJWKObject!
        jwk["alg"] = .string("ES384")
        let wrongCurve = jwks("wrong-curve.json", JSONValue.object(jwk).serialized())
        #expect(loadError([KeySource(kind: .jwks, path: wrongCurve)])?.code == .invalidKey)
        var offCurve = Fixtures.ec256.publicJWKObject!
        var y = Base64.urlDecoded(offCurve["y"]!.stringValue!)!
        y[31] ^= 0x01
        offCurve["y"] = .string(Base64.urlEncoded(y))
        let error = loadError([
            KeySource(kind: .jwks, path: jwks("off-curve.json", JSONValue.object(offCurve).serialized()))
        ])
        #expect(error?.code == .invalidKey)
        #expect(error?.message.contains("not a point") == true)
    }

    @Test func ktyMustMatchTheAlgorithm() {
        let path = jwks("kty.json", rsaJWKText(adding: ["alg": "ES256"]))
        #expect(loadError([KeySource(kind: .jwks, path: path)])?.code == .invalidKey)
    }

    @Test func smallRSAKeysAndShortSecretsAreWeak() throws {
        let small = try EVPKey.generateRSA(bits: 1024)
        var jwk = JSONObject(try small.publicJWKMembers())
        jwk["alg"] = .string("RS256")
        jwk["kid"] = .string("small")
        #expect(
            loadError([KeySource(kind: .jwks, path: jwks("small.json", JSONValue.object(jwk).serialized()))])?.code
                == .weakKey)
        let shortOct =
            #"{"kty":"oct","alg":"HS256","kid":"short","k":"\#(Base64.urlEncoded([UInt8](repeating: 7, count: 31)))"}"#
        #expect(loadError([KeySource(kind: .jwks, path: jwks("short-oct.json", shortOct))])?.code == .weakKey)
        let hs512 =
            #"{"kty":"oct","alg":"HS512","kid":"hs512","k":"\#(Base64.urlEncoded([UInt8](repeating: 7, count: 32)))"}"#
        #expect(loadError([KeySource(kind: .jwks, path: jwks("hs512.json", hs512))])?.code == .weakKey)
    }

    @Test func secretFilesAreTrimmedAndChecked() throws {
        let good = Fixtures.write("hs.secret", String(repeating: "k", count: 32) + "\n")
        let keys = try KeySet.load([KeySource(kind: .secret, path: good, algorithm: .hs256, keyID: "s1")])
        if case .secret(let secret) = keys.key(id: "s1")!.material {
            #expect(secret.secret.count == 32)
        } else {
            Issue.record("not a secret")
        }
        let crlf = Fixtures.write("crlf.secret", String(repeating: "k", count: 32) + "\r\n")
        #expect(loadError([KeySource(kind: .secret, path: crlf, algorithm: .hs256, keyID: "s2")]) == nil)
        let empty = Fixtures.write("empty.secret", "\n")
        #expect(loadError([KeySource(kind: .secret, path: empty, algorithm: .hs256, keyID: "e")])?.code == .invalidFile)
        let short = Fixtures.write("short.secret", String(repeating: "k", count: 31) + "\n")
        #expect(loadError([KeySource(kind: .secret, path: short, algorithm: .hs256, keyID: "w")])?.code == .weakKey)
        #expect(loadError([KeySource(kind: .secret, path: good, keyID: "x")])?.code == .missingAlgorithm)
        #expect(
            loadError([KeySource(kind: .secret, path: good, algorithm: .rs256, keyID: "x")])?.code == .missingAlgorithm)
        let missing = loadError([
            KeySource(kind: .secret, path: "/nonexistent/hs.secret", algorithm: .hs256, keyID: "m")
        ])
        #expect(missing?.code == .unreadableFile)
        #expect(missing?.description.hasPrefix("/nonexistent/hs.secret: kid \"m\": cannot read") == true)
    }

    @Test func pemFilesMustHoldAPublicKeyOfTheRightType() {
        let privatePEM = Fixtures.write("private.pem", Fixtures.rsa.privateMaterial)
        let error = loadError([KeySource(kind: .pem, path: privatePEM, algorithm: .rs256, keyID: "p")])
        #expect(error?.code == .invalidFile)
        #expect(error?.message.contains("private key") == true)
        let publicPEM = Fixtures.write("public.pem", Fixtures.rsaPublicPEM)
        #expect(loadError([KeySource(kind: .pem, path: publicPEM, algorithm: .es256, keyID: "p")])?.code == .invalidKey)
        #expect(loadError([KeySource(kind: .pem, path: publicPEM, keyID: "p")])?.code == .missingAlgorithm)
        let garbage = Fixtures.write("garbage.pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
        #expect(loadError([KeySource(kind: .pem, path: garbage, algorithm: .rs256, keyID: "p")])?.code == .invalidFile)
    }

    @Test func keyIDsAreUniqueAcrossSources() {
        let pem = Fixtures.write("dup.pem", Fixtures.rsaPublicPEM)
        let error = loadError([
            KeySource(kind: .jwks, path: Fixtures.jwksPath),
            KeySource(kind: .pem, path: pem, algorithm: .rs256, keyID: "rsa-1"),
        ])
        #expect(error?.code == .duplicateKeyID)
        #expect(error?.message.contains(Fixtures.jwksPath) == true)
    }

    @Test func oneDefaultPerAlgorithmAndNoUnreachableKeys() {
        let pem = Fixtures.write("default.pem", Fixtures.rsaPublicPEM)
        let twoDefaults = loadError([
            KeySource(kind: .pem, path: pem, algorithm: .rs256, keyID: "a", isDefault: true),
            KeySource(kind: .pem, path: pem, algorithm: .rs256, keyID: "b", isDefault: true),
        ])
        #expect(twoDefaults?.code == .conflictingDefault)
        let unreachable = loadError([KeySource(kind: .pem, path: pem, algorithm: .rs256)])
        #expect(unreachable?.code == .conflictingDefault)
        let missingDefault = loadError([KeySource(kind: .jwks, path: Fixtures.jwksPath, keyID: "nope", isDefault: true)]
        )
        #expect(missingDefault?.code == .conflictingDefault)
    }

    @Test func defaultKidInAJWKSSelectsOneKey() throws {
        let keys = try KeySet.load([KeySource(kind: .jwks, path: Fixtures.jwksPath, keyID: "ec-256", isDefault: true)])
        #expect(keys.defaultKey(for: .es256)?.keyID == "ec-256")
        #expect(keys.defaultKey(for: .rs256) == nil)
    }

    @Test func filesThatAreNotJWKSetsAreRefused() {
        let notJSON = Fixtures.write("not.json", "keys: []")
        #expect(loadError([KeySource(kind: .jwks, path: notJSON)])?.code == .invalidFile)
        let single = Fixtures.write("single.json", rsaJWKText())
        #expect(loadError([KeySource(kind: .jwks, path: single)])?.code == .invalidFile)
        let badBase64 = jwks("bad-b64.json", rsaJWKText(adding: ["n": "not base64!"]))
        let error = loadError([KeySource(kind: .jwks, path: badBase64)])
        #expect(error?.code == .invalidKey)
        #expect(error?.message == "\"n\" is not base64url")
    }

    @Test func eachKeySetHasItsOwnGeneration() throws {
        let first = try KeySet.load([KeySource(kind: .jwks, path: Fixtures.jwksPath)])
        let second = try KeySet.load([KeySource(kind: .jwks, path: Fixtures.jwksPath)])
        #expect(first.generation != second.generation)
    }
}
