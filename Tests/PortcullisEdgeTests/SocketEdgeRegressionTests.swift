import Foundation
import Logging
import NIOCore
import NIOEmbedded
import PortcullisAuth
import PortcullisConfig
import PortcullisWire
import Testing

@testable import PortcullisBus
@testable import PortcullisEdge

/// Behaviour the edge promises (docs/bus.md, the Engine.IO reference server, its own doc
/// comments) that an early version of the socket seam got wrong; each test pins the fix.
@Suite struct SocketEdgeRegressionTests {
    // MARK: Polling goodbye between two GETs

    /// The Engine.IO reference server (`transports/polling.ts`, `doClose`): a polling
    /// transport closed while no GET waits buffers an orderly close, and the next GET
    /// gets the packets still queued and the close packet. The edge drops them and the
    /// sid with them, so a polling client ended by the edge between two GETs never sees
    /// its goodbye (Socket.IO `loggedOut` / DISCONNECT, ActionCable `disconnect`): its next
    /// GET is refused with 400, which Socket.IO clients treat as a lost transport and
    /// reconnect from, instead of a server disconnect they must not retry.
    @Test func aPollingClientEndedBetweenTwoGetsReceivesItsGoodbyeOnTheNextGet() throws {
        let harness = try SocketHubHarness()
        let script = SessionScript()
        let hub = harness.hub
        let connection = SocketConnection(
            id: hub.makeConnectionID(), routeName: "sio", settings: SocketAction(app: "chat"),
            session: ScriptedSession(script),
            identity: .init(user: "u1", expiresAt: Int64(Date().timeIntervalSince1970) - 1), hub: hub)
        let sid = hub.makeSessionID()
        let polling = PollingTransport(
            sid: sid, connection: connection, maxPayload: 1000, onEnd: { hub.removePollingSession(sid) })
        hub.addPollingSession(polling)
        connection.pollingSessionID = sid
        connection.transport = polling
        connection.start()

        // No GET waits: the client is between two polls when its token expires.
        connection.tick(now: .now)
        #expect(script.endCauses == [.expired])

        // The next GET, found by its sid as the edge finds it (the transport itself when the
        // sid is already gone, which the edge would answer "Session ID unknown").
        let get = PollingTransportTests.Answers()
        (hub.pollingSession(sid) ?? polling).poll(get.responder)
        #expect(get.responses.map(\.status) == [200])
        #expect(get.bodies == ["bye expired\u{1e}1"])
    }

    // MARK: Presence registry

    /// The registry value the hub last wrote for `connection` (nil once deleted or never
    /// written), decoded as the reaper decodes it.
    private func registryRecord(_ bus: SocketHandlerTests.RecordingBus, connection: String) throws -> PresenceRecord? {
        func text(_ argument: RedisArgument) -> String {
            var buffer = ByteBuffer()
            argument.write(to: &buffer)
            return String(buffer: buffer)
        }
        var record: String?
        for command in bus.commands.map({ $0.map(text) }) {
            if command.first == "HSET", command.count == 4, command[2] == connection { record = command[3] }
            if command.first == "HDEL", command.count == 3, command[2] == connection { record = nil }
        }
        return try record.map { try PresenceRecord(json: $0) }
    }

    /// docs/bus.md, Presence keys: "The edge `HSET`s a field on open (and again when `ns`
    /// changes)", and the reaper writes one `close` per entry of `ns` for a dead edge's
    /// connections. The hub writes the record once at registration, without `ns`, and
    /// never again: when an edge dies, handlers get one `close` without `ns` for a
    /// Socket.IO or ActionCable connection instead of one per namespace or channel it had
    /// open, so per-namespace presence and subscriptions are never cleaned up.
    @Test func theRegistryListsTheNamespacesAConnectionHasOpen() throws {
        let harness = try SocketHubHarness()
        let script = SessionScript()
        script.onStart = [
            .publish(SocketInbound(kind: .open, namespace: "/")),
            .publish(SocketInbound(kind: .open, namespace: "/chat")),
        ]
        script.replies["leave /chat"] = [.publish(SocketInbound(kind: .close, namespace: "/chat", reason: "left"))]
        let (connection, _) = harness.open(script)

        let opened = try #require(try registryRecord(harness.bus, connection: connection.id))
        #expect(Set(opened.namespaces) == ["/", "/chat"])
        connection.receivedText("leave /chat", now: .now)
        let afterLeaving = try #require(try registryRecord(harness.bus, connection: connection.id))
        #expect(afterLeaving.namespaces == ["/"])
    }

    /// The same record names the connection's user (docs/bus.md), which the reaper copies
    /// into its `close` envelopes. A Socket.IO connection identified by its CONNECT token
    /// (an anonymous handshake) stays anonymous in the registry, so a dead edge's `close`
    /// for it carries no `user` while its `open` did.
    @Test func theRegistryNamesTheUserAConnectTokenIdentified() throws {
        let harness = try SocketHubHarness()
        let verifier = tokenVerifier(
            on: harness.loop, ["t7": Identity(subject: "u7", source: .jwt(keyID: nil), claimsJSON: #"{"sub":"u7"}"#)])
        let script = SessionScript()
        script.replies["connect"] = [
            .verify(SocketVerification(token: "t7", purpose: .connect(namespace: "/", auth: nil)))
        ]
        let (connection, _) = harness.open(script, identity: .init(), verifier: verifier)
        connection.receivedText("connect", now: .now)
        #expect(connection.user == "u7")

        let record = try #require(try registryRecord(harness.bus, connection: connection.id))
        #expect(record.user == "u7")
    }

    // MARK: Rooms joined without a namespace

    /// docs/bus.md, envelope fields: `ns` is, outbound, "the namespace/channel to deliver
    /// in (Socket.IO default `/`)", and `join` takes it. A `join` without `ns` (a backend
    /// putting user 42 in `lobby`) files the Socket.IO connection under no namespace
    /// (`SocketHub.RoomKey(namespace: nil, …)`), so an `emit` to `lobby` with `ns: "/"`
    /// (what a handler writes for the main namespace) reaches no one, while the same emit
    /// without `ns` does.
    @Test func aRoomJoinedWithoutANamespaceIsTheMainNamespacesOnSocketIO() throws {
        let harness = try SocketHubHarness()
        let (_, socket) = harness.open(namespaces: ["/"])
        harness.deliver(Envelope(id: "j", kind: .join, target: .user("u1"), room: "lobby"))
        harness.deliver(
            Envelope(id: "n", kind: .emit, namespace: "/", target: .room("lobby"), event: "news", data: .json("1")))
        #expect(socket.texts == [#"42["news",1]"#])
    }

    // MARK: Sids past the 36th event loop

    /// `SocketHub.index`: "this hub's position among the bus's hubs (the first character
    /// of its sids)", which `SocketBus.hub(forSessionID:)` reads back as one base-36 digit.
    /// `makeSessionID()` writes the index in base 36 with as many digits as it needs, so
    /// from the 37th loop on (`edge.event_loops` allows 4096, and the default is one per
    /// core) the first character names another hub: hub 36's sids start with `1` and
    /// every polling GET, POST and upgrade for them goes to hub 1, which answers "Session
    /// ID unknown".
    @Test(arguments: [35, 36, 100])
    func aSessionIDsFirstCharacterNamesItsHub(_ index: Int) throws {
        let loop = EmbeddedEventLoop()
        let hub = try SocketHub(
            eventLoop: loop, edgeID: "edge-t", names: .standard, redis: SocketHandlerTests.RecordingBus(loop: loop),
            localPrefix: "h-", logger: Logger(label: "test"), index: index)
        #expect(SocketHub.hubIndex(ofSessionID: hub.makeSessionID()) == index)
    }
}
