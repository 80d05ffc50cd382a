import NIOCore
import NIOHTTP1
import PortcullisConfig
import PortcullisHTTP
import Testing

@testable import PortcullisEdge

/// The proxy's per-connection decisions, driven event by event without sockets: request
/// order under pipelining, when a connection stays open, when a request is replayed or
/// answered by the edge, and what closes.
@Suite struct ProxyConnectionStateMachineTests {
    typealias Machine = ProxyConnectionStateMachine

    /// A proxied exchange to upstream `app` (`servers` servers), as the router builds it.
    static func exchange(
        _ method: HTTPMethod = .GET, uri: String = "/items", headers: [(String, String)] = [],
        servers: Int = 1, maxBodySize: Int = 1024
    ) throws -> Exchange {
        var proxied = route("api")
        proxied.maxBodySize = maxBodySize
        let location = SourceLocation(file: "main.yaml", line: 3, keyPath: "upstreams.app")
        let upstream = Upstream(
            name: "app", servers: (0..<servers).map { HostPort(host: "127.0.0.1", port: 9000 + $0) },
            location: location)
        let snapshot = try EdgeSnapshot(
            configuration: Configuration(upstreams: ["app": upstream], routes: [proxied]))
        let head = HTTPRequestHead(
            version: .http1_1, method: method, uri: uri, headers: HTTPHeaders([("host", "example.com")] + headers))
        let forwarding = Forwarding(peer: "10.0.0.1", scheme: "http", trustedProxies: [], headers: head.headers)
        guard
            case .proxy(let exchange) = ProxyRouting.decide(
                head, requestId: "r1", forwarding: forwarding, snapshot: snapshot, listener: "main")
        else { throw Unexpected() }
        return exchange
    }

    struct Unexpected: Error {}

    /// An upstream connection without a channel: the machine only compares and returns them.
    static func upstream(for exchange: Exchange) -> UpstreamConnection {
        UpstreamConnection(server: exchange.group.servers[0], serverIndex: 0)
    }

    /// A machine with `exchange` leased on `upstream`, its request ended unless `ended` is false.
    static func proxying(_ exchange: Exchange, on upstream: UpstreamConnection, ended: Bool = true) -> Machine {
        var machine = Machine()
        #expect(isRoute(machine.received(.head(exchange.head))))
        machine.startProxying(exchange)
        if ended { _ = machine.received(.end(nil)) }
        guard case .begin = machine.leased(upstream, for: exchange) else {
            Issue.record("leasing did not begin the exchange")
            return machine
        }
        return machine
    }

    static func isRoute(_ action: Machine.Action) -> Bool {
        if case .route = action { return true }
        return false
    }

    @Test func aPipelinedRequestWaitsForTheResponseBeforeIt() throws {
        let first = try Self.exchange()
        let upstream = Self.upstream(for: first)
        var machine = Self.proxying(first, on: upstream)
        let second = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/second", headers: ["host": "x"])
        guard case .pauseReads = machine.received(.head(second)) else {
            Issue.record("a second head while the first is in flight must be queued")
            return
        }
        // Its end is queued behind it, not taken for the first request's.
        guard case .pauseReads = machine.received(.end(nil)) else {
            Issue.record("parts behind a queued head must be queued too")
            return
        }
        #expect(machine.nextQueued() == nil)
        _ = machine.responseStarted(first, closeDelimited: false)
        guard case .finish(_, _, keepClient: true) = machine.upstreamEnded(upstream) else {
            Issue.record("a complete keep-alive exchange keeps the client")
            return
        }
        let mustClose = machine.becameIdle()
        #expect(!mustClose)
        let queued = machine.nextQueued()
        let next = try #require(queued)
        guard case .route(let head) = machine.process(next) else {
            Issue.record("the queued head is routed once the connection is idle")
            return
        }
        #expect(head.uri == "/second")
    }

    @Test func theConnectionClosesAfterAResponseTheClientCannotSeeTheEndOfOtherwise() throws {
        for (closeDelimited, requestEnded, keep) in [(false, true, true), (true, true, false), (false, false, false)] {
            let exchange = try Self.exchange(.POST, headers: [("content-length", "4")])
            let upstream = Self.upstream(for: exchange)
            var machine = Self.proxying(exchange, on: upstream, ended: requestEnded)
            let keepAlive = machine.responseStarted(exchange, closeDelimited: closeDelimited)
            #expect(keepAlive == keep)
            guard case .finish(_, _, let keepClient) = machine.upstreamEnded(upstream) else {
                Issue.record("the end of the response finishes the exchange")
                continue
            }
            #expect(keepClient == keep)
            #expect(machine.isClosed == !keep)
        }
    }

    @Test func anUpgradeTheUpstreamDeclinesEndsTheConnection() throws {
        let exchange = try Self.exchange(headers: [
            ("connection", "upgrade"), ("upgrade", "websocket"), ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("sec-websocket-version", "13"),
        ])
        #expect(exchange.tunnel)
        let upstream = Self.upstream(for: exchange)
        var machine = Self.proxying(exchange, on: upstream)
        let keepAlive = machine.responseStarted(exchange, closeDelimited: false)
        #expect(!keepAlive)
        guard case .finish(_, _, keepClient: false) = machine.upstreamEnded(upstream) else {
            Issue.record("nothing after an upgrade request is HTTP any more")
            return
        }
    }

    @Test func aDrainClosesAfterTheExchangeInFlightOrAtOnceWhenIdle() throws {
        var idle = Machine()
        let closesAtOnce = idle.quiesce()
        #expect(closesAtOnce)
        let exchange = try Self.exchange()
        let upstream = Self.upstream(for: exchange)
        var machine = Self.proxying(exchange, on: upstream)
        let closesNow = machine.quiesce()
        #expect(!closesNow)
        let keepAlive = machine.responseStarted(exchange, closeDelimited: false)
        #expect(!keepAlive)
        guard case .finish(_, _, keepClient: false) = machine.upstreamEnded(upstream) else {
            Issue.record("a response finished during a drain closes the connection")
            return
        }
    }

    @Test func aStaleKeepAliveConnectionIsReplayedOnceForAnIdempotentRequestWithoutBody() throws {
        let exchange = try Self.exchange(.GET)
        var machine = Self.proxying(exchange, on: Self.upstream(for: exchange))
        exchange.tried = [0]
        guard case .lease = machine.upstreamFailed(machine.upstream!, .closed(responseStarted: false), reused: true)
        else {
            Issue.record("a reused connection closed before any response is replayed")
            return
        }
        #expect(exchange.tried.isEmpty)
        exchange.tried = [0]
        let second = Self.upstream(for: exchange)
        guard case .begin(_, _, let pending) = machine.leased(second, for: exchange) else {
            Issue.record("the replay leases again")
            return
        }
        #expect(pending.count == 1)
        guard
            case .answer(_, .badGateway, closeAfter: false, _, _) = machine.upstreamFailed(
                second, .closed(responseStarted: false), reused: true)
        else {
            Issue.record("a second stale connection is a 502, not a second replay")
            return
        }
    }

    @Test func aFreshConnectionClosedOrAPostIsNotReplayed() throws {
        let fresh = try Self.exchange(.GET)
        var machine = Self.proxying(fresh, on: Self.upstream(for: fresh))
        guard
            case .answer(_, .badGateway, _, _, _) = machine.upstreamFailed(
                machine.upstream!, .closed(responseStarted: false), reused: false)
        else {
            Issue.record("a fresh connection that closes is a 502")
            return
        }
        let post = try Self.exchange(.POST)
        var posting = Self.proxying(post, on: Self.upstream(for: post))
        guard
            case .answer(_, .badGateway, _, _, _) = posting.upstreamFailed(
                posting.upstream!, .closed(responseStarted: false), reused: true)
        else {
            Issue.record("a POST is never replayed")
            return
        }
    }

    @Test func aFailedConnectTriesOneOtherServerForIdempotentRequests() throws {
        let exchange = try Self.exchange(.GET, servers: 2)
        var machine = Machine()
        _ = machine.received(.head(exchange.head))
        machine.startProxying(exchange)
        exchange.tried = [0]
        guard case .lease = machine.connectFailed(exchange) else {
            Issue.record("the other server is tried")
            return
        }
        exchange.tried = [0, 1]
        guard case .answer(_, .badGateway, _, _, _) = machine.connectFailed(exchange) else {
            Issue.record("two failed servers are a 502")
            return
        }
        let post = try Self.exchange(.POST, servers: 2)
        var posting = Machine()
        _ = posting.received(.head(post.head))
        posting.startProxying(post)
        post.tried = [0]
        guard case .answer(_, .badGateway, _, _, _) = posting.connectFailed(post) else {
            Issue.record("a POST is not sent to a second server")
            return
        }
    }

    @Test func aTimeoutIsA504BeforeTheResponseAndACloseAfter() throws {
        let exchange = try Self.exchange()
        var machine = Self.proxying(exchange, on: Self.upstream(for: exchange))
        guard
            case .answer(_, .gatewayTimeout, _, _, _) = machine.upstreamFailed(
                machine.upstream!, .timeout, reused: false)
        else {
            Issue.record("no response in time is a 504")
            return
        }
        let started = try Self.exchange()
        var streaming = Self.proxying(started, on: Self.upstream(for: started))
        _ = streaming.responseStarted(started, closeDelimited: false)
        guard case .cutShort = streaming.upstreamFailed(streaming.upstream!, .timeout, reused: false) else {
            Issue.record("a response cut short closes the client connection")
            return
        }
        #expect(streaming.isClosed)
    }

    @Test func aBodyOverTheLimitIsA413UntilTheResponseStarts() throws {
        let exchange = try Self.exchange(.POST, headers: [("transfer-encoding", "chunked")], maxBodySize: 8)
        var machine = Machine()
        _ = machine.received(.head(exchange.head))
        machine.startProxying(exchange)
        let held = machine.received(.body(ByteBuffer(string: "12345678")))
        #expect(isNone(held))
        #expect(exchange.pending.count == 1)
        guard
            case .answer(_, .payloadTooLarge, closeAfter: true, _, nil) = machine.received(
                .body(ByteBuffer(string: "9")))
        else {
            Issue.record("the ninth byte is over the limit")
            return
        }
        let started = try Self.exchange(.POST, headers: [("transfer-encoding", "chunked")], maxBodySize: 8)
        let upstream = Self.upstream(for: started)
        var streaming = Self.proxying(started, on: upstream, ended: false)
        _ = streaming.responseStarted(started, closeDelimited: false)
        guard case .cutShort(_, _, let closing) = streaming.received(.body(ByteBuffer(string: "123456789"))) else {
            Issue.record("after the response started the connection is closed instead")
            return
        }
        #expect(closing === upstream)
    }

    @Test func aRefusalInTheBodyDiscardsTheUpstreamConnection() throws {
        let refusal = RequestRefusal(.badChunk, "chunk size")
        var idle = Machine()
        guard case .refuse(_, nil, nil) = idle.received(.refused(refusal, inBody: false)) else {
            Issue.record("a refused head is answered without an exchange")
            return
        }
        #expect(idle.isClosed)
        let exchange = try Self.exchange(.POST, headers: [("transfer-encoding", "chunked")])
        let upstream = Self.upstream(for: exchange)
        var machine = Self.proxying(exchange, on: upstream, ended: false)
        guard case .refuse(_, let refused?, let closing) = machine.received(.refused(refusal, inBody: true)) else {
            Issue.record("a refused body is answered for its exchange")
            return
        }
        #expect(refused === exchange && closing === upstream)
        #expect(machine.isClosed)
    }

    @Test func aLocalAnswerBeforeTheBodyEndsDiscardsTheBodyThenServesTheNextRequest() throws {
        let exchange = try Self.exchange(.POST, headers: [("content-length", "4")])
        var machine = Machine()
        _ = machine.received(.head(exchange.head))
        machine.startProxying(exchange)
        let answer = machine.answering(closeAfter: false)
        #expect(!answer.closeAfter && !answer.requestEnded)
        let dropped = machine.received(.body(ByteBuffer(string: "abcd")))
        #expect(isNone(dropped))
        guard case .becomeIdle = machine.received(.end(nil)) else {
            Issue.record("the end of a discarded body makes the connection idle")
            return
        }
        let mustClose = machine.becameIdle()
        #expect(!mustClose)
        #expect(machine.isIdle)
        var draining = Machine()
        _ = draining.quiesce()
        let drainAnswer = draining.answering(closeAfter: false)
        #expect(drainAnswer.closeAfter)
    }

    @Test func aLeaseThatArrivesAfterTheClientLeftIsClosed() throws {
        let exchange = try Self.exchange()
        var machine = Machine()
        _ = machine.received(.head(exchange.head))
        machine.startProxying(exchange)
        guard case .abandon(let abandoned?, nil, nil) = machine.clientClosed() else {
            Issue.record("the client leaving abandons the exchange")
            return
        }
        #expect(abandoned === exchange)
        let late = Self.upstream(for: exchange)
        guard case .closeUpstream(let closed) = machine.leased(late, for: exchange) else {
            Issue.record("nobody waits for the late connection")
            return
        }
        #expect(closed === late)
    }

    func isNone(_ action: Machine.Action) -> Bool {
        if case .none = action { return true }
        return false
    }
}
