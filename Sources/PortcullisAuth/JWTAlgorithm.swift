/// One JWS algorithm this edge accepts (RFC 7518 §3.1), each key pinned to exactly one.
/// `none` and the RSASSA-PSS / EdDSA families are deliberately absent.
public struct JWTAlgorithm: Sendable, Hashable, CustomStringConvertible {
    enum Family: Sendable, Hashable {
        case hmac
        case rsa
        case ecdsa
    }

    /// The JOSE name, exactly as written in `alg` (`RS256`).
    public let name: String
    let family: Family
    /// SHA-256, -384 or -512, by the number in the name.
    let digestBits: Int

    private init(_ name: String, _ family: Family, _ digestBits: Int) {
        self.name = name
        self.family = family
        self.digestBits = digestBits
    }

    public static let hs256 = JWTAlgorithm("HS256", .hmac, 256)
    public static let hs384 = JWTAlgorithm("HS384", .hmac, 384)
    public static let hs512 = JWTAlgorithm("HS512", .hmac, 512)
    public static let rs256 = JWTAlgorithm("RS256", .rsa, 256)
    public static let rs384 = JWTAlgorithm("RS384", .rsa, 384)
    public static let rs512 = JWTAlgorithm("RS512", .rsa, 512)
    public static let es256 = JWTAlgorithm("ES256", .ecdsa, 256)
    public static let es384 = JWTAlgorithm("ES384", .ecdsa, 384)
    public static let es512 = JWTAlgorithm("ES512", .ecdsa, 512)

    public static let all: [JWTAlgorithm] = [.hs256, .hs384, .hs512, .rs256, .rs384, .rs512, .es256, .es384, .es512]

    /// The algorithm named exactly `name` (case-sensitive: `hs256` and `NONE` are not
    /// algorithms), or nil.
    public init?(name: String) {
        guard let match = Self.all.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    public var description: String { name }

    /// HMAC algorithms share a secret; RSA and ECDSA verify with a public key.
    public var isSymmetric: Bool { family == .hmac }

    var digest: MessageDigest {
        switch digestBits {
        case 256: .sha256
        case 384: .sha384
        default: .sha512
        }
    }

    /// ECDSA: the JOSE curve name (`crv`) this algorithm is defined over.
    var curve: String? {
        guard family == .ecdsa else { return nil }
        switch digestBits {
        case 256: return "P-256"
        case 384: return "P-384"
        default: return "P-521"
        }
    }

    /// ECDSA: the byte length of each of R and S in a JWS signature (RFC 7518 §3.4).
    var coordinateSize: Int {
        switch digestBits {
        case 256: 32
        case 384: 48
        default: 66
        }
    }

    /// HMAC: the shortest key RFC 7518 §3.2 allows (the hash size).
    var minimumSecretLength: Int { digestBits / 8 }
}
