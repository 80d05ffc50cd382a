import NIOCore
import NIOEmbedded
import NIOHTTP1
import PortcullisHTTP
import Testing

@testable import PortcullisEdge

/// The client side's request decoder: bytes in, canonical request parts (or a refusal)
/// out, however the bytes are cut into reads.
@Suite struct ClientRequestDecoderTests {
    static func describe(_ part: ClientRequestPart) -> String {
        switch part {
        case .head(let head):
            let headers = head.headers.map { "\($0.name): \($0.value)" }.joined(separator: ", ")
            return "head \(head.method.rawValue) \(head.uri) [\(headers)]"
        case .body(let buffer): return "body \(String(buffer: buffer))"
        case .end(let trailers): return "end" + (trailers.map { " \($0.map { "\($0.name)=\($0.value)" })" } ?? "")
        case .refused(let refusal, let inBody): return "refused \(refusal.status) \(refusal.code) inBody=\(inBody)"
        }
    }

    /// Feeds `text` in reads of `step` bytes, as the proxy handler does (bytes a read
    /// leaves undecoded are kept in front of the next); returns the parts and the bytes
    /// left at the end.
    static func decode(
        _ text: String, step: Int = .max, policy: RequestPolicy = RequestPolicy()
    ) -> (parts: [String], left: String) {
        var decoder = ClientRequestDecoder(policy: policy)
        let bytes = Array(text.utf8)
        var parts: [String] = []
        var held = ByteBuffer()
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + step, bytes.count)
            held.writeBytes(bytes[offset..<end])
            offset = end
            while let part = decoder.next(from: &held) { parts.append(describe(part)) }
        }
        return (parts, String(buffer: held))
    }

    @Test(arguments: [1, 7, Int.max])
    func pipelinedRequestsComeOutCanonicalWhateverTheReadSizes(step: Int) {
        let (parts, left) = Self.decode(
            "GET /a/../b HTTP/1.1\r\nHost: x.test\r\n\r\n"
                + "POST /c HTTP/1.1\r\nHost: x.test\r\nContent-Length: 3\r\n\r\nabc"
                + "PUT /d HTTP/1.1\r\nHost: x.test\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-T: 1\r\n\r\n",
            step: step)
        let bodies = parts.filter { $0.hasPrefix("body") }.map { $0.dropFirst(5) }.joined()
        #expect(
            parts.filter { !$0.hasPrefix("body") } == [
                "head GET /b [Host: x.test]", "end",
                "head POST /c [Host: x.test, Content-Length: 3]", "end",
                "head PUT /d [Host: x.test, Transfer-Encoding: chunked]", "end [\"X-T=1\"]",
            ])
        #expect(bodies == "abchi")
        #expect(left.isEmpty)
    }

    @Test func aRefusedHeadStopsTheDecoderAndDropsWhatFollows() {
        let (parts, left) = Self.decode(
            "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "GET /admin HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(parts == ["refused 400 length_with_transfer_encoding inBody=false"])
        #expect(left.isEmpty)
    }

    @Test func aBadChunkIsRefusedAsPartOfTheRequestInFlight() {
        let (parts, _) = Self.decode(
            "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n")
        #expect(
            parts == [
                "head POST /a [Host: x, Transfer-Encoding: chunked]", "body abc", "refused 400 bad_chunk inBody=true",
            ])
    }

    @Test(arguments: [1, Int.max])
    func bytesBehindAnUpgradeRequestAreLeftForTheNextProtocol(step: Int) {
        let (parts, left) = Self.decode(
            "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
                + "GET /not-a-request HTTP/1.1\r\n\r\n",
            step: step)
        #expect(parts == ["head GET /ws [Host: x, Connection: Upgrade, Upgrade: websocket]", "end"])
        #expect(left == "GET /not-a-request HTTP/1.1\r\n\r\n")
    }

    @Test func anOverlongRequestLineIsRefusedBeforeItEnds() {
        let (parts, _) = Self.decode(
            "GET /" + String(repeating: "a", count: 300), policy: RequestPolicy(limits: HeadLimits(maxRequestLine: 256))
        )
        #expect(parts == ["refused 414 request_line_too_long inBody=false"])
    }
}

/// The PROXY protocol decoder: names the client, then leaves with the bytes behind.
@Suite struct ProxyProtocolDecoderTests {
    final class Recorder: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        var bytes = ByteBuffer()
        var source: String?

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            bytes.writeBuffer(&buffer)
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            source = (event as? ProxyProtocolSource)?.address
        }
    }

    @Test func theHeaderNamesTheClientAndTheRestPassesThrough() throws {
        let recorder = Recorder()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(ProxyProtocolDecoder(trustedProxies: [], logger: .init(label: "test"))))
        try channel.pipeline.syncOperations.addHandler(recorder)
        try channel.writeInbound(ByteBuffer(string: "PROXY TCP4 203.0.113.7 10.0.0.1 5"))
        try channel.writeInbound(ByteBuffer(string: "1000 443\r\nGET / HTTP/1.1\r\n"))
        channel.embeddedEventLoop.run()
        #expect(recorder.source == "203.0.113.7")
        #expect(String(buffer: recorder.bytes) == "GET / HTTP/1.1\r\n")
        #expect(throws: (any Error).self) {
            try channel.pipeline.syncOperations.context(
                handlerType: ByteToMessageHandler<ProxyProtocolDecoder>.self)
        }
        _ = try channel.finish()
    }

    @Test func aConnectionWithoutAHeaderIsClosed() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(ProxyProtocolDecoder(trustedProxies: [], logger: .init(label: "test"))))
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n"))
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }
}
