import Foundation
import PortcullisBus

/// The `shared-notifications` app: the "Shared" namespace `/v1/shared` of a platform whose
/// backends push notifications to users (docs/apps/shared-notifications.md).
///
/// In the product's Node server, `join` adds the socket id to the user's `Socket` document
/// and the REST controller emits to every id listed there, so a socket that never joined
/// gets nothing. Here the user's joined sockets are the edge room `user:<id>` in the
/// namespace:
///
/// - `join` (any data, usually `{}`) from an authenticated socket: the socket joins
///   `user:<its user>`; the ack, when asked for, is `{success: true, message: 'SUCCESS'}`.
///   Joining twice is harmless.
/// - A disconnect needs no cleanup: the edge drops a closed socket from its rooms, which is
///   what the Node `disconnect` handler's `$pullAll` of stale ids achieves.
/// - Backends deliver with `POST /emit/:userId/:event` and `POST /emit/:event` on the
///   admin listener (the route's `socket.emit_endpoints.room` is ``roomTemplate``), or by
///   an emit envelope to room `user:<id>` in `/v1/shared` (docs/publish.md).
///
/// The app keeps no state of its own.
public struct SharedNotificationsApp: RoomsApp {
    public let name: String

    public init(name: String = "shared-notifications") {
        self.name = name
    }

    public static let namespace = "/v1/shared"
    /// The room backends publish a user's events to, as the route's emit endpoints name it.
    public static let roomTemplate = "user:{user}"

    static func room(user: String) -> String {
        Self.roomTemplate.replacingOccurrences(of: "{user}", with: user)
    }

    struct Answer: Encodable {
        var success: Bool
        var message: String
    }

    public var handlers: RoomsHandlers {
        RoomsHandlers { app in
            app.namespace(Self.namespace) { shared in
                shared.on("join") { socket, message in
                    guard let user = socket.user else {
                        try message.ack(Answer(success: false, message: "UNAUTHORIZED"))
                        return
                    }
                    socket.join(Self.room(user: user))
                    try message.ack(Answer(success: true, message: "SUCCESS"))
                }
            }
        }
    }
}
