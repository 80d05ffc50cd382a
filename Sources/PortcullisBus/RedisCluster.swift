import Logging
import NIOCore
import PortcullisConfig

/// The Redis Cluster side of ``RedisClient``: a slot map read with `CLUSTER SLOTS`, one
/// single-node ``RedisClient`` per master (each with its own reconnects and buffer), and
/// each command sent to the master owning its key's slot (``RedisCommandKeys``).
///
/// Redirects are followed without the caller noticing: `-MOVED` records the slot's new
/// master, asks for a fresh map and sends the command there; `-ASK` sends `ASKING` and the
/// command to the named node, once, on the same connection back to back. `-TRYAGAIN` and
/// `-CLUSTERDOWN` (a migration or a failover under way) are retried with a growing wait
/// for up to 10 s; a blocking read that a migration woke (`-UNBLOCKED`, its stream moved
/// away) is sent again (the rules: ``RedisClusterRetry``). None of these ran the command,
/// so a retry cannot apply it twice; a command in flight when its connection drops fails
/// as with a single server.
///
/// The map is read from the first node that answers — the known masters, then the seeds —
/// at start, after a redirect or a lost connection, and every ``refreshInterval``. A master
/// that drops out of the map has its client closed (after the replies of its commands in
/// flight, when it is still up): the commands waiting in it (a failed node's, never sent)
/// are sent again to the slot's new master. Commands sent before the first map arrives
/// wait for it, bounded like a disconnected client's buffer.
///
/// Blocking reads need a client of their own as with a single server
/// (``RedisClient/makeDedicatedClient(logger:)``): its masters' connections are its own.
/// All state lives on `eventLoop`, the event loop of every node client too, so `ASKING`
/// and its command are written back to back.
final class RedisCluster: Sendable {
    let eventLoop: any EventLoop
    private let core: NIOLoopBoundBox<Core>

    /// How often the slot map is read again while nothing else asks for it.
    static let refreshInterval = TimeAmount.seconds(1)
    /// The longest a connected client of a node that left the map is kept for the replies
    /// of its commands in flight.
    static let retireTimeout = TimeAmount.seconds(5)

    init(
        configuration: RedisConfiguration, cluster: RedisConfiguration.Cluster, eventLoop: any EventLoop, logger: Logger
    ) {
        self.eventLoop = eventLoop
        self.core = NIOLoopBoundBox.makeBoxSendingValue(
            Core(configuration: configuration, seeds: cluster.seeds, eventLoop: eventLoop, logger: logger),
            eventLoop: eventLoop
        )
        self.onLoop { $0.refresh() }
    }

    func send(_ command: [RedisArgument], promise: EventLoopPromise<RESPValue>) {
        self.onLoop { $0.send(Request(command: command, promise: promise, slot: RedisCommandKeys.slot(of: command))) }
    }

    func close(promise: EventLoopPromise<Void>) {
        self.onLoop { $0.close(promise: promise) }
    }

    /// Whether the slot map is known and the node it came from still connected.
    var isConnected: EventLoopFuture<Bool> {
        self.eventLoop.submit { self.core.value.isConnected }
    }

    private func onLoop(_ body: @escaping @Sendable (Core) -> Void) {
        self.eventLoop.executeNowOrSoon { body(self.core.value) }
    }
}

extension RedisCluster {
    /// One command on its way: where it is sent is decided again on every retry.
    struct Request {
        var command: [RedisArgument]
        var promise: EventLoopPromise<RESPValue>
        var slot: Int?
        var retry = RedisClusterRetry()
        /// Set after `-ASK`: the node to send this command to once, after `ASKING`.
        var asking: RedisConfiguration.Endpoint?
    }

    /// The cluster client's mutable part; only touched on its event loop.
    private final class Core {
        private let configuration: RedisConfiguration
        private let seeds: [RedisConfiguration.Endpoint]
        private let eventLoop: any EventLoop
        private let logger: Logger
        private var map: RedisSlotMap?
        /// The masters of the last map read (for logs).
        private var readMasters: Set<RedisConfiguration.Endpoint> = []
        private var nodes: [RedisConfiguration.Endpoint: RedisClient] = [:]
        /// Commands sent before the first map arrived.
        private var waiting: [Request] = []
        /// The connection the last map was read on, kept for the next read.
        private var control: RedisConnection?
        private var refreshing = false
        private var refreshAgain = false
        private var refreshFailures = 0
        private var refreshTask: Scheduled<Void>?
        private var closed = false

        init(
            configuration: RedisConfiguration, seeds: [HostPort], eventLoop: any EventLoop, logger: Logger
        ) {
            var node = configuration
            node.cluster = nil
            node.sentinel = nil
            self.configuration = node
            self.seeds = seeds.map { .tcp(host: $0.host, port: $0.port) }
            self.eventLoop = eventLoop
            self.logger = logger
        }

        var isConnected: Bool { self.map != nil && self.control?.isActive == true }

        func send(_ request: Request) {
            guard !self.closed else {
                request.promise.fail(
                    RedisError(code: .clientClosed, message: "Redis client is closed", isRetrySafe: true))
                return
            }
            guard let map = self.map else {
                guard self.waiting.count < self.configuration.bufferLimits.maximumCommands else {
                    request.promise.fail(
                        RedisError(
                            code: .bufferFull,
                            message:
                                "no Redis Cluster node answered yet and \(self.waiting.count) commands are waiting",
                            isRetrySafe: true))
                    return
                }
                self.waiting.append(request)
                return
            }
            var request = request
            let target: RedisConfiguration.Endpoint
            if let asking = request.asking {
                target = asking
            } else if let slot = request.slot {
                guard let master = map.master(for: slot) else {
                    self.noMaster(request, message: "no Redis Cluster master serves slot \(slot)")
                    return
                }
                target = master
            } else {
                guard let any = map.masters.first else {
                    self.noMaster(request, message: "the Redis Cluster has no master")
                    return
                }
                target = any
            }
            let node = self.client(for: target)
            if request.asking != nil {
                request.asking = nil
                _ = node.send(["ASKING"])
            }
            node.send(request.command).hop(to: self.eventLoop).assumeIsolated().whenComplete { result in
                switch result {
                case .success(let reply):
                    request.promise.succeed(reply)
                case .failure(let error):
                    self.failed(request, error: error, on: target)
                }
            }
        }

        /// Follows a redirect, retries a refusal, or hands the error to the caller
        /// (``RedisClusterRetry``).
        private func failed(_ request: Request, error: any Error, on node: RedisConfiguration.Endpoint) {
            var request = request
            self.run(request.retry.failed(error, on: node, now: .now()), request, failing: error)
        }

        /// The request's slot has no master in the map: retried for a while, then failed as
        /// never sent.
        private func noMaster(_ request: Request, message: String) {
            var request = request
            let error = RedisError(code: .connectFailed, message: message, isRetrySafe: true)
            self.run(request.retry.noMaster(now: .now()), request, failing: error)
        }

        private func run(_ action: RedisClusterRetry.Action, _ request: Request, failing error: any Error) {
            var request = request
            switch action {
            case .moved(let slot, let endpoint):
                self.map?.assign(slot...slot, to: endpoint)
                self.refresh()
                self.send(request)
            case .ask(let endpoint):
                request.asking = endpoint
                self.send(request)
            case .resend:
                self.send(request)
            case .resendAfter(let delay, let refreshingMap):
                if refreshingMap { self.refresh() }
                self.eventLoop.assumeIsolated().scheduleTask(in: delay) { self.send(request) }
            case .fail(let refreshingMap):
                if refreshingMap { self.refresh() }
                request.promise.fail(error)
            }
        }

        private func client(for endpoint: RedisConfiguration.Endpoint) -> RedisClient {
            if let client = self.nodes[endpoint] { return client }
            var configuration = self.configuration
            configuration.endpoint = endpoint
            let client = RedisClient(configuration: configuration, eventLoop: self.eventLoop, logger: self.logger)
            self.nodes[endpoint] = client
            return client
        }

        // MARK: The slot map

        /// Reads the map again now, or right after the read under way.
        func refresh() {
            guard !self.closed else { return }
            guard !self.refreshing else {
                self.refreshAgain = true
                return
            }
            self.refreshing = true
            self.refreshTask?.cancel()
            self.refreshTask = nil
            let candidates = (self.map?.masters ?? []) + self.seeds.filter { !(self.map?.masters ?? []).contains($0) }
            self.readMap(from: candidates[...], failures: []).assumeIsolated().whenComplete { result in
                self.refreshing = false
                guard !self.closed else { return }
                switch result {
                case .success(let map):
                    self.refreshFailures = 0
                    self.install(map)
                case .failure(let error):
                    self.refreshFailures += 1
                    let level: Logger.Level = self.refreshFailures == 1 ? .info : .debug
                    self.logger.log(
                        level: level, "Redis Cluster slot map unavailable", metadata: ["redis.error": "\(error)"])
                }
                if self.refreshAgain {
                    self.refreshAgain = false
                    self.refresh()
                } else {
                    let delay =
                        self.refreshFailures == 0
                        ? RedisCluster.refreshInterval
                        : TimeAmount(
                            self.configuration.reconnectBackoff.delay(
                                attempt: self.refreshFailures, random: Double.random(in: 0..<1)))
                    self.refreshTask = self.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                        self.refreshTask = nil
                        self.refresh()
                    }
                }
            }
        }

        /// Asks `candidates` in order (the kept connection first) until one gives a map.
        private func readMap(
            from candidates: ArraySlice<RedisConfiguration.Endpoint>, failures: [String]
        ) -> EventLoopFuture<RedisSlotMap> {
            if let control = self.control, control.isActive {
                return self.readMap(on: control).assumeIsolated().flatMapError { error in
                    control.close()
                    self.control = nil
                    return self.readMap(from: candidates, failures: failures + ["\(control.endpoint): \(error)"])
                }.nonisolated()
            }
            guard let endpoint = candidates.first else {
                return self.eventLoop.makeFailedFuture(
                    RedisError(
                        code: .connectFailed,
                        message: "no Redis Cluster node gave the slot map: " + failures.joined(separator: "; "),
                        isRetrySafe: true))
            }
            var configuration = self.configuration
            configuration.endpoint = endpoint
            return RedisConnection.makeConnection(to: configuration, on: self.eventLoop, logger: self.logger)
                .assumeIsolated()
                .flatMap { connection in
                    self.control = connection
                    return self.readMap(on: connection)
                }.flatMapError { error in
                    self.control?.close()
                    self.control = nil
                    let reason = (error as? RedisError)?.message ?? "\(error)"
                    return self.readMap(from: candidates.dropFirst(), failures: failures + ["\(endpoint): \(reason)"])
                }.nonisolated()
        }

        private func readMap(on connection: RedisConnection) -> EventLoopFuture<RedisSlotMap> {
            let timeout = connection.eventLoop.scheduleTask(in: TimeAmount(self.configuration.connectTimeout)) {
                connection.close()
            }
            return connection.send(["CLUSTER", "SLOTS"]).always { _ in timeout.cancel() }.flatMapThrowing { reply in
                let map = try RedisSlotMap(clusterSlots: reply, from: connection.endpoint)
                guard !map.masters.isEmpty else {
                    throw RedisError(code: .unexpectedReply, message: "the node serves no slots yet")
                }
                return map
            }
        }

        /// Uses `map` from now on: closes the clients of nodes that left it (their waiting
        /// commands come back as `clientClosed` and are sent again), then sends what waited
        /// for the first map.
        private func install(_ map: RedisSlotMap) {
            // Compared with the last map read, not the one -MOVED patched since.
            let masters = Set(map.masters)
            if self.map == nil {
                self.logger.info(
                    "Redis Cluster slot map read", metadata: ["redis.masters": "\(map.masters.map(\.description))"])
            } else if self.readMasters != masters {
                self.logger.info(
                    "Redis Cluster masters changed", metadata: ["redis.masters": "\(map.masters.map(\.description))"])
            }
            self.readMasters = masters
            self.map = map
            for (endpoint, client) in self.nodes where !map.masters.contains(endpoint) {
                self.nodes[endpoint] = nil
                self.retire(client)
            }
            let waiting = self.waiting
            self.waiting = []
            for request in waiting {
                self.send(request)
            }
        }

        /// Stops using the client of a node that left the map. Disconnected (the node
        /// failed): closed at once, so the commands waiting in it come back as `clientClosed`
        /// and go to the slot's new master. Connected (a failover demoted it, or it gave away
        /// its last slot): closed behind a PING, so the commands in flight on it get their
        /// replies (redirects, followed) instead of failing as lost; a blocked read delays
        /// that by its block time, bounded by ``RedisCluster/retireTimeout``.
        private func retire(_ client: RedisClient) {
            client.isConnected.hop(to: self.eventLoop).assumeIsolated().whenComplete { result in
                guard case .success(true) = result else {
                    client.close()
                    return
                }
                let deadline = self.eventLoop.assumeIsolated().scheduleTask(in: RedisCluster.retireTimeout) {
                    client.close()
                }
                client.send(["PING"]).hop(to: self.eventLoop).assumeIsolated().whenComplete { _ in
                    deadline.cancel()
                    client.close()
                }
            }
        }

        func close(promise: EventLoopPromise<Void>) {
            guard !self.closed else {
                promise.succeed()
                return
            }
            self.closed = true
            self.refreshTask?.cancel()
            self.refreshTask = nil
            self.control?.close()
            self.control = nil
            let error = RedisError(
                code: .clientClosed, message: "Redis client closed before sending", isRetrySafe: true)
            for request in self.waiting {
                request.promise.fail(error)
            }
            self.waiting = []
            let closes = self.nodes.values.map { $0.close() }
            self.nodes = [:]
            EventLoopFuture.andAllComplete(closes, on: self.eventLoop).cascade(to: promise)
        }
    }
}
