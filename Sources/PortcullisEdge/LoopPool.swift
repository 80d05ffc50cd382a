import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import PortcullisBus

/// Upstream keep-alive connections of one event loop.
///
/// Each client connection is served by upstream connections on its own event loop, so a
/// pool is only ever touched from that loop and needs no locks. Idle connections are kept
/// per server up to the upstream's `max_idle_per_server` and closed after `idle_timeout`.
final class LoopPool: @unchecked Sendable {
    let eventLoop: EventLoop
    /// This loop's Redis connection for session lookups and revocation checks.
    let redis: RedisClient?
    let requestMetrics = LoopRequestMetrics()
    private let logger: Logger
    /// Parked connections per server label. Each list is a reference, so taking and
    /// returning a connection mutates it in place: going through the dictionary's `modify`
    /// accessor cost three heap allocations per request (its coroutine frames).
    private var idle: [String: IdleList] = [:]
    private var cursors: [String: Int] = [:]
    private var sweeper: RepeatedTask?

    init(eventLoop: EventLoop, redis: RedisClient?, logger: Logger) {
        self.eventLoop = eventLoop
        self.redis = redis
        self.logger = logger
    }

    /// Picks the next server round-robin, skipping `excluded` and ejected servers (when
    /// every candidate is ejected the next one is tried anyway: an attempt beats a certain
    /// 502). Returns nil when every server is excluded.
    func pickServer(of group: UpstreamGroup, excluding excluded: TriedServers) -> Int? {
        eventLoop.preconditionInEventLoop()
        let count = group.servers.count
        if count == 1 {
            // The one server is tried even when ejected, so neither clock nor cursor matters.
            return excluded.isEmpty ? 0 : nil
        }
        let start = cursors[group.name, default: 0]
        let now = NIODeadline.now()
        var fallback: Int?
        for step in 0..<count {
            let index = (start + step) % count
            if excluded.contains(index) { continue }
            if group.servers[index].health.isAvailable(now: now) {
                cursors[group.name] = index + 1
                return index
            }
            if fallback == nil { fallback = index }
        }
        if let fallback { cursors[group.name] = fallback + 1 }
        return fallback
    }

    /// A parked connection to the server that is still open, if there is one. Synchronous,
    /// so a reused connection costs the request no future.
    func idleConnection(to server: UpstreamServer) -> UpstreamConnection? {
        eventLoop.preconditionInEventLoop()
        guard let list = idle[server.label] else { return nil }
        while let connection = list.connections.popLast() {
            connection.parkedIn = nil
            if connection.isActive { return connection }
        }
        return nil
    }

    /// Takes a connection back after a complete exchange, or closes it when the pool is full.
    func release(_ connection: UpstreamConnection, group: UpstreamGroup) {
        eventLoop.preconditionInEventLoop()
        let label = connection.server.label
        let list = idle[label] ?? newList(for: label)
        guard connection.isReusable, list.connections.count < group.settings.maxIdlePerServer else {
            connection.close()
            return
        }
        connection.park()
        connection.parkedIn = self
        connection.idleDeadline = .now() + group.settings.idleTimeout.timeAmount
        list.connections.append(connection)
        startSweeping()
    }

    private func newList(for label: String) -> IdleList {
        let list = IdleList()
        idle[label] = list
        return list
    }

    /// A parked connection's channel closed (the upstream ended it while idle).
    func parkedConnectionClosed(_ connection: UpstreamConnection) {
        idle[connection.server.label]?.connections.removeAll { $0 === connection }
    }

    /// Records a failed connect and logs an ejection.
    func connectFailed(group: UpstreamGroup, serverIndex: Int, error: Error) {
        let server = group.servers[serverIndex]
        let ejected = server.health.recordFailure(
            now: .now(),
            maxFails: group.settings.maxFails,
            failTimeout: group.settings.failTimeout.timeAmount
        )
        if ejected {
            EdgeMetrics.shared.upstreamEjected(upstream: group.name)
            logger.warning(
                "upstream server ejected",
                metadata: [
                    "upstream.name": "\(group.name)", "upstream.server": "\(server.label)",
                    "eject.seconds": "\(group.settings.failTimeout.components.seconds)", "error": "\(error)",
                ]
            )
        }
    }

    /// Closes idle connections past their deadline once a second. One repeated task per
    /// loop instead of a timer per parked connection keeps scheduling off the request path.
    private func startSweeping() {
        guard sweeper == nil else { return }
        sweeper = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            self.sweep(now: .now())
        }
    }

    private func sweep(now: NIODeadline) {
        for list in idle.values {
            let (expired, kept) = list.connections.partitioned { $0.idleDeadline <= now }
            guard !expired.isEmpty else { continue }
            list.connections = kept
            for connection in expired {
                connection.parkedIn = nil
                connection.close()
            }
        }
    }

    /// A new connection to the server.
    func connect(group: UpstreamGroup, serverIndex: Int) -> EventLoopFuture<UpstreamConnection>.Isolated {
        let server = group.servers[serverIndex]
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(group.settings.connectTimeout.timeAmount)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        UpstreamConnection(server: server, serverIndex: serverIndex))
                }
            }
            .connect(to: server.address)
            .assumeIsolated()
            .flatMapThrowing { channel in
                server.health.recordSuccess()
                return try channel.pipeline.syncOperations.handler(type: UpstreamConnection.self)
            }
    }
}

/// The pools of every event loop of the edge's group.
final class PoolRegistry: Sendable {
    private let pools: [ObjectIdentifier: LoopPool]

    /// - Parameter redis: when set, each loop gets its own Redis client for auth lookups.
    init(group: MultiThreadedEventLoopGroup, redis: RedisConfiguration?, logger: Logger) {
        var pools: [ObjectIdentifier: LoopPool] = [:]
        for loop in group.makeIterator() {
            let client = redis.map { RedisClient(configuration: $0, eventLoop: loop, logger: logger) }
            pools[ObjectIdentifier(loop)] = LoopPool(eventLoop: loop, redis: client, logger: logger)
        }
        self.pools = pools
    }

    func closeRedis() async {
        for pool in pools.values {
            await pool.redis?.close()
        }
    }

    func pool(for eventLoop: EventLoop) -> LoopPool {
        guard let pool = pools[ObjectIdentifier(eventLoop)] else {
            preconditionFailure("event loop outside the edge's group")
        }
        return pool
    }
}

extension Array {
    /// The elements matching `predicate` and the rest, each in their original order.
    fileprivate func partitioned(by predicate: (Element) -> Bool) -> (matching: [Element], rest: [Element]) {
        var matching: [Element] = []
        var rest: [Element] = []
        for element in self {
            if predicate(element) { matching.append(element) } else { rest.append(element) }
        }
        return (matching, rest)
    }
}

/// One server's parked connections, most recently parked last.
private final class IdleList {
    var connections: [UpstreamConnection] = []
}
