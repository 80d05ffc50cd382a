import Logging
import NIOCore
import NIOEmbedded
import PortcullisTestSupport
import Testing

@testable import PortcullisBus

/// The formatter and the channel pipeline (codec + command handler) through EmbeddedChannel.
@Suite struct RedisPipelineTests {
    @Test func commandIsFormattedAsBinarySafeRESP() throws {
        var buffer = ByteBuffer(string: "already here|")
        let value: [UInt8] = [0x00, 0x0D, 0x0A, 0xFF]
        try RESPCommandFormatter.format(["SET", "k", RedisArgument(value), 42, ""], into: &buffer)
        let expected =
            Array("already here|*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\n".utf8) + value
            + Array("\r\n$2\r\n42\r\n$0\r\n\r\n".utf8)
        #expect(Array(buffer.readableBytesView) == expected)
    }

    @Test func emptyCommandIsRejectedBeforeFormatting() {
        var buffer = ByteBuffer()
        let error = #expect(throws: RedisError.self) { try RESPCommandFormatter.format([], into: &buffer) }
        #expect(error?.code == .invalidArgument)
        #expect(buffer.readableBytes == 0)
    }

    @Test func decoderEmitsRepliesFromFragmentedReads() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(RESPDecoder()))
        let bytes = Array("+OK\r\n:1\r\n$5\r\nhello\r\n*-1\r\n".utf8)
        for chunk in stride(from: 0, to: bytes.count, by: 3).map({ bytes[$0..<min($0 + 3, bytes.count)] }) {
            try channel.writeInbound(ByteBuffer(bytes: chunk))
        }
        #expect(try channel.readInbound(as: RESPValue.self) == .simpleString("OK"))
        #expect(try channel.readInbound(as: RESPValue.self) == .integer(1))
        #expect(try channel.readInbound(as: RESPValue.self) == .bulkString(ByteBuffer(string: "hello")))
        #expect(try channel.readInbound(as: RESPValue.self) == .nullArray)
        #expect(try channel.readInbound(as: RESPValue.self) == nil)
        _ = try channel.finish()
    }

    @Test func repliesCompleteCommandsInOrderAndAnErrorFailsOnlyItsCommand() throws {
        let channel = try Self.makeChannel()
        let first = Self.send(["GET", "a"], on: channel)
        let second = Self.send(["INCR", "b"], on: channel)
        let third = Self.send(["PING"], on: channel)
        let written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        var all = written
        while var more = try channel.readOutbound(as: ByteBuffer.self) {
            all.writeBuffer(&more)
        }
        #expect(
            String(buffer: all) == "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$4\r\nINCR\r\n$1\r\nb\r\n*1\r\n$4\r\nPING\r\n")

        try channel.writeInbound(ByteBuffer(string: "$1\r\nx\r\n-WRONGTYPE Operation against a key\r\n+PONG\r\n"))
        #expect(try first.wait() == .bulkString(ByteBuffer(string: "x")))
        let error = #expect(throws: RedisError.self) { try second.wait() }
        #expect(error?.code == .server)
        #expect(error?.serverCode == "WRONGTYPE")
        #expect(try third.wait() == .simpleString("PONG"))
        #expect(channel.isActive)
        _ = try channel.finish()
    }

    @Test func closingTheChannelFailsEveryCommandInFlight() throws {
        let channel = try Self.makeChannel()
        let pending = (0..<3).map { _ in Self.send(["BLPOP", "q", "0"], on: channel) }
        _ = try channel.finish()  // closes the channel
        for future in pending {
            let error = #expect(throws: RedisError.self) { try future.wait() }
            #expect(error?.code == .connectionClosed)
            #expect(error?.isRetrySafe == false)
        }
    }

    @Test func unsolicitedReplyClosesTheConnection() throws {
        let channel = try Self.makeChannel()
        try channel.writeInbound(ByteBuffer(string: "+OK\r\n"))
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test func garbageFromTheServerFailsCommandsWithAProtocolViolation() throws {
        let channel = try Self.makeChannel()
        let pending = Self.send(["PING"], on: channel)
        _ = try? channel.writeInbound(ByteBuffer(string: "!junk\r\n"))
        channel.embeddedEventLoop.run()
        let error = #expect(throws: RedisError.self) { try pending.wait() }
        #expect(error?.code == .protocolViolation)
    }

    @Test func anErrorBeforeAnyCommandIsKeptAsTheReasonTheConnectionClosed() throws {
        // A TLS handshake that fails before the first command is written: the command sent
        // afterwards must carry the handshake's error, not a bare "connection closed".
        let closeReason = RedisCloseReason()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.configureRedisPipeline(logger: testLogger, closeReason: closeReason)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379)).wait()
        struct HandshakeRefused: Error {}
        channel.pipeline.fireErrorCaught(HandshakeRefused())
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
        #expect(closeReason.error?.code == .connectionClosed)
        #expect(closeReason.error?.underlying is HandshakeRefused)
    }

    static func makeChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.configureRedisPipeline(logger: testLogger)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379)).wait()
        return channel
    }

    static func send(_ command: [RedisArgument], on channel: EmbeddedChannel) -> EventLoopFuture<RESPValue> {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        channel.writeAndFlush(RedisRequest(command: command, promise: promise), promise: nil)
        channel.embeddedEventLoop.run()  // runs the coalesced flush
        return promise.futureResult
    }
}
