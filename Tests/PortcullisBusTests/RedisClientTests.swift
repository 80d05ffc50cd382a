import NIOCore
import NIOPosix
import PortcullisTestSupport
import Testing

@testable import PortcullisBus

/// The reconnecting client against a redis-server this suite kills and restarts; the suite
/// always owns its server (never `PORTCULLIS_TEST_REDIS_URL`) and runs its tests one by one.
@Suite(.redisServer(), .serialized) struct RedisClientTests {
    static func makeClient(
        _ server: RedisServerProcess,
        maximumCommands: Int = 10_000,
        maximumBytes: Int = 8 << 20
    ) throws -> RedisClient {
        var configuration = try server.configuration
        configuration.reconnectBackoff = RedisBackoff(initialDelay: .milliseconds(10), maximumDelay: .milliseconds(100))
        configuration.bufferLimits = .init(maximumCommands: maximumCommands, maximumBytes: maximumBytes)
        configuration.connectTimeout = .seconds(1)
        return RedisClient(configuration: configuration, logger: testLogger)
    }

    static func waitUntilConnected(_ client: RedisClient, _ expected: Bool = true) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while try await client.isConnected.get() != expected {
            guard ContinuousClock.now < deadline else {
                Issue.record("client did not reach connected == \(expected)")
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    @Test func commandsIssuedDuringAnOutageAreBufferedAndSucceedAfterRestart() async throws {
        let server = try currentServer()
        let client = try Self.makeClient(server)
        defer { client.close() }
        let key = uniqueKey()
        #expect(try await client.ping() == "PONG")

        // In flight when the server dies: fails, and is not replayed.
        let inFlight: EventLoopFuture<RESPValue> = client.send(["BLPOP", RedisArgument(uniqueKey()), "10"])
        try await Task.sleep(for: .milliseconds(20))
        server.kill()
        let lost = await #expect(throws: RedisError.self) { try await inFlight.get() }
        #expect(lost?.code == .connectionClosed)
        try await Self.waitUntilConnected(client, false)

        let buffered = (1...50).map { index -> EventLoopFuture<RESPValue> in
            client.send(["RPUSH", RedisArgument(key), RedisArgument(index)])
        }
        try await Task.sleep(for: .milliseconds(100))  // several failed reconnect attempts
        try await server.restart()

        for (offset, future) in buffered.enumerated() {
            #expect(try await future.get() == .integer(offset + 1))
        }
        let list = try await client.send(["LRANGE", RedisArgument(key), "0", "-1"]).expectArray()
        #expect(list.compactMap(\.string) == (1...50).map(String.init))
    }

    @Test func pastTheBufferBoundCommandsFailAtOnceWithBufferFull() async throws {
        let server = try currentServer()
        let client = try Self.makeClient(server, maximumCommands: 5)
        defer { client.close() }
        #expect(try await client.ping() == "PONG")
        server.kill()
        try await Self.waitUntilConnected(client, false)

        let accepted = (1...5).map { _ -> EventLoopFuture<RESPValue> in client.send(["PING"]) }
        let refused = await #expect(throws: RedisError.self) { try await client.ping() }
        #expect(refused?.code == .bufferFull)
        #expect(refused?.isRetrySafe == true)

        try await server.restart()
        for future in accepted {
            #expect(try await future.get() == .simpleString("PONG"))
        }
        #expect(try await client.ping() == "PONG")
    }

    @Test func byteBoundRefusesLargeCommandsWhileDisconnected() async throws {
        let server = try currentServer()
        let client = try Self.makeClient(server, maximumBytes: 1024)
        defer { client.close() }
        #expect(try await client.ping() == "PONG")
        server.kill()
        try await Self.waitUntilConnected(client, false)
        let large = RedisArgument([UInt8](repeating: 0x61, count: 2048))
        let error = await #expect(throws: RedisError.self) { try await client.send(["SET", "k", large]) }
        #expect(error?.code == .bufferFull)
        try await server.restart()
        try await Self.waitUntilConnected(client)
    }

    @Test func closeFailsBufferedCommandsAndLaterOnes() async throws {
        let server = try currentServer()
        let client = try Self.makeClient(server)
        #expect(try await client.ping() == "PONG")
        server.kill()
        try await Self.waitUntilConnected(client, false)
        let buffered: EventLoopFuture<RESPValue> = client.send(["PING"])
        await client.close()
        let error = await #expect(throws: RedisError.self) { try await buffered.get() }
        #expect(error?.code == .clientClosed)
        #expect(error?.isRetrySafe == true)
        let after = await #expect(throws: RedisError.self) { try await client.ping() }
        #expect(after?.code == .clientClosed)
        try await server.restart()
    }
}
