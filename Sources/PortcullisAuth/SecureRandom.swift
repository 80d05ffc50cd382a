import COpenSSL

/// Random bytes from OpenSSL's CSPRNG, for key ids, HMAC secrets and cookie secrets.
enum SecureRandom {
    static func bytes(_ count: Int) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: count)
        let result = output.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        // A CSPRNG that cannot seed is not something to limp on with weaker keys.
        precondition(result == 1, "RAND_bytes failed: \(CryptoError.openSSL("RAND_bytes"))")
        return output
    }
}
