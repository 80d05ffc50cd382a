import PortcullisBus

/// The application protocol a load generator's connections speak over WebSocket, as the
/// edge's socket routes do (`socket.protocol`): what the upgrade request offers and what a
/// ``ClientSession`` expects before a connection counts as open.
///
/// - `raw`: open as soon as the upgrade completes; every text message is the application's.
/// - `socketIO`: Engine.IO 4 / Socket.IO v5 over WebSocket only (no polling, as a client
///   with `transports: ['websocket']`): the server's `0{…}` open packet, then `40` sent and
///   the server's `40{"sid":…}` for namespace `/`; pings `2` are answered `3`.
/// - `actionCable`: subprotocol `actioncable-v1-json`, the server's `{"type":"welcome"}`,
///   then, with a `subscribe` identifier, the `subscribe` command and its
///   `confirm_subscription`; `{"type":"ping"}` beats need no answer.
enum ClientProtocol: Sendable, Equatable {
    case raw
    case socketIO
    /// `subscribe`: the `subscribe` command to send after the welcome (its identifier as a
    /// JSON string inside), or nil to stay unsubscribed.
    case actionCable(subscribe: String?)

    /// The `Sec-WebSocket-Protocol` the upgrade request offers.
    var subprotocol: String? {
        switch self {
        case .raw, .socketIO: nil
        case .actionCable: "actioncable-v1-json"
        }
    }

    /// The `subscribe` command for a subscription `identifier` (itself JSON, e.g.
    /// `{"channel":"ChatChannel","room":"bench"}`), which travels as a JSON string.
    static func actionCableSubscribe(identifier: String) -> String {
        #"{"command":"subscribe","identifier":"# + Self.jsonString(identifier) + "}"
    }

    /// `text` as a JSON string literal: quotes, backslashes and control characters escaped.
    static func jsonString(_ text: String) -> String {
        JSONStringLiteral.quoted(text)
    }
}
