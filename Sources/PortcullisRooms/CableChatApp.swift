import Foundation
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
/// - `open` (a `subscribe`; `ns` is the identifier, `data` is
///   `{"query":…,"channel":…,"params":{…}}`): channel `ChatChannel` with a non-empty
///   `room` param (a string, or an integer written as decimal) → `confirm`, then `join` of
///   the stream `chat:<room>`, both for that identifier. Any other channel, or no room →
///   `reject`. Confirm goes first because the edge may only accept stream joins for a
///   subscription it knows is live; both land on the edge's stream in this order, long
///   before the client can act on the confirmation, so the first broadcast finds the
///   stream joined.
/// - `message` with action (`event`) `speak` on such an identifier, data `{"body":…}` →
///   `{"body":<body as sent>,"user":<the connection's user or null>}` to every subscription
///   following `chat:<room>`, the speaker's included (an emit to the room without `ns`).
///   A message without `body` is dropped.
/// - `close`: nothing; the edge drops the subscription's streams itself.
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

    public func handle(_ envelope: Envelope, context: RoomsContext) async throws {
        guard let connection = envelope.connection, let identifier = envelope.namespace else { return }
        switch envelope.kind {
        case .open:
            guard let subscription = Self.subscription(openData: envelope.data) else {
                context.reject(connection: connection, namespace: identifier, reason: "unknown channel or no room")
                return
            }
            context.confirm(connection: connection, namespace: identifier)
            context.join(.connection(connection), room: Self.stream(room: subscription), namespace: identifier)
        case .message:
            guard envelope.event == "speak", let room = Self.room(identifier: identifier),
                let data = envelope.data, data.type == .json, let body = RawJSON.member("body", of: data.string)
            else { return }
            let user = envelope.user.map(RawJSON.quoted) ?? "null"
            context.broadcast(toRoom: Self.stream(room: room), data: .json(#"{"body":\#(body),"user":\#(user)}"#))
        default:
            break
        }
    }

    /// The room of an `open` for `ChatChannel`: `{"channel":"ChatChannel","params":{"room":…}}`.
    static func subscription(openData: Envelope.Payload?) -> String? {
        guard let data = openData, let open = try? JSONDecoder().decode(OpenData.self, from: Data(data.string.utf8)),
            open.channel == Self.channel
        else { return nil }
        return open.params?.room?.name
    }

    /// The room of an identifier `{"channel":"ChatChannel","room":…}`.
    static func room(identifier: String) -> String? {
        guard let parsed = try? JSONDecoder().decode(Identifier.self, from: Data(identifier.utf8)),
            parsed.channel == Self.channel
        else { return nil }
        return parsed.room?.name
    }

    private struct OpenData: Decodable {
        struct Params: Decodable {
            var room: Room?
        }
        var channel: String?
        var params: Params?
    }

    private struct Identifier: Decodable {
        var channel: String?
        var room: Room?
    }

    /// A room param as Rails would interpolate it into the stream name: a string, or an
    /// integer (`{"room":1}` → `chat:1`); empty means none.
    private struct Room: Decodable {
        var name: String?

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer()
            if let text = try? value.decode(String.self) {
                self.name = text.isEmpty ? nil : text
            } else {
                self.name = String(try value.decode(Int64.self))
            }
        }
    }
}
