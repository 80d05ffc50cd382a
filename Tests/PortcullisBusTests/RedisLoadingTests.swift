import NIOCore
import PortcullisTestSupport
import Testing

@testable import PortcullisBus

/// A Redis restarted with a data set accepts connections while it loads it and answers
/// -LOADING meanwhile. The client must not count such a server as back: what it buffered
/// during the outage must wait for the load, not be flushed into errors.
///
/// The server saves 40,000 keys and loads them again with a 100 µs delay per key
/// (`key-load-delay`, a Redis test setting) while serving clients every KiB
/// (`loading-process-events-interval-bytes`), so it answers -LOADING for about four
/// seconds: far longer than the gap between the restart and the probe, even on a loaded
/// machine.
@Suite(
    .redisServer(arguments: ["--key-load-delay", "100", "--loading-process-events-interval-bytes", "1024"]),
    .serialized)
struct RedisLoadingTests {
    @Test func commandsBufferedDuringARestartWaitForTheDataSetToLoad() async throws {
        let server = try currentServer()
        let client = try RedisClientTests.makeClient(server)
        defer { client.close() }
        _ = try await client.send([
            "EVAL", "for i = 1, 40000 do redis.call('SET', 'loading:' .. i, 'v') end", "0",
        ]).get()
        _ = try await client.send(["SAVE"]).get()
        server.kill()
        try await RedisClientTests.waitUntilConnected(client, false)
        let key = uniqueKey()
        let buffered = (1...20).map { index -> EventLoopFuture<RESPValue> in
            client.send(["RPUSH", RedisArgument(key), RedisArgument(index)])
        }

        try await server.restart()
        // The restart really is loading: a new connection's handshake meets -LOADING.
        let refused = await #expect(throws: RedisError.self) {
            _ = try await RedisConnection.connect(
                to: RedisConfiguration(endpoint: .tcp(host: "127.0.0.1", port: server.port)), logger: testLogger)
        }
        #expect(refused?.serverCode == "LOADING")

        for (offset, future) in buffered.enumerated() {
            #expect(try await future.get() == .integer(offset + 1))
        }
        #expect(try await client.send(["DBSIZE"]).get() == .integer(40_001))
    }
}
