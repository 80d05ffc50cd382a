import PortcullisBus

/// An event a community backend publishes on a stream, as subscribers receive it: the
/// message `{"event":<name>,"data":<fields>}`, which ActionCable clients get as
/// `{"identifier":…,"message":{"event":…,"data":…}}`.
///
/// The product docs name each event and list the fields "received with the event"; their
/// test client reads `data` from what arrives. An object with the event's name and its
/// fields under `data` carries both without mixing the name into the fields (a
/// `MessageWithParent` keeps its own `id` and `parent_message`), and it is the shape raw
/// and Socket.IO clients of this edge already see. The app does not write these: the
/// backend does (docs/apps/community.md), and the edge passes them on byte for byte.
public struct CommunityEvent: Sendable, Hashable {
    /// The documented events.
    public enum Name: String, CaseIterable, Sendable {
        case newNotification
        case updateNewNotificationCount
        case resetNewNotificationCount
        case chatRoomCreated
        case chatRoomUpdated
        case chatRoomDeleted
        case chatRoomRead
        case chatRoomPinned
        case chatRoomUnPinned
        case newMessage
        case updatedMessage
        case deletedMessage
        case chatThreadRead

        /// The channels whose streams the docs publish the event on.
        public var channels: [CommunityChannel] {
            switch self {
            case .newNotification, .updateNewNotificationCount, .resetNewNotificationCount:
                [.notification]
            case .chatRoomCreated, .chatRoomDeleted, .chatRoomRead, .chatRoomPinned, .chatRoomUnPinned:
                [.chatRoom]
            case .chatRoomUpdated:
                [.chatRoom, .room]
            case .newMessage:
                [.chatRoom, .room, .memberThreads]
            case .updatedMessage, .deletedMessage:
                [.room, .memberThreads]
            case .chatThreadRead:
                [.memberThreads]
            }
        }
    }

    public var name: Name
    /// The event's fields (`{"new_notifications_count": 3}`, a `ChatRoom`, a `JSONMessage`…).
    public var data: JSON

    public init(_ name: Name, _ data: JSON) {
        self.name = name
        self.data = data
    }

    /// What subscribers receive as the ActionCable `message`.
    public var message: JSON {
        ["event": .string(self.name.rawValue), "data": self.data]
    }

    /// The outbound envelope that publishes the event on `stream` (for `<prefix>:out:bcast`):
    /// an `emit` to the room named like the stream, without `ns`, so that it reaches every
    /// subscription following the stream. `app` restricts it to that app's connections.
    public func envelope(
        on stream: String, app: String? = "community", id: String = Envelope.randomID(), timestamp: Int64? = nil
    ) -> Envelope {
        Envelope(
            id: id, kind: .emit, app: app, target: .room(stream), data: .json(self.message.text), timestamp: timestamp)
    }
}
