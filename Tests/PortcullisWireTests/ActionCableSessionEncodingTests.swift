import PortcullisWire
import Testing

/// The broadcast frames the fan-out writes once per subscription and hands to every
/// connection holding it.
@Suite struct ActionCableSessionEncodingTests {
    typealias Server = RecordedServerFrames
    let chat = RecordedClientFrames.chatIdentifier

    func encode(_ data: SocketPayload?, kind: SocketDelivery.Kind = .emit, event: String? = "new_message")
        -> [SocketOutbound]
    {
        ActionCableSession.encode(SocketDelivery(kind: kind, event: event, data: data), identifier: self.chat)
    }

    /// The broadcast frame of the chat subscription around `message`.
    func frame(_ message: String) -> [SocketOutbound] {
        [.text(#"{"identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}","message":"# + message + "}")]
    }

    @Test func jsonDataIsTheMessageAsIsAndTheEventIsNotWritten() {
        #expect(self.encode(.json(#"{"body":"hi"}"#)) == [.text(Server.broadcast)])
        let spaced = #" [1.50, {"b":true,"a":"\u00e9"}] "#
        #expect(self.encode(.json(spaced)) == self.frame(spaced))
    }

    @Test func textDataBecomesAJSONStringAsRailsWritesIt() {
        #expect(self.encode(.text("hi <b>\"x\"</b>")) == self.frame(#""hi \u003cb\u003e\"x\"\u003c/b\u003e""#))
    }

    @Test func absentDataIsNull() {
        #expect(self.encode(nil) == self.frame("null"))
    }

    @Test(arguments: ["", "not json", #"{"a":1"#, #"{"a":1} {"b":2}"#, "[1,]"])
    func invalidJSONDataEncodesToNothing(_ text: String) {
        #expect(self.encode(.json(text)) == [])
    }

    @Test func binaryDataHasNoActionCableFrame() {
        #expect(self.encode(.binary([0, 1, 2])) == [])
    }

    @Test func anAckIsWrittenAsAPlainMessage() {
        #expect(self.encode(.json(#"{"body":"hi"}"#), kind: .ack, event: nil) == [.text(Server.broadcast)])
    }

    @Test func theIdentifierIsEscapedAsActiveSupportEscapesIt() {
        let identifier = RecordedClientFrames.escapedIdentifier
        let frames = ActionCableSession.encode(SocketDelivery(kind: .emit, data: .json("1")), identifier: identifier)
        let confirm = Server.confirmEscaped
        let token = confirm.dropFirst(#"{"identifier":"#.count).dropLast(#","type":"confirm_subscription"}"#.count)
        #expect(frames == [.text(#"{"identifier":"# + token + #","message":1}"#)])
    }

    @Test func anIdentifierNoConnectionCanHoldEncodesToNothing() {
        #expect(
            ActionCableSession.encode(SocketDelivery(kind: .emit, data: .json("1")), identifier: #"{"room":"1"}"#)
                == [])
        #expect(ActionCableSession.encode(SocketDelivery(kind: .emit, data: .json("1")), identifier: "/chat") == [])
    }
}
