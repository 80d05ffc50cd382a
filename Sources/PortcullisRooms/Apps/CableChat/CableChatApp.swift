import PortcullisBus

/// The `cable-chat` app: a small ActionCable chat, the handler side of
/// `conf/examples/actioncable-chat.yaml` and of the end-to-end test with Rails' own client.
/// In Rails it would read:
///
/// ```ruby
/// class ChatChannel < ApplicationCable::Channel
///   def subscribed
///     reject if params[:room].blank?
///     stream_from "chat:#{params[:room]}"
///   end
///   def speak(data)
///     ActionCable.server.broadcast("chat:#{params[:room]}", {body: data["body"], user: current_user})
///   end
/// end
/// ```
///
/// - Subscribe to `ChatChannel` with a non-empty `room` (a string, or an integer written as
///   decimal): confirmed, following the stream `chat:<room>`. No room: rejected. Other
///   channels are rejected by the framework.
/// - `speak` with `{"body":…}`: `{"body":<body>,"user":<the connection's user or null>}` to
///   every subscription following `chat:<room>`, the speaker's included. A message
///   without `body` is dropped.
///
/// The app keeps no state: the room is read from the identifier each time.
public struct CableChatApp: RoomsApp {
    public let name: String

    public init(name: String = "cable-chat") {
        self.name = name
    }

    static let channel = "ChatChannel"

    /// The stream (room) a chat room's subscriptions follow.
    static func stream(room: String) -> String {
        "chat:\(room)"
    }

    public var handlers: RoomsHandlers {
        RoomsHandlers { app in
            app.channel(Self.channel) { channel in
                channel.onSubscribe { subscription in
                    guard let room = subscription.params["room"]?.identifier else {
                        return subscription.reject("no room")
                    }
                    subscription.stream(from: Self.stream(room: room))
                }
                channel.on("speak") { subscription, message in
                    guard let room = subscription.params["room"]?.identifier,
                        let body = try message.arguments.first?["body"]
                    else { return }
                    let speech: JSON = ["body": body, "user": subscription.user.map(JSON.string) ?? .null]
                    try subscription.broadcast(to: Self.stream(room: room), speech)
                }
            }
        }
    }
}
