import NIOCore
import NIOWebSocket

/// The WebSocket side of one floor-server connection.
///
/// A text message starting with `fire` triggers a broadcast to every connection (with the
/// `t` it carries — the publisher's send time — or else now); any other text message is
/// sent back as it came, like the echo app. Pings are answered; a close is echoed.
final class FloorConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let hub: FloorHub
    private var sentClose = false

    init(hub: FloorHub) {
        self.hub = hub
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        switch frame.opcode {
        case .text where frame.fin:
            let text = frame.unmaskedData
            if text.readableBytesView.starts(with: "fire".utf8) {
                let t = TickMessage.timestamp(in: text) ?? MonotonicClock.now()
                self.hub.broadcastTick(t: t, allocator: context.channel.allocator)
            } else {
                self.send(context: context, opcode: .text, data: text)
            }
        case .ping:
            self.send(context: context, opcode: .pong, data: frame.unmaskedData)
        case .connectionClose:
            if !self.sentClose {
                self.sentClose = true
                self.send(context: context, opcode: .connectionClose, data: frame.unmaskedData)
            }
            context.close(promise: nil)
        default:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func send(context: ChannelHandlerContext, opcode: WebSocketOpcode, data: ByteBuffer) {
        let frame = WebSocketFrame(fin: true, opcode: opcode, data: data)
        context.writeAndFlush(Self.wrapOutboundOut(frame), promise: nil)
    }
}
