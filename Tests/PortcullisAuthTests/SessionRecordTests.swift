import Testing

@testable import PortcullisAuth

@Suite struct SessionRecordTests {
    // 2026-09-01T12:00:00.000Z
    let expires: Int64 = 1_788_264_000

    @Test func passportUserAndCookieExpiryAreRead() throws {
        let json =
            #"{"cookie":{"originalMaxAge":86400000,"expires":"2026-09-01T12:00:00.000Z","secure":true,"httpOnly":true,"path":"/","sameSite":"lax"},"passport":{"user":"42"}}"#
        let record = try SessionRecord.parse(json: json, userField: "passport.user", now: Double(expires - 60)).get()
        #expect(record == SessionRecord(userId: "42", expiresAt: expires))
        let identity = record.identity(sessionId: "sid-1")
        #expect(identity.subject == "42")
        #expect(identity.source == .session)
        #expect(identity.sessionId == "sid-1")
        #expect(identity.claimsJSON == #"{"sub":"42","exp":\#(expires)}"#)
    }

    @Test func numericUserIdsAreKeptAsWritten() throws {
        let json = #"{"cookie":{"originalMaxAge":null,"expires":null},"user":{"id":1234567890123}}"#
        let record = try SessionRecord.parse(json: json, userField: "user.id", now: 0).get()
        #expect(record == SessionRecord(userId: "1234567890123", expiresAt: nil))
    }

    @Test func expiredSessionIsRejected() {
        let json = #"{"cookie":{"expires":"2026-09-01T12:00:00.000Z"},"passport":{"user":"42"}}"#
        let result = SessionRecord.parse(json: json, userField: "passport.user", now: Double(expires))
        guard case .failure(let failure) = result else {
            Issue.record("expired session accepted")
            return
        }
        #expect(failure.code == .sessionExpired)
        #expect(failure.wwwAuthenticate == nil)
    }

    @Test(arguments: [
        #"{"cookie":{},"passport":{}}"#,  // logged out
        #"{"cookie":{},"passport":{"user":""}}"#,
        #"{"cookie":{},"passport":{"user":null}}"#,
        #"{"cookie":{},"passport":{"user":{"id":1}}}"#,
        #"{"cookie":{"expires":"tomorrow"},"passport":{"user":"1"}}"#,
        #"{"cookie":{"expires":12},"passport":{"user":"1"}}"#,
        "not json", "[]",
    ])
    func sessionsWithoutAUserOrWithUnreadableFieldsAreRejected(json: String) {
        let result = SessionRecord.parse(json: json, userField: "passport.user", now: 0)
        #expect(Fixtures.failure(result) == .noSession)
    }

    @Test func iso8601TimestampsAsJavaScriptWritesThem() {
        #expect(ISO8601.milliseconds("1970-01-01T00:00:00.000Z") == 0)
        #expect(ISO8601.milliseconds("2026-09-01T12:00:00.000Z") == 1_788_264_000_000)
        #expect(ISO8601.milliseconds("2026-09-01T12:00:00.250Z") == 1_788_264_000_250)
        #expect(ISO8601.milliseconds("2026-09-01T12:00:00Z") == 1_788_264_000_000)
        #expect(ISO8601.milliseconds("2026-09-01T14:00:00.000+02:00") == 1_788_264_000_000)
        #expect(ISO8601.milliseconds("2024-02-29T00:00:00.000Z") == 1_709_164_800_000)
        #expect(ISO8601.milliseconds("1969-12-31T23:59:59.000Z") == -1000)
        for bad in ["2026-09-01", "2026-13-01T00:00:00Z", "2026-09-01T12:00:00.Z", "2026-09-01T12:00:00.000", "x"] {
            #expect(ISO8601.milliseconds(bad) == nil, "\(bad)")
        }
    }
}
