import PortcullisTestSupport
import PortcullisWire
import Testing

/// Long-polling bodies: records joined by `\u{1e}`, binary as `b` + base64. Examples from
/// the engine.io-protocol README and test suite and the socket.io-protocol sample session.
@Suite struct EngineIOPayloadTests {
    private func decode(_ body: String, maxPayload: Int = 1_000_000) throws(EngineIOPacketError) -> [EngineIOPacket] {
        try EngineIOPacket.decodePayload(Array(body.utf8), maxPayload: maxPayload)
    }

    private func failureCode(_ body: [UInt8], maxPayload: Int = 1_000_000) -> EngineIOPacketError.Code? {
        do {
            _ = try EngineIOPacket.decodePayload(body, maxPayload: maxPayload)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func readmeBatchOfTwoMessagesAndAPingDecodesInOrder() throws {
        #expect(
            try self.decode("4hello\u{1e}2\u{1e}4world") == [
                .message("hello"), EngineIOPacket(.ping), .message("world"),
            ])
    }

    @Test func readmeBatchWithABinaryPacketDecodesTheBase64() throws {
        #expect(try self.decode("4hello\u{1e}bAQIDBA==") == [.message("hello"), .binary([1, 2, 3, 4])])
    }

    @Test func sampleSessionPostOfTwoEventsDecodesToTwoMessages() throws {
        let packets = try self.decode("42[\"hello\"]\u{1e}42[\"world\"]")
        #expect(packets == [.message(#"2["hello"]"#), .message(#"2["world"]"#)])
    }

    @Test func singlePacketBodyHasNoSeparator() throws {
        #expect(try self.decode("3") == [EngineIOPacket(.pong)])
        #expect(try EngineIOPacket.encodePayload([EngineIOPacket(.noop)]) == "6")
    }

    @Test func mixedTextAndBinaryBatchRoundTripsByteForByte() throws {
        // A binary event and its attachment (de ad be ef), then a plain event and a ping.
        let body =
            "451-[\"upload\",{\"_placeholder\":true,\"num\":0}]\u{1e}b3q2+7w==\u{1e}42[\"chat\",\"h\u{e9}\"]\u{1e}2"
        let packets = try self.decode(body)
        #expect(
            packets == [
                .message(#"51-["upload",{"_placeholder":true,"num":0}]"#), .binary([0xDE, 0xAD, 0xBE, 0xEF]),
                .message("2[\"chat\",\"h\u{e9}\"]"), EngineIOPacket(.ping),
            ])
        #expect(try EngineIOPacket.encodePayload(packets) == body)
    }

    @Test func encoderMatchesTheTestSuiteEcho() throws {
        #expect(
            try EngineIOPacket.encodePayload([.message("test1"), .message("test2"), .message("test3")])
                == "4test1\u{1e}4test2\u{1e}4test3")
        #expect(
            try EngineIOPacket.encodePayload([.message("hello"), .binary([1, 2, 3, 4])]) == "4hello\u{1e}bAQIDBA==")
    }

    @Test func encoderRefusesTextThatHoldsTheRecordSeparator() {
        #expect {
            try EngineIOPacket.encodePayload([.message("a\u{1e}4b")])
        } throws: { error in
            (error as? EngineIOPacketError)?.code == .recordSeparatorInText
        }
    }

    @Test(arguments: ["", "\u{1e}", "4a\u{1e}", "\u{1e}4a", "4a\u{1e}\u{1e}4b"])
    func emptyRecordFailsTheWholeBody(_ body: String) {
        #expect(self.failureCode(Array(body.utf8)) == .emptyPacket)
    }

    @Test func oneBadPacketFailsTheWholeBody() {
        #expect(self.failureCode(Array("4a\u{1e}9\u{1e}4b".utf8)) == .unknownType)
        #expect(self.failureCode(Array("4a\u{1e}b!!!!".utf8)) == .invalidBase64)
    }

    @Test func bodyThatIsNotUTF8IsRefused() {
        #expect(self.failureCode([UInt8(ascii: "4"), 0xC3]) == .invalidUTF8)
        #expect(self.failureCode([UInt8(ascii: "4"), 0xED, 0xA0, 0x80]) == .invalidUTF8)
    }

    @Test func generatedBodiesNeverTrapAndEveryAcceptedOneReEncodesByteForByte() throws {
        let alphabet = Array("0123456789bAQIDw=+/x\u{1e}".utf8) + [0xC3, 0xA9, 0xFF]
        var generator = SplitMix(seed: 3)
        var accepted = 0
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...10, using: &generator)
            let body = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
            guard let packets = try? EngineIOPacket.decodePayload(body, maxPayload: 1_000) else { continue }
            accepted += 1
            #expect(Array(try EngineIOPacket.encodePayload(packets).utf8) == body)
        }
        #expect(accepted > 100)
    }

    @Test func wholeBodyIsBoundedNotEachPacket() {
        let body = Array("4aaaa\u{1e}4bbbb".utf8)
        #expect(self.failureCode(body, maxPayload: body.count) == nil)
        #expect(self.failureCode(body, maxPayload: body.count - 1) == .payloadTooLarge)
    }
}
