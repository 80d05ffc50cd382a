import COpenSSL

/// An HMAC key prepared once at load: an OpenSSL MAC context keyed and bound to its
/// digest, which every verification duplicates instead of keying afresh. Under OpenSSL 3
/// the one-shot `HMAC()` fetches the algorithm and hashes the key's pads on every call;
/// the duplicate starts from the padded state, so a verification costs the MAC itself.
///
/// The template is never updated after init; duplicating reads it only, so one key serves
/// every thread.
final class HMACKey: @unchecked Sendable {
    // Unchecked: `template` is written in init only; EVP_MAC_CTX_dup takes it as const.
    let secret: SecretBytes
    private let template: OpaquePointer
    let size: Int

    /// Fetched once; OpenSSL documents fetched algorithms as immutable and shareable.
    nonisolated(unsafe) private static let mac: OpaquePointer = {
        guard let mac = EVP_MAC_fetch(nil, "HMAC", nil) else {
            fatalError("OpenSSL has no HMAC: \(CryptoError.openSSL("EVP_MAC_fetch"))")
        }
        return mac
    }()

    /// `secret` must not be empty (loading refuses short secrets long before this).
    init(_ secret: SecretBytes, digest: MessageDigest) throws(CryptoError) {
        guard secret.count > 0, let context = EVP_MAC_CTX_new(Self.mac) else {
            throw CryptoError.openSSL("EVP_MAC_CTX_new")
        }
        let keyed = digest.name.withCString { name in
            var parameters = [
                OSSL_PARAM_construct_utf8_string("digest", UnsafeMutablePointer(mutating: name), 0),
                OSSL_PARAM_construct_end(),
            ]
            return secret.withUnsafeBytes { key in
                EVP_MAC_init(
                    context, key.baseAddress?.assumingMemoryBound(to: UInt8.self), key.count, &parameters)
            }
        }
        guard keyed == 1 else {
            EVP_MAC_CTX_free(context)
            throw CryptoError.openSSL("EVP_MAC_init")
        }
        self.secret = secret
        self.template = context
        self.size = digest.size
    }

    deinit {
        EVP_MAC_CTX_free(template)
    }

    /// Whether `signature` is the MAC of `message`, compared in constant time.
    func verify(signature: [UInt8], message: UnsafeRawBufferPointer) -> Bool {
        guard signature.count == size, let context = EVP_MAC_CTX_dup(template) else { return false }
        defer { EVP_MAC_CTX_free(context) }
        var mac = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        return withUnsafeMutableBytes(of: &mac) { output in
            var length = 0
            guard
                EVP_MAC_update(context, message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count)
                    == 1,
                EVP_MAC_final(
                    context, output.baseAddress?.assumingMemoryBound(to: UInt8.self), &length, output.count) == 1,
                length == size
            else { return false }
            return signature.withUnsafeBytes {
                constantTimeEquals($0, UnsafeRawBufferPointer(rebasing: output[0..<size]))
            }
        }
    }
}
