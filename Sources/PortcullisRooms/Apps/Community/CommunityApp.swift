import PortcullisBus

/// The `community` app: the ActionCable side of a community product's real-time API
/// (Circle's headless websockets, docs/apps/community.md). In Rails it would read:
///
/// ```ruby
/// class NotificationChannel < ApplicationCable::Channel
///   def subscribed
///     reject unless params[:community_member_id].to_s == current_member_id
///     stream_from "notification-channel-#{current_member_id}"
///   end
/// end
/// class Chats::RoomChannel < ApplicationCable::Channel
///   def subscribed
///     room = params[:chat_room_id]
///     reject unless redis.sismember("…:chat-room:#{room}:members", current_member_id)
///     stream_from "chat-room-#{room}-channel"
///   end
/// end
/// ```
///
/// - `NotificationChannel`, `ChatRoomChannel`, `Chats::CommunityMemberThreadsChannel`: the
///   identifier's `community_member_id` must be the connection's own member id
///   (``CommunityMember``); the subscription follows that member's stream.
/// - `Chats::RoomChannel`: the identifier's `chat_room_id` must name a room whose member
///   set (``members(ofRoom:in:)``, kept by the backend) holds the member; a
///   `community_member_id` given as well must be the member's own.
/// - Anything else is rejected: other channels, missing or malformed ids, anonymous
///   connections. Actions the clients perform are ignored, as Circle's test client's
///   `message` is: the events come from the backend, which publishes them on the streams
///   (``CommunityEvent``).
///
/// The app writes nothing to Redis; it reads the room member sets.
public struct CommunityApp: RoomsApp {
    public let name: String

    public init(name: String = "community") {
        self.name = name
    }

    /// The set of member ids of chat room `room` (`<prefix>:app:<app>:chat-room:<room>:members`),
    /// which the backend keeps with `SADD`/`SREM`.
    public static func members(ofRoom room: String, in store: RoomsStore) -> RoomsStore.StringSet {
        store.set("chat-room", room, "members")
    }

    public var handlers: RoomsHandlers {
        RoomsHandlers { app in
            for channel in CommunityChannel.allCases {
                app.channel(channel.name) { declared in
                    declared.onSubscribe { subscription in
                        try await Self.subscribe(subscription, to: channel)
                    }
                }
            }
        }
    }

    /// Confirms the subscription on its stream, or rejects it with the reason for the log.
    static func subscribe(_ subscription: RoomsSubscription, to channel: CommunityChannel) async throws {
        guard let member = CommunityMember.id(claims: subscription.claims, user: subscription.user) else {
            return subscription.reject("no community member in the token")
        }
        if let claimed = subscription.params["community_member_id"] {
            guard CommunityMember.memberID(claimed) == member else {
                return subscription.reject("community_member_id is not the token's member")
            }
        } else if channel != .room {
            return subscription.reject("community_member_id missing")
        }
        guard channel == .room else {
            return subscription.stream(from: channel.stream(member))
        }
        guard let room = subscription.params[channel.parameter].flatMap(CommunityMember.roomID) else {
            return subscription.reject("chat_room_id missing or not a positive integer")
        }
        guard try await Self.members(ofRoom: room, in: subscription.context.store).contains(member) else {
            return subscription.reject("not a member of the chat room")
        }
        subscription.stream(from: channel.stream(room))
    }
}
