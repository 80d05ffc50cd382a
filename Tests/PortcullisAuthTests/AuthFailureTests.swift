import Testing

@testable import PortcullisAuth

@Suite struct AuthFailureTests {
    @Test func bearerChallengesFollowRFC6750() {
        #expect(AuthFailure(.missingToken, "none").wwwAuthenticate == "Bearer")
        #expect(AuthFailure(.missingToken, "none").httpStatus == 401)
        #expect(
            AuthFailure(.badSignature, "kid \"x\"").wwwAuthenticate
                == #"Bearer error="invalid_token", error_description="invalid signature""#)
        #expect(AuthFailure(.unknownKey, "kid \"evil\"").httpStatus == 401)
        let scope = AuthFailure(.insufficientScope, "missing", requiredScopes: ["a", "b\"c", ""])
        #expect(scope.httpStatus == 403)
        #expect(
            scope.wwwAuthenticate
                == #"Bearer error="insufficient_scope", error_description="insufficient scope", scope="a""#)
    }

    @Test func originAndSessionFailuresCarryNoBearerChallenge() {
        #expect(AuthFailure(.originNotAllowed, "x").httpStatus == 403)
        #expect(AuthFailure(.originNotAllowed, "x").wwwAuthenticate == nil)
        #expect(AuthFailure(.badCookie, "x").wwwAuthenticate == nil)
        #expect(AuthFailure(.sessionExpired, "x").httpStatus == 401)
    }

    @Test func theChallengeNeverEchoesClientInput() {
        let token = Fixtures.raw(
            .rs256, header: #"{"alg":"RS256","kid":"\" , evil=\"1"}"#, payload: #"{"sub":"a","exp":1}"#)
        let result = Fixtures.verifier().verify(token, now: Double(Fixtures.now))
        guard case .failure(let failure) = result else {
            Issue.record("accepted")
            return
        }
        #expect(failure.wwwAuthenticate == #"Bearer error="invalid_token", error_description="unknown key""#)
        #expect(failure.description.hasPrefix("unknown_kid: kid "))
    }

    @Test func quotingEscapesAndTruncates() {
        #expect(AuthFailure.quoted("a\"b\\c\n\u{1b}[31m") == #""a\"b\\c\u{a}\u{1b}[31m""#)
        #expect(AuthFailure.quoted(String(repeating: "x", count: 100)).count == 64 + 3)
    }

    @Test func codesAreStableMetricLabels() {
        let codes: [AuthFailure.Code] = [
            .missingToken, .malformed, .unsupportedToken, .algorithmNotAllowed, .unknownKey, .criticalHeader, .badType,
            .badSignature, .missingClaim, .invalidClaim, .expired, .notYetValid, .issuedInFuture, .wrongIssuer,
            .wrongAudience, .insufficientScope, .revoked, .badCookie, .noSession, .sessionExpired, .originNotAllowed,
        ]
        #expect(Set(codes.map(\.description)).count == codes.count)
        #expect(codes.allSatisfy { $0.description.allSatisfy { $0.isLowercase || $0 == "_" } })
        #expect(AuthFailure.Code.expired.description == "expired")
        #expect(AuthFailure.Code.badSignature.description == "bad_signature")
        #expect(AuthFailure.Code.unknownKey.description == "unknown_kid")
    }
}
