import Foundation
import Logging
import PortcullisBus
import ServiceLifecycle

/// Presence cleanup in `portcullis-rooms`: every `worker.reap_interval` it reads the edge
/// registry `<prefix>:edges` and, for each edge whose heartbeat key has expired, writes the
/// `close` envelopes its connections never got (``EdgePresence/reapIfDead(edge:names:redis:reason:now:)``).
///
/// Every worker process runs one; they need no coordination, because reaping is
/// idempotent (deterministic envelope ids, deduped by the app consumers). Redis errors never
/// end the service: a sweep that fails is logged and the next interval tries again.
///
/// Graceful shutdown stops it at once: the sweep in progress is cancelled between pages,
/// and its own connection is closed so that a command waiting for an unreachable Redis
/// fails instead of holding the shutdown. What it did not finish, the next sweep (of any
/// worker) redoes with the same envelope ids.
public final class PresenceReaper: Service, Sendable {
    public let names: StreamNames
    public let interval: Duration
    private let redis: RedisClient
    private let logger: Logger
    private let now: @Sendable () -> Int64

    /// - Parameters:
    ///   - settings: `bus.prefix` and `worker.reap_interval`.
    ///   - redis: the client whose configuration the reaper's own connection copies.
    ///   - now: the `ts` of the envelopes written, in ms since the Unix epoch.
    public init(
        settings: RoomsSettings,
        redis: RedisClient,
        logger: Logger,
        now: @escaping @Sendable () -> Int64 = PresenceReaper.wallClockMilliseconds
    ) throws {
        self.names = try StreamNames(prefix: settings.prefix, redis: settings.redis)
        self.interval = settings.reapInterval
        self.redis = redis
        self.logger = logger
        self.now = now
    }

    /// The current time in ms since the Unix epoch.
    public static func wallClockMilliseconds() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1000)
    }

    public func run() async throws {
        let client = self.redis.makeDedicatedClient(logger: self.logger)
        self.logger.info("presence reaper starting", metadata: ["rooms.reap_interval": "\(self.interval)"])
        await cancelWhenGracefulShutdown {
            await withTaskCancellationHandler {
                await self.loop(client)
            } onCancel: {
                _ = client.close()
            }
        }
        await client.close()
        self.logger.info("presence reaper stopped")
    }

    private func loop(_ client: RedisClient) async {
        while !Task.isCancelled {
            do {
                try await self.sweep(client)
            } catch {
                if Task.isCancelled { return }
                self.logger.warning("presence sweep failed, retrying next interval", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: self.interval)
        }
    }

    /// One pass over `<prefix>:edges`. An edge that fails is logged and skipped, so one bad
    /// registry does not keep the others from being reaped.
    func sweep(_ client: RedisClient) async throws {
        for edge in try await client.smembers(self.names.edges).sorted() {
            try Task.checkCancellation()
            var logger = self.logger
            logger[metadataKey: "edge.id"] = "\(edge)"
            guard StreamNames.isValidEdgeID(edge) else {
                // It can never own keys; drop it so that it is not looked at again.
                try await client.srem(self.names.edges, members: [edge])
                logger.info("invalid edge id removed from the edge registry")
                continue
            }
            do {
                let closed = try await EdgePresence.reapIfDead(
                    edge: edge, names: self.names, redis: client, now: self.now())
                if closed > 0 {
                    logger.info("dead edge reaped", metadata: ["rooms.closed": "\(closed)"])
                }
            } catch let error as RedisError where error.code == .server {
                logger.warning("reaping edge failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
