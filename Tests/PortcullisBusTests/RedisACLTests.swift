import Foundation
import NIOCore
import PortcullisConfig
import PortcullisTestSupport
import Testing

@testable import PortcullisBus

/// ACL users (`AUTH username password`, Redis 6+) against a redis-server whose default user
/// is off, so nothing works without the right user.
@Suite(
    .redisServer(arguments: [
        "--user", "portcullis", "on", ">s3cret", "~*", "&*", "+@all", "--user", "default", "off",
    ]),
    .serialized
)
struct RedisACLTests {
    static func configuration(password: String = "s3cret") throws -> RedisConfiguration {
        var configuration = try currentServer().configuration
        configuration.username = "portcullis"
        configuration.password = password
        configuration.reconnectBackoff = RedisBackoff(initialDelay: .milliseconds(10), maximumDelay: .milliseconds(100))
        configuration.connectTimeout = .seconds(1)
        return configuration
    }

    @Test func anACLUserAuthenticatesOnEveryReconnect() async throws {
        let server = try currentServer()
        let client = RedisClient(configuration: try Self.configuration(), logger: testLogger)
        defer { client.close() }
        #expect(try await client.send(["ACL", "WHOAMI"]).string == "portcullis")

        server.kill()
        try await server.restart()
        // The next connection runs AUTH again before anything buffered meanwhile.
        let deadline = ContinuousClock.now + .seconds(5)
        var whoami: String?
        while whoami == nil, ContinuousClock.now < deadline {
            whoami = try? await client.send(["ACL", "WHOAMI"]).get().string
            if whoami == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(whoami == "portcullis")
    }

    @Test func aWrongPasswordFailsTheConnectWithWRONGPASS() async throws {
        let error = await #expect(throws: RedisError.self) {
            try await RedisConnection.connect(to: try Self.configuration(password: "wrong"), logger: testLogger)
        }
        #expect(error?.code == .connectFailed)
        #expect(error?.serverCode == "WRONGPASS")
        #expect(error?.message.contains("refused the handshake") == true)
        #expect(error?.message.contains("wrong") == false, "the password never appears in errors")
    }

    @Test func aClientWithAWrongPasswordKeepsRetryingAndFailsOnlyWhenClosed() async throws {
        let client = RedisClient(configuration: try Self.configuration(password: "wrong"), logger: testLogger)
        let pending: EventLoopFuture<RESPValue> = client.send(["PING"])
        try await Task.sleep(for: .milliseconds(200))  // several refused attempts
        #expect(try await client.isConnected.get() == false)
        await client.close()
        let error = await #expect(throws: RedisError.self) { try await pending.get() }
        #expect(error?.code == .clientClosed)
    }

    @Test func settingsWithAPasswordFileBecomeAUserAndPassword() throws {
        let settings = RedisSettings(
            url: try currentServer().url,
            username: "portcullis",
            password: "s3cret",
            location: SourceLocation(file: "main.yaml", line: 1, keyPath: "redis.url")
        )
        let configuration = try RedisConfiguration(settings: settings)
        #expect(configuration.username == "portcullis")
        #expect(configuration.password == "s3cret")
        #expect(configuration.tls == nil)
    }
}
