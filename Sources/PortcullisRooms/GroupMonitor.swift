import Foundation
import Logging
import NIOConcurrencyHelpers
import PortcullisBus
import ServiceLifecycle

/// What `/readyz` answers from: whether Redis answered lately and whether every app's
/// consumer group exists. Written by ``GroupMonitor``.
public final class RoomsReadiness: Sendable {
    private struct State {
        var lastAnswer: ContinuousClock.Instant?
        var missingGroups: [String]
        var lastError: String?
    }

    private let state: NIOLockedValueBox<State>
    /// Redis silent for longer than this makes the worker not ready.
    static let staleAfter: Duration = .seconds(10)

    public init(apps: [String]) {
        self.state = NIOLockedValueBox(State(lastAnswer: nil, missingGroups: apps, lastError: nil))
    }

    /// nil when ready, else why not.
    public func problem(now: ContinuousClock.Instant = .now) -> String? {
        self.state.withLockedValue { state in
            guard let answer = state.lastAnswer, now - answer <= Self.staleAfter else {
                return "redis has not answered lately" + (state.lastError.map { ": \($0)" } ?? "")
            }
            guard state.missingGroups.isEmpty else {
                return "no consumer group yet for " + state.missingGroups.joined(separator: ", ")
            }
            return nil
        }
    }

    func answered(missingGroups: [String]) {
        self.state.withLockedValue {
            $0.lastAnswer = .now
            $0.missingGroups = missingGroups
            $0.lastError = nil
        }
    }

    func failed(_ error: any Error) {
        self.state.withLockedValue { $0.lastError = "\(error)" }
    }
}

/// Reads each app's consumer group (`XINFO GROUPS`) every few seconds: the pending and lag
/// gauges, Redis's liveness and the readiness that `/readyz` reports.
public struct GroupMonitor: Service {
    let settings: RoomsSettings
    let names: StreamNames
    let redis: RedisClient
    let readiness: RoomsReadiness
    let logger: Logger
    let interval: Duration

    public init(
        settings: RoomsSettings, redis: RedisClient, readiness: RoomsReadiness, logger: Logger,
        interval: Duration = .seconds(5)
    ) throws {
        self.settings = settings
        self.names = try StreamNames(prefix: settings.prefix, redis: settings.redis)
        self.redis = redis
        self.readiness = readiness
        self.logger = logger
        self.interval = interval
    }

    /// Polls on a client of its own: a poll waiting for a Redis that is down holds no one
    /// else's connection, and closing the client at shutdown ends that wait at once.
    public func run() async throws {
        let client = self.redis.makeDedicatedClient(logger: self.logger)
        await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    await self.poll(client)
                    try? await Task.sleep(for: self.interval)
                }
            }
        } onGracefulShutdown: {
            client.close()
        }
        await client.close()
    }

    func poll(_ redis: RedisClient) async {
        var missing: [String] = []
        do {
            for app in self.settings.apps {
                let stream = try self.names.inbound(app: app)
                let group = try StreamNames.consumerGroup(app: app)
                let groups: [StreamGroupInfo]
                do {
                    groups = try await redis.xinfoGroups(stream)
                } catch let error as RedisError where error.serverCode == "ERR" {
                    groups = []  // no stream yet: the consumer creates it with its group
                }
                guard let info = groups.first(where: { $0.name == group }) else {
                    missing.append(app)
                    continue
                }
                RoomsMetrics.shared.group(app: app, pending: info.pending, lag: info.lag)
            }
            RoomsMetrics.shared.redis(up: true)
            self.readiness.answered(missingGroups: missing)
        } catch {
            RoomsMetrics.shared.redis(up: false)
            self.readiness.failed(error)
            self.logger.debug("group monitor: redis unavailable", metadata: ["error": "\(error)"])
        }
    }
}
