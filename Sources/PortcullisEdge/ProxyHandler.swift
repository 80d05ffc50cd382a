import Foundation
import Logging
import PortcullisAuth
import NIOCore
import NIOHTTP1
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
/// Sits last in the server pipeline and serves one request at a time: a pipelined request
/// that arrives while one is in flight is queued (and reading stops) until the response
/// before it has ended, so responses go out in request order. Bodies stream in both directions: reads from the client are held
/// while the upstream cannot take more bytes, and upstream reads are held while the client
/// cannot (see `read(context:)` and `UpstreamConnection.pauseReads`). The upstream
/// connection lives on this connection's event loop, so every call between the two is a
/// plain method call.
final class ProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ClientRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum State {
        /// Waiting for a request head.
        case idle
        /// Answered locally; dropping the rest of the request body.
        case discarding(closeAfter: Bool)
        /// Head received; an upstream connection is being leased.
        case connecting(Exchange)
        case proxying(Exchange, UpstreamConnection)
        /// A request to a socket route the edge answers itself (an upgrade being
        /// authenticated, an Engine.IO polling request waiting for its session).
        case socketExchange(SocketExchange)
        /// Handed over to a WebSocket tunnel or socket; this handler is on its way out.
        case tunnelled
        case closed
    }

    let environment: ProxyEnvironment
    /// The upstream connections (and Redis client) of this connection's event loop.
    let pool: LoopPool
    var state = State.idle
    var context: ChannelHandlerContext?
    /// The TCP peer, or the client a PROXY protocol header named.
    var clientAddress = "unknown"
    /// The client of the request in flight, for logs: the peer, or from a trusted proxy
    /// the address its `X-Forwarded-For` chain names (see ``Forwarding``).
    var requestClient = "unknown"
    private var reads = ReadGate()
    private var upstreamNeedsFlush = false
    var requestIds = RequestId()
    /// When the head of the request in flight arrived, for local answers' durations.
    var requestStarted = NIODeadline.now()
    /// Parts of pipelined requests waiting for the exchange in flight to end.
    private var queued = CircularBuffer<ClientRequestPart>()
    /// Set by a drain: finish the exchange in flight, then close.
    var quiescing = false
    private var lastActivity = NIODeadline.now()
    private var idleTimer: Scheduled<Void>?
    /// The relayed head of the response in flight, held until the body bytes read with it
    /// can join it in one buffer (see `upstream(_:receivedBody:)`).
    var heldResponseHead: ByteBuffer?

    init(environment: ProxyEnvironment, pool: LoopPool) {
        self.environment = environment
        self.pool = pool
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
        self.context = nil
    }

    // MARK: Client side

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        let part = unwrapInboundIn(data)
        if !queued.isEmpty || (isHead(part) && isBusy) {
            queued.append(part)
            pauseClientReads()
            return
        }
        handle(part, context: context)
    }

    private func handle(_ part: ClientRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            guard case .idle = state else { return }
            startExchange(head, context: context)
        case .body(let buffer):
            receivedBody(buffer, context: context)
        case .end(let trailers):
            receivedEnd(trailers, context: context)
        case .refused(let refusal, _):
            requestRefused(refusal, context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if upstreamNeedsFlush, case .proxying(_, let upstream) = state {
            upstreamNeedsFlush = false
            upstream.flush()
        }
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        reads.read(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, case .proxying(_, let upstream) = state {
            upstream.resumeReads()
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch state {
        case .proxying(let exchange, let upstream):
            upstream.close()
            logAccess(exchange, outcome: "client closed")
        case .connecting(let exchange):
            logAccess(exchange, outcome: "client closed")
        case .socketExchange(let exchange):
            exchange.timer?.cancel()
        case .tunnelled:
            state = .closed
        default:
            break
        }
        state = .closed
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if case .proxying(_, let upstream) = state { upstream.close() }
        state = .closed
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let source = event as? ProxyProtocolSource {
            clientAddress = source.address
            requestClient = source.address
            return
        }
        if event is ChannelShouldQuiesceEvent {
            quiescing = true
            if case .idle = state, queued.isEmpty { close(context: context) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private var isBusy: Bool {
        switch state {
        case .connecting, .proxying, .socketExchange, .tunnelled: return true
        case .idle, .discarding, .closed: return false
        }
    }

    /// Whether `part` starts a new request (a refusal of a head does too).
    private func isHead(_ part: ClientRequestPart) -> Bool {
        switch part {
        case .head, .refused(_, inBody: false): return true
        case .body, .end, .refused(_, inBody: true): return false
        }
    }

    /// The exchange in flight has ended and the connection stays open: serve what was
    /// pipelined behind it, then read again.
    func becameIdle(context: ChannelHandlerContext) {
        state = .idle
        if quiescing && queued.isEmpty {
            close(context: context)
            return
        }
        while let part = queued.first {
            if isHead(part) && isBusy { return }
            queued.removeFirst()
            handle(part, context: context)
            if case .closed = state { return }
        }
        resumeClientReads()
    }

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
        if case .idle = state, queued.isEmpty, deadline <= .now() {
            close(context: context)
        } else {
            armIdleTimer(at: max(deadline, .now() + .seconds(1)))
        }
    }

    private func startExchange(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        requestStarted = .now()
        let requestId = RequestId.accept(head.headers.first(name: "x-request-id")) ?? requestIds.make()
        let snapshot = environment.snapshots.current
        let forwarding = Forwarding(
            peer: clientAddress, scheme: environment.scheme, trustedProxies: environment.trustedProxies,
            headers: head.headers)
        requestClient = forwarding.client
        if head.uri == "*" {
            // `OPTIONS *` asks about the server, not a resource: the edge answers it.
            replyLocally(
                .ok, head: head, requestId: requestId, route: nil, closeAfter: !head.isKeepAlive, context: context,
                extraHeaders: [("allow", Self.allowedMethods)])
            return
        }
        let route = snapshot.routes.match(
            host: head.headers.first(name: "host"),
            path: head.uri,
            method: head.method.rawValue,
            listener: environment.listener
        )
        if let route, route.route.escapedSlashes == .reject, PathNormalizer.containsEncodedSeparator(head.uri) {
            requestRefused(RequestRefusal(.encodedSlash, "%2F or %5C in the path"), context: context)
            return
        }
        if let route, let socket = route.route.socket {
            startSocketRequest(head, route: route, socket: socket, requestId: requestId, context: context)
            return
        }
        guard let route, let proxy = route.route.proxy, let group = snapshot.upstreams[proxy.upstream] else {
            replyLocally(
                .notFound, head: head, requestId: requestId, route: nil, closeAfter: !head.isKeepAlive, context: context
            )
            return
        }
        if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > route.route.maxBodySize {
            replyLocally(
                .payloadTooLarge, head: head, requestId: requestId, route: route, closeAfter: true, context: context)
            return
        }
        // Cheap test first: most requests carry no Upgrade header, so `Connection` is parsed
        // once per request (by the hop-by-hop removal), not three times.
        let upgradeRequested =
            head.headers.contains(name: "upgrade")
            && HeaderRewriting.connectionNominated(head.headers).contains("upgrade")
        let tunnel = upgradeRequested && proxy.websocket && HeaderRewriting.isWebSocketUpgrade(head)
        let target =
            proxy.stripPrefix
            ? RouteTable.strip(prefix: route.route.match.path, from: head.uri) : head.uri
        let upstreamHead = HeaderRewriting.upstreamRequest(
            head,
            target: target,
            forwarding: forwarding,
            requestId: requestId,
            owned: snapshot.ownedHeaders,
            tunnel: tunnel,
            policy: route.route.auth
        )
        let exchange = Exchange(
            head: head,
            requestId: requestId,
            route: route,
            group: group,
            upstreamHead: upstreamHead,
            // The HTTP parser stops after an upgrade request, so one that is not tunnelled
            // ends the connection.
            keepAlive: head.isKeepAlive && (!upgradeRequested || tunnel),
            tunnel: tunnel
        )
        state = .connecting(exchange)
        pauseClientReads()
        guard let routeGuard = snapshot.guards[route.index] else {
            lease(exchange, context: context)
            return
        }
        let now = Date().timeIntervalSince1970
        let decision = routeGuard.decide(head, now: now)
        if let answer = RouteGuard.immediate(decision, hasRedis: pool.redis != nil) {
            authenticated(exchange, result: answer)
            return
        }
        routeGuard.resolve(decision, now: now, redis: pool.redis, on: context.eventLoop, logger: environment.logger)
            .assumeIsolated()
            .whenSuccess { result in
                self.authenticated(exchange, result: result)
            }
    }

    private func authenticated(_ exchange: Exchange, result: Result<Identity, AuthFailure>) {
        guard case .connecting(let current) = state, current === exchange, let context else { return }
        switch result {
        case .success(let identity):
            exchange.subject = identity.subject
            if let policy = exchange.route.route.auth {
                HeaderRewriting.applyIdentity(identity, policy: policy, to: &exchange.upstreamHead.headers)
            }
            if let header = exchange.route.route.auth?.socketIDHeader,
                let socketID = SocketIDCheck.candidate(in: exchange.head.headers, name: header),
                let names = environment.sockets?.names, let redis = pool.redis
            {
                SocketIDCheck.check(
                    socketID, subject: identity.subject, names: names, redis: redis, on: context.eventLoop
                )
                .assumeIsolated()
                .whenSuccess { vouched in
                    guard case .connecting(let current) = self.state, current === exchange, let context = self.context
                    else { return }
                    if vouched { exchange.upstreamHead.headers.add(name: header, value: socketID) }
                    self.lease(exchange, context: context)
                }
                return
            }
            lease(exchange, context: context)
        case .failure(let failure):
            refuse(
                failure, head: exchange.head, requestId: exchange.requestId, route: exchange.route,
                // A refused request without a body keeps its connection; one with a body
                // not yet read closes it rather than reading the body for nothing.
                closeAfter: !exchange.keepAlive || (!exchange.requestEnded && !exchange.hasNoBody), context: context)
        }
    }

    private func receivedBody(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        switch state {
        case .connecting(let exchange):
            exchange.requestBytes += buffer.readableBytes
            if exchange.requestBytes > exchange.route.route.maxBodySize {
                bodyTooLarge(exchange, upstream: nil, context: context)
                return
            }
            exchange.pending.append(.body(buffer))
        case .proxying(let exchange, let upstream):
            exchange.requestBytes += buffer.readableBytes
            if exchange.requestBytes > exchange.route.route.maxBodySize {
                bodyTooLarge(exchange, upstream: upstream, context: context)
                return
            }
            sendBody(buffer, of: exchange, to: upstream)
            upstreamNeedsFlush = true
            if !upstream.isWritable {
                // Pause before flushing: the flush may make the upstream writable again at
                // once, and that notification must find the pause in place.
                pauseClientReads()
                upstream.flush()
                upstreamNeedsFlush = false
            }
        case .socketExchange(let exchange):
            receivedSocketBody(buffer, exchange: exchange, context: context)
        case .idle, .discarding, .tunnelled, .closed:
            break
        }
    }

    private func receivedEnd(_ trailers: HTTPHeaders?, context: ChannelHandlerContext) {
        switch state {
        case .discarding(let closeAfter):
            if closeAfter {
                close(context: context)
            } else {
                becameIdle(context: context)
            }
        case .connecting(let exchange):
            exchange.requestEnded = true
            exchange.pending.append(.end(trailers))
        case .socketExchange(let exchange):
            receivedSocketEnd(exchange)
        case .proxying(let exchange, let upstream):
            exchange.requestEnded = true
            sendEnd(trailers, of: exchange, to: upstream)
            upstream.flush()
            upstreamNeedsFlush = false
            upstream.requestSent()
        case .idle, .tunnelled, .closed:
            break
        }
    }

    private func bodyTooLarge(_ exchange: Exchange, upstream: UpstreamConnection?, context: ChannelHandlerContext) {
        upstream?.close()
        if exchange.responseStarted {
            logAccess(exchange, outcome: "request body over limit")
            close(context: context)
            return
        }
        replyLocally(
            .payloadTooLarge, head: exchange.head, requestId: exchange.requestId, route: exchange.route,
            closeAfter: true, context: context
        )
    }

    // MARK: Upstream connection

    func lease(_ exchange: Exchange, context: ChannelHandlerContext) {
        guard let serverIndex = pool.pickServer(of: exchange.group, excluding: exchange.tried) else {
            EdgeMetrics.shared.upstreamError(upstream: exchange.group.name, server: "-", kind: .noServer)
            fail(exchange, status: .badGateway, context: context)
            return
        }
        exchange.tried.append(serverIndex)
        exchange.server = exchange.group.servers[serverIndex].label
        if let connection = pool.idleConnection(to: exchange.group.servers[serverIndex]) {
            leased(connection, for: exchange)
            return
        }
        pool.connect(group: exchange.group, serverIndex: serverIndex).whenComplete { result in
            switch result {
            case .success(let connection):
                self.leased(connection, for: exchange)
            case .failure(let error):
                EdgeMetrics.shared.upstreamError(
                    upstream: exchange.group.name, server: exchange.group.servers[serverIndex].label,
                    kind: .connectFailed)
                self.pool.connectFailed(group: exchange.group, serverIndex: serverIndex, error: error)
                self.connectFailed(exchange, error: error)
            }
        }
    }

    private func connectFailed(_ exchange: Exchange, error: Error) {
        guard case .connecting(let current) = state, current === exchange, let context else { return }
        environment.logger.debug(
            "upstream connect failed",
            metadata: [
                "request.id": "\(exchange.requestId)", "upstream.server": "\(exchange.server ?? "-")",
                "error": "\(error)",
            ]
        )
        if exchange.head.method.isIdempotent, exchange.tried.count < 2, exchange.group.servers.count > 1 {
            lease(exchange, context: context)
            return
        }
        fail(exchange, status: .badGateway, context: context)
    }

    private func leased(_ upstream: UpstreamConnection, for exchange: Exchange) {
        guard case .connecting(let current) = state, current === exchange, let context else {
            // The client went away or was answered while we connected.
            upstream.close()
            return
        }
        state = .proxying(exchange, upstream)
        exchange.upstreamStarted = .now()
        upstream.begin(
            delegate: self, responseTimeout: exchange.group.settings.responseTimeout.timeAmount,
            requestIsHead: exchange.head.method == .HEAD, upgradeRequested: exchange.tunnel,
            dechunk: exchange.head.version.minor == 0)
        var head = context.channel.allocator.buffer(capacity: 1024)
        head.writeRequestHead(exchange.upstreamHead)
        upstream.write(head)
        let pending = exchange.pending
        exchange.pending = []
        for part in pending {
            switch part {
            case .body(let buffer): sendBody(buffer, of: exchange, to: upstream)
            case .end(let trailers): sendEnd(trailers, of: exchange, to: upstream)
            case .head, .refused: break
            }
        }
        upstream.flush()
        if exchange.requestEnded {
            upstream.requestSent()
        } else if exchange.expectContinue {
            var interim = context.channel.allocator.buffer(capacity: 32)
            interim.writeResponseHead(HTTPResponseHead(version: exchange.head.version, status: .continue))
            context.writeAndFlush(wrapOutboundOut(interim), promise: nil)
        }
        if upstream.isWritable { resumeClientReads() }
    }

    /// Body bytes in the framing the upstream head declared: as they are after a
    /// `Content-Length`, one chunk each when chunked (the edge re-frames chunked bodies, so
    /// the client's chunk boundaries and extensions never reach a backend).
    private func sendBody(_ buffer: ByteBuffer, of exchange: Exchange, to upstream: UpstreamConnection) {
        guard exchange.requestChunked else {
            upstream.write(buffer)
            return
        }
        guard buffer.readableBytes > 0, let context else { return }
        var chunk = context.channel.allocator.buffer(capacity: buffer.readableBytes + 20)
        chunk.writeChunk(buffer)
        upstream.write(chunk)
    }

    private func sendEnd(_ trailers: HTTPHeaders?, of exchange: Exchange, to upstream: UpstreamConnection) {
        guard exchange.requestChunked, let context else { return }
        var last = context.channel.allocator.buffer(capacity: 64)
        last.writeLastChunk(trailers: trailers)
        upstream.write(last)
    }

    func fail(
        _ exchange: Exchange, status: HTTPResponseStatus, context: ChannelHandlerContext, outcome: String? = nil
    ) {
        replyLocally(
            status, head: exchange.head, requestId: exchange.requestId, route: exchange.route,
            closeAfter: !exchange.requestEnded || !exchange.keepAlive, context: context,
            server: exchange.server, outcome: outcome
        )
    }

    // MARK: Flow control and teardown

    func pauseClientReads() {
        reads.pause()
    }

    func resumeClientReads() {
        reads.resume(context: context)
    }

    /// Closes the client connection after flushing what was written: a response cut short
    /// by its upstream reaches the client as far as it got, visibly truncated.
    func close(context: ChannelHandlerContext) {
        state = .closed
        writeHeldResponseHead(context: context)
        context.flush()
        context.close(promise: nil)
    }
}
