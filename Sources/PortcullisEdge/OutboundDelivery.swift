import NIOCore
import PortcullisBus
import PortcullisWire

/// One outbound envelope read from the bus, with its client frames encoded once.
///
/// The bus reader builds it off the event loops and hands the same value to every loop's
/// hub; each hub writes the pre-encoded buffer to all of its target connections, so a
/// broadcast to N sockets costs one encoding, not N (NIO shares the buffer's storage).
struct OutboundDelivery: Sendable {
    let envelope: Envelope
    /// The frame for raw `json` routes (nil when the envelope has nothing to send there).
    let jsonFrame: ByteBuffer?
    /// The frame for raw `opaque` routes.
    let opaqueFrame: ByteBuffer?

    init(_ envelope: Envelope, allocator: ByteBufferAllocator) {
        self.envelope = envelope
        switch envelope.kind {
        case .emit:
            // Both modes send text frames of the same payload, so it is validated once.
            let text = envelope.data.flatMap { $0.type == .binary ? nil : Self.validText($0.bytes) }
            self.jsonFrame = Self.jsonEmit(envelope, text: text, allocator: allocator)
            self.opaqueFrame = Self.opaque(envelope.data, isValidText: text != nil, allocator: allocator)
        case .ack:
            self.jsonFrame = Self.jsonAck(envelope, allocator: allocator)
            self.opaqueFrame = nil
        default:
            self.jsonFrame = nil
            self.opaqueFrame = nil
        }
    }

    func frame(for mode: RawProtocolSession.Mode) -> ByteBuffer? {
        switch mode {
        case .json: jsonFrame
        case .opaque: opaqueFrame
        }
    }

    /// The json-mode encodings are the raw protocol's own (``RawProtocolSession``).
    private static let json = RawProtocolSession(mode: .json)

    /// `{"event":E,"data":D}`: json data inserted as it is, text data as a JSON string,
    /// binary data as a binary frame of the bytes alone. `text` is the payload when it is
    /// valid UTF-8 (nil for binary data).
    private static func jsonEmit(_ envelope: Envelope, text: String?, allocator: ByteBufferAllocator) -> ByteBuffer? {
        let event = envelope.event ?? "message"
        guard let data = envelope.data else {
            return ServerFrame.encode(json.outboundEvent(event, data: "null"), allocator: allocator)
        }
        switch data.type {
        case .binary:
            return ServerFrame.encode(opcode: ServerFrame.binary, payload: data.bytes, allocator: allocator)
        case .text:
            guard let text else { return nil }
            return ServerFrame.encode(json.outboundEvent(event, data: JSONString.encode(text)), allocator: allocator)
        default:
            guard let text else { return nil }
            return ServerFrame.encode(json.outboundEvent(event, data: text), allocator: allocator)
        }
    }

    /// `{"event":"ack","ack":n,"data":D}`, the answer to a client message that carried `ack`.
    private static func jsonAck(_ envelope: Envelope, allocator: ByteBufferAllocator) -> ByteBuffer? {
        guard let ack = envelope.ack else { return nil }
        var data = "null"
        if let payload = envelope.data, payload.type == .json {
            guard let text = validText(payload.bytes) else { return nil }
            data = text
        }
        return ServerFrame.encode(json.ackReply(ack, data: data), allocator: allocator)
    }

    /// The payload as it is: binary stays binary, JSON and text go out as text.
    private static func opaque(_ data: Envelope.Payload?, isValidText: Bool, allocator: ByteBufferAllocator)
        -> ByteBuffer?
    {
        guard let data else { return nil }
        if data.type == .binary {
            return ServerFrame.encode(opcode: ServerFrame.binary, payload: data.bytes, allocator: allocator)
        }
        guard isValidText else { return nil }
        return ServerFrame.encode(opcode: ServerFrame.text, payload: data.bytes, allocator: allocator)
    }

    /// Text frames must be UTF-8 (a client fails the connection with 1007 otherwise), so a
    /// publisher's invalid bytes are dropped here rather than sent. Validated over the
    /// contiguous bytes: through a `ByteBufferView` each byte is a bounds-checked read,
    /// which in debug builds held the bus reader to about 2 MB/s.
    private static func validText(_ bytes: ByteBuffer) -> String? {
        guard bytes.withUnsafeReadableBytes({ UTF8StreamValidator.isValid($0) }) else { return nil }
        return String(buffer: bytes)
    }
}
