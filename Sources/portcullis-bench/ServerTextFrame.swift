import NIOCore

/// An unmasked server text frame, header and payload in one buffer, so a fan-out can
/// write the same bytes to every socket.
enum ServerTextFrame {
    static func encode(_ payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        let length = payload.readableBytes
        var frame = allocator.buffer(capacity: length + 10)
        frame.writeInteger(UInt8(0x81))
        switch length {
        case 0...125:
            frame.writeInteger(UInt8(length))
        case 126...0xFFFF:
            frame.writeInteger(UInt8(126))
            frame.writeInteger(UInt16(length))
        default:
            frame.writeInteger(UInt8(127))
            frame.writeInteger(UInt64(length))
        }
        var payload = payload
        frame.writeBuffer(&payload)
        return frame
    }
}
