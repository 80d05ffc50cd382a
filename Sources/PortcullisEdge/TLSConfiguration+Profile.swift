import NIOSSL
import PortcullisConfig

extension TLSConfiguration {
    /// Mozilla's "intermediate" TLS 1.2 suites: ECDHE for forward secrecy and AEAD only, so
    /// no CBC suite (LUCKY13) or 3DES (SWEET32) and no static RSA key exchange is offered.
    /// Mozilla lists DHE-RSA-AES*-GCM as well; BoringSSL implements no DHE suites.
    ///
    /// TLS 1.3 suites are not configurable in BoringSSL; its fixed set (AES-128-GCM,
    /// AES-256-GCM, ChaCha20-Poly1305) is the one both Mozilla profiles name.
    static let intermediateCipherSuites: [NIOTLSCipher] = [
        .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]

    /// Sets protocol versions and suites for `profile`.
    ///
    /// The TLS 1.2 suite order is Mozilla's, and it decides once the context is built:
    /// see ``NIOSSLContext/preferServerCipherOrder()``.
    mutating func apply(_ profile: TLSProfile) {
        cipherSuiteValues = Self.intermediateCipherSuites
        maximumTLSVersion = .tlsv13
        switch profile {
        case .intermediate:
            minimumTLSVersion = .tlsv12
        case .modern:
            minimumTLSVersion = .tlsv13
        }
    }
}
