import NIOHTTP1
import PortcullisConfig
import PortcullisWire
import Testing

@testable import PortcullisEdge

/// What a request to a socket route is answered from its head alone: a WebSocket, one of
/// Engine.IO's polling requests, a preflight, or the refusal a client sees.
@Suite struct SocketRouteRequestTests {
    private static let upgradeHeaders = [
        ("upgrade", "websocket"), ("connection", "keep-alive, Upgrade"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="), ("sec-websocket-version", "13"),
    ]

    private func head(_ uri: String, method: HTTPMethod = .GET, upgrade: Bool = false) -> HTTPRequestHead {
        var headers = HTTPHeaders([("host", "rt.example.com")])
        if upgrade { headers.add(contentsOf: Self.upgradeHeaders) }
        return HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: headers)
    }

    private func raw(_ wireProtocol: SocketAction.WireProtocol = .raw) -> SocketAction {
        var socket = SocketAction(app: "chat")
        socket.wireProtocol = wireProtocol
        if wireProtocol == .actioncable {
            socket.actionCable = SocketAction.ActionCable()
            socket.subprotocols = ["actioncable-v1-json"]
        }
        return socket
    }

    private func socketIO(
        path: String = "/socket.io/", transports: [SocketAction.SocketIO.Transport] = [.polling, .websocket]
    ) -> SocketAction {
        var socket = SocketAction(app: "chat")
        socket.wireProtocol = .socketio
        var settings = SocketAction.SocketIO()
        settings.path = path
        settings.transports = transports
        socket.socketIO = settings
        return socket
    }

    private func classify(_ head: HTTPRequestHead, _ socket: SocketAction) -> SocketRouteRequest {
        SocketRouteRequest.classify(head, socket: socket)
    }

    /// The refusal, or nil (after recording an issue) for anything else.
    private func refusal(
        _ request: SocketRouteRequest, sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) -> SocketRouteRequest.Refusal? {
        guard case .refused(let refusal) = request else {
            Issue.record("expected a refusal, got \(request)", sourceLocation: sourceLocation)
            return nil
        }
        return refusal
    }

    /// The Engine.IO error code in a refusal's JSON body.
    private func engineIOCode(
        _ request: SocketRouteRequest, sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) -> Int? {
        guard let refusal = refusal(request, sourceLocation: sourceLocation) else { return nil }
        #expect(refusal.status == .badRequest, sourceLocation: sourceLocation)
        #expect(refusal.contentType == "application/json", sourceLocation: sourceLocation)
        guard let body = refusal.body, body.hasPrefix(#"{"code":"#) else {
            Issue.record("not an Engine.IO error body: \(refusal.body ?? "nil")", sourceLocation: sourceLocation)
            return nil
        }
        return Int(body.dropFirst(8).prefix { $0.isNumber })
    }

    // MARK: Raw and ActionCable routes

    @Test(arguments: [SocketAction.WireProtocol.raw, .actioncable])
    func aWebSocketRouteUpgradesAnUpgradeRequest(_ wireProtocol: SocketAction.WireProtocol) {
        guard case .webSocket(let accepted, let query) = classify(head("/cable", upgrade: true), raw(wireProtocol))
        else {
            Issue.record("expected a WebSocket")
            return
        }
        #expect(accepted.accept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(query == nil)
    }

    @Test func anActionCableRouteAnswersWithRailsSubprotocol() {
        var head = head("/cable", upgrade: true)
        head.headers.add(name: "sec-websocket-protocol", value: "actioncable-v1-json, actioncable-unsupported")
        guard case .webSocket(let accepted, _) = classify(head, raw(.actioncable)) else {
            Issue.record("expected a WebSocket")
            return
        }
        #expect(accepted.subprotocol == "actioncable-v1-json")
    }

    @Test(arguments: [SocketAction.WireProtocol.raw, .actioncable])
    func aPlainRequestToAWebSocketRouteGets426(_ wireProtocol: SocketAction.WireProtocol) {
        // Even one that looks like Engine.IO: only Socket.IO routes speak it.
        let refusal = refusal(classify(head("/socket.io/?EIO=4&transport=polling"), raw(wireProtocol)))
        #expect(refusal?.status == .upgradeRequired)
        #expect(refusal?.headers.contains { $0 == ("upgrade", "websocket") } == true)
        #expect(refusal?.body == nil)
    }

    // MARK: The Engine.IO path

    @Test(arguments: [
        ("/socket.io/", "/socket.io/?EIO=4&transport=polling"),
        ("/socket.io/", "/socket.io?EIO=4&transport=polling"),
        ("/rt", "/rt/?EIO=4&transport=polling"),
        ("/rt", "/rt?EIO=4&transport=polling&t=N8hyd6w"),
    ])
    func thePathIsServedWithAndWithoutItsTrailingSlash(_ path: String, _ uri: String) {
        guard case .pollingHandshake = classify(head(uri), socketIO(path: path)) else {
            Issue.record("\(uri) on path \(path) is not a polling handshake")
            return
        }
    }

    @Test(arguments: [
        "/socket.io/x?EIO=4&transport=polling", "/socket.iox/?EIO=4&transport=polling", "/?EIO=4&transport=polling",
        "/socket.io//?EIO=4&transport=polling", "/other",
    ])
    func otherPathsOfASocketIORouteAre404(_ uri: String) {
        let refusal = refusal(classify(head(uri), socketIO()))
        #expect(refusal?.status == .notFound)
    }

    @Test func aPreflightIsAnsweredWhateverItsQuery() {
        guard case .preflight = classify(head("/socket.io/?EIO=3", method: .OPTIONS), socketIO()) else {
            Issue.record("expected a preflight")
            return
        }
        let elsewhere = refusal(classify(head("/elsewhere", method: .OPTIONS), socketIO()))
        #expect(elsewhere?.status == .notFound)
    }

    // MARK: Engine.IO errors

    @Test func engineIO3IsRefusedWithCode5() {
        let request = classify(head("/socket.io/?EIO=3&transport=polling"), socketIO())
        #expect(engineIOCode(request) == 5)
        #expect(refusal(request)?.body == #"{"code":5,"message":"Unsupported protocol version"}"#)
        #expect(engineIOCode(classify(head("/socket.io/?transport=polling"), socketIO())) == 5)
    }

    @Test(arguments: ["/socket.io/?EIO=4&transport=flashsocket", "/socket.io/?EIO=4", "/socket.io/"])
    func anUnknownOrMissingTransportIsCode0(_ uri: String) {
        let request = classify(head(uri), socketIO())
        #expect(engineIOCode(request) == 0)
        #expect(refusal(request)?.body == #"{"code":0,"message":"Transport unknown"}"#)
    }

    @Test func aTransportTheRouteDoesNotServeIsCode0() {
        let webSocketOnly = socketIO(transports: [.websocket])
        #expect(engineIOCode(classify(head("/socket.io/?EIO=4&transport=polling"), webSocketOnly)) == 0)
        let pollingOnly = socketIO(transports: [.polling])
        #expect(
            engineIOCode(classify(head("/socket.io/?EIO=4&transport=websocket", upgrade: true), pollingOnly)) == 0)
    }

    @Test func aHandshakeThatIsNotAGetIsCode2() {
        #expect(engineIOCode(classify(head("/socket.io/?EIO=4&transport=polling", method: .POST), socketIO())) == 2)
    }

    @Test func transportWebSocketWithoutAnUpgradeIsCode3() {
        #expect(engineIOCode(classify(head("/socket.io/?EIO=4&transport=websocket"), socketIO())) == 3)
        #expect(engineIOCode(classify(head("/socket.io/?EIO=4&transport=websocket&sid=0abc"), socketIO())) == 3)
    }

    @Test func anUpgradeWithTransportPollingIsCode3() {
        #expect(engineIOCode(classify(head("/socket.io/?EIO=4&transport=polling", upgrade: true), socketIO())) == 3)
    }

    // MARK: Polling

    @Test func aPollingHandshakeCarriesTheClientsQuery() {
        guard
            case .pollingHandshake(let query) = classify(
                head("/socket.io/?EIO=4&transport=polling&t=abc&room=lobby"), socketIO())
        else {
            Issue.record("expected a polling handshake")
            return
        }
        #expect(query.transport == .polling && query.sid == nil)
        #expect(query.value(of: "room") == "lobby")
    }

    @Test func aGetWithASidPollsAndAPostSends() {
        guard case .poll(let sid) = classify(head("/socket.io/?EIO=4&transport=polling&sid=0Xy7"), socketIO()) else {
            Issue.record("expected a poll")
            return
        }
        #expect(sid == "0Xy7")
        let post = head("/socket.io/?EIO=4&transport=polling&sid=0Xy7", method: .POST)
        guard case .send(let postSid) = classify(post, socketIO()) else {
            Issue.record("expected a send")
            return
        }
        #expect(postSid == "0Xy7")
    }

    @Test(arguments: [HTTPMethod.PUT, .DELETE, .PATCH, .HEAD])
    func otherMethodsOnAPollingSessionAreCode3(_ method: HTTPMethod) {
        let request = classify(head("/socket.io/?EIO=4&transport=polling&sid=0Xy7", method: method), socketIO())
        #expect(engineIOCode(request) == 3)
    }

    // MARK: WebSocket

    @Test func aWebSocketWithoutASidIsANewConnectionWithItsQuery() {
        let request = classify(head("/socket.io/?EIO=4&transport=websocket&room=lobby", upgrade: true), socketIO())
        guard case .webSocket(let accepted, let query?) = request else {
            Issue.record("expected a WebSocket with its Engine.IO query, got \(request)")
            return
        }
        #expect(accepted.accept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(query.transport == .websocket && query.value(of: "room") == "lobby")
    }

    @Test func aWebSocketWithASidUpgradesThatPollingSession() {
        let request = classify(head("/socket.io/?EIO=4&transport=websocket&sid=0Xy7", upgrade: true), socketIO())
        guard case .upgrade(let accepted, let sid) = request else {
            Issue.record("expected an upgrade, got \(request)")
            return
        }
        #expect(sid == "0Xy7")
        #expect(accepted.accept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func aBrokenWebSocketHandshakeOnTheEngineIOPathGetsTheHandshakesRefusal() {
        var head = head("/socket.io/?EIO=4&transport=websocket&sid=0Xy7", upgrade: true)
        head.headers.replaceOrAdd(name: "sec-websocket-version", value: "8")
        let refusal = refusal(classify(head, socketIO()))
        #expect(refusal?.status == .upgradeRequired)
        #expect(refusal?.headers.contains { $0 == ("sec-websocket-version", "13") } == true)
    }
}
