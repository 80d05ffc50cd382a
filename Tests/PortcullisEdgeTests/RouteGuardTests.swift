import NIOHTTP1
import PortcullisAuth
import PortcullisConfig
import Testing

@testable import PortcullisEdge

/// What a route guard decides before any Redis lookup, for requests that bring no usable
/// credential or a session cookie.
@Suite struct RouteGuardTests {
    static let material = RouteGuard.Material(
        cookieSecrets: ["keyboard-cat"], sessionPrefix: "sess:", sessionUserField: "passport.user",
        revocationPrefix: "revoked:")

    static func routeGuard(_ methods: [RouteAuth.Method], tokens: [RouteAuth.TokenSource] = [.header]) throws
        -> RouteGuard
    {
        var policy = RouteAuth(location: SourceLocation(file: "main.yaml", line: 1, keyPath: "routes[0].auth"))
        policy.methods = methods
        policy.tokenSources = tokens
        return try RouteGuard(policy: policy, keySets: [:], cache: nil, material: material)
    }

    static func request(_ headers: [(String, String)] = []) -> HTTPRequestHead {
        HTTPRequestHead(
            version: .http1_1, method: .GET, uri: "/chat/?EIO=4&transport=websocket", headers: HTTPHeaders(headers))
    }

    static func failure(_ decision: RouteGuard.Decision) -> AuthFailure? {
        if case .deny(let failure) = decision { return failure }
        return nil
    }

    @Test func aSessionRouteWithoutItsCookieHasNoSession() throws {
        let failure = Self.failure(try Self.routeGuard([.session]).decide(Self.request(), now: 0))
        #expect(failure?.code == .noSession)
    }

    /// Without this, a Socket.IO route taking cookies or CONNECT tokens refused every
    /// token client at the handshake, before its CONNECT could bring the token.
    @Test func aSessionOrTokenRouteWithNeitherIsMissingAToken() throws {
        let socketIO = try Self.routeGuard([.session, .jwt], tokens: [.socketIO])
        let failure = Self.failure(socketIO.decide(Self.request([("Cookie", "theme=dark")]), now: 0))
        #expect(failure?.code == .missingToken)
        #expect(failure?.wwwAuthenticate == "Bearer")
        #expect(failure?.httpStatus == 401)
    }

    @Test func aSessionOrTokenRouteWithABadCookieIsStillRefusedForIt() throws {
        let routeGuard = try Self.routeGuard([.session, .jwt], tokens: [.socketIO])
        let failure = Self.failure(routeGuard.decide(Self.request([("Cookie", "connect.sid=s%3Aabc.forged")]), now: 0))
        #expect(failure?.code == .badCookie)
    }
}
