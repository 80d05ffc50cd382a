import Foundation
import Logging
import PortcullisBus
import PortcullisRooms
import ServiceLifecycle
import PortcullisTestSupport
import Testing

/// A worker running in its own `ServiceGroup`, on a fresh prefix of the suite's server.
struct WorkerHarness {
    let names: StreamNames
    let redis: RedisClient
    let group: ServiceGroup
    let task: Task<Void, any Error>

    static func start(
        apps: [any RoomsApp],
        prefix: String,
        workerID: String = "worker-a",
        claimIdle: Duration = .seconds(30),
        maxDeliveries: Int = 5,
        redis: RedisClient
    ) throws -> WorkerHarness {
        let settings = RoomsSettings(
            redisURL: try currentServer().url,
            prefix: prefix,
            workerID: workerID,
            claimIdle: claimIdle,
            maxDeliveries: maxDeliveries,
            apps: apps.map(\.name),
            readBlock: .milliseconds(100)
        )
        let worker = try RoomsWorker(settings: settings, apps: apps, redis: redis, logger: testLogger)
        let group = ServiceGroup(services: [worker], logger: testLogger)
        let task = Task { try await group.run() }
        return WorkerHarness(names: worker.names, redis: redis, group: group, task: task)
    }

    /// Graceful shutdown, as SIGTERM would do, and waits for the worker to return.
    func stop() async throws {
        await self.group.triggerGracefulShutdown()
        try await self.task.value
    }
}

func makeClient() throws -> RedisClient {
    try RedisClient(url: try currentServer().url, logger: testLogger)
}

func freshPrefix() -> String {
    "t\(UUID().uuidString.prefix(8))"
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
///
/// A condition that throws counts as not yet met until the deadline (a consumer group the
/// worker has not created yet answers NOGROUP); the last attempt's error is thrown.
func eventually(
    timeout: Duration = .seconds(15),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// Every envelope in `stream`, oldest first.
func envelopes(_ stream: StreamName, redis: RedisClient) async throws -> [Envelope] {
    try await redis.xrange(stream, count: 1000).map { try Envelope(entry: $0) }
}

func pendingCount(_ stream: StreamName, app: String, redis: RedisClient) async throws -> Int {
    try await redis.xpending(stream, group: try StreamNames.consumerGroup(app: app)).count
}

func messageEnvelope(
    id: String = Envelope.randomID(),
    app: String,
    connection: String = "edge-1.k3v9q2x8m1",
    event: String = "say",
    data: String = #"["hi"]"#,
    ack: Int? = nil
) -> Envelope {
    Envelope(
        id: id, kind: .message, app: app, edge: StreamNames.edgeID(ofConnection: connection),
        connection: connection, user: "42", namespace: "/chat", event: event, ack: ack,
        data: .json(data), timestamp: 1_732_240_000_000
    )
}

/// Counts calls; optionally fails or dawdles.
actor CallLog {
    private(set) var started: [String] = []
    private(set) var finished: [String] = []

    func start(_ id: String) { self.started.append(id) }
    func finish(_ id: String) { self.finished.append(id) }
}

/// An app whose handler always throws.
struct FailingApp: RoomsApp {
    struct Failure: Error {}
    let name: String
    let log: CallLog

    var handlers: RoomsHandlers {
        RoomsHandlers { app in app.onEnvelope(self.handle) }
    }

    @Sendable func handle(_ envelope: Envelope, context: RoomsContext) async throws {
        await self.log.start(envelope.id)
        throw Failure()
    }
}

/// An app that takes `delay` per envelope (not cancellable: the worker must let it finish)
/// and emits one event back.
struct SlowApp: RoomsApp {
    let name: String
    let log: CallLog
    let delay: Duration

    var handlers: RoomsHandlers {
        RoomsHandlers { app in app.onEnvelope(self.handle) }
    }

    @Sendable func handle(_ envelope: Envelope, context: RoomsContext) async throws {
        await self.log.start(envelope.id)
        let until = ContinuousClock.now + self.delay
        while ContinuousClock.now < until {
            try? await Task.sleep(for: .milliseconds(10))
        }
        if let connection = envelope.connection {
            context.emit(to: .connection(connection), event: "done", data: envelope.data)
        }
        await self.log.finish(envelope.id)
    }
}
