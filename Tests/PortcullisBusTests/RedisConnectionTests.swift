import NIOCore
import NIOPosix
import PortcullisTestSupport
import Testing

@testable import PortcullisBus

/// One connection against a real redis-server: pipelining, errors, loss, typed key commands.
@Suite(.redisServer()) struct RedisConnectionTests {
    static func connect() async throws -> RedisConnection {
        try await RedisConnection.connect(to: RedisConfiguration(url: try sharedServerURL()), logger: testLogger)
    }

    @Test func thousandPipelinedCommandsGetTheirOwnReplies() async throws {
        let connection = try await Self.connect()
        defer { connection.close() }
        let key = uniqueKey()
        // Issued at once, on the loop, so they leave in a few writes and are all in flight.
        let futures = try await connection.eventLoop.submit {
            (1...1000).map { index -> EventLoopFuture<RESPValue> in
                index.isMultiple(of: 2)
                    ? connection.send(["ECHO", RedisArgument("reply-\(index)")])
                    : connection.send(["INCR", RedisArgument(key)])
            }
        }.get()
        var increments = 0
        for (offset, future) in futures.enumerated() {
            let index = offset + 1
            let value = try await future.get()
            if index.isMultiple(of: 2) {
                #expect(value.string == "reply-\(index)")
            } else {
                increments += 1
                #expect(value == .integer(increments))
            }
        }
        #expect(increments == 500)
    }

    @Test func errorReplyFailsOnlyItsCommand() async throws {
        let connection = try await Self.connect()
        defer { connection.close() }
        let key = uniqueKey()
        let set: EventLoopFuture<RESPValue> = connection.send(["SET", RedisArgument(key), "text"])
        let incr: EventLoopFuture<RESPValue> = connection.send(["INCR", RedisArgument(key)])
        let get: EventLoopFuture<RESPValue> = connection.send(["GET", RedisArgument(key)])
        #expect(try await set.get() == .simpleString("OK"))
        let error = await #expect(throws: RedisError.self) { try await incr.get() }
        #expect(error?.code == .server)
        #expect(error?.serverCode == "ERR")
        #expect(try await get.get().string == "text")
        #expect(try await connection.ping() == "PONG")
    }

    @Test func connectionLossFailsCommandsInFlight() async throws {
        let connection = try await Self.connect()
        let killer = try await Self.connect()
        defer { killer.close() }
        let id = try await connection.send(["CLIENT", "ID"]).expectInteger()
        let blocked: EventLoopFuture<RESPValue> = connection.send(["BLPOP", RedisArgument(uniqueKey()), "10"])
        let behind: EventLoopFuture<RESPValue> = connection.send(["PING"])
        _ = try await killer.send(["CLIENT", "KILL", "ID", RedisArgument(id)])
        for future in [blocked, behind] {
            let error = await #expect(throws: RedisError.self) { try await future.get() }
            #expect(error?.code == .connectionClosed)
        }
        let later = await #expect(throws: RedisError.self) { try await connection.ping() }
        #expect(later?.code == .connectionClosed)
    }

    @Test func typedKeyCommands() async throws {
        let connection = try await Self.connect()
        defer { connection.close() }
        let key = uniqueKey()
        let binary = ByteBuffer(bytes: [0x00, 0x0D, 0x0A, 0xFF])
        #expect(try await connection.get(key) == nil)
        #expect(try await connection.set(key, to: RedisArgument(binary)))
        #expect(try await connection.get(key) == binary)
        #expect(try await connection.set(key, to: "other", condition: .ifNotExists) == false)
        #expect(try await connection.ttl(key) == .noExpiry)
        #expect(try await connection.expire(key, in: .seconds(100)))
        guard case .seconds(let seconds) = try await connection.ttl(key) else {
            Issue.record("expected a TTL")
            return
        }
        #expect((90...100).contains(seconds))
        #expect(try await connection.set(key, to: "v", expiresIn: .milliseconds(1500), condition: .ifExists))
        #expect(try await connection.exists([key, key, uniqueKey()]) == 2)
        #expect(try await connection.del([key]) == 1)
        #expect(try await connection.ttl(key) == .keyMissing)
    }

    @Test func unixSocketURLConnects() async throws {
        let server = try currentServer()
        let connection = try await RedisConnection.connect(
            to: RedisConfiguration(url: "unix://\(server.socketPath)?db=1"),
            logger: testLogger
        )
        defer { connection.close() }
        #expect(try await connection.ping() == "PONG")
        #expect(try await connection.send(["CLIENT", "INFO"]).string?.contains(" db=1 ") == true)
    }

    @Test func refusedConnectIsARetrySafeConnectFailure() async throws {
        let configuration = RedisConfiguration(endpoint: .unixSocket(path: "/nonexistent/redis.sock"))
        let error = await #expect(throws: RedisError.self) {
            try await RedisConnection.connect(to: configuration, logger: testLogger)
        }
        #expect(error?.code == .connectFailed)
        #expect(error?.isRetrySafe == true)
    }
}

/// AUTH (with an ACL user) and SELECT run on connect, from the URL.
@Suite(.redisServer(password: "s3cret")) struct RedisAuthTests {
    @Test func authAndSelectFromURL() async throws {
        let server = try currentServer()
        let admin = try await RedisConnection.connect(to: try server.configuration, logger: testLogger)
        defer { admin.close() }
        _ = try await admin.send(["ACL", "SETUSER", "alice", "on", ">alice pw", "~*", "+@all"])

        let url = "redis://alice:alice%20pw@127.0.0.1:\(server.port)/3"
        let alice = try await RedisConnection.connect(to: RedisConfiguration(url: url), logger: testLogger)
        defer { alice.close() }
        #expect(try await alice.send(["ACL", "WHOAMI"]).string == "alice")
        let key = uniqueKey()
        try await alice.set(key, to: "in db 3")
        #expect(try await admin.get(key) == nil)
        _ = try await admin.send(["SELECT", "3"])
        #expect(try await admin.get(key) == ByteBuffer(string: "in db 3"))
    }

    @Test func wrongPasswordFailsTheConnect() async throws {
        let server = try currentServer()
        let url = "redis://:wrong@127.0.0.1:\(server.port)"
        let error = await #expect(throws: RedisError.self) {
            try await RedisConnection.connect(to: RedisConfiguration(url: url), logger: testLogger)
        }
        #expect(error?.code == .connectFailed)
        #expect(error?.serverCode == "WRONGPASS")
    }

    @Test func missingPasswordMakesCommandsFailWithNOAUTH() async throws {
        let server = try currentServer()
        let connection = try await RedisConnection.connect(
            to: RedisConfiguration(endpoint: .tcp(host: "127.0.0.1", port: server.port)),
            logger: testLogger
        )
        defer { connection.close() }
        let error = await #expect(throws: RedisError.self) { try await connection.ping() }
        #expect(error?.serverCode == "NOAUTH")
    }
}
