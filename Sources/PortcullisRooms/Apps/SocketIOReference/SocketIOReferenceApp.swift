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
/// - Connect in any namespace: emit `auth` with the CONNECT payload (`{}` when the client
///   sent none or not an object, as `socket.handshake.auth` defaults to `{}`), as text with
///   its whitespace dropped: `40{"token":"123"}` comes back as `42["auth",{"token":"123"}]`.
/// - In the main namespace `/`: event `message` → emit `message-back` with the same
///   arguments and binary attachments; `message-with-ack` → answer the ack with the same
///   arguments and attachments (a binary ack when there are any). Other events and other
///   namespaces get nothing, like the JS server. (A JS `message` that carried an ack id
///   would pass the ack function on to the client; the suite never sends one.)
/// - Arguments pass through as the client's bytes (key order included), which is why this
///   app uses the context's envelope-level calls rather than decoded ``JSON``.
/// - The app keeps no state.
public struct SocketIOReferenceApp: RoomsApp {
    public let name: String

    public init(name: String = "socketio-reference") {
        self.name = name
    }

    public var handlers: RoomsHandlers {
        RoomsHandlers { app in
            app.namespace("*") { namespace in
                namespace.onConnect(Self.sendAuth)
            }
            app.namespace("/") { main in
                main.onConnect(Self.sendAuth)
                main.on("message") { socket, _ in
                    let envelope = socket.context.envelope
                    socket.context.emit(
                        to: .connection(socket.id), event: "message-back",
                        arguments: .json(Self.argumentList(envelope)), attachments: envelope.attachments)
                }
                main.on("message-with-ack") { socket, _ in
                    let envelope = socket.context.envelope
                    socket.context.reply(
                        arguments: .json(Self.argumentList(envelope)), attachments: envelope.attachments)
                }
            }
        }
    }

    @Sendable static func sendAuth(_ socket: RoomsSocket) {
        let auth = Self.handshakeAuth(socket.context.envelope.data)
        socket.context.emit(to: .connection(socket.id), event: "auth", arguments: .json("[\(auth)]"))
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
