import CHiredis
import NIOCore

/// Formats a command as a RESP array of bulk strings with hiredis's
/// `redisFormatCommandArgv` (binary-safe: every argument is passed with its length).
///
/// The C buffer hiredis allocates is copied into the output `ByteBuffer` and freed at once.
enum RESPCommandFormatter {
    /// Appends the RESP form of `command` to `buffer`.
    ///
    /// The raw argument bytes are first staged at the end of `buffer` itself, so hiredis
    /// reads them in place; the staged bytes are then replaced by hiredis's output.
    static func format(_ command: [RedisArgument], into buffer: inout ByteBuffer) throws {
        guard !command.isEmpty else {
            throw RedisError(
                code: .invalidArgument, message: "a Redis command needs at least one word", isRetrySafe: true)
        }
        let stagingStart = buffer.writerIndex
        var lengths: [Int] = []
        lengths.reserveCapacity(command.count)
        for argument in command {
            let before = buffer.writerIndex
            argument.write(to: &buffer)
            lengths.append(buffer.writerIndex - before)
        }
        // Make sure storage exists even when every argument is empty.
        buffer.reserveCapacity(minimumWritableBytes: 1)

        var formatted: UnsafeMutablePointer<CChar>?
        let formattedLength = buffer.withVeryUnsafeBytes { storage -> Int32 in
            let base = storage.baseAddress!.advanced(by: stagingStart)
            var offset = 0
            var argv: [UnsafePointer<CChar>?] = []
            argv.reserveCapacity(lengths.count)
            for length in lengths {
                argv.append(base.advanced(by: offset).assumingMemoryBound(to: CChar.self))
                offset += length
            }
            return argv.withUnsafeMutableBufferPointer { argvPointer in
                lengths.withUnsafeBufferPointer { lengthsPointer in
                    redisFormatCommandArgv(
                        &formatted,
                        Int32(command.count),
                        argvPointer.baseAddress,
                        lengthsPointer.baseAddress
                    )
                }
            }
        }
        guard formattedLength >= 0, let formatted else {
            buffer.moveWriterIndex(to: stagingStart)
            throw RedisError(code: .invalidArgument, message: "hiredis could not format the command")
        }
        defer { redisFreeCommand(formatted) }
        buffer.moveWriterIndex(to: stagingStart)
        buffer.writeBytes(UnsafeRawBufferPointer(start: formatted, count: Int(formattedLength)))
    }
}
