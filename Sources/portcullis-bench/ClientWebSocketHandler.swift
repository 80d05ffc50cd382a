import NIOCore
import NIOWebSocket

/// One client WebSocket connection after the upgrade: masks what it sends (RFC 6455 §5.3:
/// clients must), answers pings and the close handshake, and hands complete text messages
/// to its delegate.
///
/// It also carries the connection's ``ClientSession`` (the protocol above WebSocket), which
/// its delegate drives, and the connector's `ready` promise: the delegate completes it
/// with ``markReady()`` once that protocol's handshake is done, and a connection that closes
/// or fails before then fails it, so a connection attempt counts as made only when the
/// connection is usable.
///
/// With permessage-deflate accepted (``ClientDeflate``), text is sent compressed and
/// compressed answers are inflated before the delegate sees them.
///
/// Fragmented messages are counted and dropped: the servers measured here send small
/// messages in one frame, and reassembly would cost every connection a buffer.
final class ClientWebSocketHandler: ChannelInboundHandler, Slotted {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let delegate: any ClientWebSocketDelegate
    private let ready: EventLoopPromise<Void>
    private var context: ChannelHandlerContext?
    private var sentClose = false
    /// Index of this connection in its pool (its slot for round-robin sends).
    var slot: Int = -1
    /// The protocol above WebSocket; only the delegate reads and changes it.
    var session: ClientSession
    private let deflate: ClientDeflate?

    init(
        delegate: any ClientWebSocketDelegate, session: ClientSession, ready: EventLoopPromise<Void>,
        deflate: ClientDeflate? = nil
    ) {
        self.delegate = delegate
        self.session = session
        self.ready = ready
        self.deflate = deflate
    }

    var isOpen: Bool { self.context != nil && !self.sentClose }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive {
            self.delegate.opened(self)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.ready.fail(BenchError.closedDuringHandshake)
        if self.context != nil {
            self.context = nil
            self.delegate.closed(self)
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        switch frame.opcode {
        case .text where frame.fin && frame.rsv1:
            guard let text = self.deflate?.inflate(frame.unmaskedData, allocator: context.channel.allocator) else {
                context.close(promise: nil)
                return
            }
            self.delegate.received(text: text, on: self)
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
        guard let deflate, let context else {
            self.write(opcode: .text, data: payload, flush: flush)
            return
        }
        self.write(
            opcode: .text, data: deflate.compress(payload, allocator: context.channel.allocator), flush: flush,
            rsv1: true)
    }

    func flush() {
        self.context?.flush()
    }

    /// The protocol's handshake is done: the connection attempt succeeded.
    func markReady() {
        self.ready.succeed()
    }

    /// The protocol's handshake failed (or the server ended the session): a connection
    /// attempt still in its handshake fails with `error`; the connection is closed.
    func fail(_ error: BenchError) {
        self.ready.fail(error)
        self.close()
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

    private func write(opcode: WebSocketOpcode, data: ByteBuffer, flush: Bool, rsv1: Bool = false) {
        guard let context, !self.sentClose else { return }
        let frame = WebSocketFrame(fin: true, rsv1: rsv1, opcode: opcode, maskKey: .random(), data: data)
        if flush {
            context.writeAndFlush(Self.wrapOutboundOut(frame), promise: nil)
        } else {
            context.write(Self.wrapOutboundOut(frame), promise: nil)
        }
    }
}
