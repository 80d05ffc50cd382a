import Foundation
import NIOCore
import NIOWebSocket
import PortcullisAuth
import PortcullisBus
import PortcullisConfig
import PortcullisWire

/// The WebSocket transport of a socket connection, after the 101.
///
/// A thin handler around pure state machines: NIOWebSocket's decoder cuts frames, the
/// ``WebSocketMessageAssembler`` enforces RFC 6455 and reassembles messages,
/// ``WebSocketCloseStateMachine`` runs the closing handshake, ``WebSocketHeartbeat`` pings
/// idle peers (for protocols without a heartbeat of their own). Complete messages go to the
/// transport-free ``SocketConnection``, which runs the route's protocol; what it and the
/// hub's fan-out write arrives here as messages or pre-encoded frames and is written as it
/// is (server frames are unmasked, so this handler writes bytes, not NIO frame values).
///
/// With permessage-deflate (``negotiated(_:)``, before the handler joins the pipeline) the
/// assembler inflates inbound messages before the session sees them, and data frames
/// from the session go out compressed through ``SocketCompression``; connections without
/// it carry only a nil reference.
///
/// Backpressure both ways: the connection pauses reading while too many appends are
/// unanswered, and a client whose unsent bytes stay over the route's `send_queue` (the
/// channel's high water mark) for ``slowConsumerGrace`` is closed as a slow consumer
/// (1008) so it never slows anyone else; ``SlowConsumerDetector`` forgives a burst the
/// client drains in time. Timers (heartbeat, close timeout, that grace) are driven by the
/// hub's one-second sweep, not one timer per socket, which keeps an idle connection small.
final class SocketHandler: ChannelDuplexHandler, RemovableChannelHandler, SocketTransport {
    typealias InboundIn = NIOWebSocket.WebSocketFrame
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The connection this WebSocket carries (nil while it only probes an Engine.IO
    /// upgrade).
    private var port: (any SocketConnectionPort)?
    /// Set while a polling session's client probes this WebSocket (`2probe` … `5`).
    private var probe: EngineIOUpgradeProbe?
    private var assembler: WebSocketMessageAssembler
    private var closeMachine: WebSocketCloseStateMachine<ContinuousClock.Instant>
    private var heartbeat: WebSocketHeartbeat<ContinuousClock.Instant>
    private var slowConsumer = SlowConsumerDetector<ContinuousClock.Instant>(grace: slowConsumerGrace)
    private var context: ChannelHandlerContext?
    private var reads = ReadGate()
    /// Set when the handshake negotiated permessage-deflate.
    private var compression: SocketCompression?

    /// How long a client's unsent bytes may stay over `send_queue` before it is closed as a
    /// slow consumer. The hub writes a whole batch of deliveries at once, so a reader that
    /// keeps up is briefly over the limit after a burst (on a loaded 2-core machine, 1.2 MB
    /// over a 64 KiB `send_queue`, drained within 50 ms). A client that stopped reading
    /// never drains; a second tells the two apart with a wide margin and bounds what a
    /// stalled client holds to what arrives for it in that second.
    static let slowConsumerGrace: Duration = .seconds(1)

    /// - Parameter webSocketHeartbeat: send WebSocket pings to idle clients (raw and
    ///   ActionCable); Engine.IO runs its own heartbeat in the session.
    init(connection: SocketConnection, settings: SocketAction, webSocketHeartbeat: Bool = true) {
        self.port = connection
        let now = ContinuousClock.now
        self.assembler = WebSocketMessageAssembler(configuration: .init(maxMessageSize: settings.maxMessageSize))
        self.closeMachine = WebSocketCloseStateMachine()
        self.heartbeat = WebSocketHeartbeat(
            configuration: .init(pingInterval: settings.pingInterval, pingTimeout: settings.pingTimeout), now: now)
        if !webSocketHeartbeat { heartbeat.stop() }
    }

    /// A WebSocket that asks to take over polling session `probe` (`transport=websocket&sid=…`).
    init(probing probe: EngineIOUpgradeProbe, settings: SocketAction) {
        self.probe = probe
        self.assembler = WebSocketMessageAssembler(configuration: .init(maxMessageSize: settings.maxMessageSize))
        self.closeMachine = WebSocketCloseStateMachine()
        self.heartbeat = WebSocketHeartbeat(
            configuration: .init(pingInterval: settings.pingInterval, pingTimeout: settings.pingTimeout), now: .now)
        heartbeat.stop()
    }

    /// Applies the handshake's permessage-deflate agreement (nil: none). Call before the
    /// handler is added to the pipeline.
    func negotiated(_ deflate: PerMessageDeflate?) {
        guard let deflate else { return }
        assembler = WebSocketMessageAssembler(
            configuration: .init(maxMessageSize: assembler.configuration.maxMessageSize, deflate: deflate))
        compression = SocketCompression(deflate)
    }

    var kind: SocketTransportKind { compression?.transportKind ?? .webSocket }
    var isClosing: Bool { closeMachine.isClosing }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if !context.channel.isWritable { slowConsumer.backlogExceeded(now: .now) }
        port?.attach(self)
        if let probe, probe.alreadyUpgraded {
            self.probe = nil
            failProbe("the session was already upgraded")
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        _ = closeMachine.connectionClosed()
        heartbeat.stop()
        port?.transportClosed()
        probe?.abandoned()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? NIOWebSocketError {
            let code: WebSocketCloseCode = error == .invalidFrameLength ? .messageTooBig : .protocolError
            let reason = error == .invalidFrameLength ? "frame too large" : "invalid control frame"
            let cause = SocketCloseCause.protocolError(code: code, message: reason)
            port?.noteCause(cause)
            close(cause, now: .now)
            return
        }
        port?.noteCause(.connectionError)
        context.close(promise: nil)
    }

    /// NIO flips writability when the unsent bytes pass the high water mark (`send_queue`)
    /// and again when they drain under the low one; both feed the slow-consumer check.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            slowConsumer.backlogDrained()
        } else {
            slowConsumer.backlogExceeded(now: .now)
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            if let port {
                port.end(.shutdown)
            } else {
                close(.shutdown, now: .now)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        heartbeat.inboundTraffic(now: .now)
        guard frame.maskKey != nil else {
            fail(
                WebSocketFailure(
                    code: .unmaskedFrame, closeCode: .protocolError, message: "client frames must be masked"))
            return
        }
        let payload = frame.unmaskedData
        let wireFrame = PortcullisWire.WebSocketFrame(
            fin: frame.fin, rsv1: frame.rsv1, rsv2: frame.rsv2, rsv3: frame.rsv3,
            opcode: UInt8(webSocketOpcode: frame.opcode),
            payload: Array(payload.readableBytesView)
        )
        switch assembler.receive(wireFrame) {
        case .none:
            break
        case .text(let text):
            if probe != nil {
                probed(text, context: context)
            } else {
                port?.receivedText(text)
            }
        case .binary(let bytes):
            if probe != nil {
                failProbe("binary message during the upgrade probe")
            } else {
                port?.receivedBinary(bytes)
            }
        case .sendPong(let bytes):
            write(ServerFrame.encode(opcode: ServerFrame.pong, payload: bytes, allocator: context.channel.allocator))
        case .closeReceived(let close):
            // When we started the close, its reason stays the one recorded.
            if !closeMachine.isClosing { port?.noteCause(.clientClosed(code: close.code)) }
            run(closeMachine.closeReceived(close))
        case .fail(let failure):
            fail(failure)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        reads.read(context: context)
    }

    func pauseReads() {
        reads.pause()
    }

    func resumeReads() {
        reads.resume(context: context)
    }

    // MARK: Engine.IO upgrade

    /// The probe exchange: `2probe` is answered `3probe` (and the polling GET released with
    /// a noop); `5` completes the upgrade and this WebSocket takes the session over. Any
    /// other message fails the probe; the polling session carries on.
    private func probed(_ text: String, context: ChannelHandlerContext) {
        guard let probe else { return }
        switch text {
        case "2probe":
            write(.text("3probe"))
            context.flush()
            probe.probed()
        case "5":
            self.probe = nil
            port = probe.complete(with: self, on: context.eventLoop)
        default:
            failProbe("unexpected packet during the upgrade probe")
        }
    }

    private func failProbe(_ message: String) {
        close(.protocolError(code: .protocolError, message: message), now: .now)
    }

    // MARK: Outbound

    func write(_ outbound: SocketOutbound) {
        guard let context, !closeMachine.isClosing else { return }
        write(
            ServerFrame.encode(
                outbound, compression: compression?.frameCompression(), allocator: context.channel.allocator))
    }

    /// Writes frames a fan-out encoded once; false when this connection took nothing.
    ///
    /// Writing to a client that is behind is fine: only a backlog that outlasts the grace
    /// closes it (checked here, so a busy stream closes it on time, and on the sweep).
    func write(encoded: EncodedMessages) -> Bool {
        guard !closeMachine.isClosing, let context else { return false }
        switch encoded {
        case .webSocket(let frames):
            context.write(wrapOutboundOut(frames), promise: nil)
        case .packets(let messages):
            // Only a connection compressing with its own context is handed messages.
            guard compression != nil else { return false }
            for message in messages { write(message) }
        }
        if !context.channel.isWritable {
            let now = ContinuousClock.now
            if slowConsumer.check(now: now) == .close { port?.end(.slowConsumer) }
        }
        return true
    }

    func flush() {
        context?.flush()
    }

    /// The transport's timers: slow consumer, close handshake timeout, WebSocket pings.
    func tick(now: ContinuousClock.Instant) {
        // Most ticks find nothing due; flushing then would walk the pipeline for nothing.
        var wrote = false
        if !closeMachine.isClosing, slowConsumer.check(now: now) == .close {
            port?.end(.slowConsumer)
        }
        run(closeMachine.timerFired(now: now))
        switch heartbeat.tick(now: now) {
        case .none:
            break
        case .sendPing(let payload):
            guard let context else { return }
            write(ServerFrame.encode(opcode: ServerFrame.ping, payload: payload, allocator: context.channel.allocator))
            wrote = true
        case .closeUnresponsive(let close):
            port?.end(.pingTimeout(close))
        }
        if wrote { context?.flush() }
    }

    private func fail(_ failure: WebSocketFailure) {
        let cause = SocketCloseCause.protocolError(code: failure.closeCode, message: failure.message)
        port?.noteCause(cause)
        close(cause, now: .now)
    }

    /// Runs the closing the cause asks for. The close machine sees every cause, so a
    /// protocol error after our close frame drops TCP at once.
    func close(_ cause: SocketCloseCause, now: ContinuousClock.Instant) {
        guard let code = cause.code else {
            if cause.ending == .none { context?.close(promise: nil) }
            return
        }
        switch cause.ending {
        case .none:
            break
        case .handshake:
            run(closeMachine.closeRequested(code: code, reason: cause.wireReason, now: now))
        case .fail:
            run(closeMachine.failed(code: code, reason: cause.wireReason))
        }
    }

    private func run(_ action: WebSocketCloseStateMachine<ContinuousClock.Instant>.Action) {
        guard let context else { return }
        switch action {
        case .none, .cancelTimer:
            break
        case .sendCloseAndStartTimer(let close, _):
            assembler.closeSent()
            heartbeat.stop()
            context.writeAndFlush(
                wrapOutboundOut(closeFrame(close, allocator: context.channel.allocator)), promise: nil)
        case .sendCloseAndCloseConnection(let close):
            assembler.closeSent()
            heartbeat.stop()
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(closeFrame(close, allocator: channel.allocator))).whenComplete { _ in
                channel.close(promise: nil)
            }
        case .cancelTimerAndCloseConnection, .closeConnection:
            context.close(promise: nil)
        }
    }

    private func closeFrame(_ close: WebSocketClose, allocator: ByteBufferAllocator) -> ByteBuffer {
        ServerFrame.close(code: close.code.rawValue, reason: close.reason, allocator: allocator)
    }

    private func write(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(buffer), promise: nil)
    }
}
