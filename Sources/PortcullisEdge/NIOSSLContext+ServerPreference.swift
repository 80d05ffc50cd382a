import CNIOBoringSSL
import NIOSSL

/// Why a TLS context could not be given server cipher preference.
struct ServerPreferenceError: Error, CustomStringConvertible {
    var description: String {
        "cannot set server cipher preference: swift-nio-ssl's NIOSSLContext no longer holds its SSL_CTX "
            + "as `sslContext`; see NIOSSLContext+ServerPreference.swift"
    }
}

extension NIOSSLContext {
    /// Makes the server's TLS 1.2 suite order decide (BoringSSL's
    /// `SSL_OP_CIPHER_SERVER_PREFERENCE`), as Mozilla's profiles and scanners expect.
    ///
    /// swift-nio-ssl neither sets the option nor exposes its `SSL_CTX`, so the handle is
    /// read by reflection from the context's stored property and the option set through
    /// the BoringSSL module swift-nio-ssl itself links. Called once per context, right
    /// after it is built and before any connection uses it; an `SSL` object takes the
    /// context's options when it is created. Throws, rather than serving without the
    /// order, if a swift-nio-ssl release renames the property (the TLS tests then fail).
    func preferServerCipherOrder() throws {
        guard
            let handle = Mirror(reflecting: self).children.first(where: { $0.label == "sslContext" })?.value
                as? OpaquePointer
        else {
            throw ServerPreferenceError()
        }
        SSL_CTX_set_options(handle, UInt32(SSL_OP_CIPHER_SERVER_PREFERENCE))
    }
}
