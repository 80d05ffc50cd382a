import Atomics
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import PortcullisBus
import PortcullisConfig
import PortcullisHTTP
import PortcullisSystemd
import Prometheus
import ServiceLifecycle

/// Process-wide flags handlers read without locks.
final class EdgeState: Sendable {
    private let draining = ManagedAtomic(false)

    var isDraining: Bool { draining.load(ordering: .relaxed) }

    func startDraining() {
        draining.store(true, ordering: .relaxed)
    }
}

/// A listener that could not be opened.
public struct ListenerError: Error, CustomStringConvertible {
    public let listener: String
    public let address: String
    public let underlying: Error

    public var description: String { "listener \(listener) (\(address)): \(underlying)" }
}

/// The edge as a service: binds every listener and the admin listener, serves until
/// graceful shutdown, then drains.
///
/// Draining stops accepting, answers `/healthz` with 503, lets requests in flight finish
/// (idle keep-alive connections close at once, busy ones after their response), and after
/// `edge.drain_timeout` closes whatever is left.
public final class EdgeServer: Service, Sendable {
    public let snapshots: SnapshotBox
    private let logger: Logger
    private let state = EdgeState()

    /// Rebuilds the snapshot on SIGHUP, `POST /reload` and file changes; run it in the
    /// same service group.
    public let reloader: ConfigReloader

    private let metrics: PrometheusCollectorRegistry?
    private let notifier: SystemdNotifier?

    /// - Parameters:
    ///   - metrics: the registry the process's `MetricsSystem` writes to, served at
    ///     `GET /metrics` on the admin listener.
    ///   - notifier: systemd's notify socket, told when the listeners are bound, around
    ///     reloads, at the start of the drain, and (with `WatchdogSec=`) from an event loop
    ///     while it turns.
    public init(
        snapshot: EdgeSnapshot, configPath: String, logger: Logger, metrics: PrometheusCollectorRegistry? = nil,
        notifier: SystemdNotifier? = nil
    ) {
        self.snapshots = SnapshotBox(snapshot)
        self.logger = logger
        self.metrics = metrics
        self.notifier = notifier
        self.reloader = ConfigReloader(
            configPath: configPath, snapshots: snapshots, logger: logger, notifier: notifier)
    }

    public func run() async throws {
        let configuration = snapshots.current.configuration
        let threads = configuration.edge.eventLoops > 0 ? configuration.edge.eventLoops : System.coreCount
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        var redis: RedisConfiguration?
        do {
            redis = try configuration.redis.map { try RedisConfiguration(settings: $0) }
            redis?.bufferLimits.maximumCommands = configuration.bus.maxBufferedAppends
            // Unusable TLS files stop the start here, not in every reconnect's log line.
            _ = try redis?.tls?.makeContext()
        } catch {
            try? await group.shutdownGracefully()
            throw ListenerError(listener: "redis", address: "redis.url", underlying: error)
        }
        let pools = PoolRegistry(group: group, redis: redis, logger: logger)
        let connections = ConnectionTracker()
        var channels: [Channel] = []
        let admin: Channel
        let sockets: SocketBus?
        do {
            // With Redis configured the bus side always runs, so a reload can add socket routes.
            sockets =
                redis == nil
                ? nil
                : try await SocketBus.make(group: group, configuration: configuration, pools: pools, logger: logger)
            for listener in configuration.listeners {
                let channel = try await bind(
                    listener, group: group, pools: pools, sockets: sockets, connections: connections)
                channels.append(channel)
            }
            let publisher = try redis.map { _ in
                BusPublisher(
                    names: try StreamNames(prefix: configuration.bus.prefix, redis: configuration.redis), pools: pools)
            }
            admin = try await bindAdmin(configuration.admin, group: group, publisher: publisher)
        } catch {
            for channel in channels { try? await channel.close() }
            await pools.closeRedis()
            try? await group.shutdownGracefully()
            throw error
        }
        let socketTask = sockets.map { sockets in Task { await sockets.run() } }
        logger.info("edge ready", metadata: ["edge.id": "\(configuration.edge.id)", "event_loops": "\(threads)"])
        notifier?.ready(status: "serving \(channels.count) listener\(channels.count == 1 ? "" : "s")")
        // Pinged from an event loop, so a wedged loop stops the pings and systemd restarts us.
        let watchdog = notifier.flatMap { notifier in
            notifier.watchdogInterval.map { interval in
                group.next().scheduleRepeatedTask(initialDelay: .zero, delay: interval.timeAmount) { _ in
                    notifier.watchdog()
                }
            }
        }

        try? await gracefulShutdown()

        notifier?.stopping()
        logger.info("draining", metadata: ["drain_timeout": "\(configuration.edge.drainTimeout)"])
        state.startDraining()
        // Stop accepting; the admin listener stays up to answer /healthz with 503.
        for channel in channels { try? await channel.close() }
        await sockets?.endPollingSessions()
        let loop = group.next()
        let finished = await Self.wait(
            for: connections.drain(on: loop),
            orTimeout: configuration.edge.drainTimeout.timeAmount,
            on: loop
        )
        if !finished {
            logger.warning("drain timeout reached; closing remaining connections")
            for closed in connections.closeAll() { try? await closed.get() }
        }
        if let sockets {
            await sockets.shutdown()
            socketTask?.cancel()
            await socketTask?.value
        }
        try? await admin.close()
        await pools.closeRedis()
        watchdog?.cancel()
        try? await group.shutdownGracefully()
        logger.info("stopped")
    }

    /// True when `future` completes within `timeout`, false when the timeout comes first.
    static func wait(for future: EventLoopFuture<Void>, orTimeout timeout: TimeAmount, on loop: EventLoop) async
        -> Bool
    {
        let outcome = loop.makePromise(of: Bool.self)
        let timer = loop.scheduleTask(in: timeout) { outcome.succeed(false) }
        future.whenComplete { _ in
            timer.cancel()
            outcome.succeed(true)
        }
        return (try? await outcome.futureResult.get()) ?? false
    }

    private func bind(
        _ listener: Listener,
        group: MultiThreadedEventLoopGroup,
        pools: PoolRegistry,
        sockets: SocketBus?,
        connections: ConnectionTracker
    ) async throws -> Channel {
        let environment = ProxyEnvironment(
            listener: listener.name,
            scheme: listener.tls == nil ? "http" : "https",
            trustedProxies: listener.trustedProxies,
            snapshots: snapshots,
            pools: pools,
            sockets: sockets,
            logger: logger,
            accessLog: snapshots.current.configuration.edge.accessLog,
            idleTimeout: listener.idleTimeout.timeAmount
        )
        let policy = RequestPolicy(listener: listener)
        let tls = listener.tls != nil
        let proxyProtocol = listener.proxyProtocol ? listener.trustedProxies : nil
        let logger = self.logger
        let snapshots = self.snapshots
        let listenerName = listener.name
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(connections.makeServerHandler())
                }
            }
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let trusted = proxyProtocol {
                        try sync.addHandler(
                            ByteToMessageHandler(ProxyProtocolDecoder(trustedProxies: trusted, logger: logger)))
                    }
                    if tls {
                        try Self.addSNI(sync, name: listenerName, snapshots: snapshots, channel: channel) {
                            $0.tls[listenerName]
                        }
                    }
                    try Self.configureProxyPipeline(sync, policy: policy, environment: environment)
                }
            }
        do {
            let channel = try await bootstrap.bind(host: listener.address.host, port: listener.address.port).get()
            logger.info(
                "listening",
                metadata: [
                    "listener": "\(listener.name)", "address": "\(channel.localAddress.map { "\($0)" } ?? "?")",
                    "tls": "\(tls)",
                ]
            )
            return channel
        } catch {
            throw ListenerError(listener: listener.name, address: listener.address.description, underlying: error)
        }
    }

    /// The HTTP/1.1 side of a client connection: the proxy handler, which decodes requests
    /// with the strict request decoder and writes responses as bytes (see `HTTPHeadWriter`). Every header it
    /// writes was validated by the strict decoder or by ``ResponseHeadParser``, or made by
    /// the edge.
    static func configureProxyPipeline(
        _ sync: ChannelPipeline.SynchronousOperations, policy: RequestPolicy, environment: ProxyEnvironment
    ) throws {
        try sync.addHandler(
            ProxyHandler(environment: environment, pool: environment.pools.pool(for: sync.eventLoop), policy: policy))
    }

    /// Adds the SNI handler that starts a TLS connection: once the ClientHello's server name
    /// is known, `contexts` picks the listener's contexts from the current snapshot (so
    /// reloaded certificates serve new connections).
    private static func addSNI(
        _ sync: ChannelPipeline.SynchronousOperations, name: String, snapshots: SnapshotBox, channel: Channel,
        contexts: @escaping @Sendable (EdgeSnapshot) -> TLSContextSet?
    ) throws {
        let sni = SNIHandler { result in
            addTLS(for: result, listener: name, contexts: contexts(snapshots.current), channel: channel)
        }
        try sync.addHandler(ByteToMessageHandler(sni), name: "sni")
    }

    /// Runs when the ClientHello's server name is known: inserts the TLS handler with the
    /// context for that name, right behind the SNI handler.
    private static func addTLS(
        for result: SNIResult,
        listener: String,
        contexts: TLSContextSet?,
        channel: Channel
    ) -> EventLoopFuture<Void> {
        let serverName: String?
        switch result {
        case .hostname(let name): serverName = name
        case .fallback: serverName = nil
        }
        guard let contexts else {
            return channel.eventLoop.makeFailedFuture(
                SnapshotError(message: "listener \(listener) has no TLS contexts"))
        }
        return channel.eventLoop.makeCompletedFuture {
            let sync = channel.pipeline.syncOperations
            let sni = try sync.context(name: "sni")
            try sync.addHandler(
                NIOSSLServerHandler(context: contexts.context(serverName: serverName)),
                position: .after(sni.handler)
            )
        }
    }

    /// The admin listener: health, metrics, reload and the publish API, over TLS when
    /// `admin.tls` is set (contexts from the snapshot, reloaded like a listener's).
    private func bindAdmin(
        _ admin: Admin, group: MultiThreadedEventLoopGroup, publisher: BusPublisher?
    ) async throws -> Channel {
        let state = self.state
        let reloader = self.reloader
        let metrics = self.metrics
        let snapshots = self.snapshots
        let tls = admin.tls != nil
        let publishing = AdminHandler.Publishing(
            snapshots: snapshots, publisher: publisher, overTLS: tls, logger: logger)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if tls {
                        try Self.addSNI(sync, name: "admin", snapshots: snapshots, channel: channel) { $0.adminTLS }
                    }
                    try sync.configureHTTPServerPipeline(withErrorHandling: true)
                    try sync.addHandler(
                        AdminHandler(state: state, reloader: reloader, metrics: metrics, publishing: publishing))
                }
            }
        do {
            let channel = try await bootstrap.bind(host: admin.address.host, port: admin.address.port).get()
            logger.info(
                "listening",
                metadata: [
                    "listener": "admin", "address": "\(channel.localAddress.map { "\($0)" } ?? "?")", "tls": "\(tls)",
                ])
            return channel
        } catch {
            throw ListenerError(listener: "admin", address: admin.address.description, underlying: error)
        }
    }
}
