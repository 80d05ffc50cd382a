import PortcullisBus

/// `new_message`, `typing`, `stop_typing` and `seen_messages`.
extension MarketplaceChatApp {
    /// `new_message {room_id, from, to, type, content, client_message_id?}` from a party to
    /// the other: stored in the room's history with a server `_id` and `created_at`, then
    /// emitted as `new_message` to both parties (every socket of each). A
    /// `client_message_id` already stored in this room is not stored again: the stored
    /// message is sent back to the sender alone. A new message shows the room again to a
    /// side that had deleted it.
    static func newMessage(_ request: Request) async throws -> JSON {
        let room = try await Self.room(of: request)
        let other = try Self.counterpart(in: room, for: request)
        let input = request.input
        let type = try input.string("type")
        guard Message.types.contains(type) else {
            throw Refusal(.invalidPayload, "type must be one of \(Message.types.sorted().joined(separator: ", "))")
        }
        let content = try input.value("content")
        let clientMessageID = try input.optionalIdentifier("client_message_id")

        let receivedAt = request.receivedAt
        let message = Message(
            id: Message.makeID(seconds: receivedAt / 1000), roomID: room.id, from: request.party.user,
            to: other.user, type: type, content: content, clientMessageID: clientMessageID,
            createdAt: Self.timestamp(milliseconds: receivedAt))
        // Claimed before the history write, so that two deliveries of the same message
        // (a client retry, a redelivered envelope) cannot both store it.
        let claim =
            if let key = clientMessageID?.identifier {
                request.store.sent(room.id, clientMessageID: key)
            } else {
                request.store.sent(room.id, envelope: request.context.envelope.id)
            }
        let ttl = clientMessageID == nil ? Self.envelopeIDTTL : Self.clientMessageIDTTL
        guard try await claim.set(message, onlyIfAbsent: true, expiresIn: ttl) else {
            let original = try await claim.get() ?? message
            if clientMessageID == nil {
                // The same envelope again: its outputs may never have been written.
                try request.context.to(.room(room.id)).emit("new_message", original)
            } else {
                try request.socket.emit("new_message", original)
            }
            return try JSON(encoding: original)
        }
        do {
            try await request.store.messages(room.id).append(message, keepLast: Self.historyLimit)
        } catch {
            // Not stored after all: let the retry (or the client's) claim it again.
            try? await claim.delete()
            throw error
        }
        let deletions = request.store.deletions(room.id)
        for role in try await deletions.all().keys {
            try await deletions.remove(role)
        }
        try request.context.to(.room(room.id)).emit("new_message", message)
        return try JSON(encoding: message)
    }

    /// `typing` / `stop_typing {room_id, from, to}`: relayed as they are to the other
    /// party's sockets only.
    static func relayTyping(_ request: Request) async throws -> JSON {
        let room = try await Self.room(of: request)
        let other = try Self.counterpart(in: room, for: request)
        let payload: JSON = [
            "room_id": .string(room.id), "from": .string(request.party.user), "to": .string(other.user),
        ]
        try request.context.to(.room(other.edgeRoom)).emit(request.event, payload)
        return payload
    }

    /// `seen_messages {room_id, from, to, last_message_id, last_message_created_at}`: the
    /// sender's read marker, kept per user in `room:<room_id>:seen` and relayed to the
    /// other party's sockets. The last marker sent wins.
    static func seenMessages(_ request: Request) async throws -> JSON {
        let room = try await Self.room(of: request)
        let other = try Self.counterpart(in: room, for: request)
        let payload: JSON = [
            "room_id": .string(room.id), "from": .string(request.party.user), "to": .string(other.user),
            "last_message_id": .string(try request.input.string("last_message_id")),
            "last_message_created_at": try request.input.value("last_message_created_at"),
        ]
        try await request.store.readMarkers(room.id).set(request.party.user, payload)
        try request.context.to(.room(other.edgeRoom)).emit("seen_messages", payload)
        return payload
    }
}
