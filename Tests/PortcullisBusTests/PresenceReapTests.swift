import Foundation
import NIOCore
import PortcullisBus
import PortcullisTestSupport
import Testing

/// `EdgePresence` against a real redis-server: a dead edge's registry becomes `close`
/// envelopes, once per namespace, and the registry is gone afterwards.
@Suite(.redisServer()) struct PresenceReapTests {
    static let now: Int64 = 1_732_240_000_000

    static func setUp() throws -> (RedisClient, StreamNames) {
        let client = try RedisClient(url: try sharedServerURL(), logger: testLogger)
        return (client, try StreamNames(prefix: "t\(UUID().uuidString.prefix(8))"))
    }

    /// Registers `edge` as the edge does: in the edge set, one hash field per connection.
    static func register(
        _ edge: String,
        _ connections: [(String, String)],
        names: StreamNames,
        redis: RedisClient
    ) async throws {
        try await redis.sadd(names.edges, members: [edge])
        try await redis.hset(
            try names.edgeConnections(edge: edge), fields: connections.map { ($0.0, RedisArgument($0.1)) })
    }

    static func closes(_ app: String, names: StreamNames, redis: RedisClient) async throws -> [Envelope] {
        try await redis.xrange(try names.inbound(app: app), count: 100_000).map { try Envelope(entry: $0) }
    }

    @Test func reapWritesOneClosePerNamespaceThenForgetsTheEdge() async throws {
        let (redis, names) = try Self.setUp()
        defer { redis.close() }
        try await Self.register(
            "edge-1",
            [
                ("edge-1.a", PresenceRecord(app: "echo", user: "42", namespaces: ["/chat", "/"]).json),
                ("edge-1.b", PresenceRecord(app: "echo").json),
                ("edge-1.c", PresenceRecord(app: "other", user: "7", namespaces: ["/x"]).json),
                ("edge-1.garbage", "not json"),
                ("edge-1.badapp", #"{"app":"no spaces allowed","ns":[]}"#),
            ],
            names: names, redis: redis)
        try await redis.sadd(names.edges, members: ["edge-2"])

        let written = try await EdgePresence.reap(edge: "edge-1", names: names, redis: redis, now: Self.now)
        #expect(written == 4)

        func close(_ id: String, _ app: String, _ conn: String, user: String?, ns: String?) -> Envelope {
            Envelope(
                id: id, kind: .close, app: app, edge: "edge-1", connection: conn, user: user, namespace: ns,
                reason: "edge gone", timestamp: Self.now)
        }
        let echo = try await Self.closes("echo", names: names, redis: redis)
        #expect(
            echo.sorted { $0.id < $1.id } == [
                close("close:edge-1.a:0", "echo", "edge-1.a", user: "42", ns: "/chat"),
                close("close:edge-1.a:1", "echo", "edge-1.a", user: "42", ns: "/"),
                close("close:edge-1.b:0", "echo", "edge-1.b", user: nil, ns: nil),
            ])
        #expect(
            try await Self.closes("other", names: names, redis: redis) == [
                close("close:edge-1.c:0", "other", "edge-1.c", user: "7", ns: "/x")
            ])
        #expect(try await redis.exists([try names.edgeConnections(edge: "edge-1")]) == 0)
        #expect(try await redis.smembers(names.edges) == ["edge-2"])

        // Nothing left: a second reap writes nothing.
        #expect(try await EdgePresence.reap(edge: "edge-1", names: names, redis: redis, now: Self.now) == 0)
        #expect(try await redis.xlen(try names.inbound(app: "echo")) == 3)
        #expect(try await redis.xlen(try names.inbound(app: "other")) == 1)
    }

    @Test func anEdgeRestartingClosesItsPreviousRunsConnectionsButNotItsOwn() async throws {
        let (redis, names) = try Self.setUp()
        defer { redis.close() }
        try await Self.register(
            "edge-1",
            [
                ("edge-1.old1-1", PresenceRecord(app: "echo").json),
                ("edge-1.new1-1", PresenceRecord(app: "echo", user: "9").json),
            ],
            names: names, redis: redis)

        let written = try await EdgePresence.reap(
            edge: "edge-1", names: names, redis: redis, reason: "edge restarted", now: Self.now,
            sparing: { $0.hasPrefix("edge-1.new1") })

        #expect(written == 1)
        #expect(try await Self.closes("echo", names: names, redis: redis).map(\.connection) == ["edge-1.old1-1"])
        let left = try await redis.hscan(try names.edgeConnections(edge: "edge-1")).fields.map(\.name)
        #expect(left == ["edge-1.new1-1"])
        #expect(try await redis.smembers(names.edges) == ["edge-1"])
    }

    @Test func reapIfDeadLeavesALiveEdgeAlone() async throws {
        let (redis, names) = try Self.setUp()
        defer { redis.close() }
        try await Self.register(
            "edge-1", [("edge-1.a", PresenceRecord(app: "echo").json)], names: names, redis: redis)
        try await redis.set(try names.edgeAlive(edge: "edge-1"), to: "1", expiresIn: .seconds(30))

        #expect(try await EdgePresence.isAlive(edge: "edge-1", names: names, redis: redis))
        #expect(try await EdgePresence.reapIfDead(edge: "edge-1", names: names, redis: redis, now: Self.now) == 0)
        #expect(try await redis.hlen(try names.edgeConnections(edge: "edge-1")) == 1)
        #expect(try await redis.smembers(names.edges) == ["edge-1"])
        #expect(try await redis.xlen(try names.inbound(app: "echo")) == 0)

        // The heartbeat expires: now it is dead.
        try await redis.del([try names.edgeAlive(edge: "edge-1")])
        #expect(try await !EdgePresence.isAlive(edge: "edge-1", names: names, redis: redis))
        #expect(try await EdgePresence.reapIfDead(edge: "edge-1", names: names, redis: redis, now: Self.now) == 1)
        #expect(try await redis.smembers(names.edges).isEmpty)
    }

    @Test func anEdgeReapingItsOwnLeftoversStaysRegisteredWhileAlive() async throws {
        let (redis, names) = try Self.setUp()
        defer { redis.close() }
        try await Self.register(
            "edge-1", [("edge-1.old", PresenceRecord(app: "echo").json)], names: names, redis: redis)
        try await redis.set(try names.edgeAlive(edge: "edge-1"), to: "1", expiresIn: .seconds(30))

        let written = try await EdgePresence.reap(
            edge: "edge-1", names: names, redis: redis, reason: "edge restarted", now: Self.now)
        #expect(written == 1)
        #expect(try await Self.closes("echo", names: names, redis: redis).first?.reason == "edge restarted")
        #expect(try await redis.hlen(try names.edgeConnections(edge: "edge-1")) == 0)
        #expect(try await redis.smembers(names.edges) == ["edge-1"])
    }

    @Test func racingReapersWriteEachCloseIDOnce() async throws {
        let (redis, names) = try Self.setUp()
        defer { redis.close() }
        let count = 2_000
        try await Self.register(
            "edge-1",
            (0..<count).map { ("edge-1.c\($0)", PresenceRecord(app: "echo", namespaces: ["/"]).json) },
            names: names, redis: redis)
        let other = redis.makeDedicatedClient()
        defer { other.close() }

        async let first = EdgePresence.reap(edge: "edge-1", names: names, redis: redis, now: Self.now)
        async let second = EdgePresence.reap(edge: "edge-1", names: names, redis: other, now: Self.now)
        let total = try await first + second
        #expect(total >= count)

        let ids = try await Self.closes("echo", names: names, redis: redis).map(\.id)
        #expect(ids.count == total)
        #expect(Set(ids) == Set((0..<count).map { "close:edge-1.c\($0):0" }))
        #expect(try await redis.exists([try names.edgeConnections(edge: "edge-1")]) == 0)
    }

    @Test func twentyThousandConnectionsAreReapedCompletely() async throws {
        let (redis, names) = try Self.setUp()
        defer { redis.close() }
        let count = 20_000
        try await redis.sadd(names.edges, members: ["edge-9"])
        let registry = try names.edgeConnections(edge: "edge-9")
        let record = PresenceRecord(app: "echo", user: "u", namespaces: ["/"]).json
        for start in stride(from: 0, to: count, by: 2_000) {
            try await redis.hset(
                registry, fields: (start..<start + 2_000).map { ("edge-9.c\($0)", RedisArgument(record)) })
        }
        #expect(try await redis.hlen(registry) == count)

        let started = ContinuousClock.now
        let written = try await EdgePresence.reap(edge: "edge-9", names: names, redis: redis, now: Self.now)
        let elapsed = ContinuousClock.now - started

        #expect(written == count)
        #expect(elapsed < .seconds(10))
        #expect(try await redis.exists([registry]) == 0)
        #expect(try await redis.smembers(names.edges).isEmpty)
        let inbound = try names.inbound(app: "echo")
        #expect(try await redis.xlen(inbound) == count)
        let ids = try await redis.xrange(inbound, count: count + 1).compactMap { $0[field: "id"] }
        #expect(Set(ids.map { String(buffer: $0) }).count == count)
    }
}
