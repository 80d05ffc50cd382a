import NIOCore
import NIOHTTP1

/// Turns an HTTP client connection and its upstream connection into a byte tunnel after
/// the upstream accepted a WebSocket upgrade.
///
/// Raw bytes must never meet an HTTP handler that expects HTTP parts, which would trap.
/// Encoders leave at once; a `ByteToMessageHandler` leaves later (an `execute` on the
/// shared event loop) and hands its buffered bytes on as it goes. So the upstream side is
/// unwound first: its response decoder, which also observes writes, is gone before the
/// client's request decoder passes on the bytes the client sent behind its upgrade
/// request; and the upstream's bytes behind its 101 meet a client pipeline whose response
/// encoder is already gone.
enum WebSocketTunnel {
    static func splice(client: ChannelHandlerContext, upstream: UpstreamConnection) throws {
        guard let upstreamChannel = upstream.channel else {
            throw ChannelError.ioOnClosedChannel
        }
        let (clientGlue, upstreamGlue) = GlueHandler.matchedPair()
        let upstreamPipeline = upstreamChannel.pipeline.syncOperations
        try upstreamPipeline.addHandler(upstreamGlue)
        try removeIfPresent(UpstreamConnection.self, from: upstreamPipeline)
        try removeIfPresent(NIOHTTPRequestHeadersValidator.self, from: upstreamPipeline)
        try removeIfPresent(HTTPRequestEncoder.self, from: upstreamPipeline)
        try removeIfPresent(ByteToMessageHandler<HTTPResponseDecoder>.self, from: upstreamPipeline)

        let clientPipeline = client.pipeline.syncOperations
        try clientPipeline.addHandler(clientGlue)
        try removeHTTPHandlers(from: clientPipeline)
        clientPipeline.removeHandler(context: client, promise: nil)

        // Either side may have held back a read while the exchange was in flight.
        client.channel.read()
        upstreamChannel.read()
    }

    /// Removes the server-side HTTP/1 handlers of a client pipeline.
    static func removeHTTPHandlers(from pipeline: ChannelPipeline.SynchronousOperations) throws {
        try removeIfPresent(IdleStateHandler.self, from: pipeline)
        try removeIfPresent(HTTPServerPipelineHandler.self, from: pipeline)
        try removeIfPresent(NIOHTTPResponseHeadersValidator.self, from: pipeline)
        try removeIfPresent(HTTPResponseEncoder.self, from: pipeline)
        try removeIfPresent(ByteToMessageHandler<StrictRequestDecoder>.self, from: pipeline)
    }

    private static func removeIfPresent<Handler: RemovableChannelHandler>(
        _ type: Handler.Type,
        from pipeline: ChannelPipeline.SynchronousOperations
    ) throws {
        guard let context = try? pipeline.context(handlerType: type) else { return }
        pipeline.removeHandler(context: context, promise: nil)
    }
}
