/// Turns a stream of WebSocket frames into messages, enforcing RFC 6455 §5 on the way.
///
/// One instance per connection, driven by the channel handler that owns it; it is a
/// value type with no I/O — each event returns the single ``Action`` the handler must
/// run. Invariants:
/// - At most one fragmented data message is open at a time; control frames may
///   interleave and are answered without disturbing it.
/// - UTF-8 validation state for a text message is carried across fragments, so a code
///   point split between frames is fine, and the first invalid byte fails at once.
/// - The size limit applies to the reassembled message and is checked as each
///   fragment arrives, so an oversized message is never buffered in full.
/// - With permessage-deflate negotiated (RFC 7692), RSV1 on a message's first frame marks
///   it compressed; each frame is inflated as it arrives and the limit and UTF-8 checks
///   apply to the inflated bytes, so a small compressed message cannot expand past the
///   limit. RSV1 anywhere else (control frames, continuations, no extension) is a
///   protocol error. ``MessageInflater`` owns the zlib side.
/// - Once a close was received, or we failed the connection, every further frame is
///   ignored. Once we sent a close, data and pings are ignored but a close frame is
///   still parsed so the closing handshake can finish (a malformed frame still yields
///   ``Action/fail(_:)``, which the close state machine turns into closing TCP).
public struct WebSocketMessageAssembler {
    public struct Configuration: Hashable, Sendable {
        /// Largest reassembled message payload, in bytes, that is accepted (after inflating).
        public var maxMessageSize: Int
        /// The permessage-deflate agreement; nil when the extension was not negotiated.
        public var deflate: PerMessageDeflate?

        public init(maxMessageSize: Int = 1 << 20, deflate: PerMessageDeflate? = nil) {
            self.maxMessageSize = maxMessageSize
            self.deflate = deflate
        }
    }

    public enum Action: Hashable, Sendable {
        /// Nothing to do: a fragment was buffered, a pong arrived, or the frame is ignored.
        case none
        /// A complete, UTF-8-validated text message.
        case text(String)
        /// A complete binary message.
        case binary([UInt8])
        /// Reply with a pong carrying exactly this payload.
        case sendPong([UInt8])
        /// The peer sent a valid close frame; hand it to the close state machine.
        case closeReceived(WebSocketClose)
        /// Fail the connection: send a close with `failure.closeCode`, then close TCP.
        case fail(WebSocketFailure)
    }

    private enum MessageKind: Hashable, Sendable {
        case text
        case binary
    }

    private enum State: Sendable {
        /// No data message open.
        case idle
        /// A fragmented message is open; `utf8` is meaningful only for text, `buffer`
        /// holds inflated bytes when `compressed`.
        case assembling(MessageKind, compressed: Bool, buffer: [UInt8], utf8: UTF8StreamValidator)
        /// We sent a close; only the peer's close frame still matters.
        case closeSent
        /// Close received or connection failed; all input is ignored.
        case finished
        /// Transient placeholder that lets the buffer be appended without a copy.
        case modifying
    }

    private let maxMessageSize: Int
    private var state: State = .idle
    /// Set when permessage-deflate was negotiated: a reference, so that connections without
    /// it do not grow by the agreement's size.
    private let inflater: MessageInflater?

    public init(configuration: Configuration = Configuration()) {
        self.maxMessageSize = configuration.maxMessageSize
        self.inflater = configuration.deflate.map(MessageInflater.init)
    }

    public var configuration: Configuration {
        Configuration(maxMessageSize: self.maxMessageSize, deflate: self.inflater?.agreement)
    }

    /// Event: the server sent a close frame, so from now on data is not delivered.
    public mutating func closeSent() {
        switch self.state {
        case .idle, .assembling, .closeSent:
            self.state = .closeSent
        case .finished:
            break
        case .modifying:
            preconditionFailure("invalid state")
        }
    }

    /// Event: a frame arrived from the peer.
    public mutating func receive(_ frame: WebSocketFrame) -> Action {
        switch self.state {
        case .finished:
            return .none
        case .modifying:
            preconditionFailure("invalid state")
        case .idle, .assembling, .closeSent:
            break
        }
        if let failure = self.headerViolation(frame) {
            return self.failed(failure)
        }
        switch frame.opcode {
        case WebSocketFrame.Opcode.close:
            return self.receiveClose(frame.payload)
        case WebSocketFrame.Opcode.ping:
            if case .closeSent = self.state { return .none }
            return .sendPong(frame.payload)
        case WebSocketFrame.Opcode.pong:
            return .none
        case WebSocketFrame.Opcode.text:
            return self.receiveDataStart(.text, frame)
        case WebSocketFrame.Opcode.binary:
            return self.receiveDataStart(.binary, frame)
        default:
            return self.receiveContinuation(frame)
        }
    }

    /// Checks that do not depend on the message state: RSV bits, opcode, control frame shape.
    private func headerViolation(_ frame: WebSocketFrame) -> WebSocketFailure? {
        let compressible = frame.opcode == WebSocketFrame.Opcode.text || frame.opcode == WebSocketFrame.Opcode.binary
        if frame.rsv2 || frame.rsv3 || (frame.rsv1 && (self.inflater == nil || !compressible)) {
            return WebSocketFailure(
                code: .reservedBitsSet,
                closeCode: .protocolError,
                message: "reserved bits set"
            )
        }
        switch frame.opcode {
        case 0x0...0x2:
            return nil
        case 0x8...0xA:
            if !frame.fin {
                return WebSocketFailure(
                    code: .fragmentedControlFrame,
                    closeCode: .protocolError,
                    message: "fragmented control frame"
                )
            }
            if frame.payload.count > 125 {
                return WebSocketFailure(
                    code: .controlFrameTooLong,
                    closeCode: .protocolError,
                    message: "control frame payload over 125 bytes"
                )
            }
            return nil
        default:
            return WebSocketFailure(code: .unknownOpcode, closeCode: .protocolError, message: "unknown opcode")
        }
    }

    private mutating func receiveClose(_ payload: [UInt8]) -> Action {
        switch Self.parseClose(payload) {
        case .success(let close):
            self.state = .finished
            return .closeReceived(close)
        case .failure(let failure):
            return self.failed(failure)
        }
    }

    /// Parses a close payload per RFC 6455 §5.5.1 and §7.4.
    static func parseClose(_ payload: [UInt8]) -> Result<WebSocketClose, WebSocketFailure> {
        if payload.isEmpty {
            return .success(WebSocketClose(code: .noStatusReceived))
        }
        if payload.count == 1 {
            return .failure(
                WebSocketFailure(
                    code: .invalidClosePayload,
                    closeCode: .protocolError,
                    message: "close payload of one byte"
                )
            )
        }
        let code = WebSocketCloseCode(UInt16(payload[0]) << 8 | UInt16(payload[1]))
        guard code.isAcceptableFromPeer else {
            return .failure(
                WebSocketFailure(code: .invalidCloseCode, closeCode: .protocolError, message: "invalid close code")
            )
        }
        let reasonBytes = payload[2...]
        guard UTF8StreamValidator.isValid(reasonBytes) else {
            return .failure(
                WebSocketFailure(
                    code: .invalidUTF8,
                    closeCode: .invalidPayloadData,
                    message: "close reason is not valid UTF-8"
                )
            )
        }
        return .success(WebSocketClose(code: code, reason: String(decoding: reasonBytes, as: UTF8.self)))
    }

    private mutating func receiveDataStart(_ kind: MessageKind, _ frame: WebSocketFrame) -> Action {
        switch self.state {
        case .closeSent:
            return .none
        case .assembling:
            return self.failed(
                WebSocketFailure(
                    code: .interleavedMessage,
                    closeCode: .protocolError,
                    message: "new message while a fragmented message is open"
                )
            )
        case .idle:
            break
        case .finished, .modifying:
            preconditionFailure("unreachable")
        }
        var payload = frame.payload
        if frame.rsv1 {
            payload = []
            if let failure = self.inflate(frame, into: &payload) { return self.failed(failure) }
        } else if let failure = self.sizeViolation(payload.count) {
            return self.failed(failure)
        }
        var utf8 = UTF8StreamValidator()
        if kind == .text, let failure = Self.utf8Violation(&utf8, payload[...], final: frame.fin) {
            return self.failed(failure)
        }
        if frame.fin {
            return Self.deliver(kind, payload)
        }
        self.state = .assembling(kind, compressed: frame.rsv1, buffer: payload, utf8: utf8)
        return .none
    }

    private mutating func receiveContinuation(_ frame: WebSocketFrame) -> Action {
        switch self.state {
        case .closeSent:
            return .none
        case .idle:
            return self.failed(
                WebSocketFailure(
                    code: .unexpectedContinuation,
                    closeCode: .protocolError,
                    message: "continuation frame without a message"
                )
            )
        case .assembling(let kind, let compressed, var buffer, var utf8):
            self.state = .modifying
            let start = buffer.count
            if compressed {
                if let failure = self.inflate(frame, into: &buffer) { return self.failed(failure) }
            } else if let failure = self.sizeViolation(buffer.count + frame.payload.count) {
                return self.failed(failure)
            } else {
                buffer.append(contentsOf: frame.payload)
            }
            if kind == .text, let failure = Self.utf8Violation(&utf8, buffer[start...], final: frame.fin) {
                return self.failed(failure)
            }
            if frame.fin {
                self.state = .idle
                return Self.deliver(kind, buffer)
            }
            self.state = .assembling(kind, compressed: compressed, buffer: buffer, utf8: utf8)
            return .none
        case .finished, .modifying:
            preconditionFailure("unreachable")
        }
    }

    private func sizeViolation(_ size: Int) -> WebSocketFailure? {
        guard size > self.maxMessageSize else { return nil }
        return WebSocketFailure(code: .messageTooBig, closeCode: .messageTooBig, message: "message too big")
    }

    /// Inflates a compressed message's frame onto `output` within the size limit.
    private func inflate(_ frame: WebSocketFrame, into output: inout [UInt8]) -> WebSocketFailure? {
        guard let inflater = self.inflater else { preconditionFailure("RSV1 passed without deflate") }
        return inflater.inflate(frame.payload, final: frame.fin, limit: self.maxMessageSize, into: &output)
    }

    private static func utf8Violation(
        _ validator: inout UTF8StreamValidator,
        _ bytes: ArraySlice<UInt8>,
        final: Bool
    ) -> WebSocketFailure? {
        if validator.validate(bytes) && (!final || validator.isAtBoundary) {
            return nil
        }
        return WebSocketFailure(
            code: .invalidUTF8,
            closeCode: .invalidPayloadData,
            message: "text message is not valid UTF-8"
        )
    }

    private static func deliver(_ kind: MessageKind, _ bytes: [UInt8]) -> Action {
        switch kind {
        case .text: .text(String(decoding: bytes, as: UTF8.self))
        case .binary: .binary(bytes)
        }
    }

    private mutating func failed(_ failure: WebSocketFailure) -> Action {
        self.state = .finished
        self.inflater?.release()
        return .fail(failure)
    }
}
