import PortcullisBus
import PortcullisConfig

/// The socket route the publish API's `/emit` endpoints deliver to: the one route whose
/// `socket.emit_endpoints` is set. Its events carry the route's `app` and namespace, and
/// go to the per-user room when one is configured, else to the user.
struct EmitRoute: Hashable, Sendable {
    /// Socket.IO refuses to emit these names (they are its own lifecycle events), so a
    /// request for one is a mistake to report, not a message to send.
    static let reservedSocketIOEvents: Set<String> = [
        "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
    ]

    var app: String
    var namespace: String?
    var endpoints: SocketAction.EmitEndpoints
    var isSocketIO: Bool

    /// The first route of `routes` that declares `emit_endpoints` (validation allows one).
    init?(routes: [Route]) {
        guard let socket = routes.lazy.compactMap(\.socket).first(where: { $0.emitEndpoints != nil }),
            let endpoints = socket.emitEndpoints
        else { return nil }
        self.app = socket.app
        self.namespace = endpoints.namespace
        self.endpoints = endpoints
        self.isSocketIO = socket.wireProtocol == .socketio
    }

    /// Who an event for `user` goes to.
    func target(forUser user: String) -> Envelope.Target {
        endpoints.room(forUser: user).map { .room($0) } ?? .user(user)
    }
}
