import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PortcullisBus
import PortcullisAuth
import PortcullisConfig

/// The compiled auth policy of one route: who may pass, decided before a byte reaches
/// the upstream.
///
/// Built once per snapshot (key sets parsed, Origin patterns compiled), then only read;
/// a class so that looking one up per request retains one reference, not its policy's
/// every string.
/// Order of checks: Origin, then the first token found in the configured sources, then
/// signature and claims. Every failure carries the status and `WWW-Authenticate` value
/// the client gets and a reason code for logs.
final class RouteGuard: Sendable {
    /// What the edge knows besides the route's own policy: cookie secrets and the Redis
    /// key layouts for sessions and revocation.
    struct Material: Sendable {
        var cookieSecrets: [String]
        var sessionPrefix: String
        var sessionUserField: String
        var revocationPrefix: String
    }

    /// The synchronous part of a check; sessions need a Redis lookup to finish.
    enum Decision {
        case allow(Identity)
        case deny(AuthFailure)
        case lookUpSession(id: String)
    }

    let policy: RouteAuth
    private let material: Material
    private let verifier: JWTVerifier?
    private let origins: OriginPolicy?

    init(policy: RouteAuth, keySets: [String: KeySet], cache: TokenCache?, material: Material) throws {
        self.policy = policy
        self.material = material
        if policy.methods.contains(.jwt), let name = policy.keySet {
            guard let keys = keySets[name] else {
                throw SnapshotError(message: "\(policy.location(of: "key_set")): no key set named \"\(name)\"")
            }
            let jwtPolicy = JWTPolicy(
                issuers: policy.issuers,
                audiences: policy.audiences,
                requiredScopes: policy.scopes,
                leeway: policy.leeway.components.seconds,
                copiedClaims: policy.claimHeaders.map(\.claim)
            )
            verifier = JWTVerifier(keys: keys, policy: jwtPolicy, cache: cache)
        } else {
            verifier = nil
        }
        if !policy.origins.isEmpty || policy.clients == .browser {
            do {
                origins = try OriginPolicy(
                    allowed: policy.origins, mode: policy.clients == .browser ? .browser : .server)
            } catch {
                throw SnapshotError(message: "\(policy.location(of: "origins")): \(error)")
            }
        } else {
            origins = nil
        }
    }

    /// Whether a cross-origin reader may see this route's responses (CORS for Engine.IO
    /// polling): only an Origin the route's list names; routes without a list allow none.
    func allowsCrossOrigin(_ origin: String) -> Bool {
        guard let origins, !policy.origins.isEmpty else { return false }
        return origins.check(origin) == nil
    }

    /// Checks a request head at `now` (seconds since the epoch) as far as it can without
    /// Redis: Origin, then a token from the configured sources (a present but bad token is
    /// refused, never passed on to the session check), then the session cookie.
    func decide(_ head: HTTPRequestHead, now: Double) -> Decision {
        if let origins, let failure = origins.check(head.headers.first(name: "origin")) {
            return .deny(failure)
        }
        if let verifier, let token = token(in: head) {
            switch verifier.verify(token, now: now) {
            case .success(let identity): return .allow(identity)
            case .failure(let failure): return .deny(failure)
            }
        }
        guard policy.methods.contains(.session) else {
            return .deny(AuthFailure(.missingToken, "no token in \(sourceNames)"))
        }
        guard let cookie = CookieHeader.value(named: policy.sessionCookie, in: head.headers["cookie"]) else {
            // No credential at all. A route that also takes tokens says so (the bare
            // `Bearer` challenge), which also lets a Socket.IO route whose tokens come in the
            // CONNECT `auth` open the connection: every CONNECT must then bring one.
            if policy.methods.contains(.jwt) {
                return .deny(
                    AuthFailure(.missingToken, "no token in \(sourceNames) and no \(policy.sessionCookie) cookie"))
            }
            return .deny(AuthFailure(.noSession, "no \(policy.sessionCookie) cookie"))
        }
        guard let sessionId = SessionCookie.unsign(value: cookie, secrets: material.cookieSecrets) else {
            return .deny(
                AuthFailure(.badCookie, "the \(policy.sessionCookie) cookie is not signed by a current secret"))
        }
        return .lookUpSession(id: sessionId)
    }

    /// The whole check: `decide`, then the session lookup and the revocation check in
    /// Redis when there is one. Without Redis, session routes are refused and revocation is
    /// not checked. When Redis is configured but unreachable, sessions fail closed and the
    /// revocation check is skipped with a warning (the token itself was verified).
    /// Verifies a token a live socket offered in band (a refresh): signature, claims and
    /// revocation as at the handshake; the caller checks the subject.
    func refresh(
        token: String, now: Double, redis: RedisClient?, on eventLoop: EventLoop, logger: Logger
    ) -> EventLoopFuture<Result<Identity, AuthFailure>> {
        guard let verifier else {
            return eventLoop.makeSucceededFuture(.failure(AuthFailure(.missingToken, "this route takes no tokens")))
        }
        switch verifier.verify(token, now: now) {
        case .failure(let failure):
            return eventLoop.makeSucceededFuture(.failure(failure))
        case .success(let identity):
            guard let redis else { return eventLoop.makeSucceededFuture(.success(identity)) }
            return checkRevocation(identity, redis: redis, on: eventLoop, logger: logger)
        }
    }

    func authenticate(
        _ head: HTTPRequestHead,
        now: Double,
        redis: RedisClient?,
        on eventLoop: EventLoop,
        logger: Logger
    ) -> EventLoopFuture<Result<Identity, AuthFailure>> {
        resolve(decide(head, now: now), now: now, redis: redis, on: eventLoop, logger: logger)
    }

    /// The answer to `decision` when it needs no Redis round trip: a refusal, or any
    /// decision when the edge has no Redis. `nil` means `resolve` must ask Redis. Lets the
    /// proxy path answer without allocating a future per request.
    static func immediate(_ decision: Decision, hasRedis: Bool) -> Result<Identity, AuthFailure>? {
        switch decision {
        case .deny(let failure): .failure(failure)
        case .allow(let identity): hasRedis ? nil : .success(identity)
        case .lookUpSession: hasRedis ? nil : .failure(Self.noSessionStore)
        }
    }

    private static let noSessionStore = AuthFailure(.noSession, "no session store configured")

    /// `decide`'s decision completed: the session lookup and revocation check in Redis.
    func resolve(
        _ decision: Decision,
        now: Double,
        redis: RedisClient?,
        on eventLoop: EventLoop,
        logger: Logger
    ) -> EventLoopFuture<Result<Identity, AuthFailure>> {
        switch decision {
        case .deny(let failure):
            return eventLoop.makeSucceededFuture(.failure(failure))
        case .allow(let identity):
            guard let redis else { return eventLoop.makeSucceededFuture(.success(identity)) }
            return checkRevocation(identity, redis: redis, on: eventLoop, logger: logger)
        case .lookUpSession(let sessionId):
            guard let redis else {
                return eventLoop.makeSucceededFuture(.failure(Self.noSessionStore))
            }
            let material = self.material
            let key = RedisArgument(material.sessionPrefix + sessionId)
            // GET and PTTL are pipelined: a browser-session cookie (`expires: null`) takes
            // its expiry from the key's TTL, as connect-redis sets it.
            return redis.send(["GET", key]).and(redis.send(["PTTL", key]))
                .map { reply, ttl -> Result<Identity, AuthFailure> in
                    guard let json = reply.string else {
                        return .failure(AuthFailure(.noSession, "no such session"))
                    }
                    return SessionRecord.parse(json: json, userField: material.sessionUserField, now: now)
                        .map { record in
                            var record = record
                            if record.expiresAt == nil, let milliseconds = ttl.integer, milliseconds > 0 {
                                record.expiresAt = Int64(now) + Int64(milliseconds / 1000)
                            }
                            return record.identity(sessionId: sessionId)
                        }
                }
                .recover { error in
                    logger.warning("session store unavailable; refusing", metadata: ["error": "\(error)"])
                    return .failure(AuthFailure(.noSession, "the session store is unavailable"))
                }
        }
    }

    private func checkRevocation(
        _ identity: Identity,
        redis: RedisClient,
        on eventLoop: EventLoop,
        logger: Logger
    ) -> EventLoopFuture<Result<Identity, AuthFailure>> {
        let prefix = material.revocationPrefix
        let byToken: EventLoopFuture<Bool> =
            identity.tokenId.map { jti in
                redis.send(["EXISTS", RedisArgument(prefix + "jti:" + jti)]).map { ($0.integer ?? 0) > 0 }
            } ?? eventLoop.makeSucceededFuture(false)
        let bySubject = redis.send(["GET", RedisArgument(prefix + "sub:" + identity.subject)]).map { reply -> Bool in
            guard let text = reply.string, let cutoff = Double(text) else { return false }
            return Double(identity.issuedAt ?? 0) < cutoff
        }
        return byToken.and(bySubject)
            .map { revokedToken, revokedSubject -> Result<Identity, AuthFailure> in
                if revokedToken { return .failure(AuthFailure(.revoked, "token revoked")) }
                if revokedSubject {
                    return .failure(AuthFailure(.revoked, "tokens of this subject issued before a revocation"))
                }
                return .success(identity)
            }
            .recover { error in
                logger.warning(
                    "revocation check skipped: redis unavailable",
                    metadata: ["auth.subject": "\(identity.subject)", "error": "\(error)"])
                return .success(identity)
            }
    }

    private func token(in head: HTTPRequestHead) -> String? {
        for source in policy.tokenSources {
            switch source {
            case .header:
                if let value = head.headers.first(name: "authorization"),
                    let token = TokenExtraction.bearer(authorization: value)
                {
                    return token
                }
            case .query(let name):
                if let token = TokenExtraction.queryParameter(name, target: head.uri) { return token }
            case .cookie(let name):
                if let token = TokenExtraction.cookie(name, headers: head.headers["cookie"]) { return token }
            case .subprotocol:
                if let found = TokenExtraction.webSocketProtocol(headers: head.headers["sec-websocket-protocol"]) {
                    return found.token
                }
            case .socketIO:
                // Only in a Socket.IO CONNECT packet, which proxy routes never see.
                continue
            }
        }
        return nil
    }

    private var sourceNames: String {
        policy.tokenSources.map { source in
            switch source {
            case .header: "Authorization header"
            case .query(let name): "query parameter \(name)"
            case .cookie(let name): "cookie \(name)"
            case .subprotocol: "Sec-WebSocket-Protocol"
            case .socketIO: "Socket.IO auth"
            }
        }.joined(separator: ", ")
    }
}
