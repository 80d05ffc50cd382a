/// The bearer key of an API the edge serves itself (the publish API on the admin
/// listener), and the one way to check a presented key against it.
///
/// Only the key's SHA-256 digest is kept, in a buffer wiped when the key goes away (a
/// reload drops the old one), and a presented key is compared by its digest with
/// `CRYPTO_memcmp`: the time taken says neither how long the key is nor where a guess
/// first differs from it.
public final class BearerKey: Sendable {
    private let digest: SecretBytes

    public init(_ key: String) {
        self.digest = SecretBytes(MessageDigest.sha256.digest(Array(key.utf8)))
    }

    /// Whether `presented` (the token of an `Authorization: Bearer` header) is the key.
    public func matches(_ presented: String) -> Bool {
        let candidate = MessageDigest.sha256.digest(Array(presented.utf8))
        return digest.withUnsafeBytes { key in
            candidate.withUnsafeBytes { constantTimeEquals(key, $0) }
        }
    }
}
