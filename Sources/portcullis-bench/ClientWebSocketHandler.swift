import NIOCore
import NIOWebSocket

/// One client WebSocket connection after the upgrade: masks what it sends (RFC 6455 §5.3:
/// clients must), answers pings and the close handshake, and hands complete text messages
/// to its delegate.
///
/// Fragmented messages are counted and dropped: the servers measured here send small
/// messages in one frame, and reassembly would cost every connection a buffer.
final class ClientWebSocketHandler: ChannelInboundHandler, Slotted {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let delegate: any ClientWebSocketDelegate
    private var context: ChannelHandlerContext?
    private var sentClose = false
    /// Index of this connection in its pool (its slot for round-robin sends).
    var slot: Int = -1

    init(delegate: any ClientWebSocketDelegate) {
        self.delegate = delegate
    }

    var isOpen: Bool { self.context != nil && !self.sentClose }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive {
            self.delegate.opened(self)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if self.context != nil {
            self.context = nil
            self.delegate.closed(self)
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        switch frame.opcode {
        case .text where frame.fin:
            self.delegate.received(text: frame.unmaskedData, on: self)
        case .ping:
            self.write(opcode: .pong, data: frame.unmaskedData, flush: true)
        case .connectionClose:
            if !self.sentClose {
                self.write(opcode: .connectionClose, data: frame.unmaskedData, flush: true)
                self.sentClose = true
            }
            context.close(promise: nil)
        default:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Sends one text message (masked with a fresh key).
    func sendText(_ payload: ByteBuffer, flush: Bool = true) {
        self.write(opcode: .text, data: payload, flush: flush)
    }

    func flush() {
        self.context?.flush()
    }

    /// Starts the close handshake (1000, normal closure); the server's close ends the socket.
    func close() {
        guard let context, !self.sentClose else { return }
        var payload = context.channel.allocator.buffer(capacity: 2)
        payload.writeInteger(UInt16(1000))
        self.write(opcode: .connectionClose, data: payload, flush: true)
        self.sentClose = true
        let channel = context.channel
        // A server that never answers must not keep the socket: close after a grace period.
        context.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
    }

    private func write(opcode: WebSocketOpcode, data: ByteBuffer, flush: Bool) {
        guard let context, !self.sentClose else { return }
        let frame = WebSocketFrame(fin: true, opcode: opcode, maskKey: .random(), data: data)
        if flush {
            context.writeAndFlush(Self.wrapOutboundOut(frame), promise: nil)
        } else {
            context.write(Self.wrapOutboundOut(frame), promise: nil)
        }
    }
}
