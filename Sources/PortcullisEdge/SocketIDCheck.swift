import NIOCore
import NIOHTTP1
import PortcullisBus

/// Vouches for the socket id a client names in a request (the route's `socket_id_header`,
/// 3D Repo's `x-socket-id`), so that a backend may act on it: leave that socket out of the
/// events the request causes (`except`), or send it something.
///
/// A client could name anyone's socket, so the header reaches the upstream only when it
/// names a live connection (on any edge) whose verified user is the subject that
/// authenticated this request. The edges' presence registry (`<prefix>:edge:<edge>:conns`,
/// docs/bus.md) holds both: one `HGET`, after authentication. Anything else (no such
/// connection, another user's, an anonymous one, a malformed id, two values, Redis away)
/// drops the header and lets the request through without it: the backend then leaves no
/// socket out, which costs the caller an event it already knows about and nobody else
/// anything.
enum SocketIDCheck {
    /// The longest id looked up; connection ids are far shorter.
    static let maximumLength = 200

    /// The one socket id in `headers[name]` worth looking up: a connection id
    /// (`<edge>.<local part>`) of printable ASCII; nil when absent, repeated or malformed.
    static func candidate(in headers: HTTPHeaders, name: String) -> String? {
        let values = headers[name]
        guard values.count == 1, let value = values.first, value.utf8.count <= Self.maximumLength,
            value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }), StreamNames.edgeID(ofConnection: value) != nil
        else { return nil }
        return value
    }

    /// Whether the registry's answer for the connection names `subject` as its user.
    static func vouches(_ reply: RESPValue, subject: String) -> Bool {
        guard let json = reply.string, let record = try? PresenceRecord(json: json) else { return false }
        return record.user == subject
    }

    /// Looks `socketID` up in its edge's registry; true when it is a live connection of
    /// `subject`. Never fails: a Redis error answers false.
    static func check(
        _ socketID: String, subject: String, names: StreamNames, redis: RedisClient, on eventLoop: EventLoop
    ) -> EventLoopFuture<Bool> {
        guard let edge = StreamNames.edgeID(ofConnection: socketID), let key = try? names.edgeConnections(edge: edge)
        else { return eventLoop.makeSucceededFuture(false) }
        return redis.send(["HGET", RedisArgument(key), RedisArgument(socketID)])
            .map { Self.vouches($0, subject: subject) }
            .recover { _ in false }
    }
}
