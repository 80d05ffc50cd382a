import Foundation
import NIOCore
import NIOWebSocket
import PortcullisAuth
import PortcullisBus
import PortcullisConfig
import PortcullisWire

/// One terminated WebSocket on a socket route, after the 101.
///
/// A thin handler around pure state machines: NIOWebSocket's decoder cuts frames, the
/// ``WebSocketMessageAssembler`` enforces RFC 6455 and reassembles messages,
/// ``WebSocketCloseStateMachine`` runs the closing handshake, ``WebSocketHeartbeat`` pings
/// idle peers, ``RawProtocolSession`` maps messages to envelopes. Client messages become
/// envelopes appended through the loop's ``SocketHub``; outbound frames arrive
/// pre-encoded from the hub and are written as they are (server frames are unmasked, so
/// this handler writes bytes, not NIO frame values).
///
/// Backpressure both ways: reading stops while too many appends are unanswered (Redis
/// slow or away), and a client whose unsent bytes stay over the route's `send_queue` (the
/// channel's high water mark) for ``slowConsumerGrace`` is closed as a slow consumer
/// (1008) so it never slows anyone else; ``SlowConsumerDetector`` forgives a burst the
/// client drains in time. Timers (heartbeat, close timeout, identity expiry, that grace)
/// are driven by the hub's one-second sweep, not one timer per socket, which keeps an
/// idle connection small.
final class SocketHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOWebSocket.WebSocketFrame
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Verifies a refresh token; see ``init(id:routeName:settings:identity:hub:accessLog:refresher:)``.
    typealias Refresher = (String) -> EventLoopFuture<Result<PortcullisAuth.Identity, AuthFailure>>

    struct Identity {
        var user: String?
        var claims: String?
        /// Unix seconds after which the connection is closed with 4001.
        var expiresAt: Int64?
    }

    let id: String
    let app: String
    let user: String?
    let routeName: String
    /// Rooms joined, kept here so a close can leave them without a search.
    var rooms: Set<String> = []
    /// Why the connection ends: its close frame, metric label and envelope reason.
    private(set) var closeCause = SocketCloseCause.connectionLost

    private let claims: String?
    private let accessLog: Bool
    private let opened = ContinuousClock.now
    /// When the identity expires (4001); moved by an in-band refresh.
    private var expiresAt: ContinuousClock.Instant?
    private let refresher: Refresher?
    private let hub: SocketHub
    private let session: RawProtocolSession
    private var assembler: WebSocketMessageAssembler
    private var closeMachine: WebSocketCloseStateMachine<ContinuousClock.Instant>
    private var heartbeat: WebSocketHeartbeat<ContinuousClock.Instant>
    private var limiter: MessageRateLimiter<ContinuousClock.Instant>?
    private var slowConsumer = SlowConsumerDetector<ContinuousClock.Instant>(grace: slowConsumerGrace)
    private var context: ChannelHandlerContext?
    private var unansweredAppends = 0
    private var reads = ReadGate()

    /// Reading stops at this many unanswered appends and resumes at a quarter of it.
    static let maxUnansweredAppends = 64

    /// How long a client's unsent bytes may stay over `send_queue` before it is closed as a
    /// slow consumer. The hub writes a whole batch of deliveries at once, so a reader that
    /// keeps up is briefly over the limit after a burst (on a loaded 2-core machine, 1.2 MB
    /// over a 64 KiB `send_queue`, drained within 50 ms). A client that stopped reading
    /// never drains; a second tells the two apart with a wide margin and bounds what a
    /// stalled client holds to what arrives for it in that second.
    static let slowConsumerGrace: Duration = .seconds(1)

    /// - Parameter accessLog: log a `socket closed` line (route, reason, duration) at the end.
    /// - Parameter refresher: verifies a token offered in band (signature, claims,
    ///   revocation); nil on routes without token authentication.
    init(
        id: String, routeName: String, settings: SocketAction, identity: Identity, hub: SocketHub,
        accessLog: Bool = false, refresher: Refresher? = nil
    ) {
        let now = ContinuousClock.now
        self.id = id
        self.app = settings.app
        self.user = identity.user
        self.routeName = routeName
        self.accessLog = accessLog
        self.claims = identity.claims
        self.expiresAt = identity.expiresAt.map { Self.instant(unixSeconds: $0, now: now) }
        self.refresher = refresher
        self.hub = hub
        self.session = RawProtocolSession(mode: settings.mode == .json ? .json : .opaque)
        self.assembler = WebSocketMessageAssembler(configuration: .init(maxMessageSize: settings.maxMessageSize))
        self.closeMachine = WebSocketCloseStateMachine()
        self.heartbeat = WebSocketHeartbeat(
            configuration: .init(pingInterval: settings.pingInterval, pingTimeout: settings.pingTimeout), now: now)
        self.limiter = settings.rateLimit.map {
            MessageRateLimiter(rate: $0.messagesPerSecond, burst: $0.burst, closeAfter: $0.closeAfter, now: now)
        }
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if !context.channel.isWritable { slowConsumer.backlogExceeded(now: .now) }
        hub.register(self)
        publish(envelope(.open))
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        _ = closeMachine.connectionClosed()
        heartbeat.stop()
        var close = envelope(.close)
        close.reason = closeCause.description
        publish(close)
        hub.unregister(self)
        if accessLog {
            let lifetime = opened.duration(to: .now)
            hub.logger.info(
                "socket closed",
                metadata: [
                    "route": "\(routeName)", "conn.id": "\(id)", "user": "\(user ?? "-")", "reason": "\(closeCause)",
                    "duration.ms":
                        "\(lifetime.components.seconds * 1000 + lifetime.components.attoseconds / 1_000_000_000_000_000)",
                ])
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? NIOWebSocketError {
            let code: WebSocketCloseCode = error == .invalidFrameLength ? .messageTooBig : .protocolError
            let reason = error == .invalidFrameLength ? "frame too large" : "invalid control frame"
            end(.protocolError(code: code, message: reason), now: .now)
            return
        }
        closeCause = .connectionError
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
            goAway()
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
            received(session.receivedText(text))
        case .binary(let bytes):
            received(session.receivedBinary(bytes))
        case .sendPong(let bytes):
            write(ServerFrame.encode(opcode: ServerFrame.pong, payload: bytes, allocator: context.channel.allocator))
        case .closeReceived(let close):
            // When we started the close, its reason stays the one recorded.
            if !closeMachine.isClosing { closeCause = .clientClosed(code: close.code) }
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

    private func received(_ action: RawProtocolSession.Action) {
        if case .send(let outbound) = action {
            write(outbound)
            return
        }
        if var limiter {
            let decision = limiter.message(now: .now)
            self.limiter = limiter
            switch decision {
            case .accept:
                break
            case .refuse:
                refuse(code: "rate_limited", message: "too many messages; slow down")
                return
            case .close:
                end(.rateLimited, now: .now)
                return
            }
        }
        if case .refresh(let token) = action {
            refresh(token: token)
            return
        }
        var message = envelope(.message)
        switch action {
        case .publish(let event, let data, let ack):
            message.event = event
            message.data = .json(data)
            message.ack = ack
        case .publishText(let text):
            message.data = .text(text)
        case .publishBinary(let bytes):
            message.data = .binary(ByteBuffer(bytes: bytes))
        case .send, .refresh:
            return
        }
        EdgeMetrics.shared.socketMessageIn()
        publish(message, fromClient: true)
    }

    /// In-band refresh: a valid token for the same subject moves the expiry, is announced to
    /// the handlers as a `refresh` envelope and answered with `$refreshed`; anything else is
    /// answered with an `error` event and changes nothing.
    private func refresh(token: String) {
        guard let refresher else {
            refuse(code: "refresh_unsupported", message: "this route does not authenticate with tokens")
            return
        }
        refresher(token).assumeIsolated().whenSuccess { [self] result in
            guard !closeMachine.isClosing else { return }
            switch result {
            case .failure(let failure):
                refuse(code: "refresh_refused", message: "\(failure.code): \(failure.message)")
            case .success(let identity) where identity.subject != user:
                refuse(code: "refresh_refused", message: "the token is for another subject")
            case .success(let identity):
                expiresAt = identity.expiresAt.map { Self.instant(unixSeconds: $0, now: .now) }
                var refreshed = envelope(.refresh)
                refreshed.claims = identity.claimsJSON
                publish(refreshed)
                write(.text(RawProtocolSession.refreshedEvent(expiresAt: identity.expiresAt)))
            }
            context?.flush()
        }
    }

    private static func instant(unixSeconds: Int64, now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        now.advanced(by: .seconds(unixSeconds - Int64(Date().timeIntervalSince1970)))
    }

    /// Appends `envelope`; a client message that cannot be appended is answered with the
    /// protocol's error: an `error` event in json mode, close 1013 in opaque mode (which
    /// has no in-band errors).
    private func publish(_ envelope: Envelope, fromClient: Bool = false) {
        let future = hub.append(envelope, app: app)
        guard fromClient else { return }
        unansweredAppends += 1
        if unansweredAppends >= Self.maxUnansweredAppends { reads.pause() }
        future.assumeIsolated().whenComplete { [self] result in
            unansweredAppends -= 1
            if case .failure(let error) = result {
                let unavailable = (error as? RedisError)?.code == .bufferFull
                if session.mode == .json {
                    refuse(
                        code: "unavailable",
                        message: unavailable ? "message bus unavailable; try again later" : "message not delivered")
                } else if unavailable {
                    end(.busUnavailable, now: .now)
                }
                context?.flush()
            }
            if unansweredAppends <= Self.maxUnansweredAppends / 4 {
                reads.resume(context: context)
            }
        }
    }

    private func refuse(code: String, message: String) {
        guard session.mode == .json else { return }
        write(.text(RawProtocolSession.errorEvent(code: code, message: message)))
    }

    private func envelope(_ kind: Envelope.Kind) -> Envelope {
        Envelope(
            id: Envelope.randomID(), kind: kind, app: app, edge: hub.edgeID, connection: id, user: user,
            claims: kind == .open ? claims : nil,
            timestamp: Int64(Date().timeIntervalSince1970 * 1000)
        )
    }

    // MARK: Outbound

    /// Writes a pre-encoded frame from the bus; false when this connection took nothing.
    ///
    /// Writing to a client that is behind is fine: only a backlog that outlasts the grace
    /// closes it (checked here, so a busy stream closes it on time, and on the sweep).
    @discardableResult
    func send(_ delivery: OutboundDelivery) -> Bool {
        guard !closeMachine.isClosing, let context, let frame = delivery.frame(for: session.mode) else { return false }
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        if !context.channel.isWritable {
            let now = ContinuousClock.now
            if slowConsumer.check(now: now) == .close { end(.slowConsumer, now: now) }
        }
        return true
    }

    /// Closes with 4000 and the reason (a `disconnect` envelope).
    func disconnect(reason: String) {
        end(.disconnected(reason: reason), now: .now)
    }

    /// Drain: close 1001 and let the client finish the closing handshake.
    func goAway() {
        end(.shutdown, now: .now)
    }

    /// Driven by the hub once a second: identity expiry, slow consumer, heartbeat, close
    /// timeout.
    func tick(now: ContinuousClock.Instant) {
        // Most ticks find nothing due; flushing then would walk the pipeline for nothing.
        var wrote = false
        if let expiresAt, now >= expiresAt, !closeMachine.isClosing {
            end(.expired, now: now)
            wrote = true
        }
        if !closeMachine.isClosing, slowConsumer.check(now: now) == .close {
            end(.slowConsumer, now: now)
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
            end(.pingTimeout(close), now: now)
        }
        if wrote { context?.flush() }
    }

    private func fail(_ failure: WebSocketFailure) {
        end(.protocolError(code: failure.closeCode, message: failure.message), now: .now)
    }

    /// Ends the connection for `cause`: records it (metric, envelope, log) and runs the
    /// closing the cause asks for. The first cause of a closing is the one recorded; the
    /// close machine still sees later ones (a protocol error after our close frame drops
    /// TCP at once).
    private func end(_ cause: SocketCloseCause, now: ContinuousClock.Instant) {
        if !closeMachine.isClosing { closeCause = cause }
        guard let code = cause.code else { return }
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

    private func write(_ outbound: RawProtocolSession.Outbound) {
        guard let context else { return }
        write(ServerFrame.encode(outbound, allocator: context.channel.allocator))
    }

    private func write(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(buffer), promise: nil)
    }
}
