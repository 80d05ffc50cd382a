import CZlib

/// A zlib stream that could not be set up (out of memory, or parameters zlib refuses).
///
/// Only setup throws this: data errors while inflating are the peer's fault and become a
/// ``WebSocketFailure``. The code is zlib's return code, kept for logs.
public struct ZlibError: Error, Hashable, Sendable, CustomStringConvertible {
    public let code: Int32
    public let message: String

    init(code: Int32, operation: String) {
        self.code = code
        self.message = "\(operation) failed with zlib code \(code)"
    }

    /// Throws unless `code` is `Z_OK`.
    static func check(_ code: Int32, _ operation: String) throws(ZlibError) {
        guard code == Z_OK else { throw ZlibError(code: code, operation: operation) }
    }

    public var description: String {
        "ZlibError(\(self.code)): \(self.message)"
    }
}
