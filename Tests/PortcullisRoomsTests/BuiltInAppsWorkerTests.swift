import NIOCore
import PortcullisBus
import PortcullisRooms
import PortcullisTestSupport
import Testing

/// The Socket.IO and ActionCable apps through a real worker and Redis: the new envelope
/// fields (`args`, `att:<i>`, kinds `confirm` / `reject`, an emit without `ns`) survive
/// XADD and XREAD as an edge reads them.
@Suite(.redisServer(), .serialized)
struct BuiltInAppsWorkerTests {
    @Test func socketIOBinaryAckKeepsArgumentsAndAttachmentsOnTheEdgeStream() async throws {
        let redis = try makeClient()
        let harness = try WorkerHarness.start(apps: [SocketIOReferenceApp()], prefix: freshPrefix(), redis: redis)
        let names = harness.names
        let connection = "edge-1.k3v9q2x8m1"
        let binary: [UInt8] = [0, 0xFF, 0x0D, 0x0A, 1]
        var message = Envelope(
            id: Envelope.randomID(), kind: .message, app: "socketio-reference", edge: "edge-1",
            connection: connection, namespace: "/", event: "message-with-ack", ack: 789,
            data: .json(#"[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#))
        message.arguments = true
        message.attachments = [ByteBuffer(bytes: binary), ByteBuffer(bytes: [4, 5, 6])]
        try await redis.xadd(try names.inbound(app: "socketio-reference"), envelope: message)

        let outbound = try names.edgeOutbound(edge: "edge-1")
        let done = try await eventually { try await redis.xlen(outbound) >= 1 }
        #expect(done)
        try await harness.stop()

        let outputs = try await envelopes(outbound, redis: redis)
        #expect(outputs.count == 1)
        let ack = try #require(outputs.first)
        #expect(ack.kind == .ack)
        #expect(ack.ack == 789)
        #expect(ack.target == .connection(connection))
        #expect(ack.namespace == "/")
        #expect(ack.arguments)
        #expect(ack.data?.string == #"[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
        #expect(ack.attachments == [ByteBuffer(bytes: binary), ByteBuffer(bytes: [4, 5, 6])])
        await redis.close()
    }

    @Test func cableChatConfirmsJoinsAndBroadcastsWithoutNamespace() async throws {
        let redis = try makeClient()
        let harness = try WorkerHarness.start(apps: [CableChatApp()], prefix: freshPrefix(), redis: redis)
        let names = harness.names
        let inbound = try names.inbound(app: "cable-chat")
        let connection = "edge-2.abc"
        let identifier = #"{"channel":"ChatChannel","room":"1"}"#
        try await redis.xadd(
            inbound,
            envelope: Envelope(
                id: Envelope.randomID(), kind: .open, app: "cable-chat", edge: "edge-2", connection: connection,
                user: "42", namespace: identifier,
                data: .json(#"{"query":{},"channel":"ChatChannel","params":{"room":"1"}}"#)))
        try await redis.xadd(
            inbound,
            envelope: Envelope(
                id: Envelope.randomID(), kind: .message, app: "cable-chat", edge: "edge-2", connection: connection,
                user: "42", namespace: identifier, event: "speak", data: .json(#"{"body":"hi","action":"speak"}"#)))

        let done = try await eventually { try await redis.xlen(names.broadcast) >= 1 }
        #expect(done)
        try await harness.stop()

        let edgeOutputs = try await envelopes(try names.edgeOutbound(edge: "edge-2"), redis: redis)
        #expect(edgeOutputs.map(\.kind) == [.confirm, .join])
        #expect(edgeOutputs.allSatisfy { $0.namespace == identifier && $0.target == .connection(connection) })
        #expect(edgeOutputs.last?.room == "chat:1")
        let broadcast = try await envelopes(names.broadcast, redis: redis)
        #expect(broadcast.count == 1)
        #expect(broadcast.first?.kind == .emit)
        #expect(broadcast.first?.target == .room("chat:1"))
        #expect(broadcast.first?.namespace == nil)
        #expect(broadcast.first?.data?.string == #"{"body":"hi","user":"42"}"#)
        await redis.close()
    }
}
