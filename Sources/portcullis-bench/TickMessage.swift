import NIOCore

/// The timestamped JSON messages of the broadcast and echo loads:
/// `{"event":"tick","data":{"t":<CLOCK_MONOTONIC ns>}}`, optionally with a `"pad"` string
/// after `t` to give messages a size (echo `--padding`).
///
/// Receivers only look for the `"t":` key and its digits, so the same scan reads the edge's
/// json-mode frames, the floor server's frames and the echo app's answers, without a JSON
/// parser on the receive path (19,000 receives per broadcast on one core).
enum TickMessage {
    static func encode(event: String, t: UInt64, padding: String = "", allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 56 + event.utf8.count + padding.utf8.count)
        buffer.writeString(#"{"event":""#)
        buffer.writeString(event)
        buffer.writeString(#"","data":{"t":"#)
        buffer.writeString(String(t))
        if !padding.isEmpty {
            buffer.writeString(#","pad":""#)
            buffer.writeString(padding)
            buffer.writeString("\"")
        }
        buffer.writeString("}}")
        return buffer
    }

    /// `bytes` of lower-case words and spaces picked by a fixed pseudo-random sequence:
    /// JSON-safe and about as compressible as prose, the same in every run.
    static func padding(bytes: Int) -> String {
        let words = [
            "the", "room", "message", "user", "online", "status", "update", "channel", "value", "event",
            "price", "order", "window", "session", "typing", "read", "delivered", "profile", "count", "list",
        ]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var text = ""
        while text.utf8.count < bytes {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            text += words[Int(state >> 59) % words.count] + " "
        }
        return String(text.utf8.prefix(bytes))!
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
