import CHiredis
import NIOCore
import Testing

@testable import PortcullisBus

/// The Swift formatter against hiredis's `redisFormatCommandArgv`, which it replaced on the
/// hot path: the same bytes for any command, binary arguments and CRLFs inside included.
@Suite struct RESPCommandFormatterTests {
    @Test func matchesHiredisForRandomCommands() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let count = Int.random(in: 1...12, using: &generator)
            let command: [RedisArgument] = (0..<count).map { _ in
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: RedisArgument(Int.random(in: 0...Int(Int32.max), using: &generator))
                case 1: RedisArgument(String(repeating: "é", count: Int.random(in: 0...20, using: &generator)))
                case 2: RedisArgument(ByteBuffer(bytes: Self.randomBytes(using: &generator)))
                default: RedisArgument(Self.randomBytes(using: &generator))
                }
            }
            var ours = ByteBuffer()
            try RESPCommandFormatter.format(command, into: &ours)
            #expect(Array(ours.readableBytesView) == Self.hiredis(command))
        }
    }

    @Test func lengthsOfEveryWidthAreWritten() throws {
        for length in [0, 9, 10, 99, 100, 999, 1000, 65_536] {
            var ours = ByteBuffer()
            let command: [RedisArgument] = ["SET", RedisArgument([UInt8](repeating: 0x0A, count: length))]
            try RESPCommandFormatter.format(command, into: &ours)
            #expect(Array(ours.readableBytesView) == Self.hiredis(command))
        }
    }

    private static func randomBytes(using generator: inout SystemRandomNumberGenerator) -> [UInt8] {
        let length = [0, 1, 2, 9, 10, 11, 99, 100, 1000].randomElement(using: &generator)!
        return (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// What hiredis formats for `command`.
    private static func hiredis(_ command: [RedisArgument]) -> [UInt8] {
        let arguments = command.map { argument -> [UInt8] in
            var buffer = ByteBuffer()
            argument.write(to: &buffer)
            return Array(buffer.readableBytesView)
        }
        var pointers = arguments.map { bytes -> UnsafePointer<CChar>? in
            let copy = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
            bytes.withUnsafeBufferPointer { source in
                source.withMemoryRebound(to: CChar.self) { copy.update(from: $0.baseAddress!, count: bytes.count) }
            }
            return UnsafePointer(copy)
        }
        defer { for pointer in pointers { UnsafeMutablePointer(mutating: pointer)?.deallocate() } }
        let lengths = arguments.map(\.count)
        var formatted: UnsafeMutablePointer<CChar>?
        let length = pointers.withUnsafeMutableBufferPointer { argv in
            lengths.withUnsafeBufferPointer {
                redisFormatCommandArgv(&formatted, Int32(command.count), argv.baseAddress, $0.baseAddress)
            }
        }
        guard length >= 0, let formatted else { return [] }
        defer { redisFreeCommand(formatted) }
        return Array(UnsafeRawBufferPointer(start: formatted, count: Int(length)))
    }
}
