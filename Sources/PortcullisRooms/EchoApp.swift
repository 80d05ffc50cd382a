import Foundation
import PortcullisBus

/// The `echo` app: a smoke test of the whole path and an example handler.
///
/// - `message`: the same `event` and `data` are emitted back to the sender; when the
///   message carries an `ack` id, an `ack` with that id and the same data answers it.
///   Besides the echo:
///   - event `join` with data `{"room":"r"}` (or `[{"room":"r"}]`): the sender joins `r`;
///   - event `leave`, same data: the sender leaves `r`;
///   - event `broadcast`: the data is emitted (event `broadcast`) to the room named in the
///     data, or else to every room the sender joined, leaving out the sender.
/// - `open`: nothing. `close`: forgets the connection's rooms.
///
/// Joined rooms are kept in Redis, in the set `<prefix>:app:echo:rooms:<conn>` (expires a
/// day after the last join, in case a `close` is lost).
public struct EchoApp: RoomsApp {
    public let name: String

    public init(name: String = "echo") {
        self.name = name
    }

    static let roomsTTL = 86_400

    public func handle(_ envelope: Envelope, context: RoomsContext) async throws {
        guard let connection = envelope.connection else { return }
        let roomsKey = "\(context.names.prefix):app:\(self.name):rooms:\(connection)"
        switch envelope.kind {
        case .close:
            _ = try await context.redis.del([roomsKey])
        case .message:
            let event = envelope.event ?? "message"
            context.emit(to: .connection(connection), event: event, data: envelope.data)
            context.reply(data: envelope.data)
            let room = Self.room(in: envelope.data)
            switch event {
            case "join":
                guard let room else { return }
                _ = try await context.redis.send(["SADD", RedisArgument(roomsKey), RedisArgument(room)])
                _ = try await context.redis.send(["EXPIRE", RedisArgument(roomsKey), RedisArgument(Self.roomsTTL)])
                context.join(connection: connection, room: room)
            case "leave":
                guard let room else { return }
                _ = try await context.redis.send(["SREM", RedisArgument(roomsKey), RedisArgument(room)])
                context.leave(connection: connection, room: room)
            case "broadcast":
                let rooms: [String]
                if let room {
                    rooms = [room]
                } else {
                    let reply = try await context.redis.send(["SMEMBERS", RedisArgument(roomsKey)])
                    rooms = (reply.array ?? []).compactMap(\.string).sorted()
                }
                for room in rooms {
                    context.emit(to: .room(room), except: connection, event: event, data: envelope.data)
                }
            default:
                break
            }
        default:
            break
        }
    }

    /// `room` from JSON data `{"room":"r"}` or a Socket.IO argument list `[{"room":"r"}, …]`.
    static func room(in payload: Envelope.Payload?) -> String? {
        guard let payload, payload.type == .json else { return nil }
        let bytes = Data(payload.bytes.readableBytesView)
        guard let value = try? JSONSerialization.jsonObject(with: bytes, options: [.fragmentsAllowed]) else {
            return nil
        }
        let object = (value as? [String: Any]) ?? ((value as? [Any])?.first as? [String: Any])
        guard let room = object?["room"] as? String, !room.isEmpty else { return nil }
        return room
    }
}
