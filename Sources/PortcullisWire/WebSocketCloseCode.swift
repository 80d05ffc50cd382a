/// A WebSocket close status code (RFC 6455 §7.4).
///
/// A struct rather than an enum so that any 16-bit value read off the wire can be held
/// and then judged: ``isAcceptableFromPeer`` decides whether a peer's close frame is
/// legal, ``isSendable`` whether we may put the code on the wire ourselves. Codes 1005,
/// 1006 and 1015 are pseudo-codes that only exist locally and are never sent.
public struct WebSocketCloseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    public init(_ rawValue: UInt16) {
        self.rawValue = rawValue
    }

    public static let normalClosure = WebSocketCloseCode(1000)
    /// Server going down or dropping an unresponsive peer.
    public static let goingAway = WebSocketCloseCode(1001)
    public static let protocolError = WebSocketCloseCode(1002)
    public static let unsupportedData = WebSocketCloseCode(1003)
    /// Local stand-in for a close frame without a payload; never sent.
    public static let noStatusReceived = WebSocketCloseCode(1005)
    /// Local stand-in for a connection lost without a close frame; never sent.
    public static let abnormalClosure = WebSocketCloseCode(1006)
    public static let invalidPayloadData = WebSocketCloseCode(1007)
    public static let policyViolation = WebSocketCloseCode(1008)
    public static let messageTooBig = WebSocketCloseCode(1009)
    public static let mandatoryExtension = WebSocketCloseCode(1010)
    public static let internalError = WebSocketCloseCode(1011)
    /// The server is overloaded or a dependency is down; the client may retry later.
    public static let tryAgainLater = WebSocketCloseCode(1013)
    /// Local stand-in for a failed TLS handshake; never sent.
    public static let tlsHandshake = WebSocketCloseCode(1015)

    /// Whether a peer may legally send this code (protocols.md §5.2): 1000–1003,
    /// 1007–1014 (1012–1014 registered with IANA after RFC 6455) and 3000–4999.
    public var isAcceptableFromPeer: Bool {
        switch self.rawValue {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }

    /// Whether we may send this code. The same set as ``isAcceptableFromPeer``, which
    /// in particular excludes the local-only 1005, 1006 and 1015.
    public var isSendable: Bool {
        self.isAcceptableFromPeer
    }

    public var description: String {
        String(self.rawValue)
    }
}
