/// One Engine.IO 4 packet: a type and a text or binary payload.
///
/// The Engine.IO session machine (WebSocket or polling transport) decodes each WebSocket
/// message, or each record of a polling body, into one of these and encodes its replies
/// from them; Socket.IO rides inside ``PacketType/message`` packets. Pure and I/O-free.
///
/// Invariants:
/// - A ``Payload/binary(_:)`` payload only ever has type ``PacketType/message``: EIO 4
///   has no other binary packet and no type byte in binary frames.
/// - Text payloads are kept as the exact characters received, as a slice of the frame
///   (no copy); the type character is not part of them.
/// - Decoding is bounded by the caller's `maxPayload` (the `maxPayload` the open packet
///   advertised) and never traps: every malformed input is a thrown
///   ``EngineIOPacketError``.
public struct EngineIOPacket: Hashable, Sendable {
    /// The packet types of EIO 4; the raw value is the digit on the wire.
    public enum PacketType: UInt8, Hashable, Sendable, CaseIterable {
        /// Server → client, first packet: the JSON of ``EngineIOOpenPacket``.
        case open = 0
        /// Closes the transport (polling; the JS client ignores it on WebSocket).
        case close = 1
        /// Server → client heartbeat; `2probe` from the client during the upgrade.
        case ping = 2
        /// Client → server heartbeat answer; `3probe` from the server during the upgrade.
        case pong = 3
        /// Application data (every Socket.IO packet).
        case message = 4
        /// Client → server: completes the polling → WebSocket upgrade.
        case upgrade = 5
        /// Server → client on polling: releases a pending GET during the upgrade.
        case noop = 6
    }

    public enum Payload: Hashable, Sendable {
        /// The characters after the type digit (empty when there are none).
        case text(Substring)
        /// The bytes of a binary message.
        case binary([UInt8])
    }

    /// How a packet travels as one WebSocket message.
    public enum Frame: Hashable, Sendable {
        case text(String)
        case binary([UInt8])
    }

    public let type: PacketType
    public let payload: Payload

    /// A text packet; `text` is what follows the type digit.
    public init(_ type: PacketType, text: Substring = "") {
        self.type = type
        self.payload = .text(text)
    }

    public init(_ type: PacketType, text: String) {
        self.init(type, text: text[...])
    }

    private init(binary bytes: [UInt8]) {
        self.type = .message
        self.payload = .binary(bytes)
    }

    /// A `message` packet carrying text (for Socket.IO: an encoded ``SocketIOPacket``).
    public static func message(_ text: String) -> EngineIOPacket {
        EngineIOPacket(.message, text: text)
    }

    /// A binary `message` packet (for Socket.IO: one attachment).
    public static func binary(_ bytes: [UInt8]) -> EngineIOPacket {
        EngineIOPacket(binary: bytes)
    }

    /// The payload of the probe ping and pong of the polling → WebSocket upgrade.
    public static let probe: Substring = "probe"

    // MARK: Decoding

    /// Decodes a WebSocket text message: a type digit then the payload, or `b` then base64
    /// (the polling spelling of binary, which the reference parser accepts on any transport).
    /// `maxPayload` bounds the message's UTF-8 byte count.
    public static func decode(text: Substring, maxPayload: Int) throws(EngineIOPacketError) -> EngineIOPacket {
        guard text.utf8.count <= maxPayload else {
            throw EngineIOPacketError(
                code: .payloadTooLarge, message: "packet of \(text.utf8.count) bytes exceeds \(maxPayload)")
        }
        guard let first = text.utf8.first else {
            throw EngineIOPacketError(code: .emptyPacket, message: "empty packet")
        }
        // Both accepted first bytes are ASCII, so the payload starts on a character boundary.
        let payloadStart = text.utf8.index(after: text.utf8.startIndex)
        if first == UInt8(ascii: "b") {
            guard let bytes = Base64.decode(text.utf8[payloadStart...]) else {
                throw EngineIOPacketError(code: .invalidBase64, message: "binary packet is not padded base64")
            }
            return EngineIOPacket(binary: bytes)
        }
        guard first >= UInt8(ascii: "0"), let type = PacketType(rawValue: first - UInt8(ascii: "0")) else {
            throw EngineIOPacketError(code: .unknownType, message: "unknown packet type")
        }
        return EngineIOPacket(type, text: text[payloadStart...])
    }

    public static func decode(text: String, maxPayload: Int) throws(EngineIOPacketError) -> EngineIOPacket {
        try self.decode(text: text[...], maxPayload: maxPayload)
    }

    /// Decodes a WebSocket binary message: in EIO 4 it is a `message` whose payload is the
    /// bytes as they are (no type byte, unlike EIO 3).
    public static func decode(binary bytes: [UInt8], maxPayload: Int) throws(EngineIOPacketError) -> EngineIOPacket {
        guard bytes.count <= maxPayload else {
            throw EngineIOPacketError(
                code: .payloadTooLarge, message: "binary packet of \(bytes.count) bytes exceeds \(maxPayload)")
        }
        return EngineIOPacket(binary: bytes)
    }

    // MARK: Encoding

    /// The WebSocket message for this packet: text as type digit + payload, binary as is.
    public var webSocketFrame: Frame {
        switch self.payload {
        case .binary(let bytes):
            return .binary(bytes)
        case .text:
            var text = ""
            self.encodeText(into: &text)
            return .text(text)
        }
    }

    /// Appends the text form: type digit + payload, or `b` + padded base64 for binary (how
    /// binary travels in polling payloads).
    public func encodeText(into output: inout String) {
        switch self.payload {
        case .text(let text):
            output.reserveCapacity(output.utf8.count + 1 + text.utf8.count)
            output.unicodeScalars.append(Unicode.Scalar(UInt8(ascii: "0") + self.type.rawValue))
            output += text
        case .binary(let bytes):
            output.reserveCapacity(output.utf8.count + 1 + (bytes.count + 2) / 3 * 4)
            output += "b"
            Base64.encode(bytes, into: &output)
        }
    }
}
