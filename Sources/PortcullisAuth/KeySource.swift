/// One place verification keys come from, as the configuration names it. A key set is
/// built from a list of these; the config layer decodes them, `KeySet.load` reads them.
///
/// | kind     | file contents                                  | `algorithm`          | `keyID`                           |
/// |----------|------------------------------------------------|----------------------|-----------------------------------|
/// | `jwks`   | a JWK Set (RFC 7517 §5): `{"keys": [...]}`      | pins keys without `alg` (and must agree with keys that have one) | with `isDefault`: the one default key |
/// | `pem`    | one public key, `BEGIN PUBLIC KEY` (RSA or EC) | required (RS*/ES*)   | the key's `kid`                   |
/// | `secret` | raw HMAC key bytes, one trailing newline trimmed | required (HS*)     | the key's `kid`                   |
///
/// A `pem` or `secret` key without `keyID` is reachable only as the default for its
/// algorithm, so it must have `isDefault`. `isDefault` on a `jwks` source makes every
/// key in it the default for its algorithm, or only the key named by `keyID`.
public struct KeySource: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case jwks
        case pem
        case secret
    }

    public var kind: Kind
    public var path: String
    public var algorithm: JWTAlgorithm?
    public var keyID: String?
    /// Used for tokens that carry no `kid`, per algorithm.
    public var isDefault: Bool

    public init(kind: Kind, path: String, algorithm: JWTAlgorithm? = nil, keyID: String? = nil, isDefault: Bool = false)
    {
        self.kind = kind
        self.path = path
        self.algorithm = algorithm
        self.keyID = keyID
        self.isDefault = isDefault
    }

    public var description: String { "\(kind.rawValue) \(path)" }
}
