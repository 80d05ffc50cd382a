import PortcullisBus

/// The `echo` app: a smoke test of the whole path and an example handler, in every
/// namespace.
///
/// - A message is emitted back to its sender with the same event and data (text stays
///   text, binary stays binary); when it carries an `ack` id, an `ack` with the same data
///   answers it. Besides the echo:
///   - event `join` with data `{"room":"r"}` (or `[{"room":"r"}]`): the sender joins `r`;
///   - event `leave`, same data: the sender leaves `r`;
///   - event `broadcast`: the data is emitted (event `broadcast`) to the room named in the
///     data, or else to every room the sender joined, leaving out the sender.
/// - A disconnect forgets the connection's rooms.
///
/// Joined rooms are kept in the set `<prefix>:app:echo:rooms:<conn>` (expires a day after
/// the last join, in case a `close` is lost).
public struct EchoApp: RoomsApp {
    public let name: String

    public init(name: String = "echo") {
        self.name = name
    }

    static let roomsTTL: Duration = .seconds(86_400)

    public var handlers: RoomsHandlers {
        RoomsHandlers { app in
            app.namespace("*") { namespace in
                namespace.onAny { socket, message in try await Self.echo(message, from: socket) }
                namespace.onDisconnect { socket, _ in try await Self.rooms(of: socket).delete() }
            }
        }
    }

    static func rooms(of socket: RoomsSocket) -> RoomsStore.StringSet {
        socket.context.store.set("rooms", socket.id)
    }

    static func echo(_ message: RoomsMessage, from socket: RoomsSocket) async throws {
        let envelope = socket.context.envelope
        let event = envelope.event ?? "message"
        socket.context.emit(to: .connection(socket.id), event: event, data: envelope.data)
        socket.context.reply(data: envelope.data)
        let room = Self.room(in: message)
        let rooms = Self.rooms(of: socket)
        switch event {
        case "join":
            guard let room else { return }
            try await rooms.add(room)
            try await rooms.expire(in: Self.roomsTTL)
            socket.join(room)
        case "leave":
            guard let room else { return }
            try await rooms.remove(room)
            socket.leave(room)
        case "broadcast":
            let targets = if let room { [room] } else { try await rooms.members() }
            for room in targets {
                socket.context.emit(to: .room(room), except: socket.id, event: event, data: envelope.data)
            }
        default:
            break
        }
    }

    /// `room` from JSON data `{"room":"r"}` or a Socket.IO argument list `[{"room":"r"}, …]`.
    static func room(in message: RoomsMessage) -> String? {
        guard let first = try? message.arguments.first else { return nil }
        let object = first.array?.first ?? first
        guard let room = object["room"]?.string, !room.isEmpty else { return nil }
        return room
    }
}
