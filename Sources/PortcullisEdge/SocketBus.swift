import Atomics
import Foundation
import Logging
import NIOCore
import NIOPosix
import PortcullisBus
import PortcullisConfig

/// The edge's side of the bus: one ``SocketHub`` per event loop, the reader that follows
/// `out:edge:<id>` and `out:bcast`, and the presence heartbeat.
///
/// The reader runs on its own Redis connection (XREAD BLOCK would stall appends) and
/// remembers the last id of each stream, so a Redis restart resumes where it stopped
/// instead of skipping what was written meanwhile. With Redis Cluster the two streams are
/// in different slots, which one XREAD cannot read together: each then has a reader of its
/// own. Each batch read is decoded and encoded once, then handed to every hub on its own
/// loop.
final class SocketBus: Sendable {
    let edgeID: String
    let names: StreamNames
    /// Starts the local part of every connection id of this run.
    private let boot: String
    /// `<prefix>:edge:<id>:alive` and `<prefix>:out:edge:<id>`, named once (the edge id was
    /// checked when the hubs were made).
    private let alive: String
    private let edgeStream: StreamName
    private let bus: BusSettings
    private let hubs: [ObjectIdentifier: NIOLoopBound<SocketHub>]
    /// The same hubs by index (the first character of an Engine.IO sid).
    private let hubsByIndex: [NIOLoopBound<SocketHub>]
    private let loops: [any EventLoop]
    /// The outbound readers, each with its own connection and the streams it follows: one
    /// reading both streams, or with Redis Cluster (where one XREAD reads one slot) one per
    /// stream.
    private let readers: [(client: RedisClient, streams: [StreamName])]
    /// Heartbeat and presence, on a connection of its own so a stop can close it.
    private let presence: RedisClient
    private let stopping = ManagedAtomic(false)
    private let logger: Logger

    private init(
        edgeID: String, boot: String, names: StreamNames, bus: BusSettings,
        hubs: [ObjectIdentifier: NIOLoopBound<SocketHub>],
        loops: [any EventLoop], readers: [RedisClient], presence: RedisClient, logger: Logger
    ) throws {
        self.edgeID = edgeID
        self.boot = boot
        self.names = names
        self.alive = try names.edgeAlive(edge: edgeID)
        self.edgeStream = try names.edgeOutbound(edge: edgeID)
        self.bus = bus
        self.hubs = hubs
        self.hubsByIndex = loops.map { hubs[ObjectIdentifier($0)]! }
        self.loops = loops
        let groups =
            names.usesHashTags ? [[self.edgeStream], [names.broadcast]] : [[self.edgeStream, names.broadcast]]
        self.readers = zip(readers, groups).map { (client: $0, streams: $1) }
        self.presence = presence
        self.logger = logger
    }

    /// Builds a hub on every loop of `group`, appending through that loop's Redis client.
    static func make(
        group: MultiThreadedEventLoopGroup, configuration: Configuration, pools: PoolRegistry, logger: Logger
    ) async throws -> SocketBus {
        let names = try StreamNames(prefix: configuration.bus.prefix, redis: configuration.redis)
        let edgeID = configuration.edge.id
        let boot = Self.bootPrefix()
        var hubs: [ObjectIdentifier: NIOLoopBound<SocketHub>] = [:]
        var loops: [any EventLoop] = []
        var control: RedisClient?
        let interval = configuration.auth.sessionCheckInterval
        let sessionCheck = interval > .zero ? (interval: interval, prefix: configuration.auth.sessionPrefix) : nil
        for (index, loop) in group.makeIterator().enumerated() {
            guard let redis = pools.pool(for: loop).redis else {
                throw SnapshotError(message: "socket routes need redis.url")
            }
            control = control ?? redis
            let hub = try await loop.submit {
                let hub = try SocketHub(
                    eventLoop: loop, edgeID: edgeID, names: names, redis: redis,
                    localPrefix: "\(boot)\(String(index, radix: 36))-", logger: logger, index: index,
                    sessionCheck: sessionCheck)
                hub.start()
                return NIOLoopBound(hub, eventLoop: loop)
            }.get()
            hubs[ObjectIdentifier(loop)] = hub
            loops.append(loop)
        }
        guard let control else { throw SnapshotError(message: "no event loops") }
        return try SocketBus(
            edgeID: edgeID, boot: boot, names: names, bus: configuration.bus, hubs: hubs, loops: loops,
            readers: (0..<(names.usesHashTags ? 2 : 1)).map { _ in control.makeDedicatedClient(logger: logger) },
            presence: control.makeDedicatedClient(logger: logger),
            logger: logger)
    }

    /// The hub of `eventLoop`; call on that loop.
    func hub(for eventLoop: EventLoop) -> SocketHub? {
        hubs[ObjectIdentifier(eventLoop)]?.value
    }

    /// The hub that holds Engine.IO session `sid` (its first characters name it), whatever
    /// loop the request arrived on; use it on its own loop.
    func hub(forSessionID sid: String) -> NIOLoopBound<SocketHub>? {
        guard let index = SocketHub.hubIndex(ofSessionID: sid), hubsByIndex.indices.contains(index) else { return nil }
        return hubsByIndex[index]
    }

    /// Reads outbound streams and refreshes presence until the task is cancelled.
    func run() async {
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await self.heartbeatLoop() }
            for reader in self.readers {
                // On the reader's loop: a batch resumes where its reply arrived.
                tasks.addTask(executorPreference: EventLoopTaskExecutor(reader.client.eventLoop)) {
                    await self.readLoop(reader.client, streams: reader.streams)
                }
            }
        }
    }

    /// At the start of a drain: every polling session gets its protocol's goodbye (WebSocket
    /// connections get theirs from their channel's quiesce event).
    func endPollingSessions() async {
        for loop in loops {
            try? await loop.submit { self.hubs[ObjectIdentifier(loop)]!.value.endPollingSessions() }.get()
        }
    }

    /// After the drain: waits (bounded) for appends in flight, removes this edge's
    /// presence (its connections have all sent `close`), then closes the reader's and the
    /// heartbeat's connections, which ends ``run()`` even while Redis is down.
    func shutdown(timeout: Duration = .seconds(5)) async {
        let flushes = loops.map { loop in
            loop.flatSubmit { self.hubs[ObjectIdentifier(loop)]!.value.flushed() }
        }
        let all = EventLoopFuture.andAllComplete(flushes, on: loops[0])
        if !(await EdgeServer.wait(for: all, orTimeout: timeout.timeAmount, on: loops[0])) {
            logger.warning("bus appends still unanswered at shutdown; some close envelopes may be lost")
        }
        for loop in loops {
            try? await loop.submit { self.hubs[ObjectIdentifier(loop)]!.value.stop() }.get()
        }
        stopping.store(true, ordering: .relaxed)
        // Best effort: with Redis down the heartbeat key expires on its own.
        let removal = presence.send(["DEL", RedisArgument(alive)])
            .and(presence.send(["SREM", RedisArgument(names.edges), RedisArgument(edgeID)]))
            .map { _ in }
        if !(await EdgeServer.wait(for: removal, orTimeout: .seconds(2), on: loops[0])) {
            logger.warning("could not remove presence keys; they expire on their own")
        }
        for reader in readers {
            await reader.client.close()
        }
        await presence.close()
    }

    // MARK: Presence

    private func heartbeatLoop() async {
        var reaped = false
        while !Task.isCancelled {
            do {
                if !reaped {
                    // What a previous run with this id left registered (it died without
                    // writing close) is closed before this run registers anything new.
                    let ours = "\(edgeID).\(boot)"
                    let closes = try await EdgePresence.reap(
                        edge: edgeID, names: names, redis: presence, reason: "edge restarted",
                        now: Int64(Date().timeIntervalSince1970 * 1000), sparing: { $0.hasPrefix(ours) })
                    if closes > 0 {
                        logger.info(
                            "closed connections a previous run left registered", metadata: ["count": "\(closes)"])
                    }
                    reaped = true
                }
                if stopping.load(ordering: .relaxed) { return }
                // Re-added on every beat: a reaper racing our start may have removed it.
                _ = try await presence.send(["SADD", RedisArgument(names.edges), RedisArgument(edgeID)])
                let ttl = max(1, Int(bus.heartbeatTTL.components.seconds))
                _ = try await presence.send(["SET", RedisArgument(alive), "1", "EX", RedisArgument(ttl)])
                EdgeMetrics.shared.redisUp(true)
            } catch {
                if stopping.load(ordering: .relaxed) { return }
                EdgeMetrics.shared.redisUp(false)
                logger.warning("presence heartbeat failed", metadata: ["error": "\(error)"])
            }
            await sleep(bus.heartbeatInterval)
        }
    }

    // MARK: Outbound

    private func readLoop(_ reader: RedisClient, streams: [StreamName]) async {
        var last: [StreamName: StreamID] = [:]
        while !Task.isCancelled {
            do {
                if last.isEmpty {
                    // Start after what is there now: older entries were for connections
                    // that no longer exist.
                    for stream in streams {
                        last[stream] = try await lastID(of: stream, reader: reader)
                    }
                }
                let positions = streams.map { ($0, StreamPosition.after(last[$0]!)) }
                guard let batch = try await reader.xread(streams: positions, count: 1024, block: .seconds(1)) else {
                    continue
                }
                var deliveries: [OutboundDelivery] = []
                for stream in streams {
                    for entry in batch[stream] ?? [] {
                        last[stream] = entry.id
                        if let delivery = decode(entry, stream: stream) {
                            deliveries.append(delivery)
                        }
                    }
                }
                if !deliveries.isEmpty { dispatch(deliveries) }
            } catch {
                if Task.isCancelled || stopping.load(ordering: .relaxed) { return }
                logger.warning("bus read failed; retrying", metadata: ["error": "\(error)"])
                await sleep(.milliseconds(500))
            }
        }
    }

    private func lastID(of stream: StreamName, reader: RedisClient) async throws -> StreamID {
        do {
            return try await reader.xinfoStream(stream).lastGeneratedID
        } catch let error as RedisError where error.code == .server {
            return .zero
        }
    }

    private func decode(_ entry: StreamEntry, stream: StreamName) -> OutboundDelivery? {
        do {
            let envelope = try Envelope(entry: entry)
            guard envelope.kind.isKnown else { return nil }
            return OutboundDelivery(envelope)
        } catch {
            logger.warning(
                "skipping malformed outbound entry",
                metadata: ["stream": "\(stream)", "entry": "\(entry.id)", "error": "\(error)"])
            return nil
        }
    }

    private func dispatch(_ deliveries: [OutboundDelivery]) {
        for loop in loops {
            let hub = hubs[ObjectIdentifier(loop)]!
            loop.execute { hub.value.deliver(deliveries) }
        }
    }

    private func sleep(_ duration: Duration) async {
        try? await Task.sleep(for: duration)
    }

    /// Six random base-36 characters: connection ids stay unique across restarts of an
    /// edge that keeps its id.
    private static func bootPrefix() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz")
        return String((0..<6).map { _ in alphabet[Int(generator.next() % 36)] })
    }
}
