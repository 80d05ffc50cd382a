import NIOCore
import NIOHTTP1
import PortcullisConfig
import PortcullisHTTP
import Testing

@testable import PortcullisEdge

@Suite struct HeaderRewritingTests {
    func request(_ headers: [(String, String)], method: HTTPMethod = .GET) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: method, uri: "/x", headers: HTTPHeaders(headers))
    }

    static let owned: Set<String> = Set(
        ["x-auth-subject", "x-auth-scopes", "x-user-email"] + HeaderRewriting.forwardingHeaders + ["x-request-id"])

    func upstream(_ head: HTTPRequestHead, tunnel: Bool = false, trusted: [String] = []) -> HTTPHeaders {
        let forwarding = Forwarding(
            peer: "10.0.0.9", scheme: "https", trustedProxies: trusted.compactMap(CIDRBlock.init),
            headers: head.headers)
        return HeaderRewriting.upstreamRequest(
            head, target: "/x", forwarding: forwarding, requestId: "rid-1", owned: Self.owned, tunnel: tunnel
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

    @Test func ownedHeadersAreDroppedWhateverTheirCase() {
        let headers = upstream(
            request([
                ("Host", "a.test"), ("X-AUTH-SUBJECT", "admin"), ("X-Request-ID", "mine"),
                ("x-Real-Ip", "1.2.3.4"), ("X_Auth_Scopes", "root"), ("Accept-Encoding", "gzip"),
            ])
        )
        #expect(!headers.contains(name: "x-auth-subject"))
        #expect(!headers.contains(name: "x_auth_scopes"))
        #expect(headers["x-request-id"] == ["rid-1"])
        #expect(headers["x-real-ip"] == ["10.0.0.9"])
        #expect(headers.first(name: "Accept-Encoding") == "gzip")
    }

    @Test func asciiLowercasingFoldsOnlyAsciiLetters() {
        #expect("Sec-WebSocket-Extensions".asciiLowercased() == "sec-websocket-extensions")
        #expect("x-already-lower_1".asciiLowercased() == "x-already-lower_1")
        #expect("@[`{Z".asciiLowercased() == "@[`{z")
    }

    @Test func forwardingHeadersFromAnUntrustedClientAreReplacedWithWhatTheEdgeSaw() {
        let headers = upstream(
            request([
                ("Host", "a.test:8443"), ("X-Forwarded-For", "1.2.3.4"), ("X-Forwarded-Proto", "http"),
                ("X-Forwarded-Host", "evil.test"), ("Forwarded", "for=1.2.3.4"), ("X-Real-IP", "1.2.3.4"),
            ]))
        #expect(headers["x-forwarded-for"] == ["10.0.0.9"])
        #expect(headers["x-forwarded-proto"] == ["https"])
        #expect(headers["x-forwarded-host"] == ["a.test:8443"])
        #expect(headers["x-real-ip"] == ["10.0.0.9"])
        #expect(headers["forwarded"] == ["for=10.0.0.9;proto=https;host=\"a.test:8443\""])
        #expect(headers["x-request-id"] == ["rid-1"])
        #expect(headers["host"] == ["a.test:8443"])
    }

    @Test func forwardingHeadersFromATrustedProxyAreExtendedAndTheRealClientFound() {
        let headers = upstream(
            request([
                ("Host", "a.test"), ("X-Forwarded-For", "203.0.113.7, 10.0.0.2"), ("X-Forwarded-Proto", "https"),
                ("Forwarded", "for=203.0.113.7"),
            ]),
            trusted: ["10.0.0.0/8"])
        #expect(headers["x-forwarded-for"] == ["203.0.113.7, 10.0.0.2, 10.0.0.9"])
        #expect(headers["x-real-ip"] == ["203.0.113.7"])
        #expect(headers["x-forwarded-proto"] == ["https"])
        #expect(headers["forwarded"] == ["for=203.0.113.7, for=10.0.0.9;proto=https;host=\"a.test\""])
    }

    @Test func aPeerOutsideTheTrustedNetworksIsNotBelieved() {
        let headers = upstream(
            request([("Host", "a.test"), ("X-Forwarded-For", "203.0.113.7")]), trusted: ["192.168.0.0/16"])
        #expect(headers["x-forwarded-for"] == ["10.0.0.9"])
        #expect(headers["x-real-ip"] == ["10.0.0.9"])
    }

    @Test func connectionCannotNominateFramingOrEdgeOwnedHeaders() {
        let headers = upstream(
            request(
                [
                    ("Host", "a.test"), ("Connection", "Content-Length, Host, X-Forwarded-For, X-Auth-Subject, X-Hop"),
                    ("Content-Length", "5"), ("X-Hop", "1"),
                ],
                method: .POST))
        #expect(headers["content-length"] == ["5"])
        #expect(headers["host"] == ["a.test"])
        #expect(headers["x-forwarded-for"] == ["10.0.0.9"])
        #expect(!headers.contains(name: "x-hop"))
        #expect(!headers.contains(name: "connection"))
    }

    @Test func underscoreSpellingsOfEdgeOwnedHeadersAreRemoved() {
        let headers = upstream(
            request([
                ("Host", "a.test"), ("X_Auth_Subject", "admin"), ("x_forwarded_for", "1.1.1.1"), ("X_User_Email", "e"),
                ("X_Custom", "kept"),
            ]))
        #expect(!headers.contains(name: "x_auth_subject"))
        #expect(!headers.contains(name: "x_forwarded_for"))
        #expect(!headers.contains(name: "x_user_email"))
        #expect(headers["x_custom"] == ["kept"])
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

    /// The client's copy of an upstream response head, as text.
    func relayed(
        _ upstream: String, clientMinor: Int = 1, chunked: Bool = false,
        connection: ByteBuffer.ClientConnection = .keepAlive
    ) throws -> String {
        let bytes = Array(upstream.utf8)
        let head = try bytes.withUnsafeBytes { try ResponseHeadParser.parse($0, requestWasHead: false).get() }
        var buffer = ByteBuffer()
        bytes.withUnsafeBytes {
            buffer.writeRelayedResponseHead(
                head, from: $0, minorVersion: clientMinor, requestId: "rid", chunked: chunked, connection: connection)
        }
        return String(buffer: buffer)
    }

    @Test func responseHopByHopRemovedAndRequestIdAdded() throws {
        let plain =
            "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Internal\r\nX-Internal: 1\r\nKeep-Alive: timeout=5\r\n"
            + "Content-Length: 2\r\nUpgrade: h2c\r\nX-Kept:  a b \r\n\r\n"
        #expect(
            try relayed(plain)
                == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Kept: a b\r\nx-request-id: rid\r\n\r\n")
        #expect(
            try relayed(plain, connection: .close)
                == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Kept: a b\r\nx-request-id: rid\r\nconnection: close\r\n\r\n"
        )
        #expect(
            try relayed(plain, clientMinor: 0)
                == "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nX-Kept: a b\r\nx-request-id: rid\r\n"
                + "connection: keep-alive\r\n\r\n")
    }

    @Test func aRelayedHeadStatesTheEdgesFraming() throws {
        #expect(
            try relayed("HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nX-Request-Id: up\r\n\r\n", chunked: true)
                == "HTTP/1.1 201 Created\r\nX-Request-Id: up\r\ntransfer-encoding: chunked\r\n\r\n")
        #expect(
            try relayed(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: x\r\n\r\n", connection: .upgrade)
                == "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: x\r\n"
                + "x-request-id: rid\r\nconnection: upgrade\r\n\r\n")
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
