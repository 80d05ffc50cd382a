import PortcullisTestSupport
import PortcullisWire
import Testing

/// The Socket.IO v5 text form, against the socket.io-protocol README examples and test
/// suite and protocols.md §2.
@Suite struct SocketIOPacketTests {
    let admin = SocketIONamespace("/admin")!

    private func failureCode(_ text: String, maxAttachments: Int = 10) -> SocketIOPacketError.Code? {
        do {
            _ = try SocketIOPacket.decode(text, maxAttachments: maxAttachments)
            return nil
        } catch {
            return error.code
        }
    }

    // MARK: CONNECT, DISCONNECT, CONNECT_ERROR

    @Test func bareConnectJoinsTheMainNamespace() throws {
        let packet = try SocketIOPacket.decode("0")
        #expect(packet.type == .connect)
        #expect(packet.namespace == .main)
        #expect(packet.payload == nil)
        #expect(packet == .connect())
    }

    @Test func connectToACustomNamespaceCarriesItsPayloadAsRawJSON() throws {
        let packet = try SocketIOPacket.decode(#"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#)
        #expect(packet.namespace == self.admin)
        #expect(packet.payload == #"{"sid":"oSO0OpakMV_3jnilAAAA"}"#)
    }

    @Test func connectAuthObjectIsKeptExactlyAsSent() throws {
        let auth = #"{ "token" : "abc", "n": 1.50e1, "u":"\u00e9" }"#
        #expect(try SocketIOPacket.decode("0" + auth).payload?.elementsEqual(auth) == true)
        #expect(try SocketIOPacket.decode(#"0/custom,{"token":"abc"}"#).payload == #"{"token":"abc"}"#)
    }

    @Test func namespaceWithoutTheCommaStillParses() throws {
        // The test suite sends `40/random` and `40/custom`.
        let packet = try SocketIOPacket.decode("0/random")
        #expect(packet.namespace == SocketIONamespace("/random"))
        #expect(packet.encoded == "0/random,")
    }

    @Test func disconnectFromMainAndCustomNamespace() throws {
        #expect(try SocketIOPacket.decode("1") == .disconnect())
        #expect(try SocketIOPacket.decode("1/admin,") == .disconnect(namespace: self.admin))
        #expect(SocketIOPacket.disconnect(namespace: self.admin).encoded == "1/admin,")
    }

    @Test func connectErrorAcceptsAnObjectOrAString() throws {
        #expect(
            try SocketIOPacket.decode(#"4{"message":"Not authorized"}"#).payload == #"{"message":"Not authorized"}"#)
        #expect(try SocketIOPacket.decode(#"4"Unable to connect""#).payload == #""Unable to connect""#)
    }

    @Test func connectErrorEncodesLikeTheJSServer() {
        #expect(SocketIOPacket.connectError(message: "Not authorized").encoded == #"4{"message":"Not authorized"}"#)
        #expect(
            SocketIOPacket.connectError(message: "unauthorized", data: #"{"code":401}"#).encoded
                == #"4{"message":"unauthorized","data":{"code":401}}"#)
        #expect(
            SocketIOPacket.connectError(namespace: SocketIONamespace("/random")!, message: "Invalid namespace").encoded
                == #"4/random,{"message":"Invalid namespace"}"#)
    }

    @Test func serverConnectReplyEncodes() {
        #expect(
            SocketIOPacket.connect(namespace: self.admin, payload: #"{"sid":"-G5j-67EZFp-q59rADQM"}"#).encoded
                == #"0/admin,{"sid":"-G5j-67EZFp-q59rADQM"}"#)
    }

    // MARK: EVENT and ACK

    @Test func eventGivesItsNameAndArgumentsAsRawJSON() throws {
        let packet = try SocketIOPacket.decode(#"2["message",1,"2",{"3":[true]}]"#)
        #expect(packet.type == .event)
        #expect(packet.eventName == "message")
        #expect(packet.arguments == ["1", #""2""#, #"{"3":[true]}"#])
        #expect(packet.ackID == nil)
    }

    @Test func eventWithOnlyANameHasNoArguments() throws {
        let packet = try SocketIOPacket.decode(#"2["foo"]"#)
        #expect(packet.eventName == "foo")
        #expect(packet.arguments.isEmpty)
    }

    @Test func eventInACustomNamespace() throws {
        let packet = try SocketIOPacket.decode(#"2/admin,["bar"]"#)
        #expect(packet.namespace == self.admin)
        #expect(packet.eventName == "bar")
    }

    @Test func eventWithAnAckID() throws {
        let packet = try SocketIOPacket.decode(#"212["foo"]"#)
        #expect(packet.ackID == 12)
        #expect(try SocketIOPacket.decode(#"2/admin,1["tellme"]"#).ackID == 1)
        #expect(try SocketIOPacket.decode(#"2456["message-with-ack",1,"2",{"3":[false]}]"#).ackID == 456)
    }

    @Test func escapedEventNameIsDecodedButArgumentsStayEscaped() throws {
        let packet = try SocketIOPacket.decode(#"2["caf\u00e9", "\u00e9" , [ 1 ,2 ] ]"#)
        #expect(packet.eventName == "caf\u{e9}")
        #expect(packet.arguments == [#""\u00e9""#, "[ 1 ,2 ]"])
    }

    @Test func argumentsOfNonASCIITextAreSlicedOnTheRightBytes() throws {
        let packet = try SocketIOPacket.decode("2[\"\u{1F600}\",\"\u{e9}t\u{e9}\",{\"\u{4E2D}\":\"\u{6587}\"}]")
        #expect(packet.eventName == "\u{1F600}")
        #expect(packet.arguments == ["\"\u{e9}t\u{e9}\"", "{\"\u{4E2D}\":\"\u{6587}\"}"])
    }

    @Test func ackListsEveryElementAsAnArgument() throws {
        let packet = try SocketIOPacket.decode(#"3/admin,13["bar"]"#)
        #expect(packet.type == .ack)
        #expect(packet.namespace == self.admin)
        #expect(packet.ackID == 13)
        #expect(packet.eventName == nil)
        #expect(packet.arguments == [#""bar""#])
    }

    @Test func ackWithNoArgumentsIsAnEmptyArray() throws {
        let packet = try SocketIOPacket.decode("3/admin,17[]")
        #expect(packet.ackID == 17)
        #expect(packet.arguments.isEmpty)
        #expect(packet.payload == "[]")
    }

    @Test func eventEncodesAsInTheReadme() {
        #expect(SocketIOPacket.event("foo", arguments: []).encoded == #"2["foo"]"#)
        #expect(SocketIOPacket.event("bar", arguments: [], namespace: self.admin).encoded == #"2/admin,["bar"]"#)
        #expect(SocketIOPacket.event("foo", arguments: [], ackID: 12).encoded == #"212["foo"]"#)
        #expect(
            SocketIOPacket.ack(id: 13, arguments: [#""bar""#], namespace: self.admin).encoded == #"3/admin,13["bar"]"#)
        #expect(SocketIOPacket.ack(id: 12, arguments: []).encoded == "312[]")
    }

    @Test func eventFrameMatchesTheRecordedBytes() {
        // protocols.md §2.4: S→C 81 15 34 32 5b 22 63 68 61 74 … (0x15 = 21 bytes).
        let frames = SocketIOPacket.event("chat", arguments: [#"{"t":"hi"}"#]).webSocketFrames
        #expect(frames == [.text(#"42["chat",{"t":"hi"}]"#)])
        guard case .text(let text) = frames.first else { return }
        #expect(text.utf8.count == 0x15)
        #expect(Array(text.utf8.prefix(8)) == [0x34, 0x32, 0x5B, 0x22, 0x63, 0x68, 0x61, 0x74])
    }

    @Test func eventNameIsEscapedAndArgumentsAreWrittenAsGiven() throws {
        let packet = SocketIOPacket.event("say \"hi\"", arguments: ["1.50", #"{"b":1,"a":2}"#], ackID: 7)
        #expect(packet.encoded == #"27["say \"hi\"",1.50,{"b":1,"a":2}]"#)
        #expect(packet.arguments == ["1.50", #"{"b":1,"a":2}"#])
        #expect(try SocketIOPacket.decode(packet.encoded) == packet)
    }

    @Test(arguments: [
        "0", "0/admin,", #"0{"token":"123"}"#, #"0/admin,{"sid":"x"}"#, "1", "1/admin,", #"2["foo"]"#,
        #"2/admin,["bar"]"#, #"212["foo"]"#, #"2/admin,1["tellme"]"#, #"3/admin,13["bar"]"#, "317[]",
        #"4{"message":"Not authorized"}"#, #"4/random,{"message":"Invalid namespace"}"#, #"4"Unable to connect""#,
        #"51-["baz",{"_placeholder":true,"num":0}]"#,
        #"52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        #"61-15["bar",{"_placeholder":true,"num":0}]"#, #"61-/admin,1[{"_placeholder":true,"num":0}]"#,
        #"50-["none"]"#,
    ])
    func canonicalPacketsRoundTripByteForByte(_ text: String) throws {
        #expect(try SocketIOPacket.decode(text).encoded == text)
    }

    // MARK: Errors

    @Test func emptyPacketIsRefused() {
        #expect(self.failureCode("") == .emptyPacket)
    }

    @Test(arguments: ["7", "9[]", "abc", "-1", "\u{e9}"])
    func unknownTypeIsRefused(_ text: String) {
        #expect(self.failureCode(text) == .unknownType)
    }

    @Test(arguments: [
        "2{}", "2abc[\"message-with-ack\",1]", "2", "2[]", "2[1]", "2[null]", "2[\"a\"", "2[\"a\"] x", "2[\"a\",]",
        "2 ", "2[\"a\"]]", "0[]", "0\"x\"", "0{", "1{}", "1/admin,{}", "31{}", "31\"a\"", "4", "4[]",
    ])
    func payloadOfTheWrongShapeIsRefused(_ text: String) {
        // "2{}" and "2abc[…]" are the test suite's invalid-format cases (`42{}`, `42abc[…]`).
        #expect(self.failureCode(text) == .invalidPayload)
    }

    @Test(arguments: SocketIOPacket.reservedEventNames.sorted())
    func reservedEventNamesAreRefused(_ name: String) {
        #expect(self.failureCode("2[\"\(name)\",1]") == .reservedEventName)
    }

    @Test func ackIDsAboveTheJavaScriptSafeIntegerAreRefused() throws {
        #expect(try SocketIOPacket.decode("29007199254740991[\"a\"]").ackID == SocketIOPacket.maxAckID)
        #expect(self.failureCode("29007199254740992[\"a\"]") == .invalidAckID)
        #expect(self.failureCode("2" + String(repeating: "9", count: 40) + "[\"a\"]") == .invalidAckID)
    }

    @Test func ackWithoutAnIDAndConnectWithOneAreRefused() {
        #expect(self.failureCode("3[]") == .invalidAckID)
        #expect(self.failureCode("61-[{\"_placeholder\":true,\"num\":0}]") == .invalidAckID)
        #expect(self.failureCode("012{}") == .invalidAckID)
    }

    @Test(arguments: ["5[\"a\"]", "5-[\"a\"]", "51[\"a\"]", "5x-[\"a\"]", "6-1[]"])
    func binaryPacketWithoutACountIsRefused(_ text: String) {
        #expect(self.failureCode(text) == .invalidAttachmentCount)
    }

    @Test func attachmentCountOverTheBoundIsRefusedBeforeThePayload() {
        let placeholders = (0..<11).map { "{\"_placeholder\":true,\"num\":\($0)}" }.joined(separator: ",")
        #expect(self.failureCode("511-[\"a\",\(placeholders)]") == .tooManyAttachments)
        #expect(self.failureCode("53-[\"a\"]", maxAttachments: 2) == .tooManyAttachments)
        #expect(self.failureCode("5" + String(repeating: "9", count: 30) + "-[\"a\"]") == .tooManyAttachments)
        #expect(self.failureCode("52-[\"a\"]", maxAttachments: 2) == nil)
    }

    @Test(arguments: [
        #"51-["a",{"_placeholder":true,"num":1}]"#, #"51-["a",{"_placeholder":true,"num":-1}]"#,
        #"51-["a",{"_placeholder":true,"num":0.5}]"#, #"51-["a",{"_placeholder":true,"num":"0"}]"#,
        #"51-["a",{"_placeholder":true}]"#, #"51-["a",{"x":[{"num":7,"_placeholder":true}]}]"#,
        #"50-["a",{"_placeholder":true,"num":0}]"#,
    ])
    func placeholderNamingNoAttachmentIsRefused(_ text: String) {
        #expect(self.failureCode(text) == .invalidPlaceholder)
    }

    @Test func placeholdersAreFoundAtAnyDepthInAnyKeyOrder() throws {
        let text = #"52-["a",{"x":[{"num":1,"_placeholder":true}],"y":{"_placeholder":true,"num":0}}]"#
        #expect(try SocketIOPacket.decode(text).attachmentCount == 2)
    }

    @Test func placeholderLookalikesInPlainEventsAreJustData() throws {
        #expect(try SocketIOPacket.decode(#"2["a",{"_placeholder":true,"num":9}]"#).arguments.count == 1)
        #expect(try SocketIOPacket.decode(#"51-["a",{"_placeholder":false,"num":9}]"#).attachmentCount == 1)
    }

    @Test func deeplyNestedPayloadIsRefusedWithoutOverflowingTheStack() {
        let nested = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(self.failureCode("2[\"a\"," + nested + "]") == .invalidPayload)
        #expect(self.failureCode("51-[\"a\"," + nested + "]") == .invalidPayload)
    }

    @Test func generatedPacketsNeverTrapAndEveryAcceptedOneReEncodesToItself() throws {
        let pieces = [
            "0", "1", "2", "3", "4", "5", "6", "9", "-", "/", "a", ",", "[", "]", "{", "}", "\"", ":", " ", "\\",
            "_placeholder", "num", "true", "connect", "\u{e9}",
        ]
        var generator = SplitMix(seed: 10)
        var accepted = 0
        for _ in 0..<20_000 {
            let length = Int.random(in: 1...14, using: &generator)
            let text = (0..<length).map { _ in pieces.randomElement(using: &generator)! }.joined()
            guard let packet = try? SocketIOPacket.decode(text) else { continue }
            accepted += 1
            #expect(try SocketIOPacket.decode(packet.encoded) == packet)
        }
        #expect(accepted > 100)
    }

    @Test func namespaceMustStartWithASlashAndHoldNoComma() {
        #expect(SocketIONamespace("/a") != nil)
        #expect(SocketIONamespace("admin") == nil)
        #expect(SocketIONamespace("/a,b") == nil)
        #expect(SocketIONamespace("") == nil)
        #expect(SocketIONamespace("/")?.isMain == true)
    }
}
