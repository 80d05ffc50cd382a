import COpenSSL

/// HMAC key material in one heap buffer that is wiped (`OPENSSL_cleanse`) when the key
/// set holding it goes away. Swift arrays could leave copies behind; this buffer is
/// never copied, only lent out through `withUnsafeBytes`.
final class SecretBytes: @unchecked Sendable {
    // Unchecked: the buffer is written once in init and only read afterwards.
    private let buffer: UnsafeMutableRawBufferPointer
    let count: Int

    init<Bytes: Collection<UInt8>>(_ bytes: Bytes) {
        buffer = .allocate(byteCount: max(bytes.count, 1), alignment: 1)
        buffer.copyBytes(from: bytes)
        count = bytes.count
    }

    deinit {
        OPENSSL_cleanse(buffer.baseAddress, buffer.count)
        buffer.deallocate()
    }

    func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
    }
}
