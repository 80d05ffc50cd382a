import Logging
import NIOCore
import NIOEmbedded
import PortcullisBus
import PortcullisConfig
import PortcullisWire
import Testing

@testable import PortcullisEdge

/// Engine.IO long-polling as a client sees it: what each GET is answered, what a POST
/// hands the session, and how the session ends or moves to a WebSocket.
@Suite struct PollingTransportTests {
    /// The answers a client's polling requests received, in order.
    final class Answers: @unchecked Sendable {
        var responses: [PollingTransport.PollResponse] = []

        var responder: PollingTransport.PollResponder {
            { self.responses.append($0) }
        }

        var bodies: [String] { responses.map(\.body) }
    }

    struct Session {
        let harness: SocketHubHarness
        let script: SessionScript
        let connection: SocketConnection
        let polling: PollingTransport
        let sid: String
    }

    /// A polling session opened as the edge opens one: registered with the hub by its sid,
    /// the connection started on it, its session having published `open` for `/`.
    private func openSession(maxPayload: Int = 1000, _ configure: (SessionScript) -> Void = { _ in }) throws -> Session
    {
        let harness = try SocketHubHarness()
        let script = SessionScript()
        script.onStart = [.publish(SocketInbound(kind: .open, namespace: "/"))]
        configure(script)
        let hub = harness.hub
        let connection = SocketConnection(
            id: hub.makeConnectionID(), routeName: "sio", settings: SocketAction(app: "chat"),
            session: ScriptedSession(script), identity: .init(user: "u1"), hub: hub)
        let sid = hub.makeSessionID()
        let polling = PollingTransport(
            sid: sid, connection: connection, maxPayload: maxPayload, onEnd: { hub.removePollingSession(sid) })
        hub.addPollingSession(polling)
        connection.pollingSessionID = sid
        connection.transport = polling
        connection.start()
        return Session(harness: harness, script: script, connection: connection, polling: polling, sid: sid)
    }

    private func closeReasons(_ session: Session) throws -> [String?] {
        try session.harness.envelopes().filter { $0.kind == .close }.map(\.reason)
    }

    // MARK: GET

    @Test func aGetWaitsUntilPacketsAreWrittenAndFlushed() throws {
        let session = try openSession()
        let get = Answers()
        session.polling.poll(get.responder)
        #expect(get.responses.isEmpty)
        session.polling.write(.text("4hello"))
        #expect(get.responses.isEmpty)
        session.polling.flush()
        #expect(get.bodies == ["4hello"])
        #expect(get.responses.first?.status == 200)
        #expect(get.responses.first?.contentType == "text/plain; charset=UTF-8")
    }

    @Test func queuedPacketsAreJoinedWithTheRecordSeparatorAndBinaryAsBase64() throws {
        let session = try openSession()
        session.polling.write(.text("2"))
        session.polling.write(.binary([1, 2, 3]))
        session.polling.write(.text("4x"))
        session.polling.flush()
        let get = Answers()
        session.polling.poll(get.responder)
        #expect(get.bodies == ["2\u{1e}bAQID\u{1e}4x"])
    }

    @Test func aHubBroadcastAnswersTheWaitingGet() throws {
        let session = try openSession()
        let get = Answers()
        session.polling.poll(get.responder)
        session.harness.deliver(
            Envelope(id: "n", kind: .emit, target: .user("u1"), event: "news", data: .json("1")))
        #expect(get.bodies == [#"42["news",1]"#])
    }

    @Test func aSecondWaitingGetIsRefusedAndEndsTheSession() throws {
        let session = try openSession()
        let first = Answers()
        let second = Answers()
        session.polling.poll(first.responder)
        session.polling.poll(second.responder)

        let refusal = try #require(second.responses.first)
        #expect(refusal.status == 400 && refusal.contentType == "application/json")
        #expect(refusal.body == #"{"code":3,"message":"Bad request"}"#)
        #expect(first.bodies == ["1"])
        #expect(session.harness.hub.pollingSession(session.sid) == nil)
        #expect(session.harness.hub.connectionCount == 0)
        #expect(try closeReasons(session) == ["protocol error: overlapping polling GET"])
    }

    // MARK: POST

    @Test func aPostHandsEveryPacketToTheSessionInOrder() throws {
        let session = try openSession()
        let post = Answers()
        session.polling.post(Array("40/chat,\u{1e}bAQID\u{1e}42[\"hi\"]\u{1e}3".utf8), responder: post.responder)
        #expect(
            session.script.events == [.start, .text("40/chat,"), .binary([1, 2, 3]), .text(#"42["hi"]"#), .text("3")])
        #expect(post.responses.map(\.status) == [200])
        #expect(post.bodies == ["ok"])
    }

    @Test(arguments: [
        Array("9nope".utf8),
        [0x34, 0xC0, 0xAF],
        Array(("4" + String(repeating: "x", count: 1000)).utf8),
    ])
    func aPayloadThatDoesNotDecodeIsRefusedAndEndsTheSession(_ body: [UInt8]) throws {
        let session = try openSession()
        let post = Answers()
        session.polling.post(body, responder: post.responder)
        #expect(post.responses.map(\.status) == [400])
        #expect(post.bodies.first?.hasPrefix(#"{"code":3,"#) == true)
        #expect(session.script.events == [.start])
        #expect(session.harness.hub.pollingSession(session.sid) == nil)
        #expect(try closeReasons(session).count == 1)
    }

    // MARK: The client closes

    @Test func theClientsClosePacketReleasesTheWaitingGetWithANoop() throws {
        let session = try openSession()
        let get = Answers()
        let post = Answers()
        session.polling.poll(get.responder)
        session.polling.post(Array("1".utf8), responder: post.responder)
        #expect(get.bodies == ["6"])
        #expect(post.bodies == ["ok"])
        #expect(session.harness.hub.pollingSession(session.sid) == nil)
        #expect(try closeReasons(session) == ["client closed"])
        #expect(!session.script.events.contains(.text("1")))
    }

    @Test func theClientsClosePacketAnswersTheNextGetWithANoopThenTheSidIsGone() throws {
        let session = try openSession()
        session.polling.post(Array("1".utf8), responder: Answers().responder)
        #expect(try closeReasons(session) == ["client closed"])
        // The session is over, but its sid answers the GET the client sends next.
        let found = try #require(session.harness.hub.pollingSession(session.sid))
        let get = Answers()
        found.poll(get.responder)
        #expect(get.bodies == ["6"])
        #expect(session.harness.hub.pollingSession(session.sid) == nil)
    }

    @Test func aClientThatClosesAndNeverPollsAgainIsForgottenAfterASecond() throws {
        let session = try openSession()
        session.polling.post(Array("1".utf8), responder: Answers().responder)
        session.harness.loop.advanceTime(by: .milliseconds(999))
        #expect(session.harness.hub.pollingSession(session.sid) != nil)
        session.harness.loop.advanceTime(by: .milliseconds(1))
        #expect(session.harness.hub.pollingSession(session.sid) == nil)
    }

    @Test func packetsAfterTheClosePacketAreNotHandedToTheSession() throws {
        let session = try openSession()
        session.polling.post(Array("4a\u{1e}1\u{1e}4b".utf8), responder: Answers().responder)
        #expect(session.script.events == [.start, .text("4a")])
    }

    // MARK: Upgrade

    @Test func anUpgradeProbeReleasesTheWaitingGetWithANoopAndPollingCarriesOn() throws {
        let session = try openSession()
        let get = Answers()
        session.polling.poll(get.responder)
        session.polling.upgradeProbed()
        #expect(get.bodies == ["6"])

        let next = Answers()
        session.polling.poll(next.responder)
        session.polling.write(.text("4still polling"))
        session.polling.flush()
        #expect(next.bodies == ["4still polling"])
    }

    @Test func theUpgradeMovesQueuedPacketsToTheWebSocketAndRefusesFurtherPolling() throws {
        let session = try openSession()
        session.polling.write(.text("4a"))
        session.polling.write(.binary([9]))
        session.polling.flush()
        session.polling.upgradeProbed()
        let webSocket = RecordingTransport()
        session.polling.upgraded(to: webSocket)

        // The noop was for polling only; the rest reaches the WebSocket, in order.
        #expect(webSocket.sent == [.text("4a"), .binary([9])])
        #expect(session.connection.transport === webSocket)
        session.harness.deliver(Envelope(id: "n", kind: .emit, target: .user("u1"), event: "news", data: .json("1")))
        #expect(webSocket.texts == ["4a", #"42["news",1]"#])

        let get = Answers()
        let post = Answers()
        session.polling.poll(get.responder)
        session.polling.post(Array("42[\"late\"]".utf8), responder: post.responder)
        #expect(get.responses.map(\.status) == [400] && post.responses.map(\.status) == [400])
        #expect(!session.script.events.contains(.text(#"42["late"]"#)))
        // The connection lives on over the WebSocket.
        #expect(session.harness.hub.connectionCount == 1)
        #expect(try closeReasons(session).isEmpty)
    }

    @Test func anUpgradeAnswersTheGetStillWaitingWithANoop() throws {
        let session = try openSession()
        let get = Answers()
        session.polling.poll(get.responder)
        session.polling.upgraded(to: RecordingTransport())
        #expect(get.bodies == ["6"])
    }

    // MARK: The edge closes

    @Test func closingAnswersTheWaitingGetWithWhatWasQueuedThenTheClosePacket() throws {
        let session = try openSession()
        let get = Answers()
        session.polling.poll(get.responder)
        session.connection.end(.disconnected(reason: "kicked"), now: .now)
        #expect(get.bodies == ["bye disconnect\u{1e}1"])
        #expect(session.harness.hub.pollingSession(session.sid) == nil)
        #expect(try closeReasons(session) == ["disconnected: kicked"])
    }

    /// A close packet would tell python-engineio never to reconnect; a drain wants every
    /// client back (on another edge), so the waiting GET fails with 503 instead.
    @Test func drainingFailsTheWaitingGetSoEveryClientReconnects() throws {
        let session = try openSession()
        let get = Answers()
        session.polling.poll(get.responder)
        session.harness.hub.endPollingSessions()
        #expect(session.script.endCauses == [.shutdown])
        #expect(get.responses.map(\.status) == [503])
        #expect(get.bodies.allSatisfy { !$0.contains("\u{1e}1") && $0 != "1" })
        #expect(session.harness.hub.pollingSession(session.sid) == nil)
        #expect(try closeReasons(session) == ["server shutting down"])
    }
}
