import NIOHTTP1
import PortcullisConfig
import PortcullisHTTP
import Testing

@testable import PortcullisEdge

/// What the edge decides from a request head and the snapshot alone.
@Suite struct ProxyRoutingTests {
    static func decide(
        _ uri: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], routes: [Route]
    ) throws -> ProxyRouting.Decision {
        let location = SourceLocation(file: "main.yaml", line: 3, keyPath: "upstreams.app")
        let upstream = Upstream(name: "app", servers: [HostPort(host: "127.0.0.1", port: 9000)], location: location)
        let snapshot = try EdgeSnapshot(configuration: Configuration(upstreams: ["app": upstream], routes: routes))
        let head = HTTPRequestHead(
            version: .http1_1, method: method, uri: uri, headers: HTTPHeaders([("host", "example.com")] + headers))
        let forwarding = Forwarding(peer: "10.0.0.1", scheme: "http", trustedProxies: [], headers: head.headers)
        return ProxyRouting.decide(
            head, requestId: "r1", forwarding: forwarding, snapshot: snapshot, listener: "main")
    }

    @Test func theEdgeAnswersOptionsStarAndUnroutedRequestsItself() throws {
        guard
            case .answer(.ok, nil, false, let headers) = try Self.decide("*", method: .OPTIONS, routes: [route("api")])
        else {
            Issue.record("OPTIONS * is the edge's")
            return
        }
        #expect(headers.contains { $0 == "allow" && $1.contains("GET") })
        guard case .answer(.notFound, nil, _, _) = try Self.decide("/other", routes: [route("api", path: "/api")])
        else {
            Issue.record("no route is a 404")
            return
        }
    }

    @Test func anEncodedSlashIsRefusedOnRoutesThatRejectThem() throws {
        guard case .refuse(let refusal) = try Self.decide("/api/a%2Fb", routes: [route("api", path: "/api")]) else {
            Issue.record("%2F is refused by default")
            return
        }
        #expect(refusal.code == .encodedSlash)
    }

    @Test func aDeclaredBodyOverTheLimitIsA413BeforeAnyUpstream() throws {
        var small = route("api")
        small.maxBodySize = 10
        guard
            case .answer(.payloadTooLarge, let matched?, true, _) = try Self.decide(
                "/", method: .POST, headers: [("content-length", "11")], routes: [small])
        else {
            Issue.record("11 bytes over a 10-byte limit")
            return
        }
        #expect(matched.name == "api")
    }

    @Test func theUpstreamHeadIsRewrittenAndAnUntunnelledUpgradeEndsTheConnection() throws {
        var stripped = route("api", path: "/api")
        stripped.proxy = ProxyAction(upstream: "app", stripPrefix: true, websocket: false)
        guard
            case .proxy(let exchange) = try Self.decide(
                "/api/items?x=1", headers: [("connection", "upgrade"), ("upgrade", "websocket")], routes: [stripped])
        else {
            Issue.record("a proxy route proxies")
            return
        }
        #expect(exchange.upstreamHead.uri == "/items?x=1")
        #expect(!exchange.tunnel)
        #expect(!exchange.keepAlive)
        #expect(exchange.upstreamHead.headers.first(name: "x-request-id") == "r1")
        #expect(exchange.upstreamHead.headers["upgrade"].isEmpty)
    }
}
