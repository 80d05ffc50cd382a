import Foundation
import NIOCore
import NIOHTTP1
import NIOWebSocket
import PortcullisAuth
import PortcullisConfig
import PortcullisWire

/// Socket routes: the edge answers the request itself. The route's auth policy and Origin
/// check run first (401/403 before any 101 or open packet); then a WebSocket leaves the
/// HTTP pipeline for a ``SocketHandler``, and Engine.IO polling requests are answered by
/// their session's ``PollingTransport``.
extension ProxyHandler {
    func startSocketRequest(
        _ head: HTTPRequestHead, route: RouteTable.Entry, socket: SocketAction, requestId: String,
        context: ChannelHandlerContext
    ) {
        guard environment.sockets?.hub(for: context.eventLoop) != nil else {
            replyLocally(
                .serviceUnavailable, head: head, requestId: requestId, route: route, closeAfter: true,
                context: context, outcome: "socket routes need redis.url")
            return
        }
        let purpose: SocketExchange.Purpose
        switch SocketRouteRequest.classify(head, socket: socket) {
        case .refused(let refusal):
            replySocketRoute(
                refusal.status, body: refusal.body, contentType: refusal.contentType, head: head, requestId: requestId,
                route: route, closeAfter: true, context: context, extraHeaders: refusal.headers,
                outcome: refusal.reason)
            return
        case .preflight:
            replySocketRoute(
                .noContent, body: "", contentType: nil, head: head, requestId: requestId, route: route,
                closeAfter: !head.isKeepAlive, context: context,
                extraHeaders: [
                    ("access-control-allow-methods", "GET, POST, OPTIONS"),
                    ("access-control-allow-headers", head.headers.first(name: "access-control-request-headers") ?? ""),
                    ("access-control-max-age", "86400"),
                ])
            return
        case .upgrade(let accepted, let sid):
            startUpgrade(head, accepted: accepted, sid: sid, route: route, socket: socket, requestId: requestId)
            return
        case .webSocket(let accepted, let query):
            purpose = .webSocket(accepted, query: query)
        case .pollingHandshake(let query):
            purpose = .pollingHandshake(query)
        case .poll(let sid):
            purpose = .poll(sid: sid)
        case .send(let sid):
            purpose = .send(sid: sid)
        }
        let exchange = SocketExchange(head: head, requestId: requestId, route: route, socket: socket, purpose: purpose)
        machine.startSocketExchange(exchange)
        switch purpose {
        case .poll(let sid):
            dispatchPoll(exchange, sid: sid, body: nil)
            return
        case .send:
            // The body arrives next; it is posted at its end.
            return
        case .webSocket, .pollingHandshake:
            break
        }
        pauseClientReads()
        exchange.timer = context.eventLoop.assumeIsolated().scheduleTask(in: socket.handshakeTimeout.timeAmount) {
            guard self.machine.socketExchange === exchange, let context = self.context
            else { return }
            self.replyLocally(
                .serviceUnavailable, head: head, requestId: requestId, route: route, closeAfter: true,
                context: context, outcome: "handshake timeout")
        }
        let snapshot = environment.snapshots.current
        guard let routeGuard = snapshot.guards[route.index] else {
            socketAuthenticated(exchange, result: nil)
            return
        }
        routeGuard.authenticate(
            head, now: Date().timeIntervalSince1970, redis: pool.redis,
            on: context.eventLoop, logger: environment.logger
        )
        .assumeIsolated()
        .whenSuccess { result in
            self.socketAuthenticated(exchange, result: result)
        }
    }

    /// Body bytes of a socket-route request: a polling POST's packets, bounded by
    /// `max_payload` (413 past it, as the reference server answers); other requests have none.
    func receivedSocketBody(_ buffer: ByteBuffer, exchange: SocketExchange, context: ChannelHandlerContext) {
        guard case .send = exchange.purpose else { return }
        let limit = exchange.socket.socketIO?.maxPayload ?? exchange.socket.maxMessageSize
        guard exchange.body.count + buffer.readableBytes <= limit else {
            replySocketRoute(
                .payloadTooLarge, body: nil, contentType: nil, head: exchange.head, requestId: exchange.requestId,
                route: exchange.route, closeAfter: true, context: context, outcome: "polling payload too large")
            return
        }
        exchange.body += buffer.readableBytesView
    }

    func receivedSocketEnd(_ exchange: SocketExchange) {
        if case .send(let sid) = exchange.purpose {
            dispatchPoll(exchange, sid: sid, body: exchange.body)
        }
    }

    /// `result` nil: a public route (anonymous connection). On a Socket.IO route that reads
    /// tokens from the CONNECT `auth`, a handshake without a token passes: every CONNECT
    /// must then bring one.
    private func socketAuthenticated(_ exchange: SocketExchange, result: Result<Identity, AuthFailure>?) {
        guard machine.socketExchange === exchange, let context else { return }
        var identity = SocketConnection.Identity()
        switch result {
        case .failure(let failure)
        where failure.code == .missingToken && exchange.socket.wireProtocol == .socketio
            && exchange.route.route.auth?.tokenSources.contains(.socketIO) == true:
            break
        case .failure(let failure):
            exchange.timer?.cancel()
            EdgeMetrics.shared.handshake(
                route: exchange.route.name, protocol: exchange.socket.wireProtocol.rawValue, result: "refused")
            refuse(
                failure, head: exchange.head, requestId: exchange.requestId, route: exchange.route,
                closeAfter: true, context: context)
            return
        case .success(let verified):
            identity = SocketConnection.Identity(verified)
        case nil:
            break
        }
        switch exchange.purpose {
        case .webSocket:
            // Authentication may finish inside the decoder's read callback; switch the
            // pipeline on the next tick, once the decoder has delivered the request's end.
            context.eventLoop.assumeIsolated().execute {
                self.upgrade(exchange, identity: identity)
            }
        case .pollingHandshake(let query):
            exchange.timer?.cancel()
            openPollingSession(exchange, query: query, identity: identity, context: context)
        case .poll, .send:
            break
        }
    }

    private func makeConnection(
        _ exchange: SocketExchange, query: EngineIORequestQuery?, transport: SocketTransportKind,
        identity: SocketConnection.Identity, hub: SocketHub, sid: String?, context: ChannelHandlerContext
    ) -> SocketConnection {
        let id = hub.makeConnectionID()
        if environment.accessLog {
            environment.logger.info(
                "socket open",
                metadata: [
                    "listener": "\(environment.listener)", "route": "\(exchange.route.name)",
                    "protocol": "\(exchange.socket.wireProtocol.rawValue)", "request.id": "\(exchange.requestId)",
                    "client": "\(requestClient)", "conn.id": "\(id)", "subject": "\(identity.user ?? "-")",
                    "transport": "\(transport)",
                ])
        }
        let session = SocketSessionFactory.make(
            socket: exchange.socket, route: exchange.route.route, target: exchange.head.uri, query: query,
            transport: transport, connectionID: id, sid: sid ?? hub.makeSessionID(), identity: identity)
        return SocketConnection(
            id: id, routeName: exchange.route.name, settings: exchange.socket, session: session, identity: identity,
            hub: hub, accessLog: environment.accessLog,
            verifier: makeVerifier(route: exchange.route, eventLoop: context.eventLoop))
    }

    private func upgrade(_ exchange: SocketExchange, identity: SocketConnection.Identity) {
        guard machine.socketExchange === exchange, let context,
            context.channel.isActive, let hub = environment.sockets?.hub(for: context.eventLoop),
            case .webSocket(let accepted, let query) = exchange.purpose
        else { return }
        exchange.timer?.cancel()
        let connection = makeConnection(
            exchange, query: query, transport: .webSocket, identity: identity, hub: hub, sid: nil, context: context)
        let handler = SocketHandler(
            connection: connection, settings: exchange.socket,
            webSocketHeartbeat: exchange.socket.wireProtocol != .socketio)
        switchToWebSocket(handler, accepted: accepted, exchange: exchange, context: context)
    }

    /// Writes the 101 and hands the connection to `handler`.
    private func switchToWebSocket(
        _ handler: SocketHandler, accepted: WebSocketHandshake.Accepted, exchange: SocketExchange,
        context: ChannelHandlerContext
    ) {
        machine.switchingProtocols()
        handler.negotiated(accepted.deflate)
        let response = WebSocketHandshake.response(
            accepted, version: exchange.head.version, requestId: exchange.requestId)
        var bytes = context.channel.allocator.buffer(capacity: 256)
        bytes.writeResponseHead(response)
        context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
        pool.requestMetrics.record(
            route: exchange.route.name, status: 101, nanoseconds: (NIODeadline.now() - requestStarted).nanoseconds)
        do {
            try SocketPipeline.install(handler, replacing: context, maxFrameSize: exchange.socket.maxMessageSize)
            EdgeMetrics.shared.handshake(
                route: exchange.route.name, protocol: exchange.socket.wireProtocol.rawValue, result: "accepted")
            context.channel.setOption(
                .writeBufferWaterMark,
                value: .init(low: exchange.socket.sendQueue / 2, high: exchange.socket.sendQueue)
            ).whenFailure { _ in }
        } catch {
            EdgeMetrics.shared.handshake(
                route: exchange.route.name, protocol: exchange.socket.wireProtocol.rawValue, result: "failed")
            environment.logger.warning(
                "socket setup failed", metadata: ["request.id": "\(exchange.requestId)", "error": "\(error)"])
            context.close(promise: nil)
        }
    }

    // MARK: Engine.IO polling

    private func openPollingSession(
        _ exchange: SocketExchange, query: EngineIORequestQuery, identity: SocketConnection.Identity,
        context: ChannelHandlerContext
    ) {
        guard let hub = environment.sockets?.hub(for: context.eventLoop) else { return }
        let sid = hub.makeSessionID()
        let connection = makeConnection(
            exchange, query: query, transport: .polling, identity: identity, hub: hub, sid: sid, context: context)
        let transport = PollingTransport(
            sid: sid, connection: connection, maxPayload: exchange.socket.socketIO?.maxPayload ?? 1_000_000,
            onEnd: { [weak hub] in hub?.removePollingSession(sid) })
        hub.addPollingSession(transport)
        connection.pollingSessionID = sid
        connection.transport = transport
        connection.start()
        EdgeMetrics.shared.handshake(
            route: exchange.route.name, protocol: exchange.socket.wireProtocol.rawValue, result: "accepted")
        transport.poll(pollResponder(exchange, context: context))
    }

    /// Hands a GET or a POST's body to session `sid` on whichever loop holds it.
    private func dispatchPoll(_ exchange: SocketExchange, sid: String, body: [UInt8]?) {
        guard let context else { return }
        let responder = pollResponder(exchange, context: context)
        guard let hub = environment.sockets?.hub(forSessionID: sid) else {
            responder(.error(EngineIORequestError(code: .unknownSessionID, reason: "sid \(sid.prefix(32))")))
            return
        }
        hub.eventLoop.execute {
            guard let transport = hub.value.pollingSession(sid) else {
                responder(.error(EngineIORequestError(code: .unknownSessionID, reason: "unknown sid")))
                return
            }
            if let body {
                transport.post(body, responder: responder)
            } else {
                transport.poll(responder)
            }
        }
    }

    /// Answers `exchange` on this handler's loop, once, if it is still the request in flight.
    private func pollResponder(
        _ exchange: SocketExchange, context: ChannelHandlerContext
    ) -> PollingTransport.PollResponder {
        let target = NIOLoopBound((self, exchange), eventLoop: context.eventLoop)
        return { response in
            target.eventLoop.execute {
                let (handler, exchange) = target.value
                handler.pollAnswered(exchange, response)
            }
        }
    }

    private func pollAnswered(_ exchange: SocketExchange, _ response: PollingTransport.PollResponse) {
        guard machine.socketExchange === exchange, let context else { return }
        var headers: [(String, String)] = []
        if let origin = corsOrigin(exchange) {
            headers += [("access-control-allow-origin", origin), ("access-control-allow-credentials", "true")]
        }
        replySocketRoute(
            HTTPResponseStatus(statusCode: response.status), body: response.body, contentType: response.contentType,
            head: exchange.head, requestId: exchange.requestId, route: exchange.route,
            closeAfter: !exchange.head.isKeepAlive || response.status >= 400 && !exchange.requestEnded,
            context: context, extraHeaders: headers, outcome: response.status >= 400 ? "engine.io refused" : nil)
    }

    /// The request's Origin when the route's Origin list allows it (browser clients poll
    /// cross-origin with credentials); nil without an Origin or a list.
    private func corsOrigin(_ exchange: SocketExchange) -> String? {
        guard let origin = exchange.head.headers.first(name: "origin"),
            let routeGuard = environment.snapshots.current.guards[exchange.route.index],
            routeGuard.allowsCrossOrigin(origin)
        else { return nil }
        return origin
    }

    /// `transport=websocket&sid=…`: the session must exist on this edge (polling needs
    /// stickiness); its client then probes this WebSocket before it takes over.
    private func startUpgrade(
        _ head: HTTPRequestHead, accepted: WebSocketHandshake.Accepted, sid: String, route: RouteTable.Entry,
        socket: SocketAction, requestId: String
    ) {
        guard let context else { return }
        let exchange = SocketExchange(
            head: head, requestId: requestId, route: route, socket: socket, purpose: .poll(sid: sid))
        machine.startSocketExchange(exchange)
        pauseClientReads()
        let target = NIOLoopBound((self, exchange), eventLoop: context.eventLoop)
        let unknown = EngineIORequestError(code: .unknownSessionID, reason: "no polling session to upgrade")
        guard let hub = environment.sockets?.hub(forSessionID: sid) else {
            replySocketRoute(
                .badRequest, body: unknown.jsonBody, contentType: "application/json", head: head,
                requestId: requestId, route: route, closeAfter: true, context: context, outcome: unknown.reason)
            return
        }
        hub.eventLoop.execute {
            let probe = hub.value.pollingSession(sid).map { EngineIOUpgradeProbe($0, on: hub.eventLoop) }
            target.eventLoop.execute {
                let (handler, exchange) = target.value
                handler.upgradeFound(probe, accepted: accepted, exchange: exchange, unknown: unknown)
            }
        }
    }

    private func upgradeFound(
        _ probe: EngineIOUpgradeProbe?, accepted: WebSocketHandshake.Accepted, exchange: SocketExchange,
        unknown: EngineIORequestError
    ) {
        guard machine.socketExchange === exchange, let context else { return }
        guard let probe else {
            replySocketRoute(
                .badRequest, body: unknown.jsonBody, contentType: "application/json", head: exchange.head,
                requestId: exchange.requestId, route: exchange.route, closeAfter: true, context: context,
                outcome: unknown.reason)
            return
        }
        let handler = SocketHandler(probing: probe, settings: exchange.socket)
        context.eventLoop.assumeIsolated().execute {
            guard self.machine.socketExchange === exchange, let context = self.context
            else { return }
            self.switchToWebSocket(handler, accepted: accepted, exchange: exchange, context: context)
        }
    }

    /// A local answer on a socket route with a body of its own (Engine.IO payloads and
    /// errors); nil body: the edge's plain-text status line.
    func replySocketRoute(
        _ status: HTTPResponseStatus, body: String?, contentType: String?, head: HTTPRequestHead, requestId: String,
        route: RouteTable.Entry, closeAfter: Bool, context: ChannelHandlerContext,
        extraHeaders: [(String, String)] = [], outcome: String? = nil
    ) {
        machine.socketExchange?.timer?.cancel()
        replyLocally(
            status, head: head, requestId: requestId, route: route, closeAfter: closeAfter, context: context,
            extraHeaders: extraHeaders, outcome: outcome, body: body.map { ($0, contentType) })
    }
}

extension ProxyHandler {
    /// Verifies tokens offered after the upgrade (refresh, Socket.IO CONNECT `auth`) against
    /// the route's guard in the snapshot current at that time, so key rotations apply to
    /// live sockets too; nil for routes without token authentication.
    fileprivate func makeVerifier(route: RouteTable.Entry, eventLoop: EventLoop) -> SocketConnection.Verifier? {
        guard let policy = route.route.auth, policy.methods.contains(.jwt) else { return nil }
        let environment = self.environment
        let name = route.name
        let redis = environment.pools.pool(for: eventLoop).redis
        return { token in
            guard let routeGuard = environment.snapshots.current.guardOf(route: name) else {
                return eventLoop.makeSucceededFuture(
                    .failure(AuthFailure(.missingToken, "the route no longer authenticates with tokens")))
            }
            return routeGuard.refresh(
                token: token, now: Date().timeIntervalSince1970, redis: redis, on: eventLoop,
                logger: environment.logger)
        }
    }
}

/// Swaps the proxy handler of a client connection for the WebSocket frame decoder and a
/// ``SocketHandler``, after the 101 was written. The proxy handler leaves last, handing
/// the frame decoder any bytes the client sent behind its upgrade request.
enum SocketPipeline {
    static func install(_ handler: SocketHandler, replacing proxy: ChannelHandlerContext, maxFrameSize: Int) throws {
        let pipeline = proxy.pipeline.syncOperations
        try pipeline.addHandler(
            ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxFrameSize)), position: .last)
        try pipeline.addHandler(handler, position: .last)
        pipeline.removeHandler(context: proxy, promise: nil)
        proxy.channel.read()
    }
}
