import PortcullisWire
import Testing

/// Binary packets: a header announcing N attachments, then N binary frames (socket.io-protocol
/// README and test suite, protocols.md §2.4), and the outbound binary encoder.
@Suite struct SocketIOBinaryAssemblerTests {
    let admin = SocketIONamespace("/admin")!

    private static let twoPlaceholders = #"{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}"#

    // MARK: Inbound

    @Test func binaryEventWithTwoAttachmentsCompletesOnTheSecondFrame() throws {
        var assembler = SocketIOBinaryAssembler()
        let header = #"52-/admin,["baz","# + Self.twoPlaceholders + "]"
        #expect(assembler.receivedText(header) == .none)
        #expect(assembler.isAwaitingAttachments)
        #expect(assembler.receivedAttachment([0x01, 0x02]) == .none)
        guard case .packet(let packet) = assembler.receivedAttachment([0x03, 0x04]) else {
            Issue.record("expected the complete packet")
            return
        }
        #expect(!assembler.isAwaitingAttachments)
        #expect(packet.type == .binaryEvent)
        #expect(packet.namespace == self.admin)
        #expect(packet.eventName == "baz")
        #expect(packet.arguments == [#"{"_placeholder":true,"num":0}"#, #"{"_placeholder":true,"num":1}"#])
        #expect(packet.attachments == [[0x01, 0x02], [0x03, 0x04]])
        #expect(packet.encoded == header)
    }

    @Test func testSuiteBinaryEventWithAnAckArrivesThroughEngineIOFrames() throws {
        // The Engine.IO layer first: WebSocket messages as the test suite sends them.
        let header = try EngineIOPacket.decode(
            text: #"452-789["message-with-ack","# + Self.twoPlaceholders + "]", maxPayload: 1_000_000)
        let first = try EngineIOPacket.decode(binary: [1, 2, 3], maxPayload: 1_000_000)
        let second = try EngineIOPacket.decode(binary: [4, 5, 6], maxPayload: 1_000_000)
        var assembler = SocketIOBinaryAssembler()
        var actions: [SocketIOBinaryAssembler.Action] = []
        for packet in [header, first, second] {
            switch packet.payload {
            case .text(let text): actions.append(assembler.receivedText(text))
            case .binary(let bytes): actions.append(assembler.receivedAttachment(bytes))
            }
        }
        #expect(actions.prefix(2) == [.none, .none])
        guard case .packet(let packet) = actions.last else {
            Issue.record("expected the complete packet")
            return
        }
        #expect(packet.ackID == 789)
        #expect(packet.eventName == "message-with-ack")
        #expect(packet.attachments == [[1, 2, 3], [4, 5, 6]])
    }

    @Test func binaryAckFromTheSampleSessionDecodes() throws {
        var assembler = SocketIOBinaryAssembler()
        #expect(assembler.receivedText(#"61-/admin,1[{"_placeholder":true,"num":0}]"#) == .none)
        guard case .packet(let packet) = assembler.receivedAttachment([0xDE, 0xAD, 0xBE, 0xEF]) else {
            Issue.record("expected the complete packet")
            return
        }
        #expect(packet.type == .binaryAck)
        #expect(packet.ackID == 1)
        #expect(packet.arguments == [#"{"_placeholder":true,"num":0}"#])
        #expect(packet.attachments == [[0xDE, 0xAD, 0xBE, 0xEF]])
    }

    @Test func plainPacketsPassStraightThrough() throws {
        var assembler = SocketIOBinaryAssembler()
        #expect(assembler.receivedText(#"2["chat","hi"]"#) == .packet(try SocketIOPacket.decode(#"2["chat","hi"]"#)))
        #expect(assembler.receivedText("0") == .packet(.connect()))
    }

    @Test func binaryPacketWithZeroAttachmentsIsCompleteAtOnce() throws {
        var assembler = SocketIOBinaryAssembler()
        guard case .packet(let packet) = assembler.receivedText(#"50-["empty"]"#) else {
            Issue.record("expected the packet at once")
            return
        }
        #expect(packet.attachments.isEmpty)
        #expect(!assembler.isAwaitingAttachments)
    }

    @Test func assemblerIsReadyForTheNextPacketAfterOneCompletes() {
        var assembler = SocketIOBinaryAssembler()
        _ = assembler.receivedText(#"51-["a",{"_placeholder":true,"num":0}]"#)
        _ = assembler.receivedAttachment([1])
        #expect(assembler.receivedText(#"2["b"]"#) != .none)
        #expect(assembler.receivedText(#"51-["c",{"_placeholder":true,"num":0}]"#) == .none)
    }

    @Test func textWhileAttachmentsAreAwaitedFailsTheStream() {
        var assembler = SocketIOBinaryAssembler()
        _ = assembler.receivedText(#"52-["a","# + Self.twoPlaceholders + "]")
        _ = assembler.receivedAttachment([1])
        #expect(assembler.receivedText(#"2["b"]"#).failureCode == .unexpectedText)
    }

    @Test func attachmentWithNoBinaryPacketOpenFailsTheStream() {
        var assembler = SocketIOBinaryAssembler()
        #expect(assembler.receivedAttachment([1, 2, 3]).failureCode == .unexpectedAttachment)
    }

    @Test func everyInputAfterAFailureIsIgnored() {
        var assembler = SocketIOBinaryAssembler()
        #expect(assembler.receivedText("9").failureCode == .unknownType)
        #expect(assembler.receivedText(#"2["a"]"#) == .none)
        #expect(assembler.receivedAttachment([1]) == .none)
    }

    @Test func attachmentCountOverTheConfiguredBoundFailsOnTheHeader() {
        var assembler = SocketIOBinaryAssembler(configuration: .init(maxAttachments: 1))
        #expect(assembler.receivedText(#"52-["a","# + Self.twoPlaceholders + "]").failureCode == .tooManyAttachments)
    }

    @Test func packetSizeCountsTheHeaderAndEveryAttachment() {
        let header = #"52-["a","# + Self.twoPlaceholders + "]"
        let bound = header.utf8.count + 10
        var assembler = SocketIOBinaryAssembler(configuration: .init(maxPacketSize: bound))
        #expect(assembler.receivedText(header) == .none)
        #expect(assembler.receivedAttachment([UInt8](repeating: 0, count: 6)) == .none)
        #expect(assembler.receivedAttachment([UInt8](repeating: 0, count: 5)).failureCode == .packetTooLarge)

        var exact = SocketIOBinaryAssembler(configuration: .init(maxPacketSize: bound))
        _ = exact.receivedText(header)
        _ = exact.receivedAttachment([UInt8](repeating: 0, count: 6))
        #expect(exact.receivedAttachment([UInt8](repeating: 0, count: 4)).failureCode == nil)
    }

    @Test func textOverThePacketSizeFailsBeforeDecoding() {
        var assembler = SocketIOBinaryAssembler(configuration: .init(maxPacketSize: 8))
        #expect(assembler.receivedText(#"2["abcdefgh"]"#).failureCode == .packetTooLarge)
    }

    @Test func malformedHeaderFailsTheStream() {
        var assembler = SocketIOBinaryAssembler()
        #expect(assembler.receivedText(#"51-["a",{"_placeholder":true,"num":3}]"#).failureCode == .invalidPlaceholder)
    }

    // MARK: Outbound

    @Test func binaryEventEncodesToTheReadmeHeaderAndOneFramePerAttachment() throws {
        let packet = try SocketIOPacket.binary(
            .binaryEvent, payload: #"["baz","# + Self.twoPlaceholders + "]", attachments: [[1, 2], [3, 4]],
            namespace: self.admin)
        #expect(packet.encoded == #"52-/admin,["baz","# + Self.twoPlaceholders + "]")
        #expect(
            packet.webSocketFrames == [
                .text(#"452-/admin,["baz","# + Self.twoPlaceholders + "]"), .binary([1, 2]), .binary([3, 4]),
            ])
    }

    @Test func binaryAckEncodesWithItsID() throws {
        let packet = try SocketIOPacket.binary(
            .binaryAck, payload: #"["bar",{"_placeholder":true,"num":0}]"#, attachments: [[1, 2, 3, 4]], ackID: 15)
        #expect(
            packet.webSocketFrames == [.text(#"461-15["bar",{"_placeholder":true,"num":0}]"#), .binary([1, 2, 3, 4])])
    }

    @Test func outboundBinaryPacketRoundTripsThroughTheAssembler() throws {
        let sent = try SocketIOPacket.binary(
            .binaryEvent, payload: #"["upload",{"file":{"_placeholder":true,"num":0}},"x"]"#,
            attachments: [[0xDE, 0xAD, 0xBE, 0xEF]], ackID: 3)
        var assembler = SocketIOBinaryAssembler()
        var last = SocketIOBinaryAssembler.Action.none
        for frame in sent.webSocketFrames {
            switch frame {
            case .text(let text): last = assembler.receivedText(String(text.dropFirst()))
            case .binary(let bytes): last = assembler.receivedAttachment(bytes)
            }
        }
        #expect(last == .packet(sent))
    }

    @Test(arguments: [
        #"["a",{"_placeholder":true,"num":1}]"#,
        #"["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
    ])
    func outboundPlaceholderWithoutItsAttachmentIsRefused(_ payload: String) {
        #expect {
            try SocketIOPacket.binary(.binaryEvent, payload: payload, attachments: [[1]])
        } throws: { error in
            (error as? SocketIOPacketError)?.code == .invalidPlaceholder
        }
    }

    @Test(arguments: [#"{"a":1}"#, "[", #"["connect"]"#, "7[\"a\"]", "/x,[\"a\"]", ""])
    func outboundPayloadThatAClientWouldRefuseIsRefused(_ payload: String) {
        #expect(throws: SocketIOPacketError.self) {
            try SocketIOPacket.binary(.binaryEvent, payload: payload, attachments: [])
        }
    }
}

extension SocketIOBinaryAssembler.Action {
    /// The code of a `.fail` action, nil for every other action.
    fileprivate var failureCode: SocketIOPacketError.Code? {
        if case .fail(let error) = self { return error.code }
        return nil
    }
}
