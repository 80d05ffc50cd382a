import NIOCore

/// Decodes the bytes Redis sends into ``RESPValue``s with a ``RESPParser``.
///
/// Every reply the received bytes complete is forwarded before asking for more data; a
/// partial reply stays in the handler's buffer until the rest arrives.
struct RESPDecoder: ByteToMessageDecoder {
    typealias InboundOut = RESPValue

    private var parser = RESPParser()

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        while let value = try self.parser.next(from: &buffer) {
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

/// Encodes a command (a list of arguments) as RESP with ``RESPCommandFormatter``.
struct RESPEncoder: MessageToByteEncoder {
    typealias OutboundIn = [RedisArgument]

    func encode(data: [RedisArgument], out: inout ByteBuffer) throws {
        try RESPCommandFormatter.format(data, into: &out)
    }
}
