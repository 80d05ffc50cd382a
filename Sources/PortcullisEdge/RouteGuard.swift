import Foundation
import NIOHTTP1
import PortcullisAuth
import PortcullisConfig

/// The compiled auth policy of one route: who may pass, decided before a byte reaches
/// the upstream.
///
/// Built once per snapshot (key sets parsed, Origin patterns compiled), then only read.
/// Order of checks: Origin, then the first token found in the configured sources, then
/// signature and claims. Every failure carries the status and `WWW-Authenticate` value
/// the client gets and a reason code for logs.
struct RouteGuard: Sendable {
    let policy: RouteAuth
    private let verifier: JWTVerifier?
    private let origins: OriginPolicy?

    init(policy: RouteAuth, keySets: [String: KeySet], cache: TokenCache?) throws {
        self.policy = policy
        if policy.methods.contains(.session) {
            throw SnapshotError(
                message: "\(policy.location(of: "methods")): session authentication is not enforced by this build yet; "
                    + "refusing to serve the route unprotected")
        }
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

    /// Checks a request head at `now` (seconds since the epoch).
    func check(_ head: HTTPRequestHead, now: Double) -> Result<Identity, AuthFailure> {
        if let origins, let failure = origins.check(head.headers.first(name: "origin")) {
            return .failure(failure)
        }
        guard let verifier else {
            return .failure(AuthFailure(.missingToken, "no credential method is available on this route"))
        }
        guard let token = token(in: head) else {
            return .failure(AuthFailure(.missingToken, "no token in \(sourceNames)"))
        }
        return verifier.verify(token, now: now)
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
