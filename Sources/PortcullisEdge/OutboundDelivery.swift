import NIOCore
import PortcullisBus
import PortcullisWire

/// One outbound envelope read from the bus, decoded once off the event loops and handed
/// to every loop's hub.
///
/// Encoding is lazy and shared: a hub makes one ``Cache`` per delivery and every target
/// connection asks it for the encodings it needs (raw json, Socket.IO in `/chat`, an
/// ActionCable subscription…) in its transport's framing. Each is encoded on first use
/// only, so a broadcast to N sockets costs one encoding per protocol and namespace
/// actually present on the loop, and NIO shares the one buffer among all N writes. With
/// permessage-deflate that holds for compressed frames too, one per window size and
/// threshold, when the connections do not keep a compression context; those that do get
/// the messages and compress each for themselves.
struct OutboundDelivery: Sendable {
    let envelope: Envelope
    /// The message as the encoders see it; nil for control envelopes, and for text or
    /// JSON data that is not UTF-8 (a client would fail the connection with 1007).
    let message: SocketDelivery?

    init(_ envelope: Envelope) {
        self.envelope = envelope
        let kind: SocketDelivery.Kind
        switch envelope.kind {
        case .emit: kind = .emit
        case .ack: kind = .ack
        default:
            self.message = nil
            return
        }
        var data: SocketPayload?
        if let payload = envelope.data {
            switch payload.type {
            case .binary:
                data = .binary(Array(payload.bytes.readableBytesView))
            case .text, .json:
                guard let text = Self.validText(payload.bytes) else {
                    self.message = nil
                    return
                }
                data = payload.type == .text ? .text(text) : .json(text)
            default:
                data = nil
            }
        }
        self.message = SocketDelivery(
            kind: kind, event: envelope.event, data: data, ack: envelope.ack, arguments: envelope.arguments,
            attachments: envelope.attachments.map { Array($0.readableBytesView) })
    }

    /// The encodings of one delivery on one loop, made on first use.
    struct Cache {
        private struct Key: Hashable {
            var encoding: SocketEncoding
            var transport: SocketTransportKind
        }

        private var entries: [Key: EncodedMessages?] = [:]
        private let allocator = ByteBufferAllocator()

        init() {}

        /// `delivery` as `encoding` in `transport`'s framing; nil when there is nothing to
        /// send in that encoding.
        mutating func encoded(
            _ delivery: OutboundDelivery, as encoding: SocketEncoding, for transport: SocketTransportKind
        ) -> EncodedMessages? {
            let key = Key(encoding: encoding, transport: transport)
            if let entry = entries[key] { return entry }
            let entry = Self.encode(delivery, as: encoding, for: transport, allocator: allocator)
            entries[key] = entry
            return entry
        }

        private static func encode(
            _ delivery: OutboundDelivery, as encoding: SocketEncoding, for transport: SocketTransportKind,
            allocator: ByteBufferAllocator
        ) -> EncodedMessages? {
            guard let message = delivery.message else { return nil }
            let messages = encoding.encode(message)
            guard !messages.isEmpty else { return nil }
            let compression: FrameCompression?
            switch transport {
            case .polling, .contextCompressedWebSocket:
                return .packets(messages)
            case .webSocket:
                compression = nil
            case .compressedWebSocket(let windowBits, let minSize):
                compression = SharedDeflaters.compression(windowBits: windowBits, minSize: minSize)
            }
            var buffer = allocator.buffer(capacity: 0)
            for message in messages {
                var frame = ServerFrame.encode(message, compression: compression, allocator: allocator)
                buffer.writeBuffer(&frame)
            }
            return .webSocket(buffer)
        }
    }

    /// Validated over the contiguous bytes: through a `ByteBufferView` each byte is a
    /// bounds-checked read, which in debug builds held the bus reader to about 2 MB/s.
    private static func validText(_ bytes: ByteBuffer) -> String? {
        guard bytes.withUnsafeReadableBytes({ UTF8StreamValidator.isValid($0) }) else { return nil }
        return String(buffer: bytes)
    }
}
