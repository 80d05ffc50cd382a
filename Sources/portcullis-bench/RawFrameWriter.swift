import NIOCore

/// Sits next to the pipeline's head of a floor-server connection, so bytes written through
/// it skip NIO's WebSocket frame encoder: the hub writes pre-encoded frames here. Registers
/// the connection with the hub while it is open.
final class RawFrameWriter: ChannelInboundHandler, ChannelOutboundHandler, Slotted {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let hub: FloorHub
    private var context: ChannelHandlerContext?
    /// Index in the hub's list.
    var slot = -1

    init(hub: FloorHub) {
        self.hub = hub
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive {
            self.hub.add(self)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.hub.remove(self)
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.hub.remove(self)
        context.fireChannelInactive()
    }

    func writeAndFlush(_ frame: ByteBuffer) {
        self.context?.writeAndFlush(Self.wrapOutboundOut(frame), promise: nil)
    }
}
