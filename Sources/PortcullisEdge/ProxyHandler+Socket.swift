import Foundation
import NIOCore
import NIOHTTP1
import NIOWebSocket
import PortcullisAuth
import PortcullisConfig
import PortcullisWire

/// An upgrade request on a socket route, from its head to the 101 or a refusal.
final class SocketHandshake {
    let head: HTTPRequestHead
    let requestId: String
    let route: RouteTable.Entry
    let socket: SocketAction
    let accepted: WebSocketHandshake.Accepted
    var requestEnded = false
    var timer: Scheduled<Void>?

    init(
        head: HTTPRequestHead, requestId: String, route: RouteTable.Entry, socket: SocketAction,
        accepted: WebSocketHandshake.Accepted
    ) {
        self.head = head
        self.requestId = requestId
        self.route = route
        self.socket = socket
        self.accepted = accepted
    }
}

/// Socket routes: the edge answers the upgrade itself. The route's auth policy and Origin
/// check run first (401/403 before any 101); then the HTTP handlers leave the pipeline and
/// a ``SocketHandler`` takes the connection over.
extension ProxyHandler {
    func startSocketHandshake(
        _ head: HTTPRequestHead, route: RouteTable.Entry, socket: SocketAction, requestId: String,
        context: ChannelHandlerContext
    ) {
        let accepted: WebSocketHandshake.Accepted
        switch WebSocketHandshake.check(head, subprotocols: socket.subprotocols) {
        case .failure(let refusal):
            replyLocally(
                refusal.status, head: head, requestId: requestId, route: route, closeAfter: true, context: context,
                extraHeaders: refusal.headers, outcome: refusal.reason)
            return
        case .success(let value):
            accepted = value
        }
        guard environment.sockets?.hub(for: context.eventLoop) != nil else {
            replyLocally(
                .serviceUnavailable, head: head, requestId: requestId, route: route, closeAfter: true,
                context: context, outcome: "socket routes need redis.url")
            return
        }
        let handshake = SocketHandshake(
            head: head, requestId: requestId, route: route, socket: socket, accepted: accepted)
        state = .socketHandshake(handshake)
        pauseClientReads()
        handshake.timer = context.eventLoop.assumeIsolated().scheduleTask(in: socket.handshakeTimeout.timeAmount) {
            guard case .socketHandshake(let current) = self.state, current === handshake, let context = self.context
            else { return }
            self.replyLocally(
                .serviceUnavailable, head: head, requestId: requestId, route: route, closeAfter: true,
                context: context, outcome: "handshake timeout")
        }
        let snapshot = environment.snapshots.current
        guard let routeGuard = snapshot.guards[route.index] else {
            socketAuthenticated(handshake, result: nil)
            return
        }
        routeGuard.authenticate(
            head, now: Date().timeIntervalSince1970, redis: environment.pools.pool(for: context.eventLoop).redis,
            on: context.eventLoop, logger: environment.logger
        )
        .assumeIsolated()
        .whenSuccess { result in
            self.socketAuthenticated(handshake, result: result)
        }
    }

    /// `result` nil: a public route (anonymous connection).
    private func socketAuthenticated(_ handshake: SocketHandshake, result: Result<Identity, AuthFailure>?) {
        guard case .socketHandshake(let current) = state, current === handshake, let context else { return }
        var identity = SocketConnection.Identity()
        switch result {
        case .failure(let failure):
            handshake.timer?.cancel()
            refuse(
                failure, head: handshake.head, requestId: handshake.requestId, route: handshake.route,
                closeAfter: true, context: context)
            return
        case .success(let verified):
            identity = SocketConnection.Identity(verified)
        case nil:
            break
        }
        // Authentication may finish inside the decoder's read callback; switch the
        // pipeline on the next tick, once the decoder has delivered the request's end.
        context.eventLoop.assumeIsolated().execute {
            self.upgrade(handshake, identity: identity)
        }
    }

    private func upgrade(_ handshake: SocketHandshake, identity: SocketConnection.Identity) {
        guard case .socketHandshake(let current) = state, current === handshake, let context,
            context.channel.isActive, let hub = environment.sockets?.hub(for: context.eventLoop)
        else { return }
        handshake.timer?.cancel()
        state = .tunnelled
        let response = WebSocketHandshake.response(
            handshake.accepted, version: handshake.head.version, requestId: handshake.requestId)
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        EdgeMetrics.shared.request(route: handshake.route.name, status: 101)
        let id = hub.makeConnectionID()
        if environment.accessLog {
            environment.logger.info(
                "socket open",
                metadata: [
                    "listener": "\(environment.listener)", "route": "\(handshake.route.name)",
                    "request.id": "\(handshake.requestId)", "client": "\(requestClient)", "conn.id": "\(id)",
                    "user": "\(identity.user ?? "-")",
                ])
        }
        let connection = SocketConnection(
            id: id, routeName: handshake.route.name, settings: handshake.socket,
            session: RawSession(mode: handshake.socket.mode == .json ? .json : .opaque), identity: identity, hub: hub,
            accessLog: environment.accessLog,
            verifier: makeVerifier(route: handshake.route, eventLoop: context.eventLoop))
        let handler = SocketHandler(connection: connection, settings: handshake.socket)
        do {
            try SocketPipeline.install(handler, replacing: context, maxFrameSize: handshake.socket.maxMessageSize)
            context.channel.setOption(
                .writeBufferWaterMark,
                value: .init(low: handshake.socket.sendQueue / 2, high: handshake.socket.sendQueue)
            ).whenFailure { _ in }
        } catch {
            environment.logger.warning(
                "socket setup failed", metadata: ["request.id": "\(handshake.requestId)", "error": "\(error)"])
            context.close(promise: nil)
        }
    }
}

extension ProxyHandler {
    /// Verifies tokens offered after the upgrade (refresh, Socket.IO CONNECT `auth`) against the route's guard in the snapshot current at
    /// refresh time, so key rotations apply to live sockets too; nil for routes without
    /// token authentication.
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

/// Swaps the HTTP handlers of a client connection for the WebSocket frame decoder and a
/// ``SocketHandler``, after the 101 was written. The HTTP handlers go first: the response
/// encoder at once, so nothing the socket writes meets it; the request decoder a moment
/// later, handing the frame decoder any bytes the client sent behind its upgrade request.
enum SocketPipeline {
    static func install(_ handler: SocketHandler, replacing proxy: ChannelHandlerContext, maxFrameSize: Int) throws {
        let pipeline = proxy.pipeline.syncOperations
        try WebSocketTunnel.removeHTTPHandlers(from: pipeline)
        try pipeline.addHandler(
            ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxFrameSize)), position: .last)
        try pipeline.addHandler(handler, position: .last)
        pipeline.removeHandler(context: proxy, promise: nil)
        proxy.channel.read()
    }
}
