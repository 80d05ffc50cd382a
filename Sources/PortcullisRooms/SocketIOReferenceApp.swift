import PortcullisBus

/// The `socketio-reference` app: the server that the official Socket.IO compliance suite
/// (socketio/socket.io-protocol, `test-suite/`) is written against, so that the suite can
/// run against an edge (`scripts/dev/socketio-compliance`). Its README's reference server
/// is, in JavaScript:
///
/// ```js
/// io.on("connection", (socket) => {
///   socket.emit("auth", socket.handshake.auth);
///   socket.on("message", (...args) => socket.emit("message-back", ...args));
///   socket.on("message-with-ack", (...args) => { const ack = args.pop(); ack(...args); });
/// });
/// io.of("/custom").on("connection", (socket) => socket.emit("auth", socket.handshake.auth));
/// ```
///
/// - `open` in any namespace: emit `auth` to the connection in that namespace with the
///   CONNECT payload (`auth` of the open's data), `{}` when the client sent none, as
///   `socket.handshake.auth` defaults to `{}`. The payload is passed on as text with its
///   whitespace dropped, so `40{"token":"123"}` comes back as `42["auth",{"token":"123"}]`.
/// - `message` in the main namespace `/`: event `message` → emit `message-back` with the
///   same arguments and binary attachments; `message-with-ack` → answer the ack with the
///   same arguments and attachments (a binary ack when there are any). Other events, other
///   namespaces and `message-with-ack` without an ack id get nothing, like the JS server.
///   (A JS `message` that carried an ack id would pass the ack function on to the client;
///   the suite never sends one, and this app ignores the id.)
/// - Everything else: nothing. The app keeps no state.
public struct SocketIOReferenceApp: RoomsApp {
    public let name: String

    public init(name: String = "socketio-reference") {
        self.name = name
    }

    static let mainNamespace = "/"

    public func handle(_ envelope: Envelope, context: RoomsContext) async throws {
        guard let connection = envelope.connection else { return }
        switch envelope.kind {
        case .open:
            let auth = Self.handshakeAuth(envelope.data)
            context.emit(to: .connection(connection), event: "auth", arguments: .json("[\(auth)]"))
        case .message:
            guard (envelope.namespace ?? Self.mainNamespace) == Self.mainNamespace else { return }
            let arguments = Envelope.Payload.json(Self.argumentList(envelope))
            switch envelope.event {
            case "message":
                context.emit(
                    to: .connection(connection), event: "message-back", arguments: arguments,
                    attachments: envelope.attachments)
            case "message-with-ack":
                context.reply(arguments: arguments, attachments: envelope.attachments)
            default:
                break
            }
        default:
            break
        }
    }

    /// `socket.handshake.auth`: the `auth` member of the open's `{"query":…,"auth":…}` when
    /// it is an object, otherwise `{}`.
    static func handshakeAuth(_ data: Envelope.Payload?) -> String {
        guard let data, data.type == .json, let auth = RawJSON.member("auth", of: data.string),
            auth.hasPrefix("{")
        else { return "{}" }
        return RawJSON.compact(auth)
    }

    /// The message's arguments as a JSON array: `data` itself when it is one (`args`), the
    /// one value in brackets when the edge sent a single value, `[]` without data.
    static func argumentList(_ envelope: Envelope) -> String {
        guard let data = envelope.data, data.type == .json else { return "[]" }
        let text = data.string
        if envelope.arguments { return text }
        return "[\(text)]"
    }
}
