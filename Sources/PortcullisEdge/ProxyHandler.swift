import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PortcullisAuth
import PortcullisConfig
import PortcullisHTTP

/// What a client connection's proxy handler needs from the edge.
struct ProxyEnvironment: Sendable {
    let listener: String
    let scheme: String
    /// Peers whose forwarding headers are believed (the listener's `trusted_proxies`).
    let trustedProxies: [CIDRBlock]
    let snapshots: SnapshotBox
    let pools: PoolRegistry
    /// The bus side of socket routes; nil without Redis (socket routes then answer 503).
    let sockets: SocketBus?
    let logger: Logger
    let accessLog: Bool
    /// Keep-alive connections with no request in flight are closed after this long.
    let idleTimeout: TimeAmount
}

/// Reverse-proxies the requests of one client connection to upstream pools.
///
/// A thin handler around ``ProxyConnectionStateMachine``: channel events and upstream
/// callbacks become the machine's events, and `run(_:context:)` carries out the actions it
/// returns. What the machine cannot know stays here: routing against the current snapshot
/// (``ProxyRouting``), authentication (`+Auth`), leasing and relaying (`+Upstream`), local
/// answers, access logs, socket routes, and flow control. Bodies stream in both
/// directions: reads from the client are held while the upstream cannot take more bytes,
/// and upstream reads are held while the client cannot (see `read(context:)` and
/// `UpstreamConnection.pauseReads`). The upstream connection lives on this connection's
/// event loop, so every call between the two is a plain method call.
final class ProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    /// After an upgrade, bytes the client sent behind its request, for the handler
    /// that takes over (see `removeHandler(context:removalToken:)`).
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    typealias Machine = ProxyConnectionStateMachine

    let environment: ProxyEnvironment
    /// The upstream connections (and Redis client) of this connection's event loop.
    let pool: LoopPool
    var machine = Machine()
    private var decoder: ClientRequestDecoder
    /// Bytes read but not decoded yet: part of a head, or what follows an upgrade request.
    private var undecoded: ByteBuffer?
    var context: ChannelHandlerContext?
    /// The TCP peer, or the client a PROXY protocol header named.
    var clientAddress = "unknown"
    /// The client of the request in flight, for logs: the peer, or from a trusted proxy
    /// the address its `X-Forwarded-For` chain names (see ``Forwarding``).
    var requestClient = "unknown"
    private var reads = ReadGate()
    var upstreamNeedsFlush = false
    var requestIds = RequestId()
    /// When the head of the request in flight arrived, for local answers' durations.
    var requestStarted = NIODeadline.now()
    private var lastActivity = NIODeadline.now()
    private var idleTimer: Scheduled<Void>?
    /// The relayed head of the response in flight, held until the body bytes read with it
    /// can join it in one buffer (see `upstream(_:receivedBody:)`).
    var heldResponseHead: ByteBuffer?

    init(environment: ProxyEnvironment, pool: LoopPool, policy: RequestPolicy) {
        self.environment = environment
        self.pool = pool
        self.decoder = ClientRequestDecoder(policy: policy)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        clientAddress = context.channel.remoteAddress?.ipAddress ?? "unknown"
        requestClient = clientAddress
        armIdleTimer(at: lastActivity + environment.idleTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        idleTimer = nil
        undecoded = nil
        self.context = nil
    }

    /// Leaving after an upgrade (for a tunnel or a socket, whose handlers are already in
    /// place behind this one): the bytes the client sent behind its upgrade request go on
    /// to them before this handler leaves.
    func removeHandler(context: ChannelHandlerContext, removalToken: ChannelHandlerContext.RemovalToken) {
        if decoder.isUpgraded, let bytes = undecoded, bytes.readableBytes > 0 {
            undecoded = nil
            context.fireChannelRead(wrapInboundOut(bytes))
            context.fireChannelReadComplete()
        }
        context.leavePipeline(removalToken: removalToken)
    }

    // MARK: Channel events

    /// Decodes the client's bytes straight into request parts for the state machine.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        var bytes = unwrapInboundIn(data)
        if var held = undecoded {
            undecoded = nil
            held.writeBuffer(&bytes)
            bytes = held
        }
        while !machine.isClosed, let part = decoder.next(from: &bytes) {
            run(machine.received(part), context: context)
        }
        if bytes.readableBytes > 0 && !machine.isClosed { undecoded = bytes }
        if decoder.isUpgraded { pauseClientReads() }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if upstreamNeedsFlush, let upstream = machine.upstream {
            upstreamNeedsFlush = false
            upstream.flush()
        }
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        reads.read(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let upstream = machine.upstream {
            upstream.resumeReads()
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        run(machine.clientClosed(), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        machine.failed()?.close()
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let source = event as? ProxyProtocolSource {
            clientAddress = source.address
            requestClient = source.address
            return
        }
        if event is ChannelShouldQuiesceEvent {
            if machine.quiesce() { close(context: context) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Actions

    func run(_ action: Machine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .pauseReads:
            pauseClientReads()
        case .route(let head):
            route(head, context: context)
        case .forwardBody(let buffer, let exchange, let upstream):
            forwardBody(buffer, of: exchange, to: upstream)
        case .forwardEnd(let trailers, let exchange, let upstream):
            sendEnd(trailers, of: exchange, to: upstream)
            upstream.flush()
            upstreamNeedsFlush = false
            upstream.requestSent()
        case .socketBody(let buffer, let exchange):
            receivedSocketBody(buffer, exchange: exchange, context: context)
        case .socketEnd(let exchange):
            receivedSocketEnd(exchange)
        case .becomeIdle:
            becameIdle(context: context)
        case .refuse(let refusal, let exchange, let upstream):
            upstream?.close()
            answerRefusal(refusal, of: exchange, context: context)
        case .answer(let exchange, let status, let closeAfter, let outcome, let upstream):
            upstream?.close()
            replyLocally(
                status, head: exchange.head, requestId: exchange.requestId, route: exchange.route,
                closeAfter: closeAfter, context: context, server: exchange.server, outcome: outcome)
        case .cutShort(let exchange, let outcome, let upstream):
            upstream?.close()
            logAccess(exchange, outcome: outcome)
            close(context: context)
        case .close:
            close(context: context)
        case .lease(let exchange):
            lease(exchange, context: context)
        case .begin(let exchange, let upstream, let pending):
            begin(exchange, on: upstream, pending: pending, context: context)
        case .finish(let exchange, let upstream, let keepClient):
            finish(exchange, upstream: upstream, keepClient: keepClient, context: context)
        case .closeUpstream(let upstream):
            upstream.close()
        case .abandon(let exchange, let upstream, let socket):
            upstream?.close()
            if let exchange { logAccess(exchange, outcome: "client closed") }
            socket?.timer?.cancel()
        }
    }

    /// The exchange in flight has ended and the connection stays open: serve what was
    /// pipelined behind it, then read again.
    func becameIdle(context: ChannelHandlerContext) {
        if machine.becameIdle() {
            close(context: context)
            return
        }
        while let part = machine.nextQueued() {
            run(machine.process(part), context: context)
        }
        if !machine.hasQueued && !machine.isClosed { resumeClientReads() }
    }

    private func route(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        requestStarted = .now()
        let requestId = RequestId.accept(head.headers.first(name: "x-request-id")) ?? requestIds.make()
        let snapshot = environment.snapshots.current
        let forwarding = Forwarding(
            peer: clientAddress, scheme: environment.scheme, trustedProxies: environment.trustedProxies,
            headers: head.headers)
        requestClient = forwarding.client
        switch ProxyRouting.decide(
            head, requestId: requestId, forwarding: forwarding, snapshot: snapshot, listener: environment.listener)
        {
        case .answer(let status, let route, let closeAfter, let headers):
            replyLocally(
                status, head: head, requestId: requestId, route: route, closeAfter: closeAfter, context: context,
                extraHeaders: headers)
        case .refuse(let refusal):
            run(machine.process(.refused(refusal, inBody: false)), context: context)
        case .socket(let route, let socket):
            startSocketRequest(head, route: route, socket: socket, requestId: requestId, context: context)
        case .proxy(let exchange):
            machine.startProxying(exchange)
            pauseClientReads()
            authenticate(exchange, snapshot: snapshot, context: context)
        }
    }

    // MARK: Idle timeout

    /// One timer per connection, re-armed from the last read rather than per request.
    private func armIdleTimer(at deadline: NIODeadline) {
        guard let context else { return }
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.idleTimerFired()
        }
    }

    private func idleTimerFired() {
        idleTimer = nil
        guard let context else { return }
        let deadline = lastActivity + environment.idleTimeout
        if machine.isIdle, deadline <= .now() {
            close(context: context)
        } else {
            armIdleTimer(at: max(deadline, .now() + .seconds(1)))
        }
    }

    // MARK: Flow control and teardown

    func pauseClientReads() {
        reads.pause()
    }

    /// Reads stay paused after an upgrade request: what follows it waits for the handler
    /// of the new protocol, which reads on when it takes over.
    func resumeClientReads() {
        guard !decoder.isUpgraded else { return }
        reads.resume(context: context)
    }

    /// Closes the client connection after flushing what was written: a response cut short
    /// by its upstream reaches the client as far as it got, visibly truncated.
    func close(context: ChannelHandlerContext) {
        machine.markClosed()
        writeHeldResponseHead(context: context)
        context.flush()
        context.close(promise: nil)
    }
}
