import Foundation
import PortcullisBus
import PortcullisRooms
import PortcullisTestSupport
import ServiceLifecycle
import Testing

/// The presence reaper as `portcullis-rooms serve` runs it: in a `ServiceGroup`, on a short
/// interval, against the suite's redis-server.
@Suite(.redisServer(), .serialized)
struct PresenceReaperTests {
    static let interval: Duration = .milliseconds(100)

    @Test func deadEdgeIsReapedAndALiveOneIsLeft() async throws {
        let redis = try makeClient()
        let names = try StreamNames(prefix: freshPrefix())
        try await registerEdge("dead-1", ["dead-1.a": ["/chat"], "dead-1.b": []], names: names, redis: redis)
        try await registerEdge("live-1", ["live-1.a": ["/chat"]], alive: true, names: names, redis: redis)

        let services = try ServiceHarness.start(reaperFor: names, redis: redis)
        let inbound = try names.inbound(app: "echo")
        // How soon is a benchmark's question; on a loaded machine a sweep may come late.
        let reaped = try await eventually(timeout: .seconds(20)) {
            try await redis.smembers(names.edges) == ["live-1"]
        }
        #expect(reaped)
        // A few more sweeps: the live edge keeps its connections.
        try await Task.sleep(for: Self.interval * 3)
        try await services.stop()

        let closes = try await envelopes(inbound, redis: redis)
        #expect(closes.map(\.id).sorted() == ["close:dead-1.a:0", "close:dead-1.b:0"])
        #expect(closes.allSatisfy { $0.kind == .close && $0.edge == "dead-1" && $0.reason == "edge gone" })
        #expect(closes.first { $0.connection == "dead-1.a" }?.namespace == "/chat")
        #expect(try await redis.exists([try names.edgeConnections(edge: "dead-1")]) == 0)
        #expect(try await redis.hlen(try names.edgeConnections(edge: "live-1")) == 1)
        await redis.close()
    }

    @Test func workerHandlesEachReapedCloseOnceEvenWhenWrittenTwice() async throws {
        let redis = try makeClient()
        let prefix = freshPrefix()
        let names = try StreamNames(prefix: prefix)
        let log = CallLog()
        let app = RecordingApp(name: "echo", log: log)
        let worker = try WorkerHarness.start(apps: [app], prefix: prefix, redis: redis)
        try await registerEdge("dead-2", ["dead-2.a": ["/", "/chat"]], names: names, redis: redis)
        // A second reaper racing the service writes the same envelopes.
        try await EdgePresence.reap(edge: "dead-2", names: names, redis: redis, now: 1)
        try await registerEdge("dead-2", ["dead-2.a": ["/", "/chat"]], names: names, redis: redis)

        let services = try ServiceHarness.start(reaperFor: names, redis: redis)
        let inbound = try names.inbound(app: "echo")
        let done = try await eventually {
            let read = try await redis.xinfoGroups(inbound).first?.entriesRead ?? 0
            let pending = try await pendingCount(inbound, app: "echo", redis: redis)
            return read >= 4 && pending == 0
        }
        #expect(done)
        try await services.stop()
        try await worker.stop()

        #expect(try await redis.xlen(inbound) == 4)
        #expect(await log.started.sorted() == ["close:dead-2.a:0", "close:dead-2.a:1"])
        await redis.close()
    }

    @Test func gracefulShutdownStopsTheReaperPromptly() async throws {
        let redis = try makeClient()
        let names = try StreamNames(prefix: freshPrefix())
        let services = try ServiceHarness.start(reaperFor: names, redis: redis, interval: .seconds(60))
        try await Task.sleep(for: .milliseconds(100))  // inside its long sleep
        let started = ContinuousClock.now
        try await services.stop()
        #expect(ContinuousClock.now - started < .seconds(1))
        await redis.close()
    }
}

/// The reaper survives Redis going away: it waits, logs, and reaps once Redis is back; and
/// a shutdown while Redis is unreachable does not wait for it.
@Suite(.redisServer(), .serialized)
struct PresenceReaperOutageTests {
    @Test func reapsAgainOnceRedisIsBack() async throws {
        let server = try currentServer()
        let redis = try makeClient()
        let names = try StreamNames(prefix: freshPrefix())
        let services = try ServiceHarness.start(reaperFor: names, redis: redis)
        try await Task.sleep(for: .milliseconds(200))

        server.kill()
        try await Task.sleep(for: .milliseconds(500))
        try await server.restart()
        try await registerEdge("dead-3", ["dead-3.a": []], names: names, redis: redis)
        let reaped = try await eventually(timeout: .seconds(8)) {
            try await redis.xlen(try names.inbound(app: "echo")) == 1
        }
        #expect(reaped)
        try await services.stop()
        await redis.close()
    }

    @Test func stopsPromptlyWhileRedisIsDown() async throws {
        let server = try currentServer()
        let redis = try makeClient()
        let names = try StreamNames(prefix: freshPrefix())
        let services = try ServiceHarness.start(reaperFor: names, redis: redis)
        server.kill()
        try await Task.sleep(for: .milliseconds(500))  // sweeps now wait for a connection

        let started = ContinuousClock.now
        try await services.stop()
        #expect(ContinuousClock.now - started < .seconds(1))
        await redis.close()
        try await server.restart()
    }
}

/// Services (here a ``PresenceReaper``) in their own `ServiceGroup`.
struct ServiceHarness {
    let group: ServiceGroup
    let task: Task<Void, any Error>

    static func start(
        reaperFor names: StreamNames,
        redis: RedisClient,
        interval: Duration = PresenceReaperTests.interval
    ) throws -> ServiceHarness {
        let settings = RoomsSettings(
            redisURL: try currentServer().url, prefix: names.prefix, reapInterval: interval, apps: ["echo"])
        let reaper = try PresenceReaper(settings: settings, redis: redis, logger: testLogger)
        let group = ServiceGroup(services: [reaper], logger: testLogger)
        return ServiceHarness(group: group, task: Task { try await group.run() })
    }

    /// Graceful shutdown, as SIGTERM would do, and waits for the services to return.
    func stop() async throws {
        await self.group.triggerGracefulShutdown()
        try await self.task.value
    }
}

/// Registers `edge` as an edge does: in `<prefix>:edges`, one registry field per connection
/// (app `echo`, user `42`, the given namespaces), and a heartbeat when `alive`.
func registerEdge(
    _ edge: String,
    _ connections: [String: [String]],
    alive: Bool = false,
    names: StreamNames,
    redis: RedisClient
) async throws {
    try await redis.sadd(names.edges, members: [edge])
    let fields = connections.map {
        ($0.key, RedisArgument(PresenceRecord(app: "echo", user: "42", namespaces: $0.value).json))
    }
    try await redis.hset(try names.edgeConnections(edge: edge), fields: fields)
    if alive {
        try await redis.set(try names.edgeAlive(edge: edge), to: "1", expiresIn: .seconds(30))
    }
}

/// Records the id of every envelope it handles.
struct RecordingApp: RoomsApp {
    let name: String
    let log: CallLog

    var handlers: RoomsHandlers {
        RoomsHandlers { app in app.onEnvelope(self.handle) }
    }

    @Sendable func handle(_ envelope: Envelope, context: RoomsContext) async throws {
        await self.log.start(envelope.id)
    }
}
