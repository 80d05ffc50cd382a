import NIOCore
import PortcullisBus
import PortcullisWire
import Testing

@testable import PortcullisEdge

/// Outbound envelopes on one loop's hub: which connections a target reaches, in which
/// namespace, and how often a fan-out encodes.
@Suite struct SocketHubFanOutTests {
    private func join(_ connection: SocketConnection, _ room: String, in namespace: String?) -> Envelope {
        Envelope(id: "j", kind: .join, namespace: namespace, target: .connection(connection.id), room: room)
    }

    private func leave(_ connection: SocketConnection, _ room: String, in namespace: String?) -> Envelope {
        Envelope(id: "l", kind: .leave, namespace: namespace, target: .connection(connection.id), room: room)
    }

    private func news(to target: Envelope.Target, in namespace: String? = nil) -> Envelope {
        Envelope(id: "n", kind: .emit, namespace: namespace, target: target, event: "news", data: .json("1"))
    }

    // MARK: Rooms by namespace

    @Test func aRoomEmitWithANamespaceReachesOnlyThatNamespacesMembers() throws {
        let harness = try SocketHubHarness()
        let (chat, chatSocket) = harness.open(namespaces: ["/", "/chat"])
        let (game, gameSocket) = harness.open(namespaces: ["/", "/game"])
        harness.deliver(join(chat, "lobby", in: "/chat"), join(game, "lobby", in: "/game"))

        harness.deliver(news(to: .room("lobby"), in: "/chat"))
        #expect(chatSocket.texts == [#"42/chat,["news",1]"#])
        #expect(gameSocket.sent.isEmpty)
    }

    @Test func aRoomEmitWithoutANamespaceReachesEachMemberInTheNamespaceItJoinedIn() throws {
        let harness = try SocketHubHarness()
        let (chat, chatSocket) = harness.open(namespaces: ["/", "/chat"])
        let (game, gameSocket) = harness.open(namespaces: ["/", "/game"])
        let (both, bothSocket) = harness.open(namespaces: ["/", "/chat", "/game"])
        let (_, outsiderSocket) = harness.open(namespaces: ["/", "/chat"])
        harness.deliver(
            join(chat, "lobby", in: "/chat"), join(game, "lobby", in: "/game"), join(both, "lobby", in: "/chat"),
            join(both, "lobby", in: "/game"))

        harness.deliver(news(to: .room("lobby")))
        #expect(chatSocket.texts == [#"42/chat,["news",1]"#])
        #expect(gameSocket.texts == [#"42/game,["news",1]"#])
        #expect(Set(bothSocket.texts) == [#"42/chat,["news",1]"#, #"42/game,["news",1]"#])
        #expect(bothSocket.texts.count == 2)
        #expect(outsiderSocket.sent.isEmpty)
    }

    @Test func leavingARoomInOneNamespaceKeepsTheMembershipInAnother() throws {
        let harness = try SocketHubHarness()
        let (member, socket) = harness.open(namespaces: ["/", "/chat", "/game"])
        harness.deliver(join(member, "lobby", in: "/chat"), join(member, "lobby", in: "/game"))
        harness.deliver(leave(member, "lobby", in: "/game"))

        harness.deliver(news(to: .room("lobby")))
        #expect(socket.texts == [#"42/chat,["news",1]"#])
        harness.deliver(leave(member, "lobby", in: "/chat"))
        harness.deliver(news(to: .room("lobby")))
        #expect(socket.texts.count == 1)
    }

    @Test func leavingANamespaceEndsTheRoomMembershipsMadeInIt() throws {
        let harness = try SocketHubHarness()
        let script = SessionScript()
        script.replies["leave /chat"] = [.leaveNamespace("/chat")]
        script.replies["join /chat"] = [.enterNamespace("/chat")]
        let (member, socket) = harness.open(script, namespaces: ["/", "/chat", "/game"])
        harness.deliver(join(member, "lobby", in: "/chat"), join(member, "lobby", in: "/game"))

        member.receivedText("leave /chat", now: .now)
        member.receivedText("join /chat", now: .now)
        // Back in /chat, but not in the rooms of its earlier visit.
        harness.deliver(news(to: .room("lobby"), in: "/chat"))
        #expect(socket.sent.isEmpty)
        harness.deliver(news(to: .room("lobby")))
        #expect(socket.texts == [#"42/game,["news",1]"#])
    }

    @Test func aClosedConnectionLeavesItsRoomsAndTheUserIndex() throws {
        let harness = try SocketHubHarness()
        let (member, _) = harness.open(namespaces: ["/", "/chat"])
        let script = SessionScript()
        let (other, otherSocket) = harness.open(script, namespaces: ["/", "/chat"])
        harness.deliver(join(member, "lobby", in: "/chat"), join(other, "lobby", in: "/chat"))
        member.transportClosed()

        harness.deliver(news(to: .room("lobby"), in: "/chat"), news(to: .user("u1")))
        // Only the connection still open asked for an encoding.
        #expect(script.encodingRequests == ["/chat", nil])
        #expect(otherSocket.texts == [#"42/chat,["news",1]"#, #"42["news",1]"#])
    }

    // MARK: Control envelopes

    @Test func aRevocationEndsTheConnectionsHoldingThatTokenOnly() throws {
        let harness = try SocketHubHarness()
        let revokedScript = SessionScript()
        let keptScript = SessionScript()
        let (_, revokedSocket) = harness.open(revokedScript, identity: .init(user: "u1", tokenID: "jti-1"))
        let (_, sameTokenSocket) = harness.open(identity: .init(user: "u1", tokenID: "jti-1"))
        let (_, keptSocket) = harness.open(keptScript, identity: .init(user: "u1", tokenID: "jti-2"))

        harness.deliver(Envelope(id: "r", kind: .disconnect, target: .token("jti-1"), reason: "token_revoked"))
        #expect(revokedScript.endCauses == [.revoked])
        #expect(revokedSocket.closes == [.revoked] && sameTokenSocket.closes == [.revoked])
        #expect(revokedSocket.texts == ["bye revoked"])
        #expect(keptScript.endCauses.isEmpty && keptSocket.closes.isEmpty)
    }

    @Test func aDisconnectEndsTheConnectionOrLeavesOneNamespace() throws {
        let harness = try SocketHubHarness()
        let script = SessionScript()
        let (connection, socket) = harness.open(script, namespaces: ["/", "/chat"])

        harness.deliver(
            Envelope(
                id: "d1", kind: .disconnect, namespace: "/chat", target: .connection(connection.id), reason: "kicked"))
        #expect(script.controls == [.disconnect(namespace: "/chat", reason: "kicked")])
        #expect(socket.closes.isEmpty)

        harness.deliver(Envelope(id: "d2", kind: .disconnect, target: .user("u1"), reason: "bye"))
        #expect(script.endCauses == [.disconnected(reason: "bye")])
        #expect(socket.closes == [.disconnected(reason: "bye")])
    }

    @Test func confirmAndRejectReachTheSessionOfTheTargetedConnection() throws {
        let harness = try SocketHubHarness()
        let script = SessionScript()
        let (connection, _) = harness.open(script)
        let channel = #"{"channel":"ChatChannel","room":"1"}"#

        harness.deliver(
            Envelope(id: "c", kind: .confirm, namespace: channel, target: .connection(connection.id)),
            Envelope(id: "r", kind: .reject, namespace: channel, target: .connection(connection.id), reason: "full"),
            // Without the subscription it is about, there is nothing to confirm.
            Envelope(id: "x", kind: .confirm, target: .connection(connection.id)))
        #expect(script.controls == [.confirm(namespace: channel), .reject(namespace: channel, reason: "full")])
    }

    // MARK: Encoding once

    /// The start of a buffer's readable bytes: equal for writes that share one storage.
    private func storage(_ buffer: ByteBuffer) -> UnsafeRawPointer? {
        buffer.withUnsafeReadableBytes { $0.baseAddress.map(UnsafeRawPointer.init) }
    }

    private func storage(_ packets: [SocketOutbound]) -> UnsafeRawPointer? {
        packets.withUnsafeBufferPointer { $0.baseAddress.map(UnsafeRawPointer.init) }
    }

    @Test func aBroadcastIsEncodedOncePerEncodingAndTransportKind() throws {
        let harness = try SocketHubHarness()
        let webSockets = (0..<12).map { _ in harness.open(namespaces: ["/"]).transport }
        let polls = (0..<5).map { _ in harness.open(namespaces: ["/"], kind: .polling).transport }

        harness.deliver(news(to: .all))
        #expect(webSockets.allSatisfy { $0.texts == [#"42["news",1]"#] })
        #expect(polls.allSatisfy { $0.texts == [#"42["news",1]"#] })
        // One frame buffer shared by every WebSocket, one packet list by every poll.
        let frames = webSockets.compactMap(\.frames.first)
        #expect(frames.count == 12)
        #expect(Set(frames.map(storage)).count == 1)
        let batches = polls.compactMap(\.packetBatches.first)
        #expect(batches.count == 5)
        #expect(Set(batches.map(storage)).count == 1)
    }

    @Test func eachNamespaceInARoomGetsItsOwnSharedEncoding() throws {
        let harness = try SocketHubHarness()
        var chats: [RecordingTransport] = []
        var games: [RecordingTransport] = []
        for index in 0..<10 {
            let namespace = index.isMultiple(of: 2) ? "/chat" : "/game"
            let (connection, socket) = harness.open(namespaces: ["/", namespace])
            harness.deliver(join(connection, "lobby", in: namespace))
            if namespace == "/chat" { chats.append(socket) } else { games.append(socket) }
        }

        harness.deliver(news(to: .room("lobby")))
        let chatFrames = chats.compactMap(\.frames.first)
        let gameFrames = games.compactMap(\.frames.first)
        #expect(chatFrames.count == 5 && gameFrames.count == 5)
        #expect(Set(chatFrames.map(storage)).count == 1)
        #expect(Set(gameFrames.map(storage)).count == 1)
        #expect(storage(chatFrames[0]) != storage(gameFrames[0]))
        #expect(chats.allSatisfy { $0.texts == [#"42/chat,["news",1]"#] })
        #expect(games.allSatisfy { $0.texts == [#"42/game,["news",1]"#] })
    }
}
