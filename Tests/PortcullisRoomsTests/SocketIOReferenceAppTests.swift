import NIOCore
import PortcullisBus
import Testing

@testable import PortcullisRooms

/// The compliance suite's reference server, one inbound envelope at a time; each case names
/// the suite's packet it stands for. No Redis.
@Suite struct SocketIOReferenceAppTests {
    static let app = SocketIOReferenceApp()
    static let connection = "edge-1.k3v9q2x8m1"

    static func open(namespace: String, auth: String) -> Envelope {
        HandlerHarness.inbound(
            .open, app: "socketio-reference", namespace: namespace, data: #"{"query":{"EIO":"4"},"auth":\#(auth)}"#)
    }

    @Test(arguments: [
        // 40 → 42["auth",{}]
        ("/", "null", "[{}]"),
        // 40{"token":"123"} → 42["auth",{"token":"123"}]
        ("/", #"{"token":"123"}"#, #"[{"token":"123"}]"#),
        // 40/custom, → 42/custom,["auth",{}]
        ("/custom", "null", "[{}]"),
        // 40/custom,{"token":"abc"} → 42/custom,["auth",{"token":"abc"}]
        ("/custom", #"{"token":"abc"}"#, #"[{"token":"abc"}]"#),
        // Key order and string bytes are kept, whitespace is dropped (JSON.stringify's output).
        (
            "/", #"{ "z" : 1, "a" : "x/ y\"}" , "n": [ 1, {"k": null} ] }"#,
            #"[{"z":1,"a":"x/ y\"}","n":[1,{"k":null}]}]"#
        ),
    ])
    func openEmitsTheHandshakeAuthToTheConnectionInItsNamespace(namespace: String, auth: String, expected: String)
        async throws
    {
        let outputs = try await HandlerHarness.outputs(of: Self.app, for: Self.open(namespace: namespace, auth: auth))
        #expect(outputs.count == 1)
        let (stream, emit) = try #require(outputs.first)
        #expect(stream == "portcullis:out:edge:edge-1")
        #expect(emit.kind == .emit)
        #expect(emit.target == .connection(Self.connection))
        #expect(emit.namespace == namespace)
        #expect(emit.event == "auth")
        #expect(emit.arguments)
        #expect(emit.data?.string == expected)
        #expect(emit.ack == nil)
    }

    @Test(arguments: [
        #"{"query":{}}"#, #"{"query":{},"auth":"token"}"#, #"{"query":{},"auth":[1]}"#, "not json",
    ])
    func openWithoutAnAuthObjectEmitsAnEmptyObject(data: String) async throws {
        let open = HandlerHarness.inbound(.open, app: "socketio-reference", namespace: "/", data: data)
        let outputs = try await HandlerHarness.outputs(of: Self.app, for: open)
        #expect(outputs.map(\.envelope.data?.string) == ["[{}]"])
    }

    @Test func openWithoutDataEmitsAnEmptyObject() async throws {
        let open = HandlerHarness.inbound(.open, app: "socketio-reference", namespace: "/")
        let outputs = try await HandlerHarness.outputs(of: Self.app, for: open)
        #expect(outputs.map(\.envelope.data?.string) == ["[{}]"])
    }

    /// 42["message",1,"2",{"3":[true]}] → 42["message-back",1,"2",{"3":[true]}]
    @Test func messageIsEmittedBackAsMessageBackWithTheSameArguments() async throws {
        let message = HandlerHarness.inbound(
            .message, app: "socketio-reference", event: "message", data: #"[1,"2",{"3":[true]}]"#, arguments: true)
        let outputs = try await HandlerHarness.outputs(of: Self.app, for: message)
        #expect(outputs.count == 1)
        let emit = try #require(outputs.first?.envelope)
        #expect(emit.kind == .emit)
        #expect(emit.target == .connection(Self.connection))
        #expect(emit.event == "message-back")
        #expect(emit.arguments)
        #expect(emit.data?.string == #"[1,"2",{"3":[true]}]"#)
        #expect(emit.attachments.isEmpty)
        #expect(emit.namespace == "/")
        #expect(emit.ack == nil)
    }

    /// 452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}] + 010203 + 040506
    /// → 452-["message-back",…same placeholders…] + 010203 + 040506
    @Test func binaryMessageIsEmittedBackWithItsAttachmentsInOrder() async throws {
        let placeholders = #"[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
        let message = HandlerHarness.inbound(
            .message, app: "socketio-reference", event: "message", data: placeholders, arguments: true,
            attachments: [[1, 2, 3], [4, 5, 6]])
        let outputs = try await HandlerHarness.outputs(of: Self.app, for: message)
        let emit = try #require(outputs.first?.envelope)
        #expect(emit.event == "message-back")
        #expect(emit.data?.string == placeholders)
        #expect(emit.attachments == [ByteBuffer(bytes: [1, 2, 3]), ByteBuffer(bytes: [4, 5, 6])])
        #expect(emit.fields.map(\.0).suffix(4) == ["data", "att:0", "att:1", "ts"])
    }

    /// 42456["message-with-ack",1,"2",{"3":[false]}] → 43456[1,"2",{"3":[false]}]
    @Test func messageWithAckIsAnsweredWithTheSameArguments() async throws {
        let message = HandlerHarness.inbound(
            .message, app: "socketio-reference", event: "message-with-ack", data: #"[1,"2",{"3":[false]}]"#,
            arguments: true, ack: 456)
        let outputs = try await HandlerHarness.outputs(of: Self.app, for: message)
        #expect(outputs.count == 1)
        let (stream, ack) = try #require(outputs.first)
        #expect(stream == "portcullis:out:edge:edge-1")
        #expect(ack.kind == .ack)
        #expect(ack.ack == 456)
        #expect(ack.target == .connection(Self.connection))
        #expect(ack.namespace == "/")
        #expect(ack.arguments)
        #expect(ack.data?.string == #"[1,"2",{"3":[false]}]"#)
        #expect(ack.attachments.isEmpty)
    }

    /// 452-789["message-with-ack",ph0,ph1] + 010203 + 040506 → 462-789[ph0,ph1] + 010203 + 040506
    @Test func binaryMessageWithAckIsAnsweredWithABinaryAck() async throws {
        let placeholders = #"[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
        let message = HandlerHarness.inbound(
            .message, app: "socketio-reference", event: "message-with-ack", data: placeholders, arguments: true,
            attachments: [[1, 2, 3], [4, 5, 6]], ack: 789)
        let outputs = try await HandlerHarness.outputs(of: Self.app, for: message)
        let ack = try #require(outputs.first?.envelope)
        #expect(ack.kind == .ack)
        #expect(ack.ack == 789)
        #expect(ack.data?.string == placeholders)
        #expect(ack.attachments == [ByteBuffer(bytes: [1, 2, 3]), ByteBuffer(bytes: [4, 5, 6])])
    }

    @Test func messageWithoutArgumentsIsEmittedBackWithNone() async throws {
        let message = HandlerHarness.inbound(.message, app: "socketio-reference", event: "message")
        let outputs = try await HandlerHarness.outputs(of: Self.app, for: message)
        #expect(outputs.map(\.envelope.data?.string) == ["[]"])
    }

    @Test func aSingleValueWithoutArgsIsTreatedAsOneArgument() async throws {
        let message = HandlerHarness.inbound(.message, app: "socketio-reference", event: "message", data: #"{"a":1}"#)
        let outputs = try await HandlerHarness.outputs(of: Self.app, for: message)
        #expect(outputs.map(\.envelope.data?.string) == [#"[{"a":1}]"#])
    }

    @Test func nothingElseIsAnswered() async throws {
        let quiet: [Envelope] = [
            // /custom has only the auth handler.
            HandlerHarness.inbound(
                .message, app: "socketio-reference", namespace: "/custom", event: "message", data: "[1]",
                arguments: true),
            // No ack id: the JS handler would pop an argument and fail; nothing is sent.
            HandlerHarness.inbound(
                .message, app: "socketio-reference", event: "message-with-ack", data: "[1]", arguments: true),
            HandlerHarness.inbound(.message, app: "socketio-reference", event: "other", data: "[1]", arguments: true),
            // 41 → nothing, the next packet the client sees is a ping.
            HandlerHarness.inbound(.close, app: "socketio-reference"),
            HandlerHarness.inbound(.ack, app: "socketio-reference", data: "[]", arguments: true, ack: 1),
        ]
        for envelope in quiet {
            let outputs = try await HandlerHarness.outputs(of: Self.app, for: envelope)
            #expect(outputs.isEmpty, "\(envelope.kind) \(envelope.event ?? "") \(envelope.namespace ?? "")")
        }
    }

    @Test func mainNamespaceIsAlsoTheMissingOne() async throws {
        let message = HandlerHarness.inbound(
            .message, app: "socketio-reference", namespace: nil, event: "message", data: "[1]", arguments: true)
        let outputs = try await HandlerHarness.outputs(of: Self.app, for: message)
        #expect(outputs.map(\.envelope.event) == ["message-back"])
    }

    @Test func isRegisteredUnderItsName() {
        #expect(RoomsApps.builtIn["socketio-reference"]?.name == "socketio-reference")
    }
}
