import NIOCore
import NIOSSL
import PortcullisTestSupport
import Testing

@testable import PortcullisBus

/// `rediss://` against a TLS-only redis-server that requires client certificates
/// (`--tls-auth-clients yes`), with a CA, server and client certificates made by openssl.
@Suite(.redisServer(tls: "yes"), .serialized) struct RedisTLSTests {
    static func configuration(_ change: (inout RedisConfiguration.TLS) -> Void = { _ in }) throws -> RedisConfiguration
    {
        var configuration = try currentServer().configuration
        var tls = try #require(configuration.tls)
        change(&tls)
        configuration.tls = tls
        configuration.connectTimeout = .seconds(2)
        configuration.reconnectBackoff = RedisBackoff(initialDelay: .milliseconds(10), maximumDelay: .milliseconds(100))
        return configuration
    }

    @Test func aClientTrustingTheCAConnectsAndReconnectsOverTLS() async throws {
        let server = try currentServer()
        #expect(server.url.hasPrefix("rediss://127.0.0.1:"))
        let client = RedisClient(configuration: try Self.configuration(), logger: testLogger)
        defer { client.close() }
        let key = uniqueKey()
        #expect(try await client.set(key, to: "over tls") == true)
        #expect(try await client.get(key).map { String(buffer: $0) } == "over tls")

        server.kill()
        try await server.restart()
        let deadline = ContinuousClock.now + .seconds(5)
        var pong: String?
        while pong == nil, ContinuousClock.now < deadline {
            pong = try? await client.ping()
            if pong == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(pong == "PONG")
    }

    @Test func aServerSignedByAnotherCAIsRefusedWithATLSHandshakeError() async throws {
        let files = try #require(try currentServer().tls)
        let error = await #expect(throws: RedisError.self) {
            try await RedisConnection.connect(
                to: try Self.configuration { $0.caFile = files.otherCA }, logger: testLogger)
        }
        #expect(error?.code == .connectFailed)
        #expect(error?.message.hasPrefix("TLS handshake with Redis at 127.0.0.1:") == true)
        #expect(error?.underlying is NIOSSLError)
    }

    @Test func aServerNameTheCertificateDoesNotNameIsRefused() async throws {
        // The certificate names redis.test only: neither the host (127.0.0.1, no IP in the
        // certificate) nor another name verifies.
        for name in [nil, "redis.internal"] {
            let error = await #expect(throws: RedisError.self) {
                try await RedisConnection.connect(
                    to: try Self.configuration { $0.serverName = name }, logger: testLogger)
            }
            #expect(error?.message.hasPrefix("TLS handshake") == true)
            #expect(error?.underlying is NIOSSLExtraError)
        }
        let right = try await RedisConnection.connect(
            to: try Self.configuration { $0.serverName = RedisTLSFiles.serverName }, logger: testLogger)
        defer { right.close() }
        #expect(try await right.ping() == "PONG")
    }

    @Test func withoutAClientCertificateAServerThatRequiresOneRefuses() async throws {
        await #expect(throws: RedisError.self) {
            let connection = try await RedisConnection.connect(
                to: try Self.configuration {
                    $0.certificateFile = nil
                    $0.privateKeyFile = nil
                },
                logger: testLogger
            )
            // TLS 1.3 may finish the client's side before the server refuses: the first
            // command then fails instead.
            defer { connection.close() }
            _ = try await connection.ping()
        }
    }

    @Test func unusableTLSFilesFailWithTLSSetupFailed() throws {
        let files = try #require(try currentServer().tls)
        let missing = #expect(throws: RedisError.self) {
            try RedisConfiguration.TLS(caFile: files.ca + ".missing").makeContext()
        }
        #expect(missing?.code == .tlsSetupFailed)
        #expect(missing?.message.contains("ca_file") == true)
        let mismatched = #expect(throws: RedisError.self) {
            try RedisConfiguration.TLS(certificateFile: files.clientCertificate, privateKeyFile: files.serverKey)
                .makeContext()
        }
        #expect(mismatched?.code == .tlsSetupFailed)
    }

    @Test func redissURLsTurnOnTLSWithTheSystemRoots() throws {
        let configuration = try RedisConfiguration(url: "rediss://redis.internal:6380/2")
        #expect(configuration.tls == RedisConfiguration.TLS())
        #expect(configuration.endpoint.host == "redis.internal")
        #expect(configuration.database == 2)
    }
}
