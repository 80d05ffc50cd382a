import COpenSSL

/// A digest algorithm fetched from OpenSSL once, at first use, instead of on every call
/// as `EVP_sha256()` implies under OpenSSL 3. Shared by every thread: a fetched
/// `EVP_MD` is immutable and reference-counted by OpenSSL.
final class MessageDigest: @unchecked Sendable {
    // Unchecked: the handle is never mutated after the fetch; OpenSSL documents fetched
    // algorithm objects as safe to share between threads.
    let handle: OpaquePointer
    let size: Int
    /// OpenSSL's name for it, as MAC parameters take it.
    let name: String

    private init(name: String) {
        guard let handle = EVP_MD_fetch(nil, name, nil) else {
            fatalError("OpenSSL has no \(name) digest: \(CryptoError.openSSL("EVP_MD_fetch"))")
        }
        self.handle = handle
        self.name = name
        self.size = Int(EVP_MD_get_size(handle))
    }

    deinit {
        EVP_MD_free(handle)
    }

    /// Only for the WebSocket handshake (RFC 6455 fixes SHA-1 there); never for security.
    static let sha1 = MessageDigest(name: "SHA1")
    static let sha256 = MessageDigest(name: "SHA256")
    static let sha384 = MessageDigest(name: "SHA384")
    static let sha512 = MessageDigest(name: "SHA512")

    func digest(_ input: UnsafeRawBufferPointer) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: size)
        var length: UInt32 = 0
        let result = output.withUnsafeMutableBufferPointer { out in
            EVP_Digest(input.baseAddress, input.count, out.baseAddress, &length, handle, nil)
        }
        precondition(result == 1 && Int(length) == size, "EVP_Digest failed")
        return output
    }

    func digest(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { digest($0) }
    }

    /// HMAC over `message`. Callers refuse empty keys before getting here; an empty
    /// buffer still gets a non-nil pointer, because OpenSSL reads a NULL key as "reuse
    /// the previous key".
    func hmac(key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: size)
        var length: UInt32 = 0
        var placeholder: UInt8 = 0
        let result = withUnsafeBytes(of: &placeholder) { fallback in
            output.withUnsafeMutableBufferPointer { out in
                HMAC(
                    handle, key.baseAddress ?? fallback.baseAddress, Int32(key.count),
                    message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count,
                    out.baseAddress, &length)
            }
        }
        precondition(result != nil && Int(length) == size, "HMAC failed")
        return output
    }

    func hmac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        key.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { hmac(key: keyBytes, message: $0) }
        }
    }
}

/// Whether two byte strings are equal, in time that depends only on their lengths.
func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    lhs.withUnsafeBytes { left in
        rhs.withUnsafeBytes { right in constantTimeEquals(left, right) }
    }
}

/// The same over raw buffers, for material that lives in a ``SecretBytes`` and is never
/// copied into an array.
func constantTimeEquals(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
    guard lhs.count == rhs.count else { return false }
    guard let left = lhs.baseAddress, let right = rhs.baseAddress, lhs.count > 0 else { return true }
    return CRYPTO_memcmp(left, right, lhs.count) == 0
}
