import NIOCore
import PortcullisBus

/// One connection in one namespace, as a Socket.IO server's `socket` (raw connections are
/// in namespace `/`). Made by ``RoomsHandlers`` for each envelope; the calls queue outputs
/// on its ``context``.
public struct RoomsSocket: Sendable {
    public let context: RoomsContext
    /// The connection id (`conn`), what `except` and a connection target take.
    public let id: String
    public let namespace: String

    init(context: RoomsContext, id: String, namespace: String) {
        self.context = context
        self.id = id
        self.namespace = namespace
    }

    /// The verified subject of the connection's token or session.
    public var user: String? { self.context.envelope.user }

    /// The verified claims the edge passed on (`.null` when it passed none).
    public var claims: JSON { self.context.envelope.claims.flatMap(JSON.init(parsing:)) ?? .null }

    /// The handshake, in ``RoomsNamespace/onConnect(_:)`` only (later envelopes do not
    /// carry it: keep what later events need in ``data``).
    public var handshake: Handshake? {
        guard self.context.envelope.kind == .open else { return nil }
        return Handshake(openData: self.context.envelope.data)
    }

    /// Per-socket values kept for the socket's lifetime (Socket.IO's `socket.data`):
    /// deleted after ``RoomsNamespace/onDisconnect(_:)``; expire a day after the last write
    /// in case the close is never seen.
    public var data: SocketData {
        SocketData(hash: self.context.store.hash(JSON.self, "socket", self.id, self.namespace))
    }

    /// Sends `event` to this socket only.
    public func emit(_ event: String, _ arguments: any Encodable...) throws {
        try self.context.to(.connection(self.id), namespace: self.namespace).emit(event, arguments: arguments)
    }

    /// Outputs to `target` in this namespace, leaving this socket out (Socket.IO's
    /// `socket.to(room)`); ``RoomsContext/to(_:namespace:)`` includes it.
    public func to(_ target: Envelope.Target) -> RoomsEmitter {
        self.context.to(target, namespace: self.namespace).except(self.id)
    }

    public func join(_ room: String) {
        self.context.join(.connection(self.id), room: room, namespace: self.namespace)
    }

    public func leave(_ room: String) {
        self.context.leave(.connection(self.id), room: room, namespace: self.namespace)
    }

    /// Refuses the namespace (Socket.IO CONNECT_ERROR with `reason` as its message).
    /// Meant for ``RoomsNamespace/onConnect(_:)``; the edge then sends this socket's close.
    public func reject(_ reason: String) {
        self.context.reject(connection: self.id, namespace: self.namespace, reason: reason)
    }

    /// Closes the whole connection with `reason`.
    public func disconnect(reason: String) {
        self.context.disconnect(.connection(self.id), reason: reason)
    }

    /// What the client sent when it connected: the upgrade request's query parameters and,
    /// for Socket.IO, the CONNECT packet's `auth` object.
    public struct Handshake: Sendable, Hashable {
        public var query: [String: String]
        public var auth: JSON

        init(openData: Envelope.Payload?) {
            let data = openData.flatMap { $0.type == .json ? JSON(parsing: $0.string) : nil }
            self.query = (data?["query"]?.object ?? [:]).compactMapValues(\.string)
            self.auth = data?["auth"] ?? .object([:])
        }
    }

    /// Typed access to ``RoomsSocket/data``.
    public struct SocketData: Sendable {
        let hash: RoomsStore.Hash<JSON>

        public func get(_ field: String) async throws -> JSON? {
            try await self.hash.get(field)
        }

        public func set(_ field: String, _ value: JSON) async throws {
            try await self.hash.set(field, value)
            try await self.hash.expire(in: .seconds(86_400))
        }

        func delete() async throws {
            try await self.hash.delete()
        }
    }
}

extension RoomsSocket {
    /// Sends a Socket.IO binary event: `arguments` holds a `{"_placeholder":true,"num":i}`
    /// for each of `attachments`.
    public func emit(_ event: String, arguments: [JSON], attachments: [ByteBuffer]) {
        self.context.emit(
            to: .connection(self.id), event: event, arguments: .json(JSON.array(arguments).text),
            attachments: attachments, namespace: self.namespace)
    }
}
