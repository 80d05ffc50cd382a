import PortcullisBus

/// `create_room` and `room_deletion`.
extension MarketplaceChatApp {
    /// `create_room {type:"BS", buyer, seller, shop_id, creator}` from the buyer or the
    /// seller themselves (`creator` the connected user, on the side it connected as).
    /// Stores the room `<buyer>.<seller>` unless it exists (then the stored one stands),
    /// puts it in both parties' room sets, joins both parties' sockets to it, and emits
    /// `create_room` with the room to both parties. Creating a room the creator had
    /// deleted shows it to the creator again.
    static func createRoom(_ request: Request) async throws -> JSON {
        let input = request.input
        guard input.fields["type"]?.string == Room.buyerSeller else {
            throw Refusal(.invalidPayload, "type must be \(Room.buyerSeller)")
        }
        let buyer = try input.userID("buyer")
        let seller = try input.userID("seller")
        let shopID = try input.identifier("shop_id")
        let creator = try input.userID("creator")
        guard buyer != seller else { throw Refusal(.invalidPayload, "buyer and seller must differ") }
        let party = request.party
        guard creator == party.user else { throw Refusal(.forbidden, "creator must be the connected user") }
        guard (party.role == .buyer ? buyer : seller) == party.user else {
            throw Refusal(
                .forbidden, "a \(party.role.rawValue) creates rooms as the \(party.role.rawValue.lowercased())")
        }

        let id = Room.id(buyer: buyer, seller: seller)
        let created = Room(
            id: id, type: Room.buyerSeller, buyer: buyer, seller: seller, shopID: shopID, creator: creator,
            createdAt: Self.timestamp(milliseconds: request.receivedAt))
        let stored = request.store.room(id)
        var room = created
        if try await !stored.set(created, onlyIfAbsent: true), let existing = try await stored.get() {
            room = existing
        }
        for role in Role.allCases {
            try await request.store.rooms(of: room.party(role)).add(id)
        }
        try await request.store.deletions(id).remove(party.role.rawValue)

        for role in Role.allCases {
            request.context.to(.room(room.party(role).edgeRoom)).join(id)
        }
        try request.context.to(.room(id)).emit("create_room", room.event)
        return room.event
    }

    /// `room_deletion {room_id}` from a party: hides the room for that side (it leaves
    /// that party's `active_user_list` until a new message or its own `create_room`
    /// brings it back; messages are kept) and emits `room_deletion {room_id, seller, buyer,
    /// deletion_role}` to both parties.
    static func deleteRoom(_ request: Request) async throws -> JSON {
        let room = try await Self.room(of: request)
        let role = request.party.role
        let mark: JSON = [
            "user_id": .string(request.party.user),
            "deleted_at": .string(Self.timestamp(milliseconds: request.receivedAt)),
        ]
        try await request.store.deletions(room.id).set(role.rawValue, mark)
        let deletion: JSON = [
            "room_id": .string(room.id), "seller": .string(room.seller), "buyer": .string(room.buyer),
            "deletion_role": .string(role.rawValue),
        ]
        try request.context.to(.room(room.id)).emit("room_deletion", deletion)
        return deletion
    }
}
