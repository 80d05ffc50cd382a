import NIOCore

/// The client side of one connection's ``ClientProtocol`` above WebSocket: the protocol's
/// own handshake, the heartbeat answers, and which text messages are the application's.
///
/// Pure (no channel, no clock): ``ConnectionPool`` tells it what happened on the connection
/// and runs the ``Action`` it returns; the handshake's deadline is the connector's. It
/// returns `ready` at most once, after the protocol's handshake; `deliver` only once ready,
/// and only for application messages (raw: every text message; Socket.IO: events and acks
/// on `/`, `42…`/`43…`; ActionCable: broadcasts `{"identifier":…,"message":…}`). After a
/// `close` it answers nothing.
///
/// Messages are told apart by their first bytes, not parsed as JSON: the edge writes each
/// kind in one fixed shape, and a receive path that parsed the 19,000 frames of one
/// broadcast on the generator's one core would delay the later subscribers' timestamps.
struct ClientSession {
    enum Action: Equatable {
        case none
        /// Write this text message.
        case send(String)
        /// The handshake is complete: the connection counts as open.
        case ready
        /// The message just received is the application's: hand it on.
        case deliver
        /// The server refused or ended the session: close the connection.
        case close(reason: String)
    }

    private enum State {
        /// The WebSocket upgrade has not completed.
        case upgrading
        /// Socket.IO: waiting for Engine.IO's open packet `0{…}`.
        case awaitingOpenPacket
        /// Socket.IO: `40` sent, waiting for the server's CONNECT `40{"sid":…}`.
        case awaitingConnect
        /// ActionCable: waiting for `{"type":"welcome"}`.
        case awaitingWelcome
        /// ActionCable: `subscribe` sent, waiting for `confirm_subscription`.
        case awaitingConfirmation
        case open
        case closed
    }

    private let wireProtocol: ClientProtocol
    private var state = State.upgrading

    init(_ wireProtocol: ClientProtocol) {
        self.wireProtocol = wireProtocol
    }

    /// The WebSocket upgrade completed.
    mutating func upgraded() -> Action {
        guard case .upgrading = self.state else { return .none }
        switch self.wireProtocol {
        case .raw:
            self.state = .open
            return .ready
        case .socketIO:
            self.state = .awaitingOpenPacket
        case .actionCable:
            self.state = .awaitingWelcome
        }
        return .none
    }

    /// A complete text message arrived.
    mutating func received(_ text: ByteBuffer) -> Action {
        switch self.state {
        case .upgrading, .closed:
            return .none
        case .awaitingOpenPacket, .awaitingConnect, .awaitingWelcome, .awaitingConfirmation, .open:
            break
        }
        let action: Action
        switch self.wireProtocol {
        case .raw:
            action = .deliver
        case .socketIO:
            action = self.receivedSocketIO(text.readableBytesView)
        case .actionCable(let subscribe):
            action = self.receivedActionCable(text.readableBytesView, subscribe: subscribe)
        }
        if case .close = action { self.state = .closed }
        return action
    }

    /// The connection is gone.
    mutating func closed() {
        self.state = .closed
    }

    // MARK: Socket.IO

    /// Engine.IO packets (`0` open, `1` close, `2` ping, `4` message) carrying Socket.IO
    /// packets for namespace `/` (`40` CONNECT, `41` DISCONNECT, `42` EVENT, `43` ACK,
    /// `44` CONNECT_ERROR; another namespace's packets carry `/name,` after the type).
    private mutating func receivedSocketIO(_ text: ByteBufferView) -> Action {
        guard let engineType = text.first else { return .none }
        switch engineType {
        case UInt8(ascii: "0"):
            guard case .awaitingOpenPacket = self.state else {
                return .close(reason: "Engine.IO open packet twice")
            }
            self.state = .awaitingConnect
            return .send("40")
        case UInt8(ascii: "1"):
            return .close(reason: "Engine.IO close packet")
        case UInt8(ascii: "2") where text.count == 1:
            return .send("3")
        case UInt8(ascii: "4"):
            break
        default:
            return .none
        }
        let rest = text.dropFirst()
        guard let socketType = rest.first, rest.dropFirst().first != UInt8(ascii: "/") else { return .none }
        switch (socketType, self.state) {
        case (UInt8(ascii: "0"), .awaitingConnect):
            self.state = .open
            return .ready
        case (UInt8(ascii: "1"), _):
            return .close(reason: "Socket.IO DISCONNECT from /")
        case (UInt8(ascii: "2"), .open), (UInt8(ascii: "3"), .open):
            return .deliver
        case (UInt8(ascii: "4"), _):
            return .close(reason: "Socket.IO CONNECT_ERROR: " + Self.excerpt(text))
        default:
            return .none
        }
    }

    // MARK: ActionCable

    /// Server messages (`docs/protocols.md` §3.2): `{"type":…}` for welcome, ping and
    /// disconnect; `{"identifier":"…",` then `"type":"confirm_subscription"}`,
    /// `"type":"reject_subscription"}` or `"message":…}` for a subscription.
    private mutating func receivedActionCable(_ text: ByteBufferView, subscribe: String?) -> Action {
        if text.starts(with: #"{"type":"welcome""#.utf8) {
            guard case .awaitingWelcome = self.state else { return .none }
            guard let subscribe else {
                self.state = .open
                return .ready
            }
            self.state = .awaitingConfirmation
            return .send(subscribe)
        }
        if text.starts(with: #"{"type":"disconnect""#.utf8) {
            return .close(reason: "ActionCable " + Self.excerpt(text))
        }
        guard let rest = Self.afterIdentifier(text) else { return .none }
        switch self.state {
        case .open where rest.starts(with: #","message":"#.utf8):
            return .deliver
        case .awaitingConfirmation where rest.elementsEqual(#","type":"confirm_subscription"}"#.utf8):
            self.state = .open
            return .ready
        case .awaitingConfirmation where rest.elementsEqual(#","type":"reject_subscription"}"#.utf8):
            return .close(reason: "ActionCable subscription rejected")
        default:
            return .none
        }
    }

    /// What follows the identifier string of `{"identifier":"…"…`, or nil for another shape.
    private static func afterIdentifier(_ text: ByteBufferView) -> ByteBufferView? {
        let prefix = #"{"identifier":""#.utf8
        guard text.starts(with: prefix) else { return nil }
        var index = text.index(text.startIndex, offsetBy: prefix.count)
        while index < text.endIndex {
            switch text[index] {
            case UInt8(ascii: "\\"):
                index = text.index(index, offsetBy: 2, limitedBy: text.endIndex) ?? text.endIndex
            case UInt8(ascii: "\""):
                return text[text.index(after: index)...]
            default:
                index = text.index(after: index)
            }
        }
        return nil
    }

    /// The start of a message, for a close reason.
    private static func excerpt(_ text: ByteBufferView) -> String {
        String(decoding: text.prefix(200), as: UTF8.self)
    }
}
