import PortcullisWire
import Testing

@Suite struct WebSocketMessageAssemblerTests {
    // MARK: Fragmentation

    @Test func singleFrameTextIsDeliveredAtOnce() {
        #expect(feed([.text("Hello")]) == [.text("Hello")])
    }

    @Test func emptyTextAndBinaryMessagesAreDelivered() {
        #expect(feed([.text(""), .binary([])]) == [.text(""), .binary([])])
    }

    @Test func twoFragmentsAreJoined() {
        #expect(
            feed([.text("Hel", fin: false), .continuation(Array("lo".utf8), fin: true)]) == [.none, .text("Hello")])
    }

    @Test func manyFragmentsIncludingEmptyOnesAreJoined() {
        var frames: [WebSocketFrame] = [.binary([], fin: false)]
        for byte in UInt8(0)..<20 {
            frames.append(.continuation([byte], fin: false))
            frames.append(.continuation([], fin: false))
        }
        frames.append(.continuation([], fin: true))
        let actions = feed(frames)
        #expect(actions.dropLast().allSatisfy { $0 == .none })
        #expect(actions.last == .binary(Array(0..<20)))
    }

    @Test func pingBetweenFragmentsIsAnsweredAndMessageStillCompletes() {
        let actions = feed([
            .text("frag", fin: false), .ping([1, 2, 3]), .pong([9]),
            .continuation(Array("ment".utf8), fin: true),
        ])
        #expect(actions == [.none, .sendPong([1, 2, 3]), .none, .text("fragment")])
    }

    @Test func secondMessageAfterFragmentedOneIsIndependent() {
        let actions = feed([.binary([1], fin: false), .continuation([2], fin: true), .binary([3])])
        #expect(actions == [.none, .binary([1, 2]), .binary([3])])
    }

    @Test func continuationWithNothingOpenFailsWith1002() {
        #expect(feed([.continuation([1], fin: true)]).last?.failureCloseCode == 1002)
        #expect(feed([.continuation([1], fin: false)]).last?.failureCloseCode == 1002)
        #expect(feed([.text("a"), .continuation([1], fin: true)]).last?.failureCloseCode == 1002)
    }

    @Test func newDataFrameWhileFragmentedMessageIsOpenFailsWith1002() {
        #expect(feed([.text("a", fin: false), .text("b")]).last?.failureCloseCode == 1002)
        #expect(feed([.binary([1], fin: false), .text("b", fin: false)]).last?.failureCloseCode == 1002)
    }

    // MARK: Control frames

    @Test func pingIsAnsweredWithIdenticalPayload() {
        let payload = Array(UInt8(0)..<125)
        #expect(feed([.ping(payload)]) == [.sendPong(payload)])
        #expect(feed([.ping()]) == [.sendPong([])])
    }

    @Test func unsolicitedPongIsIgnored() {
        #expect(feed([.pong([1, 2]), .text("x")]) == [.none, .text("x")])
    }

    @Test(arguments: [WebSocketFrame.Opcode.ping, WebSocketFrame.Opcode.pong, WebSocketFrame.Opcode.close])
    func controlFrameOver125BytesFailsWith1002(_ opcode: UInt8) {
        var payload = [UInt8](repeating: 0x61, count: 126)
        payload[0] = 0x03
        payload[1] = 0xE8
        #expect(feed([WebSocketFrame(opcode: opcode, payload: payload)]).last?.failureCloseCode == 1002)
    }

    @Test(arguments: [WebSocketFrame.Opcode.ping, WebSocketFrame.Opcode.pong, WebSocketFrame.Opcode.close])
    func fragmentedControlFrameFailsWith1002(_ opcode: UInt8) {
        #expect(feed([WebSocketFrame(fin: false, opcode: opcode, payload: [])]).last?.failureCloseCode == 1002)
    }

    // MARK: Header violations

    @Test(arguments: [(true, false, false), (false, true, false), (false, false, true), (true, true, true)])
    func reservedBitsFailWith1002(_ bits: (Bool, Bool, Bool)) {
        let frame = WebSocketFrame(rsv1: bits.0, rsv2: bits.1, rsv3: bits.2, opcode: WebSocketFrame.Opcode.text)
        let action = feed([frame]).last
        #expect(action?.failureCloseCode == 1002)
        if case .fail(let failure) = action { #expect(failure.code == .reservedBitsSet) }
    }

    @Test func reservedBitsOnPingFailInsteadOfPonging() {
        #expect(feed([WebSocketFrame(rsv2: true, opcode: WebSocketFrame.Opcode.ping)]).last?.failureCloseCode == 1002)
    }

    @Test(arguments: [UInt8(3), 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
    func unknownOpcodeFailsWith1002(_ opcode: UInt8) {
        let action = feed([WebSocketFrame(opcode: opcode, payload: [1])]).last
        #expect(action?.failureCloseCode == 1002)
        if case .fail(let failure) = action { #expect(failure.code == .unknownOpcode) }
    }

    @Test func framesAfterAFailureAreIgnored() {
        let actions = feed([WebSocketFrame(opcode: 3), .text("x"), .ping([1])])
        #expect(actions.dropFirst().allSatisfy { $0 == .none })
    }

    // MARK: UTF-8

    @Test(arguments: UTF8StreamValidatorTests.invalidSequences)
    func invalidUTF8InSingleFrameFailsWith1007(_ bytes: [UInt8]) {
        #expect(feed([.text(bytes: Array("ok".utf8) + bytes)]).last?.failureCloseCode == 1007)
    }

    @Test(arguments: UTF8StreamValidatorTests.invalidSequences)
    func invalidUTF8InLastFragmentFailsWith1007(_ bytes: [UInt8]) {
        let actions = feed([.text("ok", fin: false), .continuation(bytes, fin: true)])
        #expect(actions.last?.failureCloseCode == 1007)
    }

    @Test func validMultiByteSequenceSplitAtEveryByteIsAccepted() {
        let text = "κόσμε😀€\u{10FFFF}"
        let bytes = Array(text.utf8)
        for split in 0...bytes.count {
            let actions = feed([
                .text(bytes: Array(bytes[..<split]), fin: false), .continuation(Array(bytes[split...]), fin: true),
            ])
            #expect(actions == [.none, .text(text)], "split at \(split)")
        }
    }

    @Test func validTextOneByteperFragmentIsAccepted() {
        let text = "Hello-µ@ßöäüàá-UTF-8!!😀"
        let bytes = Array(text.utf8)
        var frames: [WebSocketFrame] = [.text(bytes: [bytes[0]], fin: false)]
        frames += bytes.dropFirst().dropLast().map { .continuation([$0], fin: false) }
        frames.append(.continuation([bytes.last!], fin: true))
        #expect(feed(frames).last == .text(text))
    }

    @Test(arguments: UTF8StreamValidatorTests.invalidSequences)
    func invalidSequenceSplitAtEveryByteFailsAt1007(_ bytes: [UInt8]) {
        for split in 0...bytes.count {
            let actions = feed([
                .text(bytes: Array(bytes[..<split]), fin: false), .continuation(Array(bytes[split...]), fin: true),
            ])
            #expect(actions.contains { $0.failureCloseCode == 1007 }, "split at \(split)")
        }
    }

    @Test func invalidUTF8FailsFastInTheFirstFragmentBeforeTheMessageEnds() {
        // κόσμε then U+D800 encoded as a surrogate, the rest of the message never sent.
        let actions = feed([.text(bytes: Array("κόσμε".utf8) + [0xED, 0xA0, 0x80], fin: false)])
        #expect(actions == [actions[0]])
        #expect(actions[0].failureCloseCode == 1007)
    }

    @Test func invalidByteIsRejectedInAFragmentEvenWhenSequenceStartedEarlier() {
        let actions = feed([.text(bytes: [0xF4], fin: false), .continuation([0x90], fin: false)])
        #expect(actions == [.none, actions[1]])
        #expect(actions[1].failureCloseCode == 1007)
    }

    @Test func truncatedSequenceAtMessageEndFailsWith1007() {
        let actions = feed([.text(bytes: [0x61, 0xE2, 0x82], fin: false), .continuation([], fin: true)])
        #expect(actions == [.none, actions[1]])
        #expect(actions[1].failureCloseCode == 1007)
    }

    @Test func binaryMessagesAreNotUTF8Validated() {
        #expect(feed([.binary([0xFF, 0xC0, 0xED, 0xA0, 0x80])]) == [.binary([0xFF, 0xC0, 0xED, 0xA0, 0x80])])
    }

    // MARK: Size limit

    @Test func messageExactlyAtTheLimitIsAccepted() {
        let payload = [UInt8](repeating: 0x61, count: 100)
        #expect(feed([.binary(payload)], maxMessageSize: 100) == [.binary(payload)])
        let fragmented = feed(
            [.text(bytes: Array(payload[..<60]), fin: false), .continuation(Array(payload[60...]), fin: true)],
            maxMessageSize: 100
        )
        #expect(fragmented.last == .text(String(repeating: "a", count: 100)))
    }

    @Test func messageOneByteOverTheLimitFailsWith1009() {
        let payload = [UInt8](repeating: 0x61, count: 101)
        #expect(feed([.binary(payload)], maxMessageSize: 100).last?.failureCloseCode == 1009)
        let actions = feed(
            [.text(bytes: Array(payload[..<60]), fin: false), .continuation(Array(payload[60...]), fin: true)],
            maxMessageSize: 100
        )
        #expect(actions.last?.failureCloseCode == 1009)
    }

    @Test func sizeLimitIsEnforcedAsFragmentsArriveNotAtTheEnd() {
        let actions = feed(
            [
                .binary([UInt8](repeating: 1, count: 80), fin: false),
                .continuation([UInt8](repeating: 1, count: 30), fin: false),
            ],
            maxMessageSize: 100
        )
        #expect(actions.last?.failureCloseCode == 1009)
    }

    // MARK: Close frames

    @Test func emptyCloseIsReportedAs1005() {
        #expect(feed([.close(payload: [])]) == [.closeReceived(WebSocketClose(code: .noStatusReceived))])
    }

    @Test func oneByteClosePayloadFailsWith1002() {
        #expect(feed([.close(payload: [0x03])]).last?.failureCloseCode == 1002)
    }

    @Test(arguments: [
        UInt16(1000), 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
    ])
    func validCloseCodeIsAccepted(_ code: UInt16) {
        #expect(
            feed([.close(code: code, reason: Array("bye".utf8))]) == [
                .closeReceived(WebSocketClose(code: WebSocketCloseCode(code), reason: "bye"))
            ])
    }

    @Test(arguments: [UInt16(0), 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535])
    func invalidCloseCodeFailsWith1002(_ code: UInt16) {
        let action = feed([.close(code: code)]).last
        #expect(action?.failureCloseCode == 1002)
        if case .fail(let failure) = action { #expect(failure.code == .invalidCloseCode) }
    }

    @Test func closeReasonWithInvalidUTF8FailsWith1007() {
        #expect(feed([.close(code: 1000, reason: [0xCE, 0xBA, 0xED, 0xA0, 0x80])]).last?.failureCloseCode == 1007)
    }

    @Test func closeReasonOfMaximumLengthIsAccepted() {
        let reason = String(repeating: "r", count: 123)
        #expect(
            feed([.close(code: 1000, reason: Array(reason.utf8))]) == [
                .closeReceived(WebSocketClose(code: .normalClosure, reason: reason))
            ])
    }

    @Test func framesAfterCloseReceivedAreIgnored() {
        let actions = feed([.close(code: 1000), .text("late"), .binary([1]), .ping([1]), .close(code: 1000)])
        #expect(actions.dropFirst().allSatisfy { $0 == .none })
    }

    @Test func closeBetweenFragmentsIsStillReceived() {
        let actions = feed([.text("part", fin: false), .close(code: 1000), .continuation([0x61], fin: true)])
        #expect(actions == [.none, .closeReceived(WebSocketClose(code: .normalClosure)), .none])
    }

    @Test func dataAfterWeSentCloseIsIgnoredButPeerCloseStillCounts() {
        var assembler = WebSocketMessageAssembler()
        let beforeClose = assembler.receive(.text("open", fin: false))
        assembler.closeSent()
        let afterClose = [.continuation([0x61], fin: true), .text("late"), .ping([1])].map { assembler.receive($0) }
        let peerClose = assembler.receive(.close(code: 1001))
        #expect(beforeClose == .none)
        #expect(afterClose == [.none, .none, .none])
        #expect(peerClose == .closeReceived(WebSocketClose(code: .goingAway)))
    }
}
