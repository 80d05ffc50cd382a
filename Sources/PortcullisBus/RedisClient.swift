import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// A Redis client that keeps one pipelined connection up: it connects at creation, and when
/// the connection is lost it reconnects with exponential backoff and jitter
/// (``RedisConfiguration/reconnectBackoff``), re-running TLS, AUTH and SELECT each time (the
/// TLS context is built once, at the first connect).
///
/// With ``RedisConfiguration/sentinel`` every (re)connect asks the sentinels for the master
/// and checks it with `ROLE`, and a connected client asks them again every second. When they
/// name another master, or the server refuses a command as not-a-master (`-READONLY`,
/// `-NOREPLICAS`, so never run), the client steps off that connection; refused commands are
/// sent again on the next master's for up to 10 s.
///
/// Commands issued while disconnected wait in a buffer bounded by
/// ``RedisConfiguration/bufferLimits`` and are sent, in order, as soon as a connection is up;
/// past the bound they fail at once with ``RedisError/Code/bufferFull``, which callers should
/// turn into backpressure. Commands already written when the connection dropped fail with
/// ``RedisError/Code/connectionClosed`` and are not retried: Redis may have run them, and
/// only the caller knows whether a second run is harmless (XACK is; XADD with `*` is not).
///
/// Blocking reads (`XREAD BLOCK`, `XREADGROUP BLOCK`) hold the pipeline until they return,
/// so run them on a client of their own: clients are cheap (one connection each), and
/// ``makeDedicatedClient(logger:)`` makes one with the same configuration.
///
/// With ``RedisConfiguration/cluster`` the client is a Redis Cluster client (``RedisCluster``):
/// one such connection per master, each command sent to the master of its key's slot,
/// redirects followed; what is said above holds per master.
///
/// Call ``close()`` when done; until then the client keeps reconnecting. Safe to use from
/// any thread; all state lives on `eventLoop`.
public final class RedisClient: RedisCommandSender {
    public let eventLoop: any EventLoop
    public let configuration: RedisConfiguration
    private let logger: Logger
    private let core: NIOLoopBoundBox<Core>
    /// With ``RedisConfiguration/cluster``: the router that takes every command instead of
    /// `core` (which then stays idle).
    private let cluster: RedisCluster?

    /// Creates the client and starts connecting on `eventLoop`.
    public convenience init(
        configuration: RedisConfiguration,
        eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next(),
        logger: Logger
    ) {
        self.init(configuration: configuration, eventLoop: eventLoop, logger: logger) {
            Double.random(in: 0..<1)
        }
    }

    /// Parses `url` (see ``RedisConfiguration/init(url:)``) and creates the client.
    public convenience init(
        url: String,
        eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next(),
        logger: Logger
    ) throws {
        self.init(configuration: try RedisConfiguration(url: url), eventLoop: eventLoop, logger: logger)
    }

    /// `random` supplies the backoff jitter (uniform in `0..<1`); tests pass a fixed one.
    init(
        configuration: RedisConfiguration,
        eventLoop: any EventLoop,
        logger: Logger,
        random: @escaping @Sendable () -> Double
    ) {
        var logger = logger
        // A cluster client has no endpoint of its own; its node clients log theirs.
        logger[metadataKey: "redis.endpoint"] = configuration.cluster == nil ? "\(configuration.endpoint)" : "cluster"
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.logger = logger
        self.core = NIOLoopBoundBox.makeBoxSendingValue(
            Core(configuration: configuration, eventLoop: eventLoop, logger: logger, random: random),
            eventLoop: eventLoop
        )
        if let cluster = configuration.cluster {
            self.cluster = RedisCluster(
                configuration: configuration, cluster: cluster, eventLoop: eventLoop, logger: logger)
            self.onLoop { $0.retire() }
        } else {
            self.cluster = nil
            self.onLoop { $0.start() }
        }
    }

    /// A new client with this client's configuration and its own connection, for blocking reads.
    public func makeDedicatedClient(logger: Logger? = nil) -> RedisClient {
        RedisClient(configuration: self.configuration, eventLoop: self.eventLoop, logger: logger ?? self.logger)
    }

    public func send(_ command: [RedisArgument]) -> EventLoopFuture<RESPValue> {
        let promise = self.eventLoop.makePromise(of: RESPValue.self)
        guard !command.isEmpty else {
            promise.fail(RedisError(code: .invalidArgument, message: "empty Redis command", isRetrySafe: true))
            return promise.futureResult
        }
        if let cluster = self.cluster {
            cluster.send(command, promise: promise)
        } else {
            self.onLoop { $0.send(command, promise: promise) }
        }
        return promise.futureResult
    }

    /// Stops reconnecting, closes the connection (commands in flight fail with
    /// ``RedisError/Code/connectionClosed``) and fails buffered commands with
    /// ``RedisError/Code/clientClosed``. Later commands fail at once.
    @discardableResult
    public func close() -> EventLoopFuture<Void> {
        let promise = self.eventLoop.makePromise(of: Void.self)
        if let cluster = self.cluster {
            cluster.close(promise: promise)
        } else {
            self.onLoop { $0.close(promise: promise) }
        }
        return promise.futureResult
    }

    /// Async variant of ``close()``.
    public func close() async {
        let future: EventLoopFuture<Void> = self.close()
        _ = try? await future.get()
    }

    /// Whether a connection is up right now (for health reports; it may drop at any moment).
    public var isConnected: EventLoopFuture<Bool> {
        if let cluster = self.cluster { return cluster.isConnected }
        return self.eventLoop.submit { self.core.value.stateMachine.isConnected }
    }

    private func onLoop(_ body: @escaping @Sendable (Core) -> Void) {
        self.eventLoop.executeNowOrSoon { body(self.core.value) }
    }
}

extension EventLoop {
    /// Runs `body` at once when called on this loop, else queues it there. A client's
    /// calls from its own loop (a node client's, from its cluster router) then act in
    /// the order they were made, with nothing in between.
    func executeNowOrSoon(_ body: @escaping @Sendable () -> Void) {
        if self.inEventLoop {
            body()
        } else {
            self.execute(body)
        }
    }
}

extension RedisClient {
    /// The client's mutable part; only touched on the client's event loop.
    private final class Core {
        var stateMachine: RedisClientStateMachine<RedisConnection, EventLoopPromise<RESPValue>>
        private let configuration: RedisConfiguration
        private let eventLoop: any EventLoop
        private let logger: Logger
        private var reconnectTask: Scheduled<Void>?
        /// With Sentinel: the next check that the sentinels still name this connection's server.
        private var masterCheckTask: Scheduled<Void>?
        /// With Sentinel: how often a connected client asks the sentinels whether its server is
        /// still the master. Reads are never refused by a demoted master, so without this a
        /// reader would stay on it until the sentinels reconfigure it (about 10 s).
        static let masterCheckInterval = TimeAmount.seconds(1)
        /// With Sentinel: when each waiting command was first refused as not-a-master.
        private var refusals: [ObjectIdentifier: NIODeadline] = [:]
        /// With Sentinel: how long a command refused as not-a-master is sent again. Until a
        /// failover completes, the sentinels still name the old master (about a second).
        static let refusalRetryWindow = TimeAmount.seconds(10)
        /// `configuration.tls` built once for every (re)connect; nil until the first connect.
        private var sslContext: Result<NIOSSLContext, any Error>?

        init(
            configuration: RedisConfiguration,
            eventLoop: any EventLoop,
            logger: Logger,
            random: @escaping @Sendable () -> Double
        ) {
            self.stateMachine = RedisClientStateMachine(
                limits: configuration.bufferLimits,
                backoff: configuration.reconnectBackoff,
                random: random
            )
            self.configuration = configuration
            self.eventLoop = eventLoop
            self.logger = logger
        }

        func start() {
            self.run(.connect)
        }

        func send(_ command: [RedisArgument], promise: EventLoopPromise<RESPValue>) {
            self.run(self.stateMachine.sendCommand(command, promise: promise))
        }

        /// For a cluster client: this core never connects (the cluster's node clients do).
        func retire() {
            self.run(self.stateMachine.close())
        }

        func close(promise: EventLoopPromise<Void>) {
            let action = self.stateMachine.close()
            if case .shutDown(.some(let connection), _, _, _) = action {
                connection.closeFuture.cascade(to: promise)
            } else {
                promise.succeed()
            }
            self.run(action)
        }

        private func run(_ action: RedisClientStateMachine<RedisConnection, EventLoopPromise<RESPValue>>.Action) {
            switch action {
            case .none:
                break
            case .connect:
                self.connect()
            case .send(let connection, let command, let promise):
                self.write(command, promise: promise, on: connection)
            case .sendBuffered(let connection, let buffered):
                self.logger.info("Connected to Redis", metadata: ["redis.buffered": "\(buffered.count)"])
                for command in buffered {
                    self.write(command.command, promise: command.promise, on: connection)
                }
                self.scheduleMasterCheck()
            case .fail(let promise, let error):
                promise.fail(error)
            case .scheduleReconnect(let delay, let failures, let lastError):
                var metadata: Logger.Metadata = [
                    "redis.reconnect.delay": "\(delay)",
                    "redis.reconnect.failures": "\(failures)",
                ]
                if let lastError {
                    // The first failure of a streak is worth an operator's attention; the
                    // retries that follow are not.
                    metadata["redis.error"] = "\(lastError)"
                    let level: Logger.Level = failures == 1 ? .info : .debug
                    self.logger.log(level: level, "Redis connect attempt failed", metadata: metadata)
                } else {
                    self.logger.info("Redis connection lost; reconnecting", metadata: metadata)
                }
                self.reconnectTask = self.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) {
                    self.reconnectTask = nil
                    self.run(self.stateMachine.reconnectTimerFired())
                }
            case .closeConnection(let connection):
                connection.close()
            case .shutDown(let connection, let cancelTimer, let promises, let error):
                self.logger.debug("Closing Redis client")
                if cancelTimer {
                    self.reconnectTask?.cancel()
                    self.reconnectTask = nil
                }
                self.masterCheckTask?.cancel()
                self.masterCheckTask = nil
                connection?.close()
                for promise in promises {
                    promise.fail(error)
                }
            }
        }

        /// Writes `command`. With Sentinel, a `-READONLY` or `-NOREPLICAS` reply means this
        /// connection's server is no longer the master (a failover demoted it, or cut it off
        /// from its replicas): the client steps off it (``stepDown(_:reason:)``) so that the
        /// next connection asks a sentinel again, and the command, which Redis refused and so
        /// never ran, is sent again on that next connection, for up to ``refusalRetryWindow``
        /// after its first refusal.
        private func write(
            _ command: [RedisArgument], promise: EventLoopPromise<RESPValue>, on connection: RedisConnection
        ) {
            guard self.configuration.sentinel != nil else {
                connection.write(command, promise: promise)
                return
            }
            let reply = self.eventLoop.makePromise(of: RESPValue.self)
            reply.futureResult.assumeIsolated().whenComplete { result in
                let key = ObjectIdentifier(promise.futureResult)
                if case .failure(let error) = result, let code = (error as? RedisError)?.serverCode,
                    code == "READONLY" || code == "NOREPLICAS"
                {
                    self.stepDown(connection, reason: code)
                    let first = self.refusals[key] ?? .now()
                    if .now() < first + Self.refusalRetryWindow {
                        self.refusals[key] = first
                        // The client is reconnecting now, so this waits for the next master.
                        self.send(command, promise: promise)
                        return
                    }
                }
                self.refusals[key] = nil
                promise.completeWith(result)
            }
            connection.write(command, promise: reply)
        }

        /// With Sentinel, asks the sentinels every ``masterCheckInterval`` while connected, and
        /// steps off the connection when they name another master (a failover happened).
        private func scheduleMasterCheck() {
            guard let sentinel = self.configuration.sentinel, self.masterCheckTask == nil else { return }
            self.masterCheckTask = self.eventLoop.assumeIsolated().scheduleTask(in: Self.masterCheckInterval) {
                self.masterCheckTask = nil
                guard let connection = self.stateMachine.connection else { return }  // reconnecting
                sentinel.masterEndpoint(
                    connectTimeout: self.configuration.connectTimeout,
                    on: self.eventLoop,
                    logger: self.logger
                ).assumeIsolated().whenComplete { result in
                    if case .success(let master) = result, master != connection.endpoint,
                        self.stateMachine.connection === connection
                    {
                        self.stepDown(connection, reason: "the sentinels name \(master)")
                    }
                    if self.stateMachine.connection != nil { self.scheduleMasterCheck() }
                }
            }
        }

        /// Stops using `connection` (its server refused a write as not-a-master): the client
        /// reconnects through the sentinels at once, while the commands already in flight on
        /// it still get their replies (refusals, retried too) before it closes behind a PING.
        /// Closing at once would fail those commands as lost instead.
        private func stepDown(_ connection: RedisConnection, reason: String) {
            let action = self.stateMachine.connectionClosed(connection)
            if case .none = action { return }  // already stepped down
            self.logger.info(
                "Redis master stepped down; asking the sentinels again",
                metadata: ["redis.master": "\(connection.endpoint)", "redis.error": "\(reason)"]
            )
            self.run(action)
            connection.send(["PING"]).whenComplete { _ in connection.close() }
        }

        /// A connection to the configured endpoint, or with Sentinel to the master a sentinel
        /// names now (asked again on every reconnect, so a failover is followed), checked with
        /// `ROLE` so a demoted master that a sentinel still reports is never used.
        private func openConnection(sslContext: NIOSSLContext?) -> EventLoopFuture<RedisConnection> {
            guard let sentinel = self.configuration.sentinel else {
                return RedisConnection.makeConnection(
                    to: self.configuration, sslContext: sslContext, on: self.eventLoop, logger: self.logger)
            }
            let (configuration, logger, eventLoop) = (self.configuration, self.logger, self.eventLoop)
            return sentinel.masterEndpoint(
                connectTimeout: configuration.connectTimeout,
                on: eventLoop,
                logger: logger
            ).flatMap { (master: RedisConfiguration.Endpoint) -> EventLoopFuture<RedisConnection> in
                var configuration = configuration
                configuration.endpoint = master
                return RedisConnection.makeConnection(
                    to: configuration, sslContext: sslContext, on: eventLoop, logger: logger)
            }.flatMap { (connection: RedisConnection) -> EventLoopFuture<RedisConnection> in
                connection.send(["ROLE"]).flatMapThrowing { (reply: RESPValue) -> RedisConnection in
                    guard case .array(let items) = reply, items.first?.string == "master" else {
                        connection.close()
                        throw RedisError(
                            code: .connectFailed,
                            message: "\(connection.endpoint), named master '\(sentinel.masterName)' by a sentinel, "
                                + "is not a master (a failover is under way)",
                            isRetrySafe: true
                        )
                    }
                    logger.info(
                        "Redis master found through Sentinel",
                        metadata: [
                            "redis.master": "\(connection.endpoint)", "redis.master_name": "\(sentinel.masterName)",
                        ]
                    )
                    return connection
                }
            }
        }

        /// The TLS context, built at the first connect (files are read once; a failure is
        /// kept, so every attempt reports it the same way without rereading).
        private func tlsContext() throws -> NIOSSLContext? {
            guard let tls = self.configuration.tls else { return nil }
            if self.sslContext == nil {
                self.sslContext = Result { try tls.makeContext() }
            }
            return try self.sslContext?.get()
        }

        private func connect() {
            self.logger.debug("Connecting to Redis")
            let sslContext: NIOSSLContext?
            do {
                sslContext = try self.tlsContext()
            } catch {
                self.run(self.stateMachine.connectFailed(error))
                return
            }
            self.openConnection(sslContext: sslContext)
                .assumeIsolated()
                .whenComplete { result in
                    switch result {
                    case .success(let connection):
                        self.run(self.stateMachine.connectSucceeded(connection))
                        // Registered after the state machine knows the connection, so a
                        // connection that is already closed is noticed at once.
                        connection.closeFuture.assumeIsolated().whenComplete { _ in
                            self.run(self.stateMachine.connectionClosed(connection))
                        }
                    case .failure(let error):
                        self.run(self.stateMachine.connectFailed(error))
                    }
                }
        }
    }
}
