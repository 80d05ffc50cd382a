import NIOCore

/// Formats a command as a RESP array of bulk strings, written straight into the outbound
/// `ByteBuffer`.
///
/// This was hiredis's `redisFormatCommandArgv`, which stages the arguments, mallocs its
/// output, writes every length with `sprintf` and is then copied and freed: 7% of the
/// edge's user CPU on the echo path. The wire form is byte-for-byte the same, which
/// `RESPCommandFormatterTests` checks against hiredis itself (replies are read by
/// ``RESPParser``).
enum RESPCommandFormatter {
    /// Appends the RESP form of `command` to `buffer`: `*<count>` then `$<length>` and the
    /// bytes of each argument, every line ending in CRLF (binary-safe).
    static func format(_ command: [RedisArgument], into buffer: inout ByteBuffer) throws {
        guard !command.isEmpty else {
            throw RedisError(
                code: .invalidArgument, message: "a Redis command needs at least one word", isRetrySafe: true)
        }
        var size = 1 + Self.digits(command.count) + 2
        for argument in command {
            let length = argument.byteCount
            size += 1 + Self.digits(length) + 2 + length + 2
        }
        buffer.reserveCapacity(minimumWritableBytes: size)
        Self.writeLine(UInt8(ascii: "*"), command.count, into: &buffer)
        for argument in command {
            Self.writeLine(UInt8(ascii: "$"), argument.byteCount, into: &buffer)
            argument.write(to: &buffer)
            buffer.writeInteger(Self.crlf)
        }
    }

    private static let crlf = UInt16(0x0D0A)

    /// `<marker><decimal>` CRLF.
    private static func writeLine(_ marker: UInt8, _ value: Int, into buffer: inout ByteBuffer) {
        let count = Self.digits(value)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count + 3) { out in
            out[0] = marker
            var rest = value
            for index in stride(from: count, through: 1, by: -1) {
                out[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            }
            out[count + 1] = 0x0D
            out[count + 2] = 0x0A
            return count + 3
        }
    }

    /// Decimal digits of a count or length (never negative).
    private static func digits(_ value: Int) -> Int {
        var count = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        return count
    }
}
