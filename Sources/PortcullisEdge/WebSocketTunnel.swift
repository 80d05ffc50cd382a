import NIOCore

/// Turns an HTTP client connection and its upstream connection into a byte tunnel after
/// the upstream accepted a WebSocket upgrade.
///
/// Both glue handlers are in place before any HTTP handler leaves, because leaving hands
/// bytes on: the upstream connection handler passes what the upstream sent behind its 101
/// as it is removed, and the proxy handler what the client sent behind its upgrade
/// request. Neither side speaks HTTP any more by then; both only move bytes.
enum WebSocketTunnel {
    static func splice(client: ChannelHandlerContext, upstream: UpstreamConnection) throws {
        guard let upstreamChannel = upstream.channel else {
            throw ChannelError.ioOnClosedChannel
        }
        let (clientGlue, upstreamGlue) = GlueHandler.matchedPair()
        let upstreamPipeline = upstreamChannel.pipeline.syncOperations
        let clientPipeline = client.pipeline.syncOperations
        try upstreamPipeline.addHandler(upstreamGlue)
        try clientPipeline.addHandler(clientGlue)
        try removeIfPresent(UpstreamConnection.self, from: upstreamPipeline)
        clientPipeline.removeHandler(context: client, promise: nil)

        // Either side may have held back a read while the exchange was in flight.
        client.channel.read()
        upstreamChannel.read()
    }

    private static func removeIfPresent<Handler: RemovableChannelHandler>(
        _ type: Handler.Type,
        from pipeline: ChannelPipeline.SynchronousOperations
    ) throws {
        guard let context = try? pipeline.context(handlerType: type) else { return }
        pipeline.removeHandler(context: context, promise: nil)
    }
}
