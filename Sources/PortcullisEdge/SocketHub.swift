import Logging
import NIOCore
import PortcullisBus

/// Where a hub's commands go: the loop's pipelined Redis client in the edge, a recorder
/// in tests.
protocol BusWriter: Sendable {
    func send(_ command: [RedisArgument]) -> EventLoopFuture<RESPValue>
}

extension RedisClient: BusWriter {}

/// The socket side of one event loop: its live connections and their indexes, their
/// appends to the bus, and the timer that drives heartbeats and close timeouts.
///
/// Confined to `eventLoop` (no locks): handlers call it from their channel's loop, and the
/// bus reader hops onto the loop to deliver. Appends share the loop's pipelined Redis
/// client, so the envelopes of one connection reach `in:<app>` in the order they happened.
final class SocketHub {
    let eventLoop: EventLoop
    let edgeID: String
    let names: StreamNames
    let redis: any BusWriter
    let logger: Logger
    private let localPrefix: String
    /// `<prefix>:edge:<id>:conns`, the presence registry.
    private let registryKey: String
    private var counter: UInt64 = 0

    private var connections: [String: SocketHandler] = [:]
    private var users: [String: [ObjectIdentifier: SocketHandler]] = [:]
    private var rooms: [String: [ObjectIdentifier: SocketHandler]] = [:]
    private var sweeper: Scheduled<Void>?
    /// Appends written but not yet answered, and who waits for them to reach zero.
    private var pendingAppends = 0
    private var flushWaiters: [EventLoopPromise<Void>] = []

    /// - Parameter localPrefix: makes connection ids unique across restarts and loops
    ///   (`<edge>.<localPrefix><counter>`).
    init(
        eventLoop: EventLoop, edgeID: String, names: StreamNames, redis: any BusWriter, localPrefix: String,
        logger: Logger
    ) throws {
        self.registryKey = try names.edgeConnections(edge: edgeID)
        self.eventLoop = eventLoop
        self.edgeID = edgeID
        self.names = names
        self.redis = redis
        self.localPrefix = localPrefix
        self.logger = logger
    }

    var connectionCount: Int { connections.count }

    func start() {
        sweeper = eventLoop.assumeIsolated().scheduleTask(in: .seconds(1)) { [self] in
            let now = ContinuousClock.now
            for handler in Array(connections.values) {
                handler.tick(now: now)
            }
            if sweeper != nil { start() }
        }
    }

    func stop() {
        sweeper?.cancel()
        sweeper = nil
    }

    func makeConnectionID() -> String {
        counter &+= 1
        return "\(edgeID).\(localPrefix)\(String(counter, radix: 36))"
    }

    // MARK: Registry

    func register(_ handler: SocketHandler) {
        connections[handler.id] = handler
        if let user = handler.user {
            users[user, default: [:]][ObjectIdentifier(handler)] = handler
        }
        EdgeMetrics.shared.socketOpened()
        let record = PresenceRecord(app: handler.app, user: handler.user)
        send(["HSET", RedisArgument(registryKey), RedisArgument(handler.id), RedisArgument(record.json)])
    }

    func unregister(_ handler: SocketHandler) {
        guard connections.removeValue(forKey: handler.id) != nil else { return }
        let key = ObjectIdentifier(handler)
        if let user = handler.user {
            users[user]?.removeValue(forKey: key)
            if users[user]?.isEmpty == true { users.removeValue(forKey: user) }
        }
        for room in handler.rooms {
            leave(handler, room: room)
        }
        EdgeMetrics.shared.socketClosed(reason: handler.closeCause.label)
        send(["HDEL", RedisArgument(registryKey), RedisArgument(handler.id)])
    }

    func join(_ handler: SocketHandler, room: String) {
        guard connections[handler.id] === handler, handler.rooms.insert(room).inserted else { return }
        rooms[room, default: [:]][ObjectIdentifier(handler)] = handler
    }

    func leave(_ handler: SocketHandler, room: String) {
        handler.rooms.remove(room)
        rooms[room]?.removeValue(forKey: ObjectIdentifier(handler))
        if rooms[room]?.isEmpty == true { rooms.removeValue(forKey: room) }
    }

    // MARK: Appends

    /// Appends an inbound envelope to `<prefix>:in:<app>`. The future fails with
    /// ``RedisError/Code/bufferFull`` while Redis is away and the buffer is full.
    func append(_ envelope: Envelope, app: String) -> EventLoopFuture<Void> {
        let stream: StreamName
        do {
            stream = try names.inbound(app: app)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        return send(StreamCommand.xadd(stream, trim: StreamNames.inboundTrim, fields: envelope.fields)).map { _ in }
    }

    @discardableResult
    private func send(_ command: [RedisArgument]) -> EventLoopFuture<RESPValue> {
        pendingAppends += 1
        let future = redis.send(command)
        future.assumeIsolated().whenComplete { [self] result in
            if case .failure(let error) = result {
                logger.debug("bus write failed", metadata: ["error": "\(error)"])
            }
            pendingAppends -= 1
            if pendingAppends == 0 {
                let waiters = flushWaiters
                flushWaiters = []
                for waiter in waiters { waiter.succeed() }
            }
        }
        return future
    }

    /// Completes once every append issued so far was answered (or failed).
    func flushed() -> EventLoopFuture<Void> {
        if pendingAppends == 0 { return eventLoop.makeSucceededVoidFuture() }
        let promise = eventLoop.makePromise(of: Void.self)
        flushWaiters.append(promise)
        return promise.futureResult
    }

    // MARK: Delivery

    /// Applies outbound envelopes read from the bus, in stream order.
    func deliver(_ deliveries: [OutboundDelivery]) {
        for delivery in deliveries {
            deliver(delivery)
        }
    }

    private func deliver(_ delivery: OutboundDelivery) {
        let envelope = delivery.envelope
        switch envelope.kind {
        case .emit, .ack:
            var sent = 0
            forEachTarget(of: envelope) { if $0.send(delivery) { sent += 1 } }
            if sent > 0 { EdgeMetrics.shared.socketMessagesOut(sent) }
        case .join:
            guard let room = envelope.room else { return }
            forEachTarget(of: envelope) { join($0, room: room) }
        case .leave:
            guard let room = envelope.room else { return }
            forEachTarget(of: envelope) { leave($0, room: room) }
        case .disconnect:
            let reason = envelope.reason ?? "disconnected"
            forEachTarget(of: envelope) { $0.disconnect(reason: reason) }
        default:
            break
        }
    }

    /// Calls `body` for each local connection the envelope targets: filtered by `app` when
    /// set, leaving out `except`. Collected first, so `body` may change the indexes.
    private func forEachTarget(of envelope: Envelope, _ body: (SocketHandler) -> Void) {
        guard let target = envelope.target else { return }
        var targets: [SocketHandler] = []
        switch target {
        case .connection(let id):
            if let handler = connections[id] { targets = [handler] }
        case .user(let user):
            targets = users[user].map { Array($0.values) } ?? []
        case .room(let room):
            targets = rooms[room].map { Array($0.values) } ?? []
        case .all:
            targets = Array(connections.values)
        }
        for handler in targets {
            if let app = envelope.app, handler.app != app { continue }
            if let except = envelope.except, handler.id == except { continue }
            body(handler)
        }
    }
}
