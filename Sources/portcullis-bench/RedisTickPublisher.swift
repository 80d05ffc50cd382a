import Logging
import NIOCore
import PortcullisBus

/// Publishes broadcasts the way a backend does: XADD of an `emit` envelope to a room on
/// `<prefix>:out:bcast` (docs/bus.md), which every edge reads and fans out.
struct RedisTickPublisher: TickPublisher {
    private let client: RedisClient
    private let stream: String
    private let app: String
    private let room: String

    /// Connects on `eventLoop` and checks the server answers PING within 5 s.
    init(url: String, prefix: String, app: String, room: String, eventLoop: any EventLoop) async throws {
        var logger = Logger(label: "portcullis.bench.redis")
        logger.logLevel = .warning
        self.client = try RedisClient(url: url, eventLoop: eventLoop, logger: logger)
        self.stream = prefix + ":out:bcast"
        self.app = app
        self.room = room
        let answer = eventLoop.makePromise(of: RESPValue.self)
        let ping: EventLoopFuture<RESPValue> = self.client.send(["PING"])
        ping.cascade(to: answer)
        let timeout = eventLoop.scheduleTask(in: .seconds(5)) {
            answer.fail(BenchError.publishFailed("Redis at \(url) did not answer PING within 5 s"))
        }
        do {
            _ = try await answer.futureResult.get()
        } catch {
            await self.client.close()
            throw error
        }
        timeout.cancel()
    }

    func publish(t: UInt64) async throws {
        let command: [RedisArgument] = [
            "XADD", RedisArgument(self.stream), "MAXLEN", "~", "100000", "*",
            "v", "1", "id", RedisArgument(Envelope.randomID()), "kind", "emit", "app", RedisArgument(self.app),
            "to", "room", "target", RedisArgument(self.room), "event", "tick", "data",
            RedisArgument(TickMessage.data(t: t)),
        ]
        _ = try await self.client.send(command).get()
    }

    func close() async {
        await self.client.close()
    }
}
