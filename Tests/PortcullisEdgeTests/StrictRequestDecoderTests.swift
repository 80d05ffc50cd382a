import NIOCore
import NIOEmbedded
import NIOHTTP1
import PortcullisHTTP
import Testing

@testable import PortcullisEdge

/// The client side's request decoder through an `EmbeddedChannel`: bytes in, canonical
/// request parts (or a refusal) out.
@Suite struct StrictRequestDecoderTests {
    /// Collects the request parts the decoder passes on.
    final class Recorder: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
        typealias InboundIn = ClientRequestPart
        var parts: [String] = []

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            parts.append(Self.describe(unwrapInboundIn(data)))
        }

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
    }

    func channel(policy: RequestPolicy = RequestPolicy()) throws -> (EmbeddedChannel, Recorder) {
        let recorder = Recorder()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(StrictRequestDecoder(policy: policy)))
        try channel.pipeline.syncOperations.addHandler(recorder)
        return (channel, recorder)
    }

    func feed(_ channel: EmbeddedChannel, _ text: String, step: Int = .max) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + step, bytes.count)
            try channel.writeInbound(ByteBuffer(bytes: bytes[offset..<end]))
            offset = end
        }
    }

    @Test(arguments: [1, 7, Int.max])
    func pipelinedRequestsComeOutCanonicalWhateverTheReadSizes(step: Int) throws {
        let (channel, recorder) = try channel()
        try feed(
            channel,
            "GET /a/../b HTTP/1.1\r\nHost: x.test\r\n\r\n"
                + "POST /c HTTP/1.1\r\nHost: x.test\r\nContent-Length: 3\r\n\r\nabc"
                + "PUT /d HTTP/1.1\r\nHost: x.test\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-T: 1\r\n\r\n",
            step: step)
        let bodies = recorder.parts.filter { $0.hasPrefix("body") }.map { $0.dropFirst(5) }.joined()
        #expect(
            recorder.parts.filter { !$0.hasPrefix("body") } == [
                "head GET /b [Host: x.test]", "end",
                "head POST /c [Host: x.test, Content-Length: 3]", "end",
                "head PUT /d [Host: x.test, Transfer-Encoding: chunked]", "end [\"X-T=1\"]",
            ])
        #expect(bodies == "abchi")
        _ = try channel.finish()
    }

    @Test func aRefusedHeadStopsTheDecoderAndDropsWhatFollows() throws {
        let (channel, recorder) = try channel()
        try feed(
            channel,
            "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "GET /admin HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(recorder.parts == ["refused 400 length_with_transfer_encoding inBody=false"])
        _ = try channel.finish()
    }

    @Test func aBadChunkIsRefusedAsPartOfTheRequestInFlight() throws {
        let (channel, recorder) = try channel()
        try feed(channel, "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n")
        #expect(
            recorder.parts == [
                "head POST /a [Host: x, Transfer-Encoding: chunked]", "body abc", "refused 400 bad_chunk inBody=true",
            ])
        _ = try channel.finish()
    }

    @Test func bytesBehindAnUpgradeRequestArePassedOnRawWhenTheDecoderLeaves() throws {
        let (channel, recorder) = try channel()
        try feed(
            channel,
            "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
                + "not HTTP any more")
        #expect(recorder.parts == ["head GET /ws [Host: x, Connection: Upgrade, Upgrade: websocket]", "end"])
        // As the socket pipeline does: the HTTP side leaves, a byte consumer takes over.
        let sync = channel.pipeline.syncOperations
        let raw = ProxyProtocolDecoderTests.Recorder()
        sync.removeHandler(recorder, promise: nil)
        try sync.addHandler(raw)
        let decoder = try sync.context(handlerType: ByteToMessageHandler<StrictRequestDecoder>.self)
        sync.removeHandler(context: decoder, promise: nil)
        channel.embeddedEventLoop.run()
        #expect(String(buffer: raw.bytes) == "not HTTP any more")
        _ = try channel.finish()
    }

    @Test func anOverlongRequestLineIsRefusedBeforeItEnds() throws {
        let (channel, recorder) = try channel(policy: RequestPolicy(limits: HeadLimits(maxRequestLine: 256)))
        try feed(channel, "GET /" + String(repeating: "a", count: 300))
        #expect(recorder.parts == ["refused 414 request_line_too_long inBody=false"])
        _ = try channel.finish()
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
