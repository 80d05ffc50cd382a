import NIOCore

/// Decodes the bytes Redis sends into ``RESPValue``s with a hiredis reader.
///
/// Every received byte is handed to the reader at once (hiredis keeps partial replies), and
/// every reply it completes is forwarded before asking for more data.
struct RESPDecoder: ByteToMessageDecoder {
    typealias InboundOut = RESPValue

    private let reader = RESPReader()

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        try buffer.withUnsafeReadableBytes { try self.reader.feed($0) }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        while let value = try self.reader.nextReply() {
            context.fireChannelRead(Self.wrapInboundOut(value))
        }
        return .needMoreData
    }

    mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        // A reply cut off by the end of the stream is dropped: the connection is going away
        // and the command waiting for it fails with `connectionClosed`.
        try self.decode(context: context, buffer: &buffer)
    }
}

/// Encodes a command (a list of arguments) as RESP with hiredis's formatter.
struct RESPEncoder: MessageToByteEncoder {
    typealias OutboundIn = [RedisArgument]

    func encode(data: [RedisArgument], out: inout ByteBuffer) throws {
        try RESPCommandFormatter.format(data, into: &out)
    }
}
