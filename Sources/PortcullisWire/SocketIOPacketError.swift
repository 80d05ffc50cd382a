/// Why a Socket.IO v5 packet (or a binary packet's attachments) is refused.
///
/// Thrown by ``SocketIOPacket``'s decoder and binary encoder and returned by
/// ``SocketIOBinaryAssembler``. On input from a client the reference server closes the
/// whole connection for every one of these (`parse error`), so the session machine needs
/// ``code`` for the close cause and metrics label (bounded, snake_case) and ``message`` for
/// logs (short ASCII, never echoing the client's bytes). The source is the client, except
/// when ``SocketIOPacket/binary(_:payload:attachments:namespace:ackID:)`` throws: then it is
/// whoever wrote the payload. Retrying the same bytes never helps.
public struct SocketIOPacketError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of violation; a struct over a private enum so cases can be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case emptyPacket = "empty_packet"
            case unknownType = "unknown_type"
            case invalidAttachmentCount = "invalid_attachment_count"
            case tooManyAttachments = "too_many_attachments"
            case invalidAckID = "invalid_ack_id"
            case invalidPayload = "invalid_payload"
            case reservedEventName = "reserved_event_name"
            case invalidPlaceholder = "invalid_placeholder"
            case unexpectedAttachment = "unexpected_attachment"
            case unexpectedText = "unexpected_text"
            case packetTooLarge = "packet_too_large"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// No type digit at all.
        public static let emptyPacket = Code(.emptyPacket)
        /// The type digit is not `0`…`6`.
        public static let unknownType = Code(.unknownType)
        /// A binary packet without `<digits>-` after its type.
        public static let invalidAttachmentCount = Code(.invalidAttachmentCount)
        /// More attachments than the caller allows (the reference default is 10).
        public static let tooManyAttachments = Code(.tooManyAttachments)
        /// An ack id above 2⁵³−1 (which a JavaScript peer cannot hold exactly), an ack
        /// without one, or one on CONNECT, DISCONNECT or CONNECT_ERROR.
        public static let invalidAckID = Code(.invalidAckID)
        /// The payload is not JSON, or not the shape its type requires (`42{}`, `41[]`,
        /// `42abc[…]`, `42[1]`).
        public static let invalidPayload = Code(.invalidPayload)
        /// An event named `connect`, `disconnect`, … which no peer may send.
        public static let reservedEventName = Code(.reservedEventName)
        /// A `{"_placeholder":true,…}` whose `num` names no attachment of the packet.
        public static let invalidPlaceholder = Code(.invalidPlaceholder)
        /// A binary message while no binary packet awaits attachments.
        public static let unexpectedAttachment = Code(.unexpectedAttachment)
        /// A text message while a binary packet still awaits attachments.
        public static let unexpectedText = Code(.unexpectedText)
        /// A binary packet (header and attachments) over the caller's size bound.
        public static let packetTooLarge = Code(.packetTooLarge)

        public var description: String {
            self.base.rawValue
        }
    }

    public let code: Code
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String {
        "SocketIOPacketError(\(self.code)): \(self.message)"
    }
}
