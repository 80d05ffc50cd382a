import Testing

@testable import PortcullisAuth

/// Claim checks with an injected clock: leeway boundaries, scopes in every shape, and
/// what the identity carries.
@Suite struct JWTClaimsTests {
    let exp = Fixtures.now + 600

    private func verify(_ payload: String, policy: JWTPolicy = JWTPolicy(), now: Double) -> Result<
        Identity, AuthFailure
    > {
        let token = Fixtures.raw(.hs256, header: #"{"alg":"HS256","kid":"hs-1"}"#, payload: payload)
        return Fixtures.verifier(policy).verify(token, now: now)
    }

    @Test func expiryHonoursTheLeewayUpToTheSecond() {
        let payload = #"{"sub":"a","exp":\#(exp)}"#
        let policy = JWTPolicy(leeway: 30)
        #expect(Fixtures.failure(verify(payload, policy: policy, now: Double(exp) + 29.999)) == nil)
        #expect(Fixtures.failure(verify(payload, policy: policy, now: Double(exp) + 30)) == .expired)
        let strict = JWTPolicy(leeway: 0)
        #expect(Fixtures.failure(verify(payload, policy: strict, now: Double(exp) - 0.001)) == nil)
        #expect(Fixtures.failure(verify(payload, policy: strict, now: Double(exp))) == .expired)
    }

    @Test func fractionalExpiryIsCompared() {
        let payload = #"{"sub":"a","exp":\#(exp).5}"#
        let strict = JWTPolicy(leeway: 0)
        #expect(Fixtures.failure(verify(payload, policy: strict, now: Double(exp) + 0.4)) == nil)
        #expect(Fixtures.failure(verify(payload, policy: strict, now: Double(exp) + 0.5)) == .expired)
        #expect((try? verify(payload, policy: strict, now: Double(exp)).get())?.expiresAt == exp)
    }

    @Test func notBeforeHonoursTheLeeway() {
        let nbf = Fixtures.now + 100
        let payload = #"{"sub":"a","exp":\#(exp),"nbf":\#(nbf)}"#
        let policy = JWTPolicy(leeway: 30)
        #expect(Fixtures.failure(verify(payload, policy: policy, now: Double(nbf - 31))) == .notYetValid)
        #expect(Fixtures.failure(verify(payload, policy: policy, now: Double(nbf - 30))) == nil)
    }

    @Test func issuedAtHonoursTheLeeway() {
        let iat = Fixtures.now + 100
        let payload = #"{"sub":"a","exp":\#(exp),"iat":\#(iat)}"#
        let policy = JWTPolicy(leeway: 30)
        #expect(Fixtures.failure(verify(payload, policy: policy, now: Double(iat - 31))) == .issuedInFuture)
        #expect(Fixtures.failure(verify(payload, policy: policy, now: Double(iat - 30))) == nil)
    }

    @Test func leewayIsClampedToFiveMinutes() {
        #expect(JWTPolicy(leeway: 3600).leeway == 300)
        #expect(JWTPolicy(leeway: -5).leeway == 0)
        var policy = JWTPolicy()
        policy.leeway = 900
        #expect(policy.leeway == 300)
    }

    @Test(arguments: [
        (#""scope":"chat:read  chat:write chat:read""#, ["chat:read", "chat:write"]),
        (#""scp":["chat:read","chat:write"]"#, ["chat:read", "chat:write"]),
        (#""scp":"chat:read chat:write""#, ["chat:read", "chat:write"]),
        (#""scopes":["chat:read"]"#, ["chat:read"]),
        (#""scope":"a","scp":["b"],"scopes":["c"]"#, ["a"]),
        (#""scp":["a",7]"#, []),
        (#""scope":42"#, []),
        (#""scope":null,"scp":["b"]"#, ["b"]),
        (#""other":1"#, []),
    ])
    func scopesAreReadInEveryShape(members: String, expected: [String]) throws {
        let identity = try verify(#"{"sub":"a","exp":\#(exp),\#(members)}"#, now: Double(Fixtures.now)).get()
        #expect(identity.scopes == expected)
    }

    @Test func requiredScopesAreAllOfAndAnswer403() {
        let payload = #"{"sub":"a","exp":\#(exp),"scope":"chat:read"}"#
        let policy = JWTPolicy(requiredScopes: ["chat:read", "chat:write"])
        let result = verify(payload, policy: policy, now: Double(Fixtures.now))
        guard case .failure(let failure) = result else {
            Issue.record("missing scope accepted")
            return
        }
        #expect(failure.code == .insufficientScope)
        #expect(failure.httpStatus == 403)
        #expect(
            failure.wwwAuthenticate
                == #"Bearer error="insufficient_scope", error_description="insufficient scope", scope="chat:read chat:write""#
        )
        let enough = JWTPolicy(requiredScopes: ["chat:read"])
        #expect(Fixtures.failure(verify(payload, policy: enough, now: Double(Fixtures.now))) == nil)
    }

    @Test func copiedClaimsKeepStringsAndSerialiseTheRest() throws {
        let payload = #"{"sub":"a","exp":\#(exp),"tenant":"acme","level":7,"roles":["x","y"],"meta":{"k":true}}"#
        let policy = JWTPolicy(copiedClaims: ["tenant", "level", "roles", "meta", "absent"])
        let identity = try verify(payload, policy: policy, now: Double(Fixtures.now)).get()
        #expect(identity.claims == ["tenant": "acme", "level": "7", "roles": #"["x","y"]"#, "meta": #"{"k":true}"#])
        #expect(identity.claimsJSON == payload)
    }

    @Test func claimsJSONIsCompactAndExactlyWhatWasSigned() throws {
        let payload = "{ \"sub\" : \"a\",\n \"exp\" : \(exp), \"n\": 1.50e3, \"u\": \"caf\\u00e9 \\ud83d\\ude00\" }"
        let identity = try verify(payload, now: Double(Fixtures.now)).get()
        #expect(identity.claimsJSON == #"{"sub":"a","exp":\#(exp),"n":1.50e3,"u":"café 😀"}"#)
    }

    @Test func tokenIdIsExposedForRevocation() throws {
        let identity = try verify(#"{"sub":"a","exp":\#(exp),"jti":"t-1"}"#, now: Double(Fixtures.now)).get()
        #expect(identity.tokenId == "t-1")
    }
}
