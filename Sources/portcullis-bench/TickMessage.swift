import NIOCore

/// The timestamped JSON messages of the broadcast and echo loads:
/// `{"event":"tick","data":{"t":<CLOCK_MONOTONIC ns>}}`.
///
/// Receivers only look for the `"t":` key and its digits, so the same scan reads the edge's
/// json-mode frames, the floor server's frames and the echo app's answers, without a JSON
/// parser on the receive path (19,000 receives per broadcast on one core).
enum TickMessage {
    static func encode(event: String, t: UInt64, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 48 + event.utf8.count)
        buffer.writeString(#"{"event":""#)
        buffer.writeString(event)
        buffer.writeString(#"","data":{"t":"#)
        buffer.writeString(String(t))
        buffer.writeString("}}")
        return buffer
    }

    /// The data object alone, `{"t":<ns>}`, as published on the bus.
    static func data(t: UInt64) -> String {
        #"{"t":"# + String(t) + "}"
    }

    /// The value of the first `"t":` key (digits, optional spaces before them), or nil.
    static func timestamp(in buffer: ByteBuffer) -> UInt64? {
        buffer.withUnsafeReadableBytes { bytes in
            let quote = UInt8(ascii: "\""), letter = UInt8(ascii: "t"), colon = UInt8(ascii: ":")
            var index = 0
            while index + 3 < bytes.count {
                if bytes[index] == quote, bytes[index + 1] == letter, bytes[index + 2] == quote,
                    bytes[index + 3] == colon
                {
                    var position = index + 4
                    while position < bytes.count, bytes[position] == UInt8(ascii: " ") { position += 1 }
                    var value: UInt64 = 0
                    var digits = 0
                    while position < bytes.count, bytes[position] >= UInt8(ascii: "0"),
                        bytes[position] <= UInt8(ascii: "9"), digits < 19
                    {
                        value = value * 10 + UInt64(bytes[position] - UInt8(ascii: "0"))
                        position += 1
                        digits += 1
                    }
                    return digits > 0 ? value : nil
                }
                index += 1
            }
            return nil
        }
    }
}
