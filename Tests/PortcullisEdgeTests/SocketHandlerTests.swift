import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOWebSocket
import PortcullisAuth
import PortcullisConfig
import PortcullisWire
import Testing

@testable import PortcullisBus
@testable import PortcullisEdge

/// A socket connection after the 101, driven through an `EmbeddedChannel`: client frames
/// in, envelopes appended to the bus and frames to the client out.
@Suite struct SocketHandlerTests {
    /// Records the hub's Redis commands; answers OK, or fails with `failure`.
    final class RecordingBus: BusWriter, @unchecked Sendable {
        let loop: EmbeddedEventLoop
        var commands: [[RedisArgument]] = []
        var failure: Error?

        init(loop: EmbeddedEventLoop) {
            self.loop = loop
        }

        func send(_ command: [RedisArgument]) -> EventLoopFuture<RESPValue> {
            commands.append(command)
            if let failure { return loop.makeFailedFuture(failure) }
            return loop.makeSucceededFuture(.simpleString("OK"))
        }

        /// The envelopes appended with XADD so far, decoded as a reader would.
        func envelopes() throws -> [Envelope] {
            try commands.filter { text($0[0]) == "XADD" }.map { command in
                let fields = command.drop(while: { text($0) != "*" }).dropFirst()
                var pairs: [(name: String, value: ByteBuffer)] = []
                var iterator = fields.makeIterator()
                while let name = iterator.next(), let value = iterator.next() {
                    pairs.append((text(name), buffer(value)))
                }
                return try Envelope(fields: pairs)
            }
        }

        private func buffer(_ argument: RedisArgument) -> ByteBuffer {
            var buffer = ByteBuffer()
            argument.write(to: &buffer)
            return buffer
        }

        private func text(_ argument: RedisArgument) -> String {
            String(buffer: buffer(argument))
        }
    }

    struct Connection {
        let channel: EmbeddedChannel
        let bus: RecordingBus
        let handler: SocketHandler
        let socket: SocketConnection
        let hub: SocketHub
    }

    private func connect(
        expiresAt: Int64? = nil, refreshing: Bool = false, deflate: PerMessageDeflate? = nil,
        _ configure: (inout SocketAction) -> Void = { _ in }
    ) throws -> Connection {
        let channel = EmbeddedChannel()
        let loop = channel.embeddedEventLoop
        let bus = RecordingBus(loop: loop)
        let hub = try SocketHub(
            eventLoop: loop, edgeID: "edge-t", names: .standard, redis: bus, localPrefix: "b0-",
            logger: Logger(label: "test"))
        var settings = SocketAction(app: "echo")
        configure(&settings)
        let socket = SocketConnection(
            id: hub.makeConnectionID(), routeName: "echo", settings: settings,
            session: RawSession(mode: settings.mode == .json ? .json : .opaque),
            identity: .init(user: "u1", claims: #"{"sub":"u1"}"#, expiresAt: expiresAt), hub: hub,
            verifier: refreshing ? Self.refresher(on: loop) : nil)
        let handler = SocketHandler(connection: socket, settings: settings)
        handler.negotiated(deflate)
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: settings.maxMessageSize)))
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return Connection(channel: channel, bus: bus, handler: handler, socket: socket, hub: hub)
    }

    /// A masked client frame.
    private func frame(
        _ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, masked: Bool = true, rsv1: Bool = false
    ) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode)
        let mask: [UInt8] = [0x11, 0x22, 0x33, 0x44]
        let maskBit: UInt8 = masked ? 0x80 : 0
        if payload.count < 126 {
            buffer.writeInteger(maskBit | UInt8(payload.count))
        } else {
            buffer.writeInteger(maskBit | 126)
            buffer.writeInteger(UInt16(payload.count))
        }
        if masked {
            buffer.writeBytes(mask)
            buffer.writeBytes(payload.enumerated().map { $0.element ^ mask[$0.offset % 4] })
        } else {
            buffer.writeBytes(payload)
        }
        return buffer
    }

    private func text(_ string: String) -> ByteBuffer {
        frame(0x1, Array(string.utf8))
    }

    /// Frames the server wrote, as (opcode, payload); `0x40` in the opcode is RSV1.
    private func written(_ channel: EmbeddedChannel, keepRSV1: Bool = false) throws -> [(UInt8, [UInt8])] {
        var frames: [(UInt8, [UInt8])] = []
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            while buffer.readableBytes > 0 {
                let first: UInt8 = buffer.readInteger()!
                var length = Int(buffer.readInteger(as: UInt8.self)!)
                if length == 126 { length = Int(buffer.readInteger(as: UInt16.self)!) }
                if length == 127 { length = Int(buffer.readInteger(as: UInt64.self)!) }
                frames.append((first & (keepRSV1 ? 0x4F : 0x0F), buffer.readBytes(length: length)!))
            }
        }
        return frames
    }

    private func closeCode(_ payload: [UInt8]) -> UInt16 {
        UInt16(payload[0]) << 8 | UInt16(payload[1])
    }

    // MARK: permessage-deflate

    private static let deflate = PerMessageDeflate.negotiate(
        offers: ["permessage-deflate"], policy: .init(minSize: 0))

    @Test func compressedMessagesAreInflatedBeforeTheSessionSeesThem() throws {
        let connection = try connect(deflate: Self.deflate) { $0.mode = .opaque }
        #expect(connection.handler.kind == .compressedWebSocket(windowBits: 15, minSize: 0))
        try connection.channel.writeInbound(frame(0x1, [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00], rsv1: true))
        let message = try #require(try connection.bus.envelopes().last)
        #expect(message.data == .text("Hello"))
    }

    @Test func sessionRepliesGoOutCompressedWithRSV1AndControlFramesDoNot() throws {
        let connection = try connect(deflate: Self.deflate)
        try connection.channel.writeInbound(text("{nope"))
        try connection.channel.writeInbound(frame(0x9, [1]))
        let frames = try written(connection.channel, keepRSV1: true)
        #expect(frames.map(\.0) == [0x41, 0xA])
        var assembler = WebSocketMessageAssembler(configuration: .init(deflate: Self.deflate))
        let reply = assembler.receive(WebSocketFrame(rsv1: true, opcode: 0x1, payload: frames[0].1))
        guard case .text(let text) = reply else {
            Issue.record("expected text, got \(reply)")
            return
        }
        #expect(text.contains(#""code":"bad_message""#))
    }

    @Test func aConnectionKeepingItsContextCompressesFanOutMessagesItselfAndBetterTheSecondTime() throws {
        // Client context kept too, so the test's assembler (playing the client's inflater)
        // keeps the window the server's second message refers to.
        let agreement = PerMessageDeflate.negotiate(
            offers: ["permessage-deflate"],
            policy: .init(serverNoContextTakeover: false, clientNoContextTakeover: false, minSize: 0))
        let connection = try connect(deflate: agreement)
        #expect(connection.handler.kind == .contextCompressedWebSocket)
        let text = String(repeating: "a broadcast that repeats itself ", count: 8)
        #expect(connection.handler.write(encoded: .packets([.text(text)])))
        #expect(connection.handler.write(encoded: .packets([.text(text)])))
        connection.handler.flush()
        let frames = try written(connection.channel, keepRSV1: true)
        #expect(frames.map(\.0) == [0x41, 0x41])
        #expect(frames[1].1.count < frames[0].1.count)
        var assembler = WebSocketMessageAssembler(configuration: .init(deflate: agreement))
        for frame in frames {
            #expect(assembler.receive(WebSocketFrame(rsv1: true, opcode: 0x1, payload: frame.1)) == .text(text))
        }
    }

    @Test func rsv1WithoutNegotiationClosesWith1002() throws {
        let connection = try connect()
        try connection.channel.writeInbound(frame(0x1, [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00], rsv1: true))
        let frames = try written(connection.channel)
        #expect(frames.last.map { $0.0 == 0x8 && closeCode($0.1) == 1002 } == true)
    }

    @Test func aCompressedBombClosesWith1009() throws {
        let deflater = try RawDeflater(windowBits: 15, contextTakeover: false)
        let bomb = deflater.compress([UInt8](repeating: 0, count: 1 << 20))
        let connection = try connect(deflate: Self.deflate) { $0.maxMessageSize = 64 * 1024 }
        try connection.channel.writeInbound(frame(0x2, bomb, rsv1: true))
        let frames = try written(connection.channel)
        #expect(frames.last.map { $0.0 == 0x8 && closeCode($0.1) == 1009 } == true)
        #expect(!connection.channel.isActive)
    }

    @Test func openAndMessagesBecomeEnvelopesWithTheConnectionsIdentity() throws {
        let connection = try connect()
        try connection.channel.writeInbound(text(#"{"event":"say","data":{"t":"hi"},"ack":4}"#))
        let envelopes = try connection.bus.envelopes()
        #expect(envelopes.map(\.kind) == [.open, .message])
        let open = envelopes[0]
        #expect(open.connection == "edge-t.b0-1" && open.edge == "edge-t" && open.user == "u1" && open.app == "echo")
        #expect(open.claims == #"{"sub":"u1"}"#)
        let message = envelopes[1]
        #expect(message.event == "say" && message.ack == 4)
        #expect(message.data == .json(#"{"t":"hi"}"#))
        #expect(message.claims == nil)
    }

    @Test func binaryFramesArePublishedAsBinaryEnvelopes() throws {
        let connection = try connect()
        try connection.channel.writeInbound(frame(0x2, [0, 0xFF, 7]))
        let message = try #require(try connection.bus.envelopes().last)
        #expect(message.data == .binary(ByteBuffer(bytes: [0, 0xFF, 7])))
    }

    @Test func malformedJSONGetsAnErrorEventAndTheSocketStaysOpen() throws {
        let connection = try connect()
        try connection.channel.writeInbound(text("{nope"))
        let frames = try written(connection.channel)
        #expect(frames.count == 1 && frames[0].0 == 0x1)
        #expect(String(decoding: frames[0].1, as: UTF8.self).contains(#""code":"bad_message""#))
        #expect(connection.channel.isActive)
        #expect(try connection.bus.envelopes().map(\.kind) == [.open])
    }

    @Test func pingIsAnsweredWithAPongCarryingItsPayload() throws {
        let connection = try connect()
        try connection.channel.writeInbound(frame(0x9, [1, 2, 3]))
        let frames = try written(connection.channel)
        #expect(frames.count == 1 && frames[0].0 == 0xA && frames[0].1 == [1, 2, 3])
    }

    @Test func anUnmaskedFrameClosesWith1002() throws {
        let connection = try connect()
        try connection.channel.writeInbound(frame(0x1, Array("hi".utf8), masked: false))
        let frames = try written(connection.channel)
        #expect(frames.count == 1 && frames[0].0 == 0x8 && closeCode(frames[0].1) == 1002)
        #expect(!connection.channel.isActive)
        let close = try #require(try connection.bus.envelopes().last)
        #expect(close.kind == .close && close.reason == "protocol error: client frames must be masked")
    }

    @Test func aFrameOverTheMessageLimitClosesWith1009() throws {
        let connection = try connect { $0.maxMessageSize = 200 }
        try connection.channel.writeInbound(frame(0x2, Array(repeating: 1, count: 300)))
        let frames = try written(connection.channel)
        #expect(frames.last.map { $0.0 == 0x8 && closeCode($0.1) == 1009 } == true)
        #expect(!connection.channel.isActive)
    }

    @Test func aClientCloseIsEchoedAndRecordedAsTheReason() throws {
        let connection = try connect()
        try connection.channel.writeInbound(frame(0x8, [0x03, 0xE8]))
        let frames = try written(connection.channel)
        #expect(frames.count == 1 && closeCode(frames[0].1) == 1000)
        #expect(!connection.channel.isActive)
        #expect(try connection.bus.envelopes().last?.reason == "client closed (1000)")
        #expect(connection.hub.connectionCount == 0)
    }

    private let news = OutboundDelivery(
        Envelope(id: "x", kind: .emit, target: .connection("edge-t.b0-1"), event: "news", data: .json("1")))

    /// What NIO does when the unsent bytes cross the water marks (`send_queue` and half of it).
    private func setWritable(_ writable: Bool, _ channel: EmbeddedChannel) {
        channel.isWritable = writable
        channel.pipeline.fireChannelWritabilityChanged()
    }

    @Test func aClientWhoseBacklogOutlastsTheGraceIsClosedWith1008() throws {
        let connection = try connect()
        connection.hub.deliver([news])
        let frames = try written(connection.channel)
        #expect(frames.map { String(decoding: $0.1, as: UTF8.self) } == [#"{"event":"news","data":1}"#])

        setWritable(false, connection.channel)
        let behindSince = ContinuousClock.now
        connection.hub.deliver([news])
        // Over the limit but within the grace: still written to, not closed.
        #expect(try written(connection.channel).map(\.0) == [0x1])
        connection.socket.tick(now: behindSince.advanced(by: SocketHandler.slowConsumerGrace / 2))
        #expect(try written(connection.channel).isEmpty)

        connection.socket.tick(now: behindSince.advanced(by: SocketHandler.slowConsumerGrace))
        let after = try written(connection.channel)
        #expect(after.count == 1 && after[0].0 == 0x8 && closeCode(after[0].1) == 1008)
        #expect(String(decoding: after[0].1.dropFirst(2), as: UTF8.self) == "slow consumer")
        // Closing: nothing more is sent to it.
        connection.hub.deliver([news])
        #expect(try written(connection.channel).isEmpty)
        // It never reads, so the close timeout ends the connection; the reason is recorded.
        connection.socket.tick(now: behindSince.advanced(by: .seconds(10)))
        #expect(!connection.channel.isActive)
        #expect(try connection.bus.envelopes().last?.reason == "slow consumer")
    }

    @Test func aReaderThatDrainsItsBacklogWithinTheGraceStaysOpen() throws {
        let connection = try connect()
        setWritable(false, connection.channel)
        let behindSince = ContinuousClock.now
        connection.hub.deliver([news, news, news])
        setWritable(true, connection.channel)
        connection.socket.tick(now: behindSince.advanced(by: SocketHandler.slowConsumerGrace * 3))
        connection.hub.deliver([news])
        #expect(try written(connection.channel).map(\.0) == [0x1, 0x1, 0x1, 0x1])
        #expect(connection.channel.isActive)
    }

    @Test func aRateLimitAnswersWithErrorsThenCloses() throws {
        let connection = try connect {
            $0.rateLimit = SocketAction.RateLimit(messagesPerSecond: 0.001, burst: 2, closeAfter: 3)
        }
        for _ in 0..<5 {
            try connection.channel.writeInbound(text(#"{"event":"e"}"#))
        }
        let frames = try written(connection.channel)
        let texts = frames.filter { $0.0 == 0x1 }.map { String(decoding: $0.1, as: UTF8.self) }
        #expect(texts.count == 2 && texts.allSatisfy { $0.contains(#""code":"rate_limited""#) })
        #expect(frames.last.map { $0.0 == 0x8 && closeCode($0.1) == 1008 } == true)
        #expect(try connection.bus.envelopes().filter { $0.kind == .message }.count == 2)
        // The client's answering close ends the socket; the reason stays ours.
        try connection.channel.writeInbound(frame(0x8, [0x03, 0xF0]))
        #expect(!connection.channel.isActive)
        #expect(try connection.bus.envelopes().last?.reason == "rate limit exceeded")
    }

    @Test func aFullBusBufferRefusesMessagesWithAnErrorEvent() throws {
        let connection = try connect()
        connection.bus.failure = RedisError(code: .bufferFull, message: "full", isRetrySafe: true)
        try connection.channel.writeInbound(text(#"{"event":"e"}"#))
        let frames = try written(connection.channel)
        #expect(frames.count == 1)
        #expect(String(decoding: frames[0].1, as: UTF8.self).contains(#""code":"unavailable""#))
        #expect(connection.channel.isActive)
    }

    @Test func opaqueRoutesCloseWith1013WhenTheBusIsFull() throws {
        let connection = try connect { $0.mode = .opaque }
        connection.bus.failure = RedisError(code: .bufferFull, message: "full", isRetrySafe: true)
        try connection.channel.writeInbound(text("raw"))
        let frames = try written(connection.channel)
        #expect(frames.last.map { $0.0 == 0x8 && closeCode($0.1) == 1013 } == true)
    }

    @Test func joinedRoomsReceiveBroadcastsAndDisconnectClosesWith4000() throws {
        let connection = try connect()
        connection.hub.deliver([
            OutboundDelivery(
                Envelope(id: "j", kind: .join, target: .user("u1"), room: "lobby")),
            OutboundDelivery(
                Envelope(id: "b", kind: .emit, target: .room("lobby"), event: "hi", data: .json("2"))),
            OutboundDelivery(
                Envelope(id: "c", kind: .emit, target: .room("lobby"), except: "edge-t.b0-1", event: "no")),
            OutboundDelivery(
                Envelope(id: "d", kind: .emit, app: "other", target: .all, event: "no")),
            OutboundDelivery(
                Envelope(id: "e", kind: .disconnect, target: .user("u1"), reason: "bye")),
        ])
        let frames = try written(connection.channel)
        #expect(frames.count == 2)
        #expect(String(decoding: frames[0].1, as: UTF8.self) == #"{"event":"hi","data":2}"#)
        #expect(frames[1].0 == 0x8 && closeCode(frames[1].1) == 4000)
        #expect(String(decoding: frames[1].1.dropFirst(2), as: UTF8.self) == "bye")
    }

    @Test func anIdleClientIsPingedThenClosedWith1001() throws {
        let connection = try connect {
            $0.pingInterval = .seconds(10)
            $0.pingTimeout = .seconds(5)
        }
        let start = ContinuousClock.now
        connection.socket.tick(now: start.advanced(by: .seconds(9)))
        #expect(try written(connection.channel).isEmpty)
        connection.socket.tick(now: start.advanced(by: .seconds(11)))
        #expect(try written(connection.channel).map(\.0) == [0x9])
        connection.socket.tick(now: start.advanced(by: .seconds(17)))
        let frames = try written(connection.channel)
        #expect(frames.count == 1 && frames[0].0 == 0x8 && closeCode(frames[0].1) == 1001)
        #expect(!connection.channel.isActive)
        #expect(try connection.bus.envelopes().last?.reason == "ping timeout")
    }

    @Test func expiredCredentialsCloseWith4001() throws {
        let connection = try connect(expiresAt: Int64(Date().timeIntervalSince1970) - 1)
        connection.socket.tick(now: .now)
        let frames = try written(connection.channel)
        #expect(frames.count == 1 && closeCode(frames[0].1) == 4001)
    }

    /// A refresher that accepts token "u1-later" (sub u1, an hour more) and "u2" (sub u2).
    private static func refresher(on loop: EventLoop) -> SocketConnection.Verifier {
        { token in
            let now = Int64(Date().timeIntervalSince1970)
            switch token {
            case "u1-later":
                return loop.makeSucceededFuture(
                    .success(
                        PortcullisAuth.Identity(
                            subject: "u1", expiresAt: now + 3600, source: .jwt(keyID: "k1"),
                            claimsJSON: #"{"sub":"u1","later":true}"#)))
            case "u2":
                return loop.makeSucceededFuture(
                    .success(PortcullisAuth.Identity(subject: "u2", source: .jwt(keyID: nil))))
            default:
                return loop.makeSucceededFuture(.failure(AuthFailure(.expired, "token expired")))
            }
        }
    }

    private func errorCodes(_ frames: [(UInt8, [UInt8])]) -> [String] {
        frames.compactMap { frame in
            let text = String(decoding: frame.1, as: UTF8.self)
            guard let range = text.range(of: #""code":""#) else { return nil }
            return String(text[range.upperBound...].prefix { $0 != "\"" })
        }
    }

    @Test func aRefreshForTheSameSubjectMovesTheExpiryAndIsAnnounced() throws {
        let soon = Int64(Date().timeIntervalSince1970) + 60
        let connection = try connect(expiresAt: soon, refreshing: true)
        try connection.channel.writeInbound(text(#"{"event":"$refresh","data":{"token":"u1-later"}}"#))
        let frames = try written(connection.channel)
        #expect(frames.count == 1)
        #expect(String(decoding: frames[0].1, as: UTF8.self).hasPrefix(#"{"event":"$refreshed","data":{"exp":"#))
        let refresh = try #require(try connection.bus.envelopes().last)
        #expect(refresh.kind == .refresh && refresh.claims == #"{"sub":"u1","later":true}"#)
        // The old expiry passes without a close; the connection lives on.
        connection.socket.tick(now: .now.advanced(by: .seconds(120)))
        #expect(try written(connection.channel).allSatisfy { $0.0 != 0x8 })
        #expect(connection.channel.isActive)
    }

    @Test func refusedRefreshesChangeNothing() throws {
        let connection = try connect(expiresAt: Int64(Date().timeIntervalSince1970) + 60, refreshing: true)
        try connection.channel.writeInbound(text(#"{"event":"$refresh","data":{"token":"u2"}}"#))
        try connection.channel.writeInbound(text(#"{"event":"$refresh","data":{"token":"stale"}}"#))
        let frames = try written(connection.channel)
        #expect(errorCodes(frames) == ["refresh_refused", "refresh_refused"])
        #expect(String(decoding: frames[0].1, as: UTF8.self).contains("another subject"))
        #expect(try connection.bus.envelopes().map(\.kind) == [.open])
        connection.socket.tick(now: .now.advanced(by: .seconds(120)))
        #expect(try written(connection.channel).last.map { closeCode($0.1) } == 4001)
    }

    @Test func routesWithoutTokensRefuseRefresh() throws {
        let connection = try connect()
        try connection.channel.writeInbound(text(#"{"event":"$refresh","data":{"token":"u1-later"}}"#))
        #expect(errorCodes(try written(connection.channel)) == ["refresh_unsupported"])
    }
}
