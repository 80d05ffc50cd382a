import NIOHTTP1
import Testing

@testable import PortcullisEdge

@Suite struct HeaderRewritingTests {
    func request(_ headers: [(String, String)], method: HTTPMethod = .GET) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: method, uri: "/x", headers: HTTPHeaders(headers))
    }

    func upstream(_ head: HTTPRequestHead, tunnel: Bool = false) -> HTTPHeaders {
        HeaderRewriting.upstreamRequest(
            head, target: "/x", clientAddress: "10.0.0.9", scheme: "https", requestId: "rid-1", tunnel: tunnel
        ).headers
    }

    @Test func hopByHopAndConnectionNominatedHeadersAreRemoved() {
        let headers = upstream(
            request([
                ("Host", "a.test"), ("Connection", "close, X-Secret-Hop"), ("X-Secret-Hop", "1"),
                ("Keep-Alive", "timeout=5"), ("Proxy-Connection", "keep-alive"), ("TE", "trailers"),
                ("Trailer", "X-T"), ("Upgrade", "h2c"), ("Accept", "*/*"),
            ])
        )
        for name in ["connection", "x-secret-hop", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"] {
            #expect(!headers.contains(name: name), "\(name) leaked upstream")
        }
        #expect(headers["accept"] == ["*/*"])
    }

    @Test func forwardedHeadersAreSetAndForwardedForExtended() {
        let headers = upstream(
            request([("Host", "a.test:8443"), ("X-Forwarded-For", "1.2.3.4"), ("X-Forwarded-Proto", "http")]))
        #expect(headers["x-forwarded-for"] == ["1.2.3.4, 10.0.0.9"])
        #expect(headers["x-forwarded-proto"] == ["https"])
        #expect(headers["x-forwarded-host"] == ["a.test:8443"])
        #expect(headers["x-request-id"] == ["rid-1"])
        #expect(headers["host"] == ["a.test:8443"])
    }

    @Test func chunkedBodyStaysChunkedAndEmptyPostGetsZeroLength() {
        let chunked = upstream(request([("Transfer-Encoding", "chunked")], method: .POST))
        #expect(chunked["transfer-encoding"] == ["chunked"])
        let empty = upstream(request([], method: .POST))
        #expect(empty["content-length"] == ["0"])
        let get = upstream(request([]))
        #expect(!get.contains(name: "content-length"))
    }

    @Test func expectIsAnsweredByTheEdgeNotForwarded() {
        let headers = upstream(request([("Expect", "100-continue"), ("Content-Length", "5")], method: .PUT))
        #expect(!headers.contains(name: "expect"))
        #expect(headers["content-length"] == ["5"])
    }

    @Test func tunnelKeepsUpgradeHeaders() {
        let head = request([("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Key", "k")])
        #expect(HeaderRewriting.isWebSocketUpgrade(head))
        let headers = upstream(head, tunnel: true)
        #expect(headers["upgrade"] == ["websocket"])
        #expect(headers["connection"] == ["upgrade"])
        #expect(headers["sec-websocket-key"] == ["k"])
    }

    @Test func responseHopByHopRemovedAndRequestIdAdded() {
        let response = HTTPResponseHead(
            version: .http1_1, status: .ok,
            headers: HTTPHeaders([
                ("Connection", "keep-alive, X-Internal"), ("X-Internal", "1"), ("Keep-Alive", "timeout=5"),
                ("Content-Length", "2"),
            ])
        )
        let head = HeaderRewriting.clientResponse(
            response, version: .http1_1, requestId: "rid", keepAlive: true, tunnel: false)
        #expect(!head.headers.contains(name: "x-internal"))
        #expect(!head.headers.contains(name: "keep-alive"))
        #expect(!head.headers.contains(name: "connection"))
        #expect(head.headers["x-request-id"] == ["rid"])
        #expect(head.headers["content-length"] == ["2"])
        let closing = HeaderRewriting.clientResponse(
            response, version: .http1_1, requestId: "rid", keepAlive: false, tunnel: false)
        #expect(closing.headers["connection"] == ["close"])
    }

    @Test func clientRequestIdIsKeptOnlyWhenPrintable() {
        #expect(RequestId.accept("abc-123") == "abc-123")
        #expect(RequestId.accept("has space") == nil)
        #expect(RequestId.accept(String(repeating: "a", count: 201)) == nil)
        var ids = RequestId()
        let first = ids.make()
        #expect(first.count == 32)
        #expect(
            first.utf8.allSatisfy {
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
            })
        #expect(Set((0..<1000).map { _ in ids.make() }).count == 1000)
        var other = RequestId()
        #expect(other.make() != first)
    }
}
