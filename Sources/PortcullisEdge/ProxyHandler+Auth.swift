import Foundation
import NIOCore
import PortcullisAuth

/// The route's authentication before a request goes upstream: the route guard's decision
/// (cached tokens and anonymous routes at once, session lookups in Redis later), the
/// identity headers it vouches for, and the socket-id check of routes that forward one.
extension ProxyHandler {
    func authenticate(_ exchange: Exchange, snapshot: EdgeSnapshot, context: ChannelHandlerContext) {
        guard let routeGuard = snapshot.guards[exchange.route.index] else {
            lease(exchange, context: context)
            return
        }
        let now = Date().timeIntervalSince1970
        let decision = routeGuard.decide(exchange.head, now: now)
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
        guard machine.isConnecting(exchange), let context else { return }
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
                    guard self.machine.isConnecting(exchange), let context = self.context else { return }
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
}
