import PortcullisBus

/// Connect, refresh and disconnect: who a socket speaks for, and who is online.
extension MarketplaceChatApp {
    /// Admits a socket whose query `user_id` is the token's subject and whose `user_role` is
    /// `BUYER` or `SELLER`; refuses it otherwise (the client's `connect_error`, with the
    /// reason as its message). An admitted socket joins its party's edge room and each of
    /// its chat rooms, and gets `active_user_list`; the party's first socket also tells
    /// the other party of each room that it came online.
    @Sendable static func connect(_ socket: RoomsSocket) async throws {
        let query = socket.handshake?.query ?? [:]
        guard let user = query["user_id"], Self.isValidUserID(user) else {
            return socket.reject("user_id is missing or not a valid id")
        }
        guard socket.user == user else {
            return socket.reject("user_id does not match the token")
        }
        guard let role = query["user_role"].flatMap(Role.init(rawValue:)) else {
            return socket.reject("user_role must be BUYER or SELLER")
        }
        let party = Party(user: user, role: role)
        let store = Store(socket.context.store)
        try await socket.data.set(Self.roleField, .string(role.rawValue))

        socket.join(party.edgeRoom)
        let rooms = try await store.rooms(of: party).members()
        for room in rooms {
            socket.join(room)
        }
        let sockets = store.sockets(of: party)
        let online = try await sockets.add(socket.id)
        try await sockets.expire(in: Self.socketsTTL)

        var list: [JSON] = []
        for room in rooms {
            guard let other = Self.counterpart(of: party, inRoom: room),
                try await store.deletions(room).get(role.rawValue) == nil
            else { continue }
            let status = try await !store.sockets(of: other).members().isEmpty
            list.append(["room_id": .string(room), "status": .bool(status)])
        }
        try socket.emit(
            "active_user_list",
            ["user_id": .string(user), "user_role": .string(role.rawValue), "rooms": .array(list)] as JSON)
        // Counted, not `added`: a redelivered connect of the only socket announces again
        // rather than never.
        if online.count == 1 {
            try Self.announce(party, rooms: rooms, online: true, context: socket.context)
        }
    }

    /// A refreshed token (`verify_user` accepted by the edge, same subject): keeps the
    /// socket's role and the party's socket set from expiring under a long-lived socket.
    @Sendable static func refresh(_ socket: RoomsSocket) async throws {
        guard let party = try await Self.party(of: socket) else { return }
        try await socket.data.set(Self.roleField, .string(party.role.rawValue))
        try await Store(socket.context.store).sockets(of: party).expire(in: Self.socketsTTL)
    }

    /// Forgets the socket; the party's last socket tells the other party of each room that
    /// it went offline. A refused socket (no role kept) has nothing to forget.
    @Sendable static func disconnect(_ socket: RoomsSocket, reason: String) async throws {
        guard let party = try await Self.party(of: socket) else { return }
        let store = Store(socket.context.store)
        let online = try await store.sockets(of: party).remove(socket.id)
        guard online.count == 0 else { return }
        let rooms = try await store.rooms(of: party).members()
        try Self.announce(party, rooms: rooms, online: false, context: socket.context)
    }

    /// `user_status_change` to the other party of each room.
    static func announce(_ party: Party, rooms: [String], online: Bool, context: RoomsContext) throws {
        for room in rooms {
            guard let other = Self.counterpart(of: party, inRoom: room) else { continue }
            let change: JSON = [
                "user_id": .string(party.user), "user_role": .string(party.role.rawValue), "room_id": .string(room),
                "status": .bool(online),
            ]
            try context.to(.room(other.edgeRoom)).emit("user_status_change", change)
        }
    }

    /// The other party of a room id from the party's room set.
    static func counterpart(of party: Party, inRoom room: String) -> Party? {
        guard let parties = Self.parties(ofRoom: room) else { return nil }
        return party.role == .buyer ? parties.seller : parties.buyer
    }
}
