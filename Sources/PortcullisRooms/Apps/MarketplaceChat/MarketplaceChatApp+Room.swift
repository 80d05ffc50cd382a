extension MarketplaceChatApp {
    /// A buyer/seller conversation as stored under `room:<room_id>` and sent as
    /// `create_room`. Created once (the first `create_room` wins, later ones get it back).
    struct Room: Codable, Sendable, Hashable {
        var id: String
        var type: String
        var buyer: String
        var seller: String
        /// As the creating client sent it (a string or a number).
        var shopID: JSON
        var creator: String
        /// ISO 8601 UTC with milliseconds; stored, not part of the `create_room` event.
        var createdAt: String

        enum CodingKeys: String, CodingKey {
            case id = "room_id"
            case type
            case buyer
            case seller
            case shopID = "shop_id"
            case creator
            case createdAt = "created_at"
        }

        /// The one room type the product has: buyer and seller.
        static let buyerSeller = "BS"

        static func id(buyer: String, seller: String) -> String {
            "\(buyer).\(seller)"
        }

        func party(_ role: Role) -> Party {
            Party(user: role == .buyer ? self.buyer : self.seller, role: role)
        }

        /// Whether `party` is this room's buyer or seller, on the side it connected as.
        func includes(_ party: Party) -> Bool {
            self.party(party.role) == party
        }

        /// The `create_room` event's fields, as the product documents them.
        var event: JSON {
            [
                "room_id": .string(self.id), "type": .string(self.type), "buyer": .string(self.buyer),
                "seller": .string(self.seller), "shop_id": self.shopID, "creator": .string(self.creator),
            ]
        }
    }
}
