/// One loaded key, pinned to exactly one algorithm. Immutable; the material is parsed
/// once at load (an `EVP_PKEY` for RSA/EC, wiped bytes for HMAC).
final class VerificationKey: Sendable {
    enum Material: Sendable {
        case secret(HMACKey)
        case publicKey(EVPKey)
    }

    let keyID: String?
    let algorithm: JWTAlgorithm
    let material: Material
    let isDefault: Bool
    /// The file it came from, for `keys list` and error messages.
    let file: String

    /// HMAC material for `algorithm`, keyed once here.
    static func hmac(_ secret: [UInt8], _ algorithm: JWTAlgorithm) throws(CryptoError) -> Material {
        .secret(try HMACKey(SecretBytes(secret), digest: algorithm.digest))
    }

    init(keyID: String?, algorithm: JWTAlgorithm, material: Material, isDefault: Bool, file: String) {
        self.keyID = keyID
        self.algorithm = algorithm
        self.material = material
        self.isDefault = isDefault
        self.file = file
    }
}
