import NIOCore
import PortcullisBus
import Testing

@testable import PortcullisRooms

/// What each `RoomsContext` method queues: kind, target, stream, `ns`, and the new
/// Socket.IO (`args`, `att:<i>`) and ActionCable (`confirm`, `reject`) fields. No Redis.
@Suite struct RoomsContextTests {
    static let connection = "edge-1.k3v9q2x8m1"
    static let edgeStream = "portcullis:out:edge:edge-1"

    @Test func emitWithArgumentsMarksTheListAndCarriesAttachments() async throws {
        let inbound = HandlerHarness.inbound(.message, app: "chat", namespace: "/chat", event: "say")
        let outputs = try await HandlerHarness.withContext(inbound) { context in
            context.emit(
                to: .connection(Self.connection), event: "file",
                arguments: .json(#"["a.bin",{"_placeholder":true,"num":0}]"#),
                attachments: [ByteBuffer(bytes: [0, 0xFF, 1])], ack: 4)
            return context.outputs
        }
        #expect(outputs.count == 1)
        let (stream, emit) = try #require(outputs.first)
        #expect(stream == Self.edgeStream)
        #expect(emit.kind == .emit)
        #expect(emit.target == .connection(Self.connection))
        #expect(emit.event == "file")
        #expect(emit.arguments)
        #expect(emit.data == .json(#"["a.bin",{"_placeholder":true,"num":0}]"#))
        #expect(emit.attachments == [ByteBuffer(bytes: [0, 0xFF, 1])])
        #expect(emit.ack == 4)
        #expect(emit.namespace == "/chat")
        #expect(emit.app == "chat")
        #expect(emit.timestamp == HandlerHarness.timestamp)
        #expect(
            emit.fields.map(\.0) == [
                "v", "id", "kind", "app", "ns", "to", "target", "event", "ack", "args", "data", "att:0", "ts",
            ])
    }

    @Test func emitWithDataStaysOneValueWithoutAttachments() async throws {
        let inbound = HandlerHarness.inbound(.message, app: "chat", namespace: "/chat", event: "say")
        let outputs = try await HandlerHarness.withContext(inbound) { context in
            context.emit(to: .room("lobby"), except: Self.connection, event: "said", data: .json(#"{"n":1}"#))
            return context.outputs
        }
        let (stream, emit) = try #require(outputs.first)
        #expect(stream == "portcullis:out:bcast")
        #expect(!emit.arguments)
        #expect(emit.attachments.isEmpty)
        #expect(emit.except == Self.connection)
        #expect(emit.namespace == "/chat")
        #expect(!emit.fields.map(\.0).contains("args"))
    }

    @Test func replyWithArgumentsAnswersTheAckIdAsABinaryAckWhenGivenAttachments() async throws {
        let inbound = HandlerHarness.inbound(
            .message, app: "chat", namespace: "/chat", event: "upload", data: "[1]", arguments: true, ack: 789)
        let outputs = try await HandlerHarness.withContext(inbound) { context in
            context.reply(arguments: .json(#"[{"_placeholder":true,"num":0}]"#), attachments: [ByteBuffer(bytes: [7])])
            return context.outputs
        }
        let (stream, ack) = try #require(outputs.first)
        #expect(stream == Self.edgeStream)
        #expect(ack.kind == .ack)
        #expect(ack.ack == 789)
        #expect(ack.target == .connection(Self.connection))
        #expect(ack.namespace == "/chat")
        #expect(ack.arguments)
        #expect(ack.data?.string == #"[{"_placeholder":true,"num":0}]"#)
        #expect(ack.attachments == [ByteBuffer(bytes: [7])])
        #expect(ack.event == nil)
    }

    @Test func replyDoesNothingWhenTheMessageAskedForNoAnswer() async throws {
        let inbound = HandlerHarness.inbound(.message, app: "chat", event: "say", data: "[]", arguments: true)
        let outputs = try await HandlerHarness.withContext(inbound) { context in
            context.reply(arguments: .json("[]"))
            context.reply(data: .json("[]"))
            return context.outputs
        }
        #expect(outputs.isEmpty)
    }

    @Test func replyWithDataKeepsItsOldShape() async throws {
        let inbound = HandlerHarness.inbound(.message, app: "chat", event: "say", data: #"{"n":1}"#, ack: 2)
        let outputs = try await HandlerHarness.withContext(inbound) { context in
            context.reply(data: inbound.data)
            return context.outputs
        }
        let ack = try #require(outputs.first?.envelope)
        #expect(ack.ack == 2)
        #expect(!ack.arguments)
        #expect(ack.data?.string == #"{"n":1}"#)
    }

    @Test func confirmAndRejectAnswerOneSubscriptionOfTheConnection() async throws {
        let identifier = #"{"channel":"ChatChannel","room":"1"}"#
        let inbound = HandlerHarness.inbound(.open, app: "cable", namespace: identifier)
        let outputs = try await HandlerHarness.withContext(inbound) { context in
            context.confirm(connection: Self.connection, namespace: identifier)
            context.reject(connection: "edge-2.abc", namespace: #"{"channel":"Other"}"#, reason: "no such channel")
            context.reject(connection: Self.connection, namespace: identifier)
            return context.outputs
        }
        #expect(outputs.map(\.envelope.kind) == [.confirm, .reject, .reject])
        #expect(outputs.map(\.stream) == [Self.edgeStream, "portcullis:out:edge:edge-2", Self.edgeStream])
        let (confirm, reject, bare) = (outputs[0].envelope, outputs[1].envelope, outputs[2].envelope)
        #expect(confirm.target == .connection(Self.connection))
        #expect(confirm.namespace == identifier)
        #expect(confirm.app == "cable")
        #expect(confirm.reason == nil && confirm.event == nil && confirm.data == nil)
        #expect(reject.target == .connection("edge-2.abc"))
        #expect(reject.namespace == #"{"channel":"Other"}"#)
        #expect(reject.reason == "no such channel")
        #expect(bare.reason == nil)
    }

    @Test func broadcastToRoomDropsTheInboundNamespace() async throws {
        let identifier = #"{"channel":"ChatChannel","room":"1"}"#
        let inbound = HandlerHarness.inbound(.message, app: "cable", namespace: identifier, event: "speak")
        let outputs = try await HandlerHarness.withContext(inbound) { context in
            context.broadcast(toRoom: "chat:1", data: .json(#"{"body":"hi"}"#))
            context.broadcast(toRoom: "chat:2", event: "said", data: nil, except: Self.connection)
            return context.outputs
        }
        #expect(outputs.map(\.stream) == ["portcullis:out:bcast", "portcullis:out:bcast"])
        let (first, second) = (outputs[0].envelope, outputs[1].envelope)
        #expect(first.kind == .emit)
        #expect(first.target == .room("chat:1"))
        #expect(first.namespace == nil)
        #expect(first.event == nil)
        #expect(first.data?.string == #"{"body":"hi"}"#)
        #expect(first.app == "cable")
        #expect(!first.arguments)
        #expect(!first.fields.map(\.0).contains("ns"))
        #expect(second.event == "said")
        #expect(second.except == Self.connection)
        #expect(second.data == nil)
    }

    @Test func joinAndLeaveTakeTheSubscriptionAsNamespace() async throws {
        let inbound = HandlerHarness.inbound(.open, app: "cable", namespace: "A")
        let outputs = try await HandlerHarness.withContext(inbound) { context in
            context.join(.connection(Self.connection), room: "chat:1", namespace: "B")
            context.leave(.connection(Self.connection), room: "chat:1")
            return context.outputs
        }
        #expect(outputs.map(\.envelope.kind) == [.join, .leave])
        #expect(outputs.map(\.envelope.namespace) == ["B", "A"])
        #expect(outputs.map(\.envelope.room) == ["chat:1", "chat:1"])
    }
}
