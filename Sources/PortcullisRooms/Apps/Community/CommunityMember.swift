/// How the community app reads ids: the member a connection authenticated as, the member
/// and room a subscription names.
///
/// - The member is the token's `community_member_id` claim (a number or a string), else its
///   `sub`. A `community_member_id` claim of any other type names nobody: the token is
///   not taken to be `sub`'s, since its issuer meant someone else.
/// - A member id in an identifier matches when it is the same text: `42` and `"42"` are
///   both member 42; `"042"` is not.
/// - A room id is a positive integer, as a JSON number or a string of ASCII digits, read
///   as decimal (`"007"` is room 7).
enum CommunityMember {
    /// The longest member id taken from a token or an identifier, in bytes.
    static let maximumLength = 128

    /// The member a connection with these verified `claims` and subject `user` is; nil for
    /// anonymous connections and claims that name no usable member.
    static func id(claims: JSON, user: String?) -> String? {
        if let claim = claims["community_member_id"] {
            return Self.memberID(claim)
        }
        return user.flatMap { Self.memberID(.string($0)) }
    }

    /// A member id as an identifier or a claim carries it: an integer or a non-empty string
    /// of at most ``maximumLength`` bytes without control characters.
    static func memberID(_ value: JSON) -> String? {
        guard let id = value.identifier, id.utf8.count <= Self.maximumLength,
            !id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { return nil }
        return id
    }

    /// A room id in canonical decimal; nil for anything but a positive integer.
    static func roomID(_ value: JSON) -> String? {
        switch value {
        case .int(let number) where number > 0:
            return String(number)
        case .string(let text) where !text.isEmpty && text.utf8.allSatisfy({ (0x30...0x39).contains($0) }):
            guard let number = Int(text), number > 0 else { return nil }
            return String(number)
        default:
            return nil
        }
    }
}
