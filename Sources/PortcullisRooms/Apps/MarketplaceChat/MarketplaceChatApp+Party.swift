extension MarketplaceChatApp {
    /// The side of a conversation a socket speaks for, from the handshake's `user_role`.
    enum Role: String, Codable, Sendable, CaseIterable {
        case buyer = "BUYER"
        case seller = "SELLER"

        var other: Role {
            self == .buyer ? .seller : .buyer
        }
    }

    /// A user on one side (`BUYER 42`): what a socket acts as, what presence is counted for
    /// and what "the other party" of a room means. A user who both buys and sells is two
    /// parties, each with its own rooms and presence.
    struct Party: Hashable, Sendable {
        var user: String
        var role: Role

        /// The edge room every socket of the party joins on connect, so that events for the
        /// party (typing, read markers, presence changes) reach all its sockets and no one
        /// else: `party:SELLER:42`. Ids hold no `:`, so it never equals a room id.
        var edgeRoom: String {
            "party:\(self.role.rawValue):\(self.user)"
        }
    }

    /// User ids as the app accepts them: 1–128 characters, none of them `.` (room ids are
    /// `<buyer>.<seller>`, split at the one dot), `:` (key and edge room names use it as a
    /// separator), whitespace or control characters.
    static func isValidUserID(_ id: String) -> Bool {
        (1...128).contains(id.count)
            && !id.unicodeScalars.contains { $0 == "." || $0 == ":" || $0.properties.isWhitespace || $0.value < 0x20 }
    }

    /// The buyer and seller a room id names, when it is `<buyer>.<seller>` with two valid ids.
    static func parties(ofRoom id: String) -> (buyer: Party, seller: Party)? {
        let parts = id.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, parts.allSatisfy(Self.isValidUserID) else { return nil }
        return (Party(user: parts[0], role: .buyer), Party(user: parts[1], role: .seller))
    }
}
