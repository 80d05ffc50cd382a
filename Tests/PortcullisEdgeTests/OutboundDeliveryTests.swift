import NIOCore
import PortcullisBus
import PortcullisWire
import Testing

@testable import PortcullisEdge

/// Outbound envelopes become client frames once per fan-out: what each raw mode sends.
@Suite struct OutboundDeliveryTests {
    private let allocator = ByteBufferAllocator()

    private func emit(_ data: Envelope.Payload?, event: String? = "news") -> OutboundDelivery {
        OutboundDelivery(
            Envelope(id: "e1", kind: .emit, target: .room("r"), event: event, data: data))
    }

    /// The frames of `delivery` for WebSocket connections in `format`, as a hub's cache
    /// makes them.
    private func frame(_ delivery: OutboundDelivery, _ format: SocketEncoding.Format) -> ByteBuffer? {
        var cache = OutboundDelivery.Cache()
        guard case .webSocket(let frames) = cache.encoded(delivery, as: SocketEncoding(format: format), for: .webSocket)
        else { return nil }
        return frames
    }

    /// (opcode, payload) of an unmasked server frame.
    private func decode(_ frame: ByteBuffer?) throws -> (UInt8, [UInt8]) {
        var frame = try #require(frame)
        let firstByte: UInt8? = frame.readInteger()
        let first = try #require(firstByte)
        #expect(first & 0x80 != 0, "FIN set")
        let secondByte: UInt8? = frame.readInteger()
        let lengthByte = try #require(secondByte)
        #expect(lengthByte & 0x80 == 0, "server frames are not masked")
        var length = Int(lengthByte)
        if length == 126 {
            let long: UInt16? = frame.readInteger()
            length = Int(try #require(long))
        } else if length == 127 {
            let long: UInt64? = frame.readInteger()
            length = Int(try #require(long))
        }
        #expect(frame.readableBytes == length)
        return (first & 0x0F, Array(frame.readableBytesView))
    }

    // MARK: permessage-deflate

    @Test func compressedConnectionsWithoutContextShareOneCompressedFrame() throws {
        let text = String(repeating: "the same words again and again ", count: 20)
        let delivery = emit(.text(text))
        var cache = OutboundDelivery.Cache()
        let kind = SocketTransportKind.compressedWebSocket(windowBits: 15, minSize: 256)
        let encoding = SocketEncoding(format: .rawOpaque)
        guard case .webSocket(var frame) = cache.encoded(delivery, as: encoding, for: kind),
            case .webSocket(let again) = cache.encoded(delivery, as: encoding, for: kind)
        else {
            Issue.record("expected WebSocket frames")
            return
        }
        #expect(frame == again)
        let first = frame.readInteger(as: UInt8.self)
        #expect(first == 0xC1, "FIN, RSV1, text")
        let length = frame.readInteger(as: UInt8.self) ?? 0
        #expect(Int(length) == frame.readableBytes && frame.readableBytes < text.utf8.count / 4)
        let deflate = PerMessageDeflate.negotiate(offers: ["permessage-deflate"], policy: .init())
        var assembler = WebSocketMessageAssembler(configuration: .init(deflate: deflate))
        let payload = Array(frame.readableBytesView)
        #expect(assembler.receive(WebSocketFrame(rsv1: true, opcode: 0x1, payload: payload)) == .text(text))
    }

    @Test func shortMessagesGoUncompressedAndContextConnectionsGetMessages() throws {
        let delivery = emit(.text("short"))
        var cache = OutboundDelivery.Cache()
        let encoding = SocketEncoding(format: .rawOpaque)
        let shared = cache.encoded(
            delivery, as: encoding, for: .compressedWebSocket(windowBits: 15, minSize: 256))
        guard case .webSocket(let frame) = shared else {
            Issue.record("expected WebSocket frames")
            return
        }
        #expect(frame.getInteger(at: frame.readerIndex, as: UInt8.self) == 0x81)
        guard case .packets(let messages) = cache.encoded(delivery, as: encoding, for: .contextCompressedWebSocket)
        else {
            Issue.record("expected messages")
            return
        }
        #expect(messages == [.text("short")])
    }

    @Test func jsonDataIsInsertedAsItIsInJsonMode() throws {
        let delivery = emit(.json(#"{"n": 1.50}"#))
        let (opcode, payload) = try decode(frame(delivery, .rawJSON))
        #expect(opcode == 0x1)
        #expect(String(decoding: payload, as: UTF8.self) == #"{"event":"news","data":{"n": 1.50}}"#)
        let (opaqueOpcode, opaquePayload) = try decode(frame(delivery, .rawOpaque))
        #expect(opaqueOpcode == 0x1)
        #expect(String(decoding: opaquePayload, as: UTF8.self) == #"{"n": 1.50}"#)
    }

    @Test func textDataBecomesAJSONStringInJsonMode() throws {
        let delivery = emit(.text("say \"hi\"\n"))
        let (_, payload) = try decode(frame(delivery, .rawJSON))
        #expect(String(decoding: payload, as: UTF8.self) == #"{"event":"news","data":"say \"hi\"\n"}"#)
    }

    @Test func binaryStaysBinaryInBothModes() throws {
        let bytes: [UInt8] = [0, 0xFF, 13, 10] + Array(repeating: 7, count: 300)
        let delivery = emit(.binary(ByteBuffer(bytes: bytes)))
        for format: SocketEncoding.Format in [.rawJSON, .rawOpaque] {
            let (opcode, payload) = try decode(frame(delivery, format))
            #expect(opcode == 0x2)
            #expect(payload == bytes)
        }
    }

    @Test func invalidUTF8IsNeverSentAsText() {
        let delivery = emit(Envelope.Payload(bytes: ByteBuffer(bytes: [0x22, 0xC0, 0x22]), type: .json))
        #expect(frame(delivery, .rawJSON) == nil)
        #expect(frame(delivery, .rawOpaque) == nil)
    }

    @Test func anAckAnswersInJsonModeOnly() throws {
        let envelope = Envelope(id: "a1", kind: .ack, target: .connection("e.1"), ack: 3, data: .json(#"["ok"]"#))
        let delivery = OutboundDelivery(envelope)
        let (_, payload) = try decode(frame(delivery, .rawJSON))
        #expect(String(decoding: payload, as: UTF8.self) == #"{"event":"ack","ack":3,"data":["ok"]}"#)
        #expect(frame(delivery, .rawOpaque) == nil)
    }

    @Test func largePayloadsUseTheLongLengthForms() throws {
        for size in [126, 65_535, 65_536, 70_000] {
            let delivery = emit(.binary(ByteBuffer(repeating: 1, count: size)))
            let (_, payload) = try decode(frame(delivery, .rawOpaque))
            #expect(payload.count == size)
        }
    }

    @Test func closeReasonsAreCutOnACharacterBoundary() throws {
        let frame = ServerFrame.close(code: 4000, reason: String(repeating: "é", count: 100), allocator: allocator)
        let (opcode, payload) = try decode(frame)
        #expect(opcode == 0x8)
        #expect(payload.count <= 125)
        #expect(payload[0] == 0x0F && payload[1] == 0xA0)
        #expect(String(validating: payload[2...], as: UTF8.self) != nil)
    }
}
