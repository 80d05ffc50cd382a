import PortcullisWire
import Testing

@Suite struct RawProtocolSessionTests {
    let json = RawProtocolSession(mode: .json)
    let opaque = RawProtocolSession(mode: .opaque)

    @Test func jsonEnvelopeIsPublishedWithDataTextExactlyAsSent() {
        let text = #"{"event":"chat.message","data": {"b":1.50, "a":[true,null,"\u00e9"]} ,"ack":7}"#
        #expect(
            self.json.receivedText(text)
                == .publish(event: "chat.message", data: #"{"b":1.50, "a":[true,null,"\u00e9"]}"#, ack: 7)
        )
    }

    @Test func missingDataIsPublishedAsNullAndAckIsOptional() {
        #expect(self.json.receivedText(#"{"event":"ping"}"#) == .publish(event: "ping", data: "null", ack: nil))
        #expect(
            self.json.receivedText(#" { "ack" : null, "event" : "x", "data" : 3 } "#)
                == .publish(event: "x", data: "3", ack: nil)
        )
    }

    @Test func escapedEventNameIsDecoded() {
        #expect(
            self.json.receivedText(#"{"event":"a\"b\u00e9\ud83d\ude00","data":"s"}"#)
                == .publish(event: "a\"bé😀", data: #""s""#, ack: nil)
        )
    }

    @Test(arguments: [
        "", "not json", "[]", "42", #""event""#, "{", "{}", #"{"data":1}"#, #"{"event":1}"#,
        #"{"event":null}"#, #"{"event":""}"#, #"{"event":"a","data":}"#, #"{"event":"a",}"#,
        #"{"event":"a"} trailing"#, #"{"event":"a","ack":1.5}"#, #"{"event":"a","ack":-1}"#,
        #"{"event":"a","ack":"1"}"#, #"{"event":"a","ack":99999999999999999999999}"#,
        #"{"event":"a","event":"b"}"#, #"{"event":"a","data":01}"#, #"{"event":"a","data":[1,]}"#,
        #"{"event":"a","data":tru}"#, #"{"event":"\ud800"}"#, "{\"event\":\"a\nb\"}",
        #"{"event":"a","data":"\x"}"#, #"{"event":'a'}"#,
    ])
    func malformedMessageGetsAnErrorEventNotACrash(_ text: String) {
        guard case .send(.text(let reply)) = self.json.receivedText(text) else {
            Issue.record("expected an error reply for \(text)")
            return
        }
        #expect(reply.hasPrefix(#"{"event":"error","data":{"code":"bad_message","message":""#))
        #expect(reply.hasSuffix("\"}}"))
    }

    @Test func deeplyNestedDataIsRejectedWithoutOverflowingTheStack() {
        let nested = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        guard case .send = self.json.receivedText(#"{"event":"a","data":"# + nested + "}") else {
            Issue.record("expected an error reply")
            return
        }
    }

    @Test func unknownKeysAreIgnored() {
        #expect(
            self.json.receivedText(#"{"v":{"x":[1]},"event":"e","data":false}"#)
                == .publish(event: "e", data: "false", ack: nil)
        )
    }

    @Test func binaryMessagesArePublishedAsBytesInBothModes() {
        #expect(self.json.receivedBinary([0, 0xFF]) == .publishBinary([0, 0xFF]))
        #expect(self.opaque.receivedBinary([0, 0xFF]) == .publishBinary([0, 0xFF]))
    }

    @Test func outboundEventIsWrappedWithEscapedNameAndVerbatimData() {
        #expect(
            self.json.outboundEvent("room\"1", data: #"{"n": 1.0}"#)
                == .text(#"{"event":"room\"1","data":{"n": 1.0}}"#)
        )
    }

    @Test func ackReplyCarriesTheClientsAckNumber() {
        #expect(self.json.ackReply(7, data: #"{"ok":true}"#) == .text(#"{"event":"ack","ack":7,"data":{"ok":true}}"#))
        #expect(self.json.ackReply(0) == .text(#"{"event":"ack","ack":0,"data":null}"#))
    }

    @Test func opaqueModePassesTextThroughUntouched() {
        #expect(self.opaque.receivedText("not json {") == .publishText("not json {"))
        #expect(self.opaque.receivedText(#"{"event":"x"}"#) == .publishText(#"{"event":"x"}"#))
    }

    @Test func opaqueModeKeepsTextAsTextAndBinaryAsBinaryOutbound() {
        #expect(self.opaque.outboundEvent("ignored", data: "plain text") == .text("plain text"))
        #expect(self.opaque.outboundBinary([1, 2]) == .binary([1, 2]))
        #expect(self.json.outboundBinary([1, 2]) == .binary([1, 2]))
    }

    @Test func controlCharactersInOutboundEventNamesAreEscaped() {
        #expect(
            self.json.outboundEvent("a\nb\u{01}\u{2028}", data: "1")
                == .text(#"{"event":"a\nb\u0001\u2028","data":1}"#)
        )
    }

    @Test func outboundEnvelopeParsesBackToTheSameEvent() {
        let event = "tab\tquote\"é😀"
        guard case .text(let text) = self.json.outboundEvent(event, data: #"[1,{"k":"v"}]"#) else {
            Issue.record("expected text")
            return
        }
        #expect(self.json.receivedText(text) == .publish(event: event, data: #"[1,{"k":"v"}]"#, ack: nil))
    }

    @Test func refreshIsHandledByTheEdgeNotPublished() {
        #expect(
            self.json.receivedText(#"{"event":"$refresh","data":{"other":[1],"token":"a.b.c"}}"#)
                == .refresh(token: "a.b.c"))
    }

    @Test(arguments: [
        #"{"event":"$refresh"}"#, #"{"event":"$refresh","data":{"token":""}}"#,
        #"{"event":"$refresh","data":{"token":7}}"#, #"{"event":"$refresh","data":"a.b.c"}"#,
    ])
    func refreshWithoutATokenStringIsAnsweredWithAnError(text: String) {
        guard case .send(.text(let error)) = self.json.receivedText(text) else {
            Issue.record("expected an error event")
            return
        }
        #expect(error.contains(#""code":"bad_refresh""#))
    }

    @Test func otherDollarEventsAreReservedAndOpaqueModeHasNoRefresh() {
        guard case .send(.text(let error)) = self.json.receivedText(#"{"event":"$admin"}"#) else {
            Issue.record("expected an error event")
            return
        }
        #expect(error.contains("reserved"))
        let text = #"{"event":"$refresh","data":{"token":"a.b.c"}}"#
        #expect(self.opaque.receivedText(text) == .publishText(text))
        #expect(
            RawProtocolSession.refreshedEvent(expiresAt: 1_700_000_000)
                == #"{"event":"$refreshed","data":{"exp":1700000000}}"#)
    }
}
