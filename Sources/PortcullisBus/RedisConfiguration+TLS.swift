import NIOSSL
import PortcullisConfig

extension RedisConfiguration {
    /// TLS for a `rediss://` connection. Certificate verification is always on: the server's
    /// chain must lead to a trusted root, and the certificate must name ``serverName`` (or,
    /// without one, the endpoint's host) or hold the IP address connected to (swift-nio-ssl
    /// accepts a matching IP address entry whatever the name). There is deliberately no
    /// switch to turn verification off.
    ///
    /// The same value as a conf file's `redis.tls` (``RedisSettings/TLS``): the CA file (nil:
    /// the system's roots), the client certificate and key files, and the server name.
    public typealias TLS = RedisSettings.TLS
}

extension RedisSettings.TLS {
    /// Reads the files and builds the context every connection of a client shares.
    ///
    /// Throws ``RedisError/Code/tlsSetupFailed`` naming the file that could not be used.
    public func makeContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .fullVerification
        configuration.minimumTLSVersion = .tlsv12
        if let caFile {
            let roots = try Self.load("ca_file", caFile) { try NIOSSLCertificate.fromPEMFile(caFile) }
            guard !roots.isEmpty else {
                throw RedisError(code: .tlsSetupFailed, message: "ca_file \(caFile) holds no PEM certificate")
            }
            configuration.trustRoots = .certificates(roots)
        }
        switch (self.certificateFile, self.privateKeyFile) {
        case (nil, nil):
            break
        case (let certificateFile?, let privateKeyFile?):
            let chain = try Self.load("certificate_file", certificateFile) {
                try NIOSSLCertificate.fromPEMFile(certificateFile)
            }
            configuration.certificateChain = chain.map { .certificate($0) }
            let key = try Self.load("private_key_file", privateKeyFile) {
                try NIOSSLPrivateKey(file: privateKeyFile, format: .pem)
            }
            configuration.privateKey = .privateKey(key)
        default:
            throw RedisError(
                code: .tlsSetupFailed,
                message: "a Redis client certificate needs both certificate_file and private_key_file"
            )
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw RedisError(
                code: .tlsSetupFailed,
                message: "cannot set up TLS for Redis (does the key match the certificate?)",
                underlying: error
            )
        }
    }

    private static func load<T>(_ key: String, _ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw RedisError(
                code: .tlsSetupFailed,
                message: "cannot load the Redis TLS \(key) \(path)",
                underlying: error
            )
        }
    }
}
