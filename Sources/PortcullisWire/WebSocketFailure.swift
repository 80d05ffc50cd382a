/// Why a WebSocket connection must be failed, and with which close code.
///
/// Produced by ``WebSocketMessageAssembler`` when the peer breaks RFC 6455. The
/// ``code`` says what went wrong (bounded, fit for a metrics label); ``closeCode`` is
/// what goes in our close frame; ``message`` is a short human text that is also safe to
/// send as the close reason (ASCII, well under 123 bytes). The source is always the
/// client and retrying the same bytes never helps.
public struct WebSocketFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of violation; a struct over a private enum so cases can be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case reservedBitsSet = "reserved_bits_set"
            case unknownOpcode = "unknown_opcode"
            case controlFrameTooLong = "control_frame_too_long"
            case fragmentedControlFrame = "fragmented_control_frame"
            case unexpectedContinuation = "unexpected_continuation"
            case interleavedMessage = "interleaved_message"
            case messageTooBig = "message_too_big"
            case invalidUTF8 = "invalid_utf8"
            case invalidClosePayload = "invalid_close_payload"
            case invalidCloseCode = "invalid_close_code"
            case unmaskedFrame = "unmasked_frame"
            case invalidCompressedData = "invalid_compressed_data"
            case compressionUnavailable = "compression_unavailable"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// An RSV bit was set but no extension giving it meaning was negotiated (or RSV1
        /// on a control or continuation frame with permessage-deflate).
        public static let reservedBitsSet = Code(.reservedBitsSet)
        /// Opcode 3–7 or 0xB–0xF.
        public static let unknownOpcode = Code(.unknownOpcode)
        /// Control frame payload over 125 bytes.
        public static let controlFrameTooLong = Code(.controlFrameTooLong)
        /// Control frame without FIN.
        public static let fragmentedControlFrame = Code(.fragmentedControlFrame)
        /// Continuation frame with no fragmented message open.
        public static let unexpectedContinuation = Code(.unexpectedContinuation)
        /// New text/binary frame while a fragmented message is still open.
        public static let interleavedMessage = Code(.interleavedMessage)
        /// Reassembled message exceeds the configured limit.
        public static let messageTooBig = Code(.messageTooBig)
        /// Text message or close reason is not valid UTF-8.
        public static let invalidUTF8 = Code(.invalidUTF8)
        /// Close payload of exactly one byte.
        public static let invalidClosePayload = Code(.invalidClosePayload)
        /// Close code the peer may not send.
        public static let invalidCloseCode = Code(.invalidCloseCode)
        /// A client frame without a masking key (RFC 6455 §5.1).
        public static let unmaskedFrame = Code(.unmaskedFrame)
        /// A permessage-deflate message that does not inflate.
        public static let invalidCompressedData = Code(.invalidCompressedData)
        /// zlib could not set up an inflate stream (out of memory); our fault, not the peer's.
        public static let compressionUnavailable = Code(.compressionUnavailable)

        public var description: String {
            self.base.rawValue
        }
    }

    public let code: Code
    public let closeCode: WebSocketCloseCode
    public let message: String

    public init(code: Code, closeCode: WebSocketCloseCode, message: String) {
        self.code = code
        self.closeCode = closeCode
        self.message = message
    }

    public var description: String {
        "WebSocketFailure(\(self.code), close \(self.closeCode)): \(self.message)"
    }
}
