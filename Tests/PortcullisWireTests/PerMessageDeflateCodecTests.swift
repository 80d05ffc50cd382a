import PortcullisTestSupport
import PortcullisWire
import Testing

/// The zlib codec and the assembler's inflating path, against RFC 7692 §7.2.3's examples.
@Suite struct PerMessageDeflateCodecTests {
    static let helloCompressed: [UInt8] = [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]
    static let helloAgain: [UInt8] = [0xF2, 0x00, 0x11, 0x00, 0x00]

    static func agreement(clientNoContextTakeover: Bool = false) -> PerMessageDeflate {
        PerMessageDeflate.negotiate(
            offers: [clientNoContextTakeover ? "permessage-deflate; client_no_context_takeover" : "permessage-deflate"],
            policy: .init(serverNoContextTakeover: false, clientNoContextTakeover: false, minSize: 0))!
    }

    static func assembler(
        maxMessageSize: Int = 1 << 20, clientNoContextTakeover: Bool = false
    ) -> WebSocketMessageAssembler {
        WebSocketMessageAssembler(
            configuration: .init(
                maxMessageSize: maxMessageSize,
                deflate: agreement(clientNoContextTakeover: clientNoContextTakeover)))
    }

    static func compressed(_ bytes: [UInt8], opcode: UInt8 = WebSocketFrame.Opcode.text, fin: Bool = true)
        -> WebSocketFrame
    {
        WebSocketFrame(fin: fin, rsv1: true, opcode: opcode, payload: bytes)
    }

    // MARK: Deflate

    @Test func helloCompressesAsInTheRFCWithTheSyncFlushTailRemoved() throws {
        let deflater = try RawDeflater(windowBits: 15, contextTakeover: false)
        #expect(deflater.compress(Array("Hello".utf8)) == Self.helloCompressed)
        #expect(deflater.compress(Array("Hello".utf8)) == Self.helloCompressed)
    }

    @Test func secondHelloWithContextTakeoverReusesTheWindow() throws {
        let deflater = try RawDeflater(windowBits: 15, contextTakeover: true)
        #expect(deflater.compress(Array("Hello".utf8)) == Self.helloCompressed)
        #expect(deflater.compress(Array("Hello".utf8)) == Self.helloAgain)
    }

    @Test func emptyMessageCompressesToOneZeroByteAndInflatesToNothing() throws {
        let deflater = try RawDeflater(windowBits: 15, contextTakeover: false)
        #expect(deflater.compress([]) == [0x00])
        var assembler = Self.assembler()
        #expect(assembler.receive(Self.compressed([0x00], opcode: WebSocketFrame.Opcode.binary)) == .binary([]))
    }

    @Test func largeMessagesRoundTripThroughDeflaterAndAssemblerWithContextTakeover() throws {
        let deflater = try RawDeflater(windowBits: 15, contextTakeover: true)
        var assembler = Self.assembler()
        var random = SplitMix(seed: 7)
        for round in 0..<20 {
            let size = [0, 1, 100, 70_000, 300_000][round % 5]
            let message = (0..<size).map { _ in UInt8(ascii: "a") + UInt8(random.next() % 8) }
            let payload = deflater.compress(message)
            #expect(payload.suffix(4) != [0x00, 0x00, 0xFF, 0xFF] || payload.count < 4)
            #expect(
                assembler.receive(Self.compressed(payload, opcode: WebSocketFrame.Opcode.binary)) == .binary(message))
        }
    }

    // MARK: Inflate (RFC 7692 §7.2.3)

    @Test func compressedHelloInflates() {
        var assembler = Self.assembler()
        #expect(assembler.receive(Self.compressed(Self.helloCompressed)) == .text("Hello"))
    }

    @Test func secondHelloInflatesWithTheWindowKept() {
        var assembler = Self.assembler()
        #expect(assembler.receive(Self.compressed(Self.helloCompressed)) == .text("Hello"))
        #expect(assembler.receive(Self.compressed(Self.helloAgain)) == .text("Hello"))
    }

    @Test func fragmentedCompressedMessageInflatesWithRSV1OnlyOnItsFirstFrame() {
        var assembler = Self.assembler()
        let first = Self.compressed([0xF2, 0x48, 0xCD], fin: false)
        let second = WebSocketFrame.continuation([0xC9, 0xC9, 0x07, 0x00], fin: true)
        #expect(assembler.receive(first) == .none)
        #expect(assembler.receive(second) == .text("Hello"))
    }

    @Test func storedBlockAndFinalBlockMessagesInflate() {
        var assembler = Self.assembler()
        let stored: [UInt8] = [0x00, 0x05, 0x00, 0xFA, 0xFF, 0x48, 0x65, 0x6C, 0x6C, 0x6F, 0x00]
        #expect(assembler.receive(Self.compressed(stored)) == .text("Hello"))
        let final: [UInt8] = [0xF3, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00, 0x00]
        #expect(assembler.receive(Self.compressed(final)) == .text("Hello"))
        // The final block ended the client's stream: the next message starts a fresh one.
        #expect(assembler.receive(Self.compressed(Self.helloCompressed)) == .text("Hello"))
    }

    @Test func uncompressedMessagesStillPassWithTheExtensionNegotiated() {
        var assembler = Self.assembler()
        #expect(assembler.receive(.text("plain")) == .text("plain"))
        #expect(assembler.receive(Self.compressed(Self.helloCompressed)) == .text("Hello"))
    }

    @Test func withoutClientContextTakeoverEachMessageInflatesOnItsOwn() throws {
        var assembler = Self.assembler(clientNoContextTakeover: true)
        let deflater = try RawDeflater(windowBits: 15, contextTakeover: false)
        for _ in 0..<3 {
            #expect(assembler.receive(Self.compressed(deflater.compress(Array("Hello".utf8)))) == .text("Hello"))
        }
    }

    // MARK: Violations

    @Test func rsv1OnAControlFrameIsAProtocolError() {
        var assembler = Self.assembler()
        let ping = WebSocketFrame(rsv1: true, opcode: WebSocketFrame.Opcode.ping, payload: [1])
        #expect(assembler.receive(ping).failureCloseCode == 1002)
    }

    @Test func rsv1OnAContinuationIsAProtocolError() {
        var assembler = Self.assembler()
        #expect(assembler.receive(Self.compressed([0xF2, 0x48], fin: false)) == .none)
        let continuation = WebSocketFrame(fin: true, rsv1: true, opcode: WebSocketFrame.Opcode.continuation)
        #expect(assembler.receive(continuation).failureCloseCode == 1002)
    }

    @Test func rsv1WithoutTheExtensionIsAProtocolError() {
        #expect(feed([Self.compressed(Self.helloCompressed)]).first?.failureCloseCode == 1002)
    }

    @Test func garbageCompressedDataClosesWith1007() {
        var assembler = Self.assembler()
        #expect(assembler.receive(Self.compressed([0xFF, 0xFF, 0xFF, 0xFF])).failureCloseCode == 1007)
    }

    @Test func compressedTextThatInflatesToInvalidUTF8ClosesWith1007() throws {
        let deflater = try RawDeflater(windowBits: 15, contextTakeover: false)
        var assembler = Self.assembler()
        #expect(assembler.receive(Self.compressed(deflater.compress([0x48, 0xC0, 0xAF]))).failureCloseCode == 1007)
    }

    @Test func zipBombPastTheLimitClosesWith1009() throws {
        let deflater = try RawDeflater(windowBits: 15, contextTakeover: false)
        let bomb = deflater.compress([UInt8](repeating: 0, count: 4 << 20))
        #expect(bomb.count < 8 * 1024)
        var assembler = Self.assembler(maxMessageSize: 64 * 1024)
        #expect(assembler.receive(Self.compressed(bomb, opcode: WebSocketFrame.Opcode.binary)).failureCloseCode == 1009)
    }

    @Test func fragmentedBombIsStoppedAtTheFrameThatPassesTheLimit() throws {
        let deflater = try RawDeflater(windowBits: 15, contextTakeover: false)
        let bomb = deflater.compress([UInt8](repeating: 0, count: 1 << 20))
        var assembler = Self.assembler(maxMessageSize: 100_000)
        let half = bomb.count / 2
        let first = assembler.receive(
            Self.compressed(Array(bomb[..<half]), opcode: WebSocketFrame.Opcode.binary, fin: false))
        let second = assembler.receive(.continuation(Array(bomb[half...]), fin: true))
        #expect([first, second].contains { $0.failureCloseCode == 1009 })
    }

    @Test func messageExactlyAtTheLimitIsAccepted() throws {
        let deflater = try RawDeflater(windowBits: 15, contextTakeover: false)
        var assembler = Self.assembler(maxMessageSize: 1000)
        let message = [UInt8](repeating: 7, count: 1000)
        let frame = Self.compressed(deflater.compress(message), opcode: WebSocketFrame.Opcode.binary)
        #expect(assembler.receive(frame) == .binary(message))
    }
}
