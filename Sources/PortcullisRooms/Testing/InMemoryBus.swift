import NIOCore
import PortcullisBus

/// An edge, Redis and a worker in one object, for an app's unit tests: clients connect,
/// join namespaces, subscribe to channels and emit; the app's handlers run at once on a
/// ``MemoryRoomsStorage``; their outputs are applied the way an edge applies them (emits
/// reach the clients they target, joins and leaves change rooms, a reject or a disconnect
/// closes and reports the close back to the app). Every call returns once the app has
/// handled everything it caused, so a test reads what each client received right after.
///
/// ```swift
/// let bus = InMemoryBus(app: ChatApp())
/// let alice = await bus.connect(user: "alice")
/// #expect(try await alice.join("/chat"))
/// try await alice.emit("say", "hi", namespace: "/chat")
/// #expect(await alice.received("said").count == 1)
/// ```
///
/// What it models of the edge: a Socket.IO namespace is joined as soon as it is asked for
/// (the edge answers CONNECT before the app), an ActionCable subscription only once the app
/// confirms it; joins and emits reach live namespaces and subscriptions only; an envelope
/// without `ns` means `/`, except for a room target, which then reaches every namespace and
/// subscription following the room (ActionCable broadcasts). Handler errors propagate to
/// the test, except ``RoomsInputError``, which drops the message as the worker does.
public actor InMemoryBus {
    public nonisolated let storage: MemoryRoomsStorage
    public nonisolated let appName: String
    private let handlers: RoomsHandlers
    private let store: RoomsStore
    private let names = StreamNames.standard
    private var connections: [String: Connection] = [:]
    private var memberships: Set<Membership> = []
    /// What closed connections had received, still readable by the test.
    private var closedDeliveries: [String: [Delivery]] = [:]
    private var nextConnection = 0
    private var nextAck = 0
    private var clock: Int64 = 1_700_000_000_000

    public init(app: any RoomsApp, storage: MemoryRoomsStorage = MemoryRoomsStorage()) {
        self.storage = storage
        self.appName = app.name
        self.handlers = app.handlers
        self.store = RoomsStore(storage: storage, prefix: StreamNames.defaultPrefix, app: app.name)
    }

    /// What a client received: an emit (event and arguments), or an ActionCable message
    /// (no event; ``namespace`` is the subscription's identifier).
    public struct Delivery: Sendable, Hashable {
        public var namespace: String?
        public var event: String?
        /// The arguments: a Socket.IO argument list spread, otherwise the one data value.
        public var arguments: [JSON]
        public var attachments: [ByteBuffer]

        /// The first argument (the data of a one-argument emit).
        public var data: JSON? { self.arguments.first }
    }

    /// A connected client. Its methods drive the bus; its connection id is what `except`
    /// and connection targets take.
    public struct Client: Sendable {
        public let id: String
        public let bus: InMemoryBus

        /// Joins a Socket.IO namespace (`/` for a raw connection) with an optional CONNECT
        /// `auth`; false when the app rejected it.
        @discardableResult
        public func join(_ namespace: String = "/", auth: JSON? = nil) async throws -> Bool {
            try await self.bus.open(self.id, namespace: namespace, auth: auth)
        }

        /// Emits `event` with `arguments` (a Socket.IO argument list); with `ack`, returns
        /// the app's answer (nil when it gave none).
        @discardableResult
        public func emit(
            _ event: String, _ arguments: JSON..., namespace: String = "/", ack: Bool = false
        ) async throws -> [JSON]? {
            try await self.bus.message(
                self.id, namespace: namespace, event: event, data: .json(JSON.array(arguments).text),
                isList: true, ack: ack)
        }

        /// Sends one raw message: `data` as the envelope's data (raw JSON mode).
        public func send(_ event: String, data: JSON?, namespace: String = "/") async throws {
            _ = try await self.bus.message(
                self.id, namespace: namespace, event: event, data: data.map { .json($0.text) }, isList: false,
                ack: false)
        }

        /// Subscribes to an ActionCable channel; `identifier` is the JSON text the client
        /// sends. True once the app confirmed it.
        @discardableResult
        public func subscribe(_ identifier: String) async throws -> Bool {
            try await self.bus.open(self.id, namespace: identifier, auth: nil)
        }

        /// Performs `action` on a subscription with `data` (an ActionCable `message`).
        public func perform(_ action: String, data: JSON = [:], identifier: String) async throws {
            _ = try await self.bus.message(
                self.id, namespace: identifier, event: action, data: .json(data.text), isList: false, ack: false)
        }

        /// Leaves a namespace or unsubscribes.
        public func leave(_ namespace: String) async throws {
            try await self.bus.leave(self.id, namespace: namespace, reason: "client namespace disconnect")
        }

        /// Closes the connection (every namespace and subscription).
        public func close(reason: String = "transport close") async throws {
            try await self.bus.close(self.id, reason: reason)
        }

        /// Everything received so far, oldest first.
        public var deliveries: [Delivery] {
            get async { await self.bus.deliveries(of: self.id) }
        }

        /// What was received as `event` (nil: ActionCable messages, which have none).
        public func received(_ event: String?, namespace: String? = nil) async -> [Delivery] {
            await self.bus.deliveries(of: self.id).filter {
                $0.event == event && (namespace == nil || $0.namespace == namespace)
            }
        }

        /// Whether the connection is open (an app's disconnect closes it).
        public var isConnected: Bool {
            get async { await self.bus.isConnected(self.id) }
        }

        /// The namespaces joined and subscriptions confirmed.
        public var namespaces: [String] {
            get async { await self.bus.liveNamespaces(of: self.id) }
        }

        /// The rooms (streams) the connection is in, within `namespace`.
        public func rooms(in namespace: String = "/") async -> [String] {
            await self.bus.rooms(of: self.id, namespace: namespace)
        }
    }

    /// Opens a connection of `user` (nil: anonymous) with verified `claims` and the upgrade
    /// request's `query`. It is in no namespace yet.
    public func connect(user: String? = nil, claims: JSON? = nil, query: [String: String] = [:]) -> Client {
        self.nextConnection += 1
        let id = "mem.c\(self.nextConnection)"
        self.connections[id] = Connection(user: user, claims: claims, query: query)
        return Client(id: id, bus: self)
    }

    /// Applies an outbound envelope as if a backend had published it (the publish API, or
    /// an XADD to `out:bcast`).
    public func publish(_ envelope: Envelope) async throws {
        try await self.run(self.apply(envelope))
    }

    // MARK: Inbound

    private func open(_ id: String, namespace: String, auth: JSON?) async throws -> Bool {
        guard var connection = self.connections[id], connection.namespaces[namespace] == nil else { return false }
        let isChannel = namespace.hasPrefix("{")
        connection.namespaces[namespace] = isChannel ? .pending : .live
        self.connections[id] = connection
        let query = JSON.object(connection.query.mapValues(JSON.string))
        let data: JSON
        if isChannel {
            let params = JSON(parsing: namespace) ?? .null
            data = ["query": query, "channel": params["channel"] ?? .null, "params": params]
        } else {
            data = ["query": query, "auth": auth ?? [:]]
        }
        try await self.run([self.inbound(.open, id, namespace: namespace, data: .json(data.text))])
        return self.connections[id]?.namespaces[namespace] == .live
    }

    private func message(
        _ id: String, namespace: String, event: String, data: Envelope.Payload?, isList: Bool, ack: Bool
    ) async throws -> [JSON]? {
        guard self.connections[id]?.namespaces[namespace] == .live else { return nil }
        var envelope = self.inbound(.message, id, namespace: namespace, data: data)
        envelope.event = event
        envelope.arguments = isList
        if ack {
            self.nextAck += 1
            envelope.ack = self.nextAck
        }
        try await self.run([envelope])
        guard let number = envelope.ack else { return nil }
        return self.connections[id]?.acks.removeValue(forKey: number)
    }

    private func leave(_ id: String, namespace: String, reason: String) async throws {
        try await self.run(self.drop(id, namespace: namespace, reason: reason))
    }

    private func close(_ id: String, reason: String) async throws {
        try await self.run(self.closeConnection(id, reason: reason))
    }

    private func inbound(_ kind: Envelope.Kind, _ id: String, namespace: String, data: Envelope.Payload? = nil)
        -> Envelope
    {
        let connection = self.connections[id]
        self.clock += 1
        return Envelope(
            id: Envelope.randomID(), kind: kind, app: self.appName, edge: "mem", connection: id,
            user: connection?.user, namespace: namespace, claims: connection?.claims?.text, data: data,
            timestamp: self.clock)
    }

    /// Runs the app on `queue` and on every inbound envelope its outputs cause, in order.
    private func run(_ queue: [Envelope]) async throws {
        var queue = queue[...]
        while let envelope = queue.popFirst() {
            let context = RoomsContext(envelope: envelope, store: self.store, names: self.names) { [clock] in clock }
            do {
                try await self.handlers.handle(envelope, context: context)
            } catch is RoomsInputError {
                continue
            }
            for output in context.outputs {
                queue.append(contentsOf: self.apply(output.envelope))
            }
        }
    }

    // MARK: Outbound, as an edge applies it

    /// Applies one output; the inbound envelopes it causes (closes).
    private func apply(_ output: Envelope) -> [Envelope] {
        switch output.kind {
        case .emit:
            for (id, namespace) in self.recipients(of: output) {
                self.connections[id]?.deliveries.append(Self.delivery(output, namespace: namespace))
            }
        case .ack:
            guard case .connection(let id) = output.target, let number = output.ack else { return [] }
            self.connections[id]?.acks[number] = Self.delivery(output, namespace: output.namespace).arguments
        case .join, .leave:
            guard let room = output.room else { return [] }
            for (id, namespace) in self.recipients(of: output) {
                let membership = Membership(connection: id, namespace: namespace, room: room)
                if output.kind == .join {
                    self.memberships.insert(membership)
                } else {
                    self.memberships.remove(membership)
                }
            }
        case .confirm:
            guard case .connection(let id) = output.target, let namespace = output.namespace,
                self.connections[id]?.namespaces[namespace] == .pending
            else { return [] }
            self.connections[id]?.namespaces[namespace] = .live
        case .reject:
            guard case .connection(let id) = output.target, let namespace = output.namespace else { return [] }
            return self.drop(id, namespace: namespace, reason: "rejected")
        case .disconnect:
            let ids = Set(self.recipients(of: output, anyNamespace: true).map(\.connection))
            return ids.sorted().flatMap { self.closeConnection($0, reason: output.reason ?? "disconnected") }
        default:
            break
        }
        return []
    }

    /// The (connection, namespace) pairs an output reaches, `except` left out.
    private func recipients(of output: Envelope, anyNamespace: Bool = false) -> [(
        connection: String, namespace: String
    )] {
        let namespace = output.namespace
        var pairs: [(String, String)] = []
        switch output.target {
        case .room(let room)?:
            pairs = self.memberships
                .filter { $0.room == room && (namespace == nil || $0.namespace == namespace) }
                .map { ($0.connection, $0.namespace) }
        case .connection(let id)?:
            pairs = self.live(id, namespace: namespace, any: anyNamespace)
        case .user(let user)?:
            pairs = self.connections.filter { $0.value.user == user }.keys
                .flatMap { self.live($0, namespace: namespace, any: anyNamespace) }
        case .token(let jti)?:
            pairs = self.connections.filter { $0.value.claims?["jti"]?.string == jti }.keys
                .flatMap { self.live($0, namespace: namespace, any: anyNamespace) }
        case .all?:
            pairs = self.connections.keys.flatMap { self.live($0, namespace: namespace, any: anyNamespace) }
        case nil:
            break
        }
        return pairs.filter { $0.0 != output.except }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
    }

    private func live(_ id: String, namespace: String?, any: Bool) -> [(String, String)] {
        guard let connection = self.connections[id] else { return [] }
        if any { return connection.namespaces.keys.map { (id, $0) } }
        let name = namespace ?? "/"
        return connection.namespaces[name] == .live ? [(id, name)] : []
    }

    /// Leaves one namespace or subscription; the close the edge reports.
    private func drop(_ id: String, namespace: String, reason: String) -> [Envelope] {
        guard self.connections[id]?.namespaces.removeValue(forKey: namespace) != nil else { return [] }
        self.memberships = self.memberships.filter { !($0.connection == id && $0.namespace == namespace) }
        var close = self.inbound(.close, id, namespace: namespace)
        close.reason = reason
        return [close]
    }

    private func closeConnection(_ id: String, reason: String) -> [Envelope] {
        guard let connection = self.connections[id] else { return [] }
        let closes = connection.namespaces.keys.sorted().flatMap { self.drop(id, namespace: $0, reason: reason) }
        self.closedDeliveries[id] = self.connections[id]?.deliveries
        self.connections[id] = nil
        return closes
    }

    private static func delivery(_ output: Envelope, namespace: String?) -> Delivery {
        var arguments: [JSON] = []
        if let data = output.data {
            switch data.type {
            case .json:
                let value = JSON(parsing: data.string) ?? .null
                arguments = output.arguments ? (value.array ?? []) : [value]
            case .text:
                arguments = [.string(data.string)]
            default:
                arguments = []
            }
        }
        // ActionCable messages have no event on the wire.
        let event = namespace?.hasPrefix("{") == true ? nil : output.event
        return Delivery(namespace: namespace, event: event, arguments: arguments, attachments: output.attachments)
    }

    // MARK: Reading state

    private func deliveries(of id: String) -> [Delivery] {
        self.connections[id]?.deliveries ?? self.closedDeliveries[id] ?? []
    }

    private func isConnected(_ id: String) -> Bool {
        self.connections[id] != nil
    }

    private func liveNamespaces(of id: String) -> [String] {
        (self.connections[id]?.namespaces.filter { $0.value == .live }.keys).map { $0.sorted() } ?? []
    }

    private func rooms(of id: String, namespace: String) -> [String] {
        self.memberships.filter { $0.connection == id && $0.namespace == namespace }.map(\.room).sorted()
    }

    private struct Connection {
        enum State {
            case pending
            case live
        }

        var user: String?
        var claims: JSON?
        var query: [String: String]
        var namespaces: [String: State] = [:]
        var deliveries: [Delivery] = []
        var acks: [Int: [JSON]] = [:]
    }

    private struct Membership: Hashable {
        var connection: String
        var namespace: String
        var room: String
    }
}
