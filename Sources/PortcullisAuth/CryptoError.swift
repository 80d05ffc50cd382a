import COpenSSL

/// A failed OpenSSL or libjwt call: what was being done and, when OpenSSL left one, the
/// first reason on its error queue. Never contains key bytes.
struct CryptoError: Error, Sendable, CustomStringConvertible {
    var operation: String
    var reason: String?

    var description: String {
        reason.map { "\(operation): \($0)" } ?? operation
    }

    /// Takes the reason from OpenSSL's thread-local error queue and clears it, so a later
    /// call does not report a stale error.
    static func openSSL(_ operation: String) -> CryptoError {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return CryptoError(operation: operation, reason: nil) }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return CryptoError(operation: operation, reason: text)
    }

    /// The one place OpenSSL's "1 is success" return codes become thrown errors.
    static func check(_ result: Int32, _ operation: @autoclosure () -> String) throws {
        guard result == 1 else { throw openSSL(operation()) }
    }
}
