import PortcullisWire
import Testing

/// The WebSocket form of Engine.IO 4 packets: frames from protocols.md §1 and the
/// engine.io-protocol README and test suite.
@Suite struct EngineIOPacketTests {
    let max = 1_000_000

    private func decode(_ text: String) throws(EngineIOPacketError) -> EngineIOPacket {
        try EngineIOPacket.decode(text: text, maxPayload: self.max)
    }

    private func failureCode(_ text: String, maxPayload: Int = 1_000_000) -> EngineIOPacketError.Code? {
        do {
            _ = try EngineIOPacket.decode(text: text, maxPayload: maxPayload)
            return nil
        } catch {
            return error.code
        }
    }

    // MARK: Decoding text frames

    @Test func messageFrameCarriesTheTextAfterTheTypeDigit() throws {
        let packet = try self.decode("4hello")
        #expect(packet.type == .message)
        #expect(packet.payload == .text("hello"))
    }

    @Test(arguments: [
        ("0", EngineIOPacket.PacketType.open), ("1", .close), ("2", .ping), ("3", .pong), ("4", .message),
        ("5", .upgrade), ("6", .noop),
    ])
    func everyTypeDigitDecodesWithAnEmptyPayload(_ text: String, _ type: EngineIOPacket.PacketType) throws {
        #expect(try self.decode(text) == EngineIOPacket(type))
    }

    @Test func upgradeProbesKeepTheirProbePayload() throws {
        #expect(try self.decode("2probe") == EngineIOPacket(.ping, text: EngineIOPacket.probe))
        #expect(try self.decode("3probe") == EngineIOPacket(.pong, text: "probe"))
    }

    @Test func socketIOPacketRidesInAMessageUntouched() throws {
        let text = #"42["chat",{"t":"hi"}]"#
        #expect(try self.decode(text) == .message(#"2["chat",{"t":"hi"}]"#))
    }

    @Test func multiByteTextIsKeptExactly() throws {
        #expect(try self.decode("4h\u{e9}llo \u{1F600}") == .message("h\u{e9}llo \u{1F600}"))
    }

    @Test func textFrameStartingWithBIsABase64BinaryMessage() throws {
        #expect(try self.decode("bAQIDBA==") == .binary([1, 2, 3, 4]))
        #expect(try self.decode("b") == .binary([]))
    }

    // MARK: Decoding binary frames

    @Test func binaryFrameIsAMessageWithNoTypeByte() throws {
        // protocols.md §1.6: S→C binary attachment 82 03 01 02 03.
        let packet = try EngineIOPacket.decode(binary: [0x01, 0x02, 0x03], maxPayload: self.max)
        #expect(packet.type == .message)
        #expect(packet.payload == .binary([1, 2, 3]))
    }

    @Test func binaryFrameStartingWithADigitByteIsStillRawData() throws {
        // EIO 3 put a type byte first; EIO 4 must not strip it.
        #expect(try EngineIOPacket.decode(binary: [0x04, 0x34], maxPayload: self.max) == .binary([0x04, 0x34]))
    }

    @Test func emptyBinaryFrameIsAnEmptyMessage() throws {
        #expect(try EngineIOPacket.decode(binary: [], maxPayload: self.max) == .binary([]))
    }

    // MARK: Errors and bounds

    @Test func emptyTextFrameIsRefused() {
        #expect(self.failureCode("") == .emptyPacket)
    }

    @Test(arguments: ["7", "9", "abc", "x4", "/", " 4", "\u{e9}", "\u{1F600}"])
    func unknownTypeIsRefused(_ text: String) {
        #expect(self.failureCode(text) == .unknownType)
    }

    @Test(arguments: [
        "bAQIDBA", "bAQIDBA=", "bAQID BA==", "bAQ=DBA==", "bA===", "b====", "bAQIDBA==AA==", "bAR==", "bAQIDBB==",
        "b-_8=", "bAQIDBA==\n",
    ])
    func malformedBase64IsRefused(_ text: String) {
        #expect(self.failureCode(text) == .invalidBase64)
    }

    @Test func textAtTheBoundIsAcceptedAndOneByteMoreIsRefused() {
        let text = "4" + String(repeating: "x", count: 99)
        #expect(self.failureCode(text, maxPayload: 100) == nil)
        #expect(self.failureCode(text + "x", maxPayload: 100) == .payloadTooLarge)
    }

    @Test func theBoundCountsUTF8BytesNotCharacters() {
        // Four characters, seven bytes.
        #expect(self.failureCode("4\u{e9}\u{e9}\u{e9}", maxPayload: 6) == .payloadTooLarge)
        #expect(self.failureCode("4\u{e9}\u{e9}\u{e9}", maxPayload: 7) == nil)
    }

    @Test func binaryFrameOverTheBoundIsRefused() {
        #expect(throws: EngineIOPacketError.self) {
            try EngineIOPacket.decode(binary: [UInt8](repeating: 0, count: 11), maxPayload: 10)
        }
        #expect(throws: Never.self) {
            try EngineIOPacket.decode(binary: [UInt8](repeating: 0, count: 10), maxPayload: 10)
        }
    }

    // MARK: Encoding

    @Test func pingIsTheSingleCharacterFrameOfTheSpec() {
        // protocols.md §1.6: S→C ping "2" is 81 01 32.
        #expect(EngineIOPacket(.ping).webSocketFrame == .text("2"))
        #expect(Array("2".utf8) == [0x32])
    }

    @Test func messageEncodesAsTypeDigitAndText() {
        #expect(EngineIOPacket.message("hello").webSocketFrame == .text("4hello"))
        #expect(EngineIOPacket(.pong, text: "probe").webSocketFrame == .text("3probe"))
        #expect(EngineIOPacket(.noop).webSocketFrame == .text("6"))
    }

    @Test func binaryMessageEncodesAsARawBinaryFrame() {
        #expect(EngineIOPacket.binary([0xDE, 0xAD, 0xBE, 0xEF]).webSocketFrame == .binary([0xDE, 0xAD, 0xBE, 0xEF]))
    }

    @Test func binaryMessageInTextFormIsBPlusBase64() {
        var text = ""
        EngineIOPacket.binary([1, 2, 3, 4]).encodeText(into: &text)
        #expect(text == "bAQIDBA==")
    }

    @Test(arguments: [0, 1, 2, 3, 4, 5, 6, 31, 32, 255])
    func binaryTextFormRoundTripsForEveryPaddingLength(_ count: Int) throws {
        let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        var text = ""
        EngineIOPacket.binary(bytes).encodeText(into: &text)
        #expect(text.utf8.count == 1 + (count + 2) / 3 * 4)
        #expect(try self.decode(text) == .binary(bytes))
    }

    @Test func everyTextPacketRoundTrips() throws {
        for type in EngineIOPacket.PacketType.allCases {
            for payload in ["", "probe", #"{"sid":"a"}"#, "\u{1e}x"] {
                let packet = EngineIOPacket(type, text: payload)
                guard case .text(let frame) = packet.webSocketFrame else {
                    Issue.record("text packet became a binary frame")
                    continue
                }
                #expect(try self.decode(frame) == packet)
            }
        }
    }
}
