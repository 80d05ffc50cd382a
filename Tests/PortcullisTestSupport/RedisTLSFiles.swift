import Foundation

import PortcullisBus

/// A throwaway PKI for TLS tests, made with the `openssl` command: a CA, a server
/// certificate for ``serverName`` only (no IP address, so connecting to 127.0.0.1 needs
/// `server_name` to verify), a client certificate, both signed by the CA, and a second CA
/// that signed nothing here (the "wrong CA").
public struct RedisTLSFiles: Sendable {
    public var ca: String
    public var serverCertificate: String
    public var serverKey: String
    public var clientCertificate: String
    public var clientKey: String
    public var otherCA: String

    /// The one name in the server certificate.
    public static let serverName = "redis.test"

    /// Writes the files into `directory` (about a second of `openssl`).
    public static func generate(in directory: URL) throws -> RedisTLSFiles {
        let dir = directory.path
        func path(_ name: String) -> String { "\(dir)/\(name)" }
        let files = RedisTLSFiles(
            ca: path("ca.pem"),
            serverCertificate: path("server.pem"),
            serverKey: path("server.key"),
            clientCertificate: path("client.pem"),
            clientKey: path("client.key"),
            otherCA: path("other-ca.pem")
        )
        try Self.writeCA(name: "ca", subject: "/CN=Portcullis Test CA", in: dir)
        try Self.writeCA(name: "other-ca", subject: "/CN=Some Other CA", in: dir)
        try "subjectAltName=DNS:\(Self.serverName)\n".write(
            toFile: path("server.ext"), atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(toFile: path("client.ext"), atomically: true, encoding: .utf8)
        try Self.writeLeaf(name: "server", subject: "/CN=\(Self.serverName)", in: dir)
        try Self.writeLeaf(name: "client", subject: "/CN=portcullis-client", in: dir)
        return files
    }

    /// Trusts the test CA, verifies ``serverName`` and presents the client certificate.
    public func clientConfiguration(ca: String? = nil) -> RedisConfiguration.TLS {
        RedisConfiguration.TLS(
            caFile: ca ?? self.ca,
            certificateFile: self.clientCertificate,
            privateKeyFile: self.clientKey,
            serverName: Self.serverName
        )
    }

    private static func writeCA(name: String, subject: String, in dir: String) throws {
        try Self.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "\(dir)/\(name).key", "-out", "\(dir)/\(name).pem", "-days", "2", "-subj", subject,
        ])
    }

    private static func writeLeaf(name: String, subject: String, in dir: String) throws {
        try Self.openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "\(dir)/\(name).key", "-out", "\(dir)/\(name).csr", "-subj", subject,
        ])
        try Self.openssl([
            "x509", "-req", "-in", "\(dir)/\(name).csr", "-CA", "\(dir)/ca.pem", "-CAkey", "\(dir)/ca.key",
            "-CAcreateserial", "-out", "\(dir)/\(name).pem", "-days", "2", "-extfile", "\(dir)/\(name).ext",
        ])
    }

    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw RedisError(
                code: .tlsSetupFailed,
                message: "openssl \(arguments.prefix(1).joined()) exited with \(process.terminationStatus)"
            )
        }
    }
}
