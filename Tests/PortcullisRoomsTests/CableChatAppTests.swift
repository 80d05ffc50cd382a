import PortcullisBus
import Testing

@testable import PortcullisRooms

/// The ActionCable chat: subscription answers and the broadcast of `speak`. No Redis.
@Suite struct CableChatAppTests {
    static let app = CableChatApp()
    static let connection = "edge-1.k3v9q2x8m1"

    static func open(identifier: String, data: String?) -> Envelope {
        HandlerHarness.inbound(.open, app: "cable-chat", namespace: identifier, data: data)
    }

    @Test func chatChannelWithARoomIsConfirmedThenJoinsItsStream() async throws {
        let identifier = #"{"channel":"ChatChannel","room":"lobby"}"#
        let outputs = try await HandlerHarness.outputs(
            of: Self.app,
            for: Self.open(
                identifier: identifier,
                data: #"{"query":{"t":"1"},"channel":"ChatChannel","params":{"room":"lobby"}}"#))
        #expect(outputs.map(\.envelope.kind) == [.confirm, .join])
        #expect(outputs.map(\.stream) == ["portcullis:out:edge:edge-1", "portcullis:out:edge:edge-1"])
        for output in outputs.map(\.envelope) {
            #expect(output.target == .connection(Self.connection))
            #expect(output.namespace == identifier)
            #expect(output.app == "cable-chat")
        }
        #expect(outputs[1].envelope.room == "chat:lobby")
    }

    @Test func anIntegerRoomIsWrittenAsDecimal() async throws {
        let identifier = #"{"channel":"ChatChannel","room":7}"#
        let outputs = try await HandlerHarness.outputs(
            of: Self.app,
            for: Self.open(identifier: identifier, data: #"{"query":{},"channel":"ChatChannel","params":{"room":7}}"#))
        #expect(outputs.map(\.envelope.kind) == [.confirm, .join])
        #expect(outputs.last?.envelope.room == "chat:7")
    }

    @Test(arguments: [
        #"{"channel":"OtherChannel","room":"lobby"}"#,
        #"{"channel":"ChatChannel"}"#,
        #"{"channel":"ChatChannel","room":""}"#,
        #"{"channel":"ChatChannel","room":true}"#,
        #"{"channel":"ChatChannel","room":1.5}"#,
    ])
    func otherChannelsAndMissingRoomsAreRejected(identifier: String) async throws {
        let data = #"{"query":{},"channel":"ChatChannel","params":\#(identifier)}"#
        let outputs = try await HandlerHarness.outputs(of: Self.app, for: Self.open(identifier: identifier, data: data))
        #expect(outputs.map(\.envelope.kind) == [.reject])
        let reject = try #require(outputs.first?.envelope)
        #expect(reject.target == .connection(Self.connection))
        #expect(reject.namespace == identifier)
        #expect(reject.reason != nil)
    }

    @Test func theRoomIsReadFromTheIdentifierNotTheOpenData() async throws {
        let outputs = try await HandlerHarness.outputs(
            of: Self.app, for: Self.open(identifier: #"{"channel":"ChatChannel","room":"1"}"#, data: nil))
        #expect(outputs.map(\.envelope.kind) == [.confirm, .join])
        #expect(outputs.last?.envelope.room == "chat:1")
    }

    @Test func speakBroadcastsTheBodyAndTheUserToTheRoomsStreamWithoutNamespace() async throws {
        let identifier = #"{"channel":"ChatChannel","room":"lobby"}"#
        let speak = HandlerHarness.inbound(
            .message, app: "cable-chat", user: "alice \"A\"", namespace: identifier, event: "speak",
            data: #"{"action":"speak","body":"héllo, \"world\" </script>"}"#)
        let outputs = try await HandlerHarness.outputs(of: Self.app, for: speak)
        #expect(outputs.count == 1)
        let (stream, emit) = try #require(outputs.first)
        #expect(stream == "portcullis:out:bcast")
        #expect(emit.kind == .emit)
        #expect(emit.target == .room("chat:lobby"))
        #expect(emit.namespace == nil)
        #expect(emit.except == nil)
        #expect(!emit.arguments)
        #expect(emit.app == "cable-chat")
        #expect(emit.data?.string == #"{"body":"héllo, \"world\" </script>","user":"alice \"A\""}"#)
    }

    @Test func anonymousSpeakersHaveANullUserAndAnyBodyValueIsKept() async throws {
        let speak = HandlerHarness.inbound(
            .message, app: "cable-chat", namespace: #"{"channel":"ChatChannel","room":"1"}"#, event: "speak",
            data: #"{"body":{"text":"hi","n":[1,2]},"action":"speak"}"#)
        let outputs = try await HandlerHarness.outputs(of: Self.app, for: speak)
        // Decoded and encoded again: the same value, keys sorted.
        #expect(outputs.map(\.envelope.data?.string) == [#"{"body":{"n":[1,2],"text":"hi"},"user":null}"#])
        #expect(outputs.map(\.envelope.target) == [.room("chat:1")])
    }

    @Test func otherActionsChannelsAndBodilessMessagesAreIgnored() async throws {
        let chat = #"{"channel":"ChatChannel","room":"1"}"#
        let quiet: [Envelope] = [
            HandlerHarness.inbound(
                .message, app: "cable-chat", namespace: chat, event: "shout", data: #"{"body":"x"}"#),
            HandlerHarness.inbound(
                .message, app: "cable-chat", namespace: #"{"channel":"Other","room":"1"}"#, event: "speak",
                data: #"{"body":"x"}"#),
            HandlerHarness.inbound(
                .message, app: "cable-chat", namespace: #"{"channel":"ChatChannel"}"#, event: "speak",
                data: #"{"body":"x"}"#),
            HandlerHarness.inbound(
                .message, app: "cable-chat", namespace: chat, event: "speak", data: #"{"text":"x"}"#),
            HandlerHarness.inbound(.message, app: "cable-chat", namespace: chat, event: "speak"),
            HandlerHarness.inbound(.close, app: "cable-chat", namespace: chat),
        ]
        for envelope in quiet {
            let outputs = try await HandlerHarness.outputs(of: Self.app, for: envelope)
            #expect(outputs.isEmpty, "\(envelope.kind) \(envelope.event ?? "") \(envelope.namespace ?? "")")
        }
    }

    @Test func isRegisteredUnderItsName() {
        #expect(RoomsApps.builtIn["cable-chat"]?.name == "cable-chat")
    }
}
