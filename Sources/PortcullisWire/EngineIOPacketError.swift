/// Why bytes from a client are not a valid Engine.IO 4 packet (or polling payload).
///
/// Thrown by ``EngineIOPacket``'s decoders and by the polling encoder. The reference server
/// answers every one of these by closing the session (`parse error`), so the session machine
/// only needs ``code`` for its close cause and metrics label (bounded, snake_case);
/// ``message`` is a short ASCII text for logs. The source is always the peer, except for
/// ``Code/recordSeparatorInText``, which the edge's own encoder raises; retrying the same
/// bytes never helps.
public struct EngineIOPacketError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of violation; a struct over a private enum so cases can be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case emptyPacket = "empty_packet"
            case unknownType = "unknown_type"
            case invalidBase64 = "invalid_base64"
            case invalidUTF8 = "invalid_utf8"
            case payloadTooLarge = "payload_too_large"
            case recordSeparatorInText = "record_separator_in_text"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A text packet with no type character (also an empty record in a polling payload).
        public static let emptyPacket = Code(.emptyPacket)
        /// The first character is neither `0`…`6` nor `b`.
        public static let unknownType = Code(.unknownType)
        /// A `b` packet whose rest is not canonical, padded standard base64.
        public static let invalidBase64 = Code(.invalidBase64)
        /// A polling body that is not UTF-8 (WebSocket text is validated by the assembler).
        public static let invalidUTF8 = Code(.invalidUTF8)
        /// More bytes than the caller's `maxPayload`.
        public static let payloadTooLarge = Code(.payloadTooLarge)
        /// Encoding a polling payload: a text packet holds `\u{1e}`, which would split it.
        public static let recordSeparatorInText = Code(.recordSeparatorInText)

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
        "EngineIOPacketError(\(self.code)): \(self.message)"
    }
}
