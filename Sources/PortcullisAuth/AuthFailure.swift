/// Why a request was not authenticated, in the three forms the edge needs: a bounded
/// reason code for metrics and logs (`expired`, `bad_signature`), the HTTP status, and
/// the RFC 6750 `WWW-Authenticate` value.
///
/// `message` is for operators' logs. It may quote short, escaped pieces of what the
/// client sent (a `kid`, an issuer) but never key material or whole tokens. The header
/// value uses a fixed description per code, so nothing the client sent is echoed back.
public struct AuthFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The reason, usable as a metric label: a fixed, small set of snake_case strings.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case missingToken = "missing_token"
            case malformed = "malformed"
            case unsupportedToken = "unsupported_token"
            case algorithmNotAllowed = "alg_not_allowed"
            case unknownKey = "unknown_kid"
            case criticalHeader = "crit_unsupported"
            case badType = "bad_typ"
            case badSignature = "bad_signature"
            case missingClaim = "missing_claim"
            case invalidClaim = "invalid_claim"
            case expired = "expired"
            case notYetValid = "not_yet_valid"
            case issuedInFuture = "iat_in_future"
            case wrongIssuer = "bad_issuer"
            case wrongAudience = "bad_audience"
            case insufficientScope = "insufficient_scope"
            case revoked = "revoked"
            case badCookie = "bad_cookie"
            case noSession = "no_session"
            case sessionExpired = "session_expired"
            case originNotAllowed = "origin_not_allowed"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// No credential was found in any of the route's token sources.
        public static let missingToken = Code(.missingToken)
        /// Not a compact JWS: size, parts, base64url or JSON are wrong.
        public static let malformed = Code(.malformed)
        /// A JWE (five parts); the edge accepts signed tokens only.
        public static let unsupportedToken = Code(.unsupportedToken)
        /// `alg` is `none`, unknown, or not the one algorithm the chosen key is pinned to.
        public static let algorithmNotAllowed = Code(.algorithmNotAllowed)
        /// `kid` names no key, or no default key exists for a token without `kid`.
        public static let unknownKey = Code(.unknownKey)
        /// The header has `crit`; no extension is understood.
        public static let criticalHeader = Code(.criticalHeader)
        /// `typ` is not `JWT` (or `at+jwt` with an asymmetric key).
        public static let badType = Code(.badType)
        /// The signature does not verify with the chosen key.
        public static let badSignature = Code(.badSignature)
        /// A required claim (`exp`, `sub`) is absent.
        public static let missingClaim = Code(.missingClaim)
        /// A claim has the wrong JSON type (`exp` as a string, `aud` as a number).
        public static let invalidClaim = Code(.invalidClaim)
        /// `now >= exp + leeway`.
        public static let expired = Code(.expired)
        /// `now < nbf - leeway`.
        public static let notYetValid = Code(.notYetValid)
        /// `iat > now + leeway`.
        public static let issuedInFuture = Code(.issuedInFuture)
        /// `iss` is not one of the configured issuers.
        public static let wrongIssuer = Code(.wrongIssuer)
        /// `aud` contains none of the configured audiences.
        public static let wrongAudience = Code(.wrongAudience)
        /// The token is valid but lacks a scope the route requires (403).
        public static let insufficientScope = Code(.insufficientScope)
        /// The token's `jti` or subject was revoked (checked by the caller).
        public static let revoked = Code(.revoked)
        /// A session cookie is unsigned or its signature matches no secret.
        public static let badCookie = Code(.badCookie)
        /// The session does not exist or has no user (logged out).
        public static let noSession = Code(.noSession)
        /// The session record's `cookie.expires` is in the past.
        public static let sessionExpired = Code(.sessionExpired)
        /// `Origin` is missing (browser routes) or not in the allow-list (403).
        public static let originNotAllowed = Code(.originNotAllowed)

        public var description: String { base.rawValue }

        /// The fixed RFC 6750 `error_description` text, nil for codes that are not
        /// bearer-token failures.
        fileprivate var bearerDescription: String? {
            switch base {
            case .missingToken, .badCookie, .noSession, .sessionExpired, .originNotAllowed: nil
            case .malformed: "malformed token"
            case .unsupportedToken: "encrypted tokens are not accepted"
            case .algorithmNotAllowed: "algorithm not allowed"
            case .unknownKey: "unknown key"
            case .criticalHeader: "unsupported critical header"
            case .badType: "token type not accepted"
            case .badSignature: "invalid signature"
            case .missingClaim: "missing required claim"
            case .invalidClaim: "invalid claim"
            case .expired: "token expired"
            case .notYetValid: "token not yet valid"
            case .issuedInFuture: "token issued in the future"
            case .wrongIssuer: "issuer not accepted"
            case .wrongAudience: "audience not accepted"
            case .insufficientScope: "insufficient scope"
            case .revoked: "token revoked"
            }
        }
    }

    public var code: Code
    /// For logs; see the type's comment for what it may contain.
    public var message: String
    /// For `insufficientScope`: the scopes the route requires, sent in the `scope`
    /// attribute of the challenge (RFC 6750 §3).
    public var requiredScopes: [String]

    public init(_ code: Code, _ message: String, requiredScopes: [String] = []) {
        self.code = code
        self.message = message
        self.requiredScopes = requiredScopes
    }

    /// 403 for a valid credential that is not enough (scope) and for a refused Origin;
    /// 401 for everything else.
    public var httpStatus: Int {
        code == .insufficientScope || code == .originNotAllowed ? 403 : 401
    }

    /// The `WWW-Authenticate` response header value, or nil when the failure is not
    /// about a bearer token (cookies, sessions, Origin). A missing token gets the bare
    /// `Bearer` challenge (RFC 6750 §3.1: no error code when no credential was sent).
    public var wwwAuthenticate: String? {
        if code == .missingToken { return "Bearer" }
        guard let description = code.bearerDescription else { return nil }
        if code == .insufficientScope {
            var value = "Bearer error=\"insufficient_scope\", error_description=\"\(description)\""
            let scopes = requiredScopes.filter(Self.isScopeToken)
            if !scopes.isEmpty {
                value += ", scope=\"\(scopes.joined(separator: " "))\""
            }
            return value
        }
        return "Bearer error=\"invalid_token\", error_description=\"\(description)\""
    }

    public var description: String { "\(code): \(message)" }

    /// RFC 6749 scope-token characters, so a configured scope cannot break the header.
    private static func isScopeToken(_ scope: String) -> Bool {
        !scope.isEmpty
            && scope.utf8.allSatisfy { $0 == 0x21 || (0x23...0x5B).contains($0) || (0x5D...0x7E).contains($0) }
    }
}

extension AuthFailure {
    /// Quotes client-supplied text for `message`: at most 64 characters, printable ASCII
    /// only, so a hostile `kid` cannot forge log lines.
    static func quoted(_ text: String) -> String {
        var output = "\""
        for (position, scalar) in text.unicodeScalars.enumerated() {
            if position == 64 {
                output += "…"
                break
            }
            switch scalar {
            case "\"", "\\": output += "\\" + String(scalar)
            case " "..."~": output.unicodeScalars.append(scalar)
            default: output += "\\u{\(String(scalar.value, radix: 16))}"
            }
        }
        return output + "\""
    }
}
