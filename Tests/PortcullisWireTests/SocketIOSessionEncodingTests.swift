import PortcullisWire
import Testing

/// Outbound bus messages as Socket.IO packets (protocols.md §2.4): one ``SocketOutbound``
/// per Engine.IO packet, and nothing for what a client would close on.
@Suite struct SocketIOSessionEncodingTests {
    func encode(
        _ kind: SocketDelivery.Kind = .emit, event: String? = "chat", data: SocketPayload?, ack: Int? = nil,
        arguments: Bool = true, attachments: [[UInt8]] = [], namespace: String = "/"
    ) -> [SocketOutbound] {
        SocketIOSession.encode(
            SocketDelivery(
                kind: kind, event: event, data: data, ack: ack, arguments: arguments, attachments: attachments),
            namespace: namespace)
    }

    // MARK: Emit

    @Test func argumentListIsSpreadIntoTheEvent() {
        #expect(self.encode(data: .json(#"[{"t":"hi"}]"#)) == [.text(#"42["chat",{"t":"hi"}]"#)])
        #expect(self.encode(data: .json(#" [ 1 , "a" ,{"n": 1.50} ] "#)) == [.text(#"42["chat",1,"a",{"n": 1.50}]"#)])
        #expect(self.encode(data: .json("[]")) == [.text(#"42["chat"]"#)])
    }

    @Test func namespaceAndAckIDAreWrittenInTheHeader() {
        #expect(
            self.encode(event: "ping-me", data: .json("[1]"), ack: 17, namespace: "/admin")
                == [.text(#"42/admin,17["ping-me",1]"#)])
    }

    @Test func oneValueIsOneArgument() {
        #expect(self.encode(data: .json("[1,2]"), arguments: false) == [.text(#"42["chat",[1,2]]"#)])
        #expect(self.encode(data: .json(#" {"n": 1.0} "#), arguments: false) == [.text(#"42["chat",{"n": 1.0}]"#)])
    }

    @Test func textIsOneStringArgumentAndNoDataNoArgument() {
        #expect(self.encode(data: .text("a\"b\n")) == [.text(#"42["chat","a\"b\n"]"#)])
        #expect(self.encode(data: nil) == [.text(#"42["chat"]"#)])
    }

    @Test func missingEventNameIsMessage() {
        #expect(self.encode(event: nil, data: .json(#"["hi"]"#)) == [.text(#"42["message","hi"]"#)])
    }

    @Test func binaryDataIsOneBinaryArgument() {
        #expect(
            self.encode(event: "upload", data: .binary([0xDE, 0xAD, 0xBE, 0xEF])) == [
                .text(#"451-["upload",{"_placeholder":true,"num":0}]"#), .binary([0xDE, 0xAD, 0xBE, 0xEF]),
            ])
    }

    @Test func attachmentsMakeABinaryEventInPlaceholderOrder() {
        let data = #"[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
        #expect(
            self.encode(event: "message-back", data: .json(data), attachments: [[1, 2, 3], [4, 5, 6]]) == [
                .text(#"452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#),
                .binary([1, 2, 3]), .binary([4, 5, 6]),
            ])
    }

    // MARK: Ack

    @Test func ackCarriesTheArgumentArray() {
        #expect(self.encode(.ack, event: nil, data: .json(#"["pong",2]"#), ack: 17) == [.text(#"4317["pong",2]"#)])
        #expect(
            self.encode(.ack, event: nil, data: .json(#"["pong",2]"#), ack: 17, arguments: false)
                == [.text(#"4317["pong",2]"#)])
        #expect(
            self.encode(.ack, event: nil, data: .json(#"{"ok":true}"#), ack: 17, arguments: false)
                == [.text(#"4317[{"ok":true}]"#)])
        #expect(self.encode(.ack, event: nil, data: nil, ack: 17, namespace: "/admin") == [.text("43/admin,17[]")])
    }

    @Test func binaryAckCarriesItsAttachment() {
        #expect(
            self.encode(.ack, event: nil, data: .binary([0xDE, 0xAD]), ack: 17) == [
                .text(#"461-17[{"_placeholder":true,"num":0}]"#), .binary([0xDE, 0xAD]),
            ])
        let data = #"[{"_placeholder":true,"num":0}]"#
        #expect(
            self.encode(.ack, event: nil, data: .json(data), ack: 789, attachments: [[1]], namespace: "/a")
                == [.text(#"461-/a,789[{"_placeholder":true,"num":0}]"#), .binary([1])])
    }

    // MARK: Refused

    @Test(arguments: [
        SocketDelivery(kind: .emit, event: "chat", data: .json("not json"), arguments: true),
        SocketDelivery(kind: .emit, event: "chat", data: .json("[1,"), arguments: true),
        SocketDelivery(kind: .emit, event: "chat", data: .json("[1] [2]"), arguments: true),
        SocketDelivery(kind: .emit, event: "chat", data: .json(#"{"a":1}"#), arguments: true),
        SocketDelivery(kind: .emit, event: "chat", data: .json("1 2"), arguments: false),
        SocketDelivery(kind: .emit, event: "chat", data: .json(""), arguments: false),
        SocketDelivery(kind: .emit, event: "connect", data: nil),
        SocketDelivery(kind: .emit, event: "disconnect", data: .json("[]"), arguments: true),
        SocketDelivery(kind: .emit, event: "chat", data: nil, ack: -1),
        SocketDelivery(kind: .emit, event: "chat", data: nil, ack: SocketIOPacket.maxAckID + 1),
        SocketDelivery(kind: .ack, data: .json("[]"), arguments: true),
        SocketDelivery(kind: .ack, data: .json(#"{"a":1}"#), ack: 1, arguments: true),
        SocketDelivery(
            kind: .emit, event: "chat", data: .json(#"[{"_placeholder":true,"num":1}]"#), arguments: true,
            attachments: [[1]]),
        SocketDelivery(kind: .emit, event: "chat", data: .binary([1]), attachments: [[2]]),
        SocketDelivery(
            kind: .emit, event: "chat", data: .json("[]"), arguments: true,
            attachments: Array(repeating: [0], count: 11)),
    ])
    func invalidDeliveryEncodesToNothing(_ delivery: SocketDelivery) {
        #expect(SocketIOSession.encode(delivery, namespace: "/") == [])
    }

    @Test(arguments: ["admin", "/a,b", ""])
    func invalidNamespaceEncodesToNothing(_ namespace: String) {
        #expect(self.encode(data: .json("[]"), namespace: namespace) == [])
    }
}
