/// The four ActionCable channels of the community product (Circle's headless websockets)
/// and the stream ("pubsub queue") each subscription follows.
///
/// Stream names are the product's, character for character, so a backend that already
/// broadcasts to `notification-channel-42` keeps doing so. Room ids are positive integers
/// (the docs type `chat_room_id` as a number), which also keeps the room streams apart
/// from every member stream whatever a member id looks like: `chat-room-7-channel` can
/// never equal `chat-room-channel-<member>`.
public enum CommunityChannel: String, CaseIterable, Sendable {
    /// In-app notifications of one member.
    case notification = "NotificationChannel"
    /// Chat updates meant for one member (rooms created, read, pinned; new messages).
    case chatRoom = "ChatRoomChannel"
    /// Events of one chat room, for every member of it.
    case room = "Chats::RoomChannel"
    /// Events of the threads one member takes part in.
    case memberThreads = "Chats::CommunityMemberThreadsChannel"

    /// The channel's name, as the identifier's `channel` carries it.
    public var name: String { self.rawValue }

    /// The identifier member that names whose stream, or which room's, a subscription
    /// wants: `community_member_id` on the member channels, `chat_room_id` on the room
    /// channel.
    public var parameter: String {
        self == .room ? "chat_room_id" : "community_member_id"
    }

    /// The stream of member `id` (member channels) or of room `id` (``room``).
    public func stream(_ id: String) -> String {
        switch self {
        case .notification: "notification-channel-\(id)"
        case .chatRoom: "chat-room-channel-\(id)"
        case .room: "chat-room-\(id)-channel"
        case .memberThreads: "chat-community-member-\(id)-threads-channel"
        }
    }
}
