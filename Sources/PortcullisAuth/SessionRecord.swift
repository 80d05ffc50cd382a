/// A connect-redis session record (`GET sess:<sid>`, the JSON express-session stored),
/// reduced to what the edge needs: who the user is and when the session ends. The Redis
/// lookup is the caller's; this only reads the JSON.
public struct SessionRecord: Sendable, Hashable {
    /// The user id, as text (numbers keep their JSON spelling).
    public var userId: String
    /// `cookie.expires` in whole seconds since the epoch (rounded down); nil for a
    /// browser-session cookie (`"expires": null`).
    public var expiresAt: Int64?

    public init(userId: String, expiresAt: Int64?) {
        self.userId = userId
        self.expiresAt = expiresAt
    }

    /// Reads a stored session at time `now` (seconds since the epoch).
    ///
    /// - `userField`: dotted path to the user id (`passport.user`, `user.id`); a string
    ///   or number there is the user, anything else (absent, null, empty) means nobody is
    ///   logged in: `no_session`.
    /// - `cookie.expires` (ISO 8601, as `Date.toJSON` writes it) in the past:
    ///   `session_expired`. Unreadable JSON or an unreadable date: `no_session`.
    public static func parse(json: String, userField: String, now: Double) -> Result<SessionRecord, AuthFailure> {
        guard let object = JSONValue.parse(json)?.objectValue else {
            return .failure(AuthFailure(.noSession, "the session record is not a JSON object"))
        }
        let user: String
        switch object.value(atPath: userField) {
        case .string(let text) where !text.isEmpty: user = text
        case .number(let text): user = text
        default: return .failure(AuthFailure(.noSession, "the session has no user at \(userField)"))
        }
        var expiresAt: Int64?
        switch object.value(atPath: "cookie.expires") {
        case nil, .null?:
            break
        case .string(let text)?:
            guard let milliseconds = ISO8601.milliseconds(text) else {
                return .failure(AuthFailure(.noSession, "cookie.expires is not an ISO 8601 date"))
            }
            guard now * 1000 < Double(milliseconds) else {
                return .failure(AuthFailure(.sessionExpired, "the session expired"))
            }
            expiresAt = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        default:
            return .failure(AuthFailure(.noSession, "cookie.expires is not a string"))
        }
        return .success(SessionRecord(userId: user, expiresAt: expiresAt))
    }

    /// The identity for this session. `claimsJSON` carries only `sub` (and `exp`), never
    /// the stored session, which may hold CSRF secrets and other server-side state.
    public func identity(sessionId: String) -> Identity {
        var claims = JSONObject()
        claims["sub"] = .string(userId)
        if let expiresAt { claims["exp"] = .number(String(expiresAt)) }
        return Identity(
            subject: userId, expiresAt: expiresAt, source: .session, sessionId: sessionId,
            claimsJSON: JSONValue.object(claims).serialized())
    }
}
