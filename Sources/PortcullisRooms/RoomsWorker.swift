import Foundation
import Logging
import NIOCore
import PortcullisBus
import ServiceLifecycle

/// The rooms worker service: one consumer loop per app, all in one consumer group per app
/// (`portcullis-rooms:<app>`) under this worker's consumer name.
///
/// Graceful shutdown (SIGTERM through the `ServiceGroup`): each loop stops reading, lets
/// the entry being handled finish (outputs written, XACK), and returns; entries it had
/// read but not started stay pending for this consumer's next start or for XAUTOCLAIM by
/// another worker. Redis errors never end the service: a loop logs, waits and retries.
public final class RoomsWorker: Service, Sendable {
    public let settings: RoomsSettings
    public let names: StreamNames
    private let apps: [any RoomsApp]
    private let redis: RedisClient
    private let logger: Logger

    /// - Parameters:
    ///   - apps: the handlers to run; each one's ``RoomsApp/name`` picks its stream.
    ///   - redis: shared client (outputs, acks, app state); each loop also makes a
    ///     dedicated client for its blocking reads.
    public init(settings: RoomsSettings, apps: [any RoomsApp], redis: RedisClient, logger: Logger) throws {
        self.settings = settings
        self.names = try StreamNames(prefix: settings.prefix, redis: settings.redis)
        for app in apps {
            _ = try self.names.inbound(app: app.name)
        }
        self.apps = apps
        self.redis = redis
        self.logger = logger
    }

    public func run() async throws {
        let redis = self.redis
        let pendingClose = PendingClose()
        defer { pendingClose.disarm() }
        // Every loop runs on the shared client's event loop, where its replies arrive.
        let executor = EventLoopTaskExecutor(redis.eventLoop)
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for app in self.apps {
                    let (settings, names, logger) = (self.settings, self.names, self.logger)
                    group.addTask(executorPreference: executor) {
                        let consumer = AppConsumer(
                            app: app, settings: settings, names: names, redis: redis, logger: logger)
                        await consumer.run()
                    }
                }
            }
        } onGracefulShutdown: {
            // Entries in flight get a grace period to finish. Commands waiting for a Redis
            // that is down would otherwise hold the stop forever; closing the client fails
            // them, and the unfinished entries stay pending for another worker.
            // Disarmed when the loops finish in time: the client may outlive the worker
            // (tests and embedders hand it in), and a late close would break its next user.
            pendingClose.arm { redis.eventLoop.scheduleTask(in: Self.inFlightGrace) { redis.close() } }
        }
    }

    /// How long a graceful stop waits for entries in flight before giving up on Redis.
    static let inFlightGrace = TimeAmount.seconds(5)
}

/// The client close a graceful stop arms, disarmed once the worker returns.
private final class PendingClose: @unchecked Sendable {
    private let lock = NSLock()
    private var scheduled: Scheduled<Void>?
    private var disarmed = false

    func arm(_ schedule: () -> Scheduled<Void>) {
        lock.withLock {
            if !disarmed { scheduled = schedule() }
        }
    }

    func disarm() {
        lock.withLock {
            disarmed = true
            scheduled?.cancel()
            scheduled = nil
        }
    }
}
