/// One frame an ActionCable server sends (`actioncable-v1-json`), and its exact text.
///
/// Rails builds each frame as a Ruby hash and writes it with `ActiveSupport::JSON.encode`:
/// no whitespace, members in the hash's order. The texts here are byte for byte the
/// ones rails/rails `2a2db1e` and 7.2 send (`Connection::Base#send_welcome_message`,
/// `#beat`, `#close`; `Channel::Base#transmit_subscription_confirmation`,
/// `#transmit_subscription_rejection`, `#transmit`):
/// ```
/// {"type":"welcome"}
/// {"type":"ping","message":1718000000}
/// {"identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}","type":"confirm_subscription"}
/// {"identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}","type":"reject_subscription"}
/// {"identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}","message":{"body":"hi"}}
/// {"type":"disconnect","reason":"server_restart","reconnect":true}
/// ```
/// with two deliberate differences, both invisible after the client's `JSON.parse`:
/// the identifier is the client's own token (``ActionCableIdentifier/jsonToken``), where
/// Rails re-escapes the decoded string (`<` as `\u003c`, say); and a broadcast's
/// `message` is the publisher's JSON text as is, where Rails decodes and re-encodes it.
///
/// The session returns these as values; the handler encodes them. Fan-out encodes a
/// broadcast once per distinct identifier token and writes the same bytes to every
/// connection subscribed under it, so ``encode(into:)`` appends to a caller's buffer and
/// copies nothing but the two pieces of caller text.
public enum ActionCableServerMessage: Hashable, Sendable {
    /// Sent once the connection is accepted; the JS client then (re)subscribes everything.
    /// AnyCable's `sid` (and `restored`) belong to `actioncable-v1-ext-json` only
    /// (protocols.md §3.4), which we do not negotiate yet, so the welcome stays bare.
    case welcome
    /// The heartbeat, every 3 s in Rails; `message` is the server's Unix time in seconds.
    /// The client only notes that a frame arrived (stale after 6 s of silence).
    case ping(unixTime: Int64)
    /// The subscription is active; stops the client's 500 ms `subscribe` retries.
    case confirmSubscription(ActionCableIdentifier)
    /// The channel refused the subscription; the client forgets it and calls `rejected`.
    case rejectSubscription(ActionCableIdentifier)
    /// A message for one subscription; `message` is JSON text, inserted as is (the
    /// publisher owns its validity; the bus checks it once, not per connection).
    case broadcast(ActionCableIdentifier, message: String)
    /// Sent before the server closes; `reconnect: false` stops the client's reconnects.
    /// A nil reason is written `null`, as Rails' `close` does without one.
    case disconnect(reason: String?, reconnect: Bool)

    /// The disconnect reasons Rails defines (`ActionCable::INTERNAL[:disconnect_reasons]`).
    public enum DisconnectReason {
        /// `connect` raised `UnauthorizedError`; Rails sends it with `reconnect: false`.
        public static let unauthorized = "unauthorized"
        /// A bad upgrade (Rails 7.2; main answers 404 instead).
        public static let invalidRequest = "invalid_request"
        /// The server is going away; clients reconnect.
        public static let serverRestart = "server_restart"
        /// The app disconnected the connection (`ActionCable.server.remote_connections`).
        public static let remote = "remote"
    }

    /// Appends the frame's UTF-8 text to `output`.
    public func encode(into output: inout [UInt8]) {
        switch self {
        case .welcome:
            output.append(contentsOf: #"{"type":"welcome"}"#.utf8)
        case .ping(let unixTime):
            output.append(contentsOf: #"{"type":"ping","message":"#.utf8)
            output.append(contentsOf: String(unixTime).utf8)
            output.append(UInt8(ascii: "}"))
        case .confirmSubscription(let identifier):
            Self.appendIdentifier(identifier, into: &output)
            output.append(contentsOf: #","type":"confirm_subscription"}"#.utf8)
        case .rejectSubscription(let identifier):
            Self.appendIdentifier(identifier, into: &output)
            output.append(contentsOf: #","type":"reject_subscription"}"#.utf8)
        case .broadcast(let identifier, let message):
            Self.appendIdentifier(identifier, into: &output)
            output.append(contentsOf: #","message":"#.utf8)
            output.append(contentsOf: message.utf8)
            output.append(UInt8(ascii: "}"))
        case .disconnect(let reason, let reconnect):
            output.append(contentsOf: #"{"type":"disconnect","reason":"#.utf8)
            if let reason {
                JSONString.encodeLikeActiveSupport(reason, into: &output)
            } else {
                output.append(contentsOf: "null".utf8)
            }
            output.append(contentsOf: (reconnect ? #","reconnect":true}"# : #","reconnect":false}"#).utf8)
        }
    }

    /// The frame's text, for a WebSocket text message.
    public var text: String {
        var output: [UInt8] = []
        self.encode(into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    private static func appendIdentifier(_ identifier: ActionCableIdentifier, into output: inout [UInt8]) {
        output.append(contentsOf: #"{"identifier":"#.utf8)
        output.append(contentsOf: identifier.jsonToken.utf8)
    }
}
