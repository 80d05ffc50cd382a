import NIOCore
import PortcullisWire

/// Server-to-client WebSocket frames, encoded whole into one buffer.
///
/// Server frames are never masked (RFC 6455 §5.1), so a frame is a 2–10 byte header and
/// the payload. Encoding the header and payload together lets a fan-out write the same
/// buffer to every target connection: NIO shares the storage, nothing is copied per socket.
/// A data frame may carry a permessage-deflate payload (RSV1 set); control frames never do.
enum ServerFrame {
    static let text: UInt8 = 0x1
    static let binary: UInt8 = 0x2
    static let close: UInt8 = 0x8
    static let ping: UInt8 = 0x9
    static let pong: UInt8 = 0xA

    static func encode(
        opcode: UInt8, payload: some Collection<UInt8>, compressed: Bool = false, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 10 + payload.count)
        writeHeader(opcode: opcode, compressed: compressed, length: payload.count, into: &buffer)
        buffer.writeBytes(payload)
        return buffer
    }

    static func encode(opcode: UInt8, payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 10 + payload.readableBytes)
        writeHeader(opcode: opcode, compressed: false, length: payload.readableBytes, into: &buffer)
        var payload = payload
        buffer.writeBuffer(&payload)
        return buffer
    }

    static func text(_ string: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        encode(opcode: text, payload: string.utf8, allocator: allocator)
    }

    /// A session message as one frame: text stays text, binary stays binary. With
    /// `compression`, a message of at least its `minSize` bytes goes out compressed.
    static func encode(
        _ outbound: SocketOutbound, compression: FrameCompression? = nil, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        switch outbound {
        case .text(var string):
            if let compression, string.utf8.count >= compression.minSize {
                let payload = string.withUTF8 { compression.deflater.compress(UnsafeRawBufferPointer($0)) }
                return encode(opcode: text, payload: payload, compressed: true, allocator: allocator)
            }
            return text(string, allocator: allocator)
        case .binary(let bytes):
            if let compression, bytes.count >= compression.minSize {
                return encode(
                    opcode: binary, payload: compression.deflater.compress(bytes), compressed: true,
                    allocator: allocator)
            }
            return encode(opcode: binary, payload: bytes, allocator: allocator)
        }
    }

    /// A close frame; `reason` is cut to fit the 125-byte control payload on a UTF-8 boundary.
    static func close(code: UInt16, reason: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        var bytes: [UInt8] = [UInt8(code >> 8), UInt8(code & 0xFF)]
        var reasonBytes = Array(reason.utf8.prefix(123))
        while !UTF8StreamValidator.isValid(reasonBytes) {
            reasonBytes.removeLast()
        }
        bytes += reasonBytes
        return encode(opcode: close, payload: bytes, allocator: allocator)
    }

    private static func writeHeader(opcode: UInt8, compressed: Bool, length: Int, into buffer: inout ByteBuffer) {
        buffer.writeInteger(0x80 | (compressed ? 0x40 : 0) | opcode, as: UInt8.self)
        switch length {
        case 0...125:
            buffer.writeInteger(UInt8(length))
        case 126...0xFFFF:
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(length))
        default:
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(length))
        }
    }
}

/// How data frames are compressed: with `deflater` (shared or the connection's own), when the
/// message has at least `minSize` bytes.
struct FrameCompression {
    let deflater: RawDeflater
    let minSize: Int
}
