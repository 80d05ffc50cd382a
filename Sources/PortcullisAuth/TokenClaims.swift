/// The payload of a token to mint. Registered claims are typed; anything else goes
/// through `setClaim`.
public struct TokenClaims: Sendable, Hashable {
    public var subject: String
    /// Written as one space-delimited `scope` string (RFC 8693 §4.2); omitted when empty.
    public var scopes: [String]
    public var issuedAt: Int64
    public var expiresAt: Int64
    public var notBefore: Int64?
    public var issuer: String?
    public var audience: String?
    public var tokenId: String?
    private(set) var extra = JSONObject()

    public init(
        subject: String, scopes: [String] = [], issuedAt: Int64, expiresAt: Int64, notBefore: Int64? = nil,
        issuer: String? = nil, audience: String? = nil, tokenId: String? = nil
    ) {
        self.subject = subject
        self.scopes = scopes
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.notBefore = notBefore
        self.issuer = issuer
        self.audience = audience
        self.tokenId = tokenId
    }

    /// Adds claim `name`. `value` is taken as JSON when it is valid JSON (`42`, `true`,
    /// `["a","b"]`, `"quoted"`), else as a plain string — so `role=admin` is a string and
    /// `tenant=42` a number; write `tenant='"42"'` for the string. Registered claims set
    /// through the typed properties win over the same name here.
    public mutating func setClaim(_ name: String, value: String) {
        extra[name] = JSONValue.parse(value) ?? .string(value)
    }

    /// The payload as a JSON object: registered claims first, then extras.
    var json: JSONObject {
        var object = JSONObject()
        if let issuer { object["iss"] = .string(issuer) }
        object["sub"] = .string(subject)
        if let audience { object["aud"] = .string(audience) }
        object["iat"] = .number(String(issuedAt))
        if let notBefore { object["nbf"] = .number(String(notBefore)) }
        object["exp"] = .number(String(expiresAt))
        if let tokenId { object["jti"] = .string(tokenId) }
        if !scopes.isEmpty { object["scope"] = .string(scopes.joined(separator: " ")) }
        for member in extra.members where object[member.name] == nil {
            object[member.name] = member.value
        }
        return object
    }
}
