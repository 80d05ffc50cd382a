import Foundation
import PortcullisBus

/// The `marketplace-chat` app: the buyer/seller chat of a marketplace, served to the
/// product's own Socket.IO clients (namespace `/v1/conversations/events` on the route of
/// `conf/routes.d/marketplace-chat.yaml`). docs/apps/marketplace-chat.md is its reference;
/// in short:
///
/// - Connect with query `user_id` (the token's subject) and `user_role` (`BUYER` or
///   `SELLER`), else the namespace is refused. The socket then speaks for that ``Party``:
///   it joins the party's edge room and its chat rooms, gets `active_user_list`, and when
///   it is the party's first socket the other party of each room gets `user_status_change`
///   (again when its last socket leaves).
/// - `create_room`, `new_message`, `typing`, `stop_typing`, `seen_messages`,
///   `room_deletion`: only a room's buyer or seller, acting on the side it connected as,
///   with `from`/`to`/`creator` naming itself and the other party. Anything else is refused
///   with an `error` event (``Refusal``) and nothing else happens.
/// - Every event that asked for an ack is answered: with what the server emitted for it
///   (the room, the stored message, the relayed payload), or `{"error":{…}}`.
/// - `verify_user` never reaches the app: the edge answers it (the route's
///   `refresh_event`); the app only hears of the new token (``refresh(_:)``).
///
/// State lives in the app store (``Store``); every step is safe to run twice, since the
/// worker may redeliver an envelope.
public struct MarketplaceChatApp: RoomsApp {
    public let name: String

    public init(name: String = "marketplace-chat") {
        self.name = name
    }

    /// The namespace the product's clients join.
    static let namespace = "/v1/conversations/events"
    /// Messages kept per room, newest last.
    static let historyLimit = 1000
    /// How long a `client_message_id` is remembered: a client that repeats one within it
    /// gets the stored message back instead of a copy.
    static let clientMessageIDTTL: Duration = .seconds(7 * 86_400)
    /// How long an envelope id is remembered (the worker's own dedupe window).
    static let envelopeIDTTL: Duration = .seconds(3600)
    /// A party's socket set outlives a lost `close` by at most this long.
    static let socketsTTL: Duration = .seconds(86_400)
    /// The `socket.data` field holding the side the socket connected as.
    static let roleField = "user_role"

    public var handlers: RoomsHandlers {
        RoomsHandlers { app in
            app.namespace(Self.namespace) { chat in
                chat.onConnect(Self.connect)
                chat.onRefresh(Self.refresh)
                chat.onDisconnect(Self.disconnect)
                chat.on("create_room") { socket, message in
                    try await Self.serve(message, from: socket, Self.createRoom)
                }
                chat.on("new_message") { socket, message in
                    try await Self.serve(message, from: socket, Self.newMessage)
                }
                for event in ["typing", "stop_typing"] {
                    chat.on(event) { socket, message in
                        try await Self.serve(message, from: socket, Self.relayTyping)
                    }
                }
                chat.on("seen_messages") { socket, message in
                    try await Self.serve(message, from: socket, Self.seenMessages)
                }
                chat.on("room_deletion") { socket, message in
                    try await Self.serve(message, from: socket, Self.deleteRoom)
                }
            }
        }
    }

    /// What an event handler gets: the socket, the party it speaks for, the event's object.
    struct Request: Sendable {
        var socket: RoomsSocket
        var party: Party
        var input: Input
        var event: String

        var context: RoomsContext { self.socket.context }
        var store: Store { Store(self.socket.context.store) }

        /// When the edge received the event (its `ts`), in ms since the Unix epoch: the
        /// time messages and deletions are stamped with, the same on a redelivery.
        var receivedAt: Int64 {
            self.context.envelope.timestamp ?? Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        }
    }

    /// Runs `handler` for a client event and answers its ack with what it returns; a
    /// ``Refusal`` becomes the sender's `error` event (and ack) instead.
    static func serve(
        _ message: RoomsMessage, from socket: RoomsSocket,
        _ handler: (Request) async throws -> JSON
    ) async throws {
        do {
            guard let party = try await Self.party(of: socket) else {
                throw Refusal(.forbidden, "the socket has no user_role: reconnect")
            }
            let request = Request(socket: socket, party: party, input: try Input(message), event: message.event)
            try message.ack(try await handler(request))
        } catch let refusal as Refusal {
            let payload = refusal.payload(event: message.event)
            try socket.emit("error", payload)
            try message.ack(["error": payload] as JSON)
        }
    }

    /// The party a connected socket speaks for: its verified user and the role it kept at
    /// connect.
    static func party(of socket: RoomsSocket) async throws -> Party? {
        guard let user = socket.user,
            let role = try await socket.data.get(Self.roleField)?.string.flatMap(Role.init(rawValue:))
        else { return nil }
        return Party(user: user, role: role)
    }

    /// The room an event names (`room_id`), when the request's party is its buyer or seller
    /// on the side it connected as.
    static func room(of request: Request) async throws -> Room {
        let id = try request.input.string("room_id")
        guard let room = try await request.store.room(id).get() else {
            throw Refusal(.roomNotFound, "no room \(id)")
        }
        guard room.includes(request.party) else {
            throw Refusal(.forbidden, "\(request.party.role.rawValue) \(request.party.user) is not a party of \(id)")
        }
        return room
    }

    /// Checks that `from` is the request's party and `to` the room's other party; returns
    /// the other party.
    static func counterpart(in room: Room, for request: Request) throws -> Party {
        let other = room.party(request.party.role.other)
        guard try request.input.userID("from") == request.party.user else {
            throw Refusal(.forbidden, "from must be the connected user")
        }
        guard try request.input.userID("to") == other.user else {
            throw Refusal(.forbidden, "to must be the other party of the room")
        }
        return other
    }
}
