import Logging
import NIOCore
import PortcullisBus
import PortcullisWire

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

    /// A room within a namespace (Socket.IO namespace, ActionCable identifier; nil for
    /// raw and for joins that name none).
    struct RoomKey: Hashable {
        var namespace: String?
        var room: String
    }

    private var connections: [String: SocketConnection] = [:]
    private var users: [String: [ObjectIdentifier: SocketConnection]] = [:]
    /// room → namespace → members: an emit to a room with a namespace reaches that
    /// namespace's members; without one (an ActionCable stream broadcast), every namespace's.
    private var rooms: [String: [String?: [ObjectIdentifier: SocketConnection]]] = [:]
    /// Engine.IO polling sessions by sid; each sid starts with ``index`` (three base-36
    /// digits) so a request on any loop finds this hub.
    private var pollingSessions: [String: PollingTransport] = [:]
    /// This hub's position among the bus's hubs (the first three characters of its sids).
    let index: Int
    /// Sessions behind live connections are looked up this often (logout closes them);
    /// nil: never.
    private let sessionCheck: (interval: Duration, prefix: String)?
    private var lastSessionCheck = ContinuousClock.now
    private var sweeper: Scheduled<Void>?
    /// Appends written but not yet answered, and who waits for them to reach zero.
    private var pendingAppends = 0
    private var flushWaiters: [EventLoopPromise<Void>] = []

    /// - Parameter localPrefix: makes connection ids unique across restarts and loops
    ///   (`<edge>.<localPrefix><counter>`).
    init(
        eventLoop: EventLoop, edgeID: String, names: StreamNames, redis: any BusWriter, localPrefix: String,
        logger: Logger, index: Int = 0, sessionCheck: (interval: Duration, prefix: String)? = nil
    ) throws {
        self.index = index
        self.sessionCheck = sessionCheck
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
            for connection in Array(connections.values) {
                connection.tick(now: now)
            }
            if let sessionCheck, now - lastSessionCheck >= sessionCheck.interval {
                lastSessionCheck = now
                checkSessions(prefix: sessionCheck.prefix)
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

    /// Ends the connections whose session is gone from the store (`EXISTS` is 0): one
    /// pipelined lookup per distinct session. Redis errors change nothing (the check runs
    /// again next time; an unreachable store must not close everyone).
    private func checkSessions(prefix: String) {
        var bySession: [String: [SocketConnection]] = [:]
        for connection in connections.values {
            if let session = connection.sessionID { bySession[session, default: []].append(connection) }
        }
        for (session, members) in bySession {
            redis.send(["EXISTS", RedisArgument(prefix + session)]).assumeIsolated().whenSuccess { reply in
                guard case .integer(0) = reply else { return }
                for connection in members {
                    connection.end(.sessionEnded)
                }
            }
        }
    }

    // MARK: Polling sessions

    /// A fresh Engine.IO sid: this hub's index as three base-36 digits (46656 hubs, more
    /// than `edge.event_loops` allows), then 20 random url-safe base64 characters (120 bits
    /// from the system CSPRNG: a guessable sid would let a stranger read or post into a
    /// session).
    func makeSessionID() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = String(index, radix: 36)
        return String(repeating: "0", count: max(0, 3 - digits.count)) + digits
            + EngineIOOpenPacket.makeSessionID(using: &generator)
    }

    /// The index of the hub that made `sid`; nil for a sid no hub could have made.
    static func hubIndex(ofSessionID sid: String) -> Int? {
        let prefix = sid.utf8.prefix(3)
        guard prefix.count == 3 else { return nil }
        return Int(String(decoding: prefix, as: UTF8.self), radix: 36)
    }

    /// Keeps a polling transport reachable by its sid until it ends or upgrades.
    func addPollingSession(_ transport: PollingTransport) {
        pollingSessions[transport.sid] = transport
    }

    func removePollingSession(_ sid: String) {
        pollingSessions.removeValue(forKey: sid)
    }

    func pollingSession(_ sid: String) -> PollingTransport? {
        pollingSessions[sid]
    }

    /// Drain: polling sessions have no channel to be told, so the hub tells them — the
    /// protocol's goodbye goes out in the waiting GET.
    func endPollingSessions() {
        for transport in Array(pollingSessions.values) {
            transport.connection.end(.shutdown)
        }
    }

    // MARK: Registry

    func register(_ connection: SocketConnection) {
        connections[connection.id] = connection
        if let user = connection.user { users[user, default: [:]][ObjectIdentifier(connection)] = connection }
        EdgeMetrics.shared.socketOpened(route: connection.routeName, protocol: connection.wireProtocol)
        recordPresence(connection)
    }

    /// Indexes a connection under its user (at registration, or when a Socket.IO CONNECT
    /// token gave an anonymous connection its identity).
    func identified(_ connection: SocketConnection) {
        guard connections[connection.id] === connection, let user = connection.user else { return }
        users[user, default: [:]][ObjectIdentifier(connection)] = connection
        recordPresence(connection)
    }

    /// Rewrites the connection's registry entry (its user and open namespaces), which the
    /// rooms workers' reaper reads to write one `close` per namespace for a dead edge.
    func recordPresence(_ connection: SocketConnection) {
        guard connections[connection.id] === connection else { return }
        let record = PresenceRecord(
            app: connection.app, user: connection.user, namespaces: connection.presenceNamespaces)
        send(["HSET", RedisArgument(registryKey), RedisArgument(connection.id), RedisArgument(record.json)])
    }

    func unregister(_ connection: SocketConnection) {
        guard connections.removeValue(forKey: connection.id) != nil else { return }
        let key = ObjectIdentifier(connection)
        if let user = connection.user {
            users[user]?.removeValue(forKey: key)
            if users[user]?.isEmpty == true { users.removeValue(forKey: user) }
        }
        for membership in connection.memberships {
            leave(connection, membership)
        }
        if let sid = connection.pollingSessionID, let transport = pollingSessions[sid],
            transport.connection === connection, !transport.lingers
        {
            pollingSessions.removeValue(forKey: sid)
        }
        EdgeMetrics.shared.socketClosed(
            route: connection.routeName, protocol: connection.wireProtocol, reason: connection.closeCause.label)
        send(["HDEL", RedisArgument(registryKey), RedisArgument(connection.id)])
    }

    func join(_ connection: SocketConnection, _ key: RoomKey) {
        guard connections[connection.id] === connection else { return }
        let key = interned(key)
        guard connection.memberships.insert(key).inserted else { return }
        rooms[key.room, default: [:]][key.namespace, default: [:]][ObjectIdentifier(connection)] = connection
    }

    /// `key` with the room and namespace strings the index already holds, so the members
    /// of a room share one copy (an ActionCable identifier is some 40 bytes; each `join`
    /// envelope decodes its own).
    private func interned(_ key: RoomKey) -> RoomKey {
        guard let roomIndex = rooms.index(forKey: key.room) else { return key }
        var key = key
        key.room = rooms[roomIndex].key
        let namespaces = rooms[roomIndex].value
        if let namespaceIndex = namespaces.index(forKey: key.namespace) {
            key.namespace = namespaces[namespaceIndex].key
        }
        return key
    }

    func leave(_ connection: SocketConnection, _ key: RoomKey) {
        connection.memberships.remove(key)
        rooms[key.room]?[key.namespace]?.removeValue(forKey: ObjectIdentifier(connection))
        if rooms[key.room]?[key.namespace]?.isEmpty == true { rooms[key.room]?.removeValue(forKey: key.namespace) }
        if rooms[key.room]?.isEmpty == true { rooms.removeValue(forKey: key.room) }
    }

    /// Leaves every room the connection joined in `namespace` (it left the namespace).
    func leave(_ connection: SocketConnection, namespace: String) {
        for key in connection.memberships where key.namespace == namespace {
            leave(connection, key)
        }
    }

    // MARK: Appends

    /// Appends an inbound envelope to `<prefix>:in:<app>`. The future fails with
    /// ``RedisError/Code/bufferFull`` while Redis is away and the buffer is full; its value,
    /// the entry's id, is not needed by any caller (one future per message, not two).
    @discardableResult
    func append(_ envelope: Envelope, app: String) -> EventLoopFuture<RESPValue> {
        let stream: StreamName
        do {
            stream = try names.inbound(app: app)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        return send(
            StreamCommand.xadd(stream, trim: StreamNames.inboundTrim, fields: envelope.fields), timedFrom: .now())
    }

    /// Sends a write to the bus; with `timedFrom`, a success is recorded as an append's
    /// duration.
    @discardableResult
    private func send(_ command: [RedisArgument], timedFrom started: NIODeadline? = nil) -> EventLoopFuture<RESPValue> {
        pendingAppends += 1
        let future = redis.send(command)
        future.assumeIsolated().whenComplete { [self] result in
            switch result {
            case .failure(let error):
                logger.debug("bus write failed", metadata: ["error": "\(error)"])
            case .success:
                if let started {
                    EdgeMetrics.shared.busAppended(nanoseconds: (NIODeadline.now() - started).nanoseconds)
                }
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

    /// Applies outbound envelopes read from the bus, in stream order. Each is encoded at
    /// most once per encoding its targets on this loop need.
    func deliver(_ deliveries: [OutboundDelivery]) {
        for delivery in deliveries {
            deliver(delivery)
        }
    }

    private func deliver(_ delivery: OutboundDelivery) {
        let envelope = delivery.envelope
        switch envelope.kind {
        case .emit, .ack:
            var cache = OutboundDelivery.Cache()
            var sent = 0
            forEachTarget(of: envelope) { connection, namespace in
                if connection.deliver(delivery, namespace: namespace, cache: &cache) { sent += 1 }
            }
            if sent > 0 { EdgeMetrics.shared.socketMessagesOut(sent) }
        case .join:
            guard let room = envelope.room else { return }
            forEachTarget(of: envelope) { connection, _ in
                join(connection, RoomKey(namespace: envelope.namespace ?? connection.defaultNamespace, room: room))
            }
        case .leave:
            guard let room = envelope.room else { return }
            forEachTarget(of: envelope) { connection, _ in
                leave(connection, RoomKey(namespace: envelope.namespace ?? connection.defaultNamespace, room: room))
            }
        case .disconnect:
            let reason = envelope.reason ?? "disconnected"
            forEachTarget(of: envelope) { connection, _ in
                if let namespace = envelope.namespace {
                    connection.control(.disconnect(namespace: namespace, reason: reason))
                } else {
                    connection.end(Self.cause(disconnectReason: reason))
                }
            }
        case .confirm:
            guard let namespace = envelope.namespace else { return }
            forEachTarget(of: envelope) { connection, _ in connection.control(.confirm(namespace: namespace)) }
        case .reject:
            guard let namespace = envelope.namespace else { return }
            forEachTarget(of: envelope) { connection, _ in
                connection.control(.reject(namespace: namespace, reason: envelope.reason))
            }
        default:
            break
        }
    }

    /// Revocations and logouts end connections with their own notice (4001, the
    /// protocols' `token_revoked`, `session_ended`); any other reason is a handler's.
    static func cause(disconnectReason reason: String) -> SocketCloseCause {
        switch reason {
        case "token_revoked", "revoked": .revoked
        case "session_ended": .sessionEnded
        case "token_expired": .expired
        default: .disconnected(reason: reason)
        }
    }

    /// Calls `body` for each local connection the envelope targets, with the namespace to
    /// deliver in: the envelope's, or for a room without one each namespace the
    /// connection joined the room in. Filtered by `app` when set, leaving out `except`.
    /// The collections walked are copies (value types), so `body` may change the indexes
    /// (a delivery that ends a connection) without disturbing the walk.
    private func forEachTarget(of envelope: Envelope, _ body: (SocketConnection, String?) -> Void) {
        guard let target = envelope.target else { return }
        func visit(_ connection: SocketConnection, _ namespace: String?) {
            if let app = envelope.app, connection.app != app { return }
            if let except = envelope.except, connection.id == except { return }
            body(connection, namespace)
        }
        switch target {
        case .connection(let id):
            if let connection = connections[id] { visit(connection, envelope.namespace) }
        case .user(let user):
            guard let members = users[user] else { break }
            for connection in members.values { visit(connection, envelope.namespace) }
        case .room(let room):
            guard let namespaces = rooms[room] else { break }
            if let namespace = envelope.namespace {
                guard let members = namespaces[namespace] else { break }
                for connection in members.values { visit(connection, namespace) }
            } else {
                for (namespace, members) in namespaces {
                    for connection in members.values { visit(connection, namespace) }
                }
            }
        case .token(let tokenID):
            // Revocations are rare: a scan beats keeping a per-token index on every connection.
            for connection in connections.values where connection.tokenID == tokenID {
                visit(connection, envelope.namespace)
            }
        case .all:
            for connection in connections.values { visit(connection, envelope.namespace) }
        }
    }
}
