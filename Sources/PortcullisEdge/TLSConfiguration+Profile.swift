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
    /// The TLS 1.2 suite order is Mozilla's, but the client's preference decides: BoringSSL
    /// honours a server order only with `SSL_OP_CIPHER_SERVER_PREFERENCE`, and swift-nio-ssl
    /// neither sets that option nor exposes the `SSL_CTX` to set it on. Every suite offered
    /// is ECDHE + AEAD, so whichever the client picks is one Mozilla recommends (whose
    /// intermediate profile itself lets the client choose).
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
