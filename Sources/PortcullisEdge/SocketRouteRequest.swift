import NIOHTTP1
import PortcullisConfig
import PortcullisWire

/// What a request to a socket route asks for, decided from its head alone: a new
/// WebSocket, one of Engine.IO's polling requests, the WebSocket that upgrades a polling
/// session, a CORS preflight, or a refusal with the protocol's error.
enum SocketRouteRequest {
    /// A WebSocket for a new connection; `query` holds the Engine.IO parameters on
    /// Socket.IO routes.
    case webSocket(WebSocketHandshake.Accepted, query: EngineIORequestQuery?)
    /// `transport=websocket&sid=…`: a WebSocket that takes polling session `sid` over.
    case upgrade(WebSocketHandshake.Accepted, sid: String)
    /// `GET …transport=polling` without `sid`: opens a polling session.
    case pollingHandshake(EngineIORequestQuery)
    /// `GET …&sid=…`: waits for the session's packets.
    case poll(sid: String)
    /// `POST …&sid=…`: the body carries the client's packets.
    case send(sid: String)
    /// `OPTIONS` on the Engine.IO path (CORS preflight).
    case preflight
    case refused(Refusal)

    struct Refusal {
        var status: HTTPResponseStatus
        var headers: [(String, String)] = []
        /// The body; nil for the edge's plain-text status line.
        var body: String?
        var contentType = "text/plain; charset=utf-8"
        var reason: String

        init(_ refusal: WebSocketHandshake.Refusal) {
            self.status = refusal.status
            self.headers = refusal.headers
            self.reason = refusal.reason
        }

        /// The Engine.IO error body (`{"code":N,"message":…}`), as the reference server
        /// answers both transports' errors.
        init(_ error: EngineIORequestError) {
            self.status = HTTPResponseStatus(statusCode: error.httpStatus)
            self.body = error.jsonBody
            self.contentType = "application/json"
            self.reason = "engine.io: \(error.reason.isEmpty ? error.message : error.reason)"
        }

        init(status: HTTPResponseStatus, reason: String) {
            self.status = status
            self.reason = reason
        }
    }

    static func classify(_ head: HTTPRequestHead, socket: SocketAction) -> SocketRouteRequest {
        guard let settings = socket.socketIO else {
            return webSocket(head, socket: socket, query: nil)
        }
        guard Self.isEngineIOPath(head.uri, settings.path) else {
            return .refused(Refusal(status: .notFound, reason: "not the Engine.IO path \(settings.path)"))
        }
        if head.method == .OPTIONS { return .preflight }
        let query: EngineIORequestQuery
        do {
            query = try EngineIORequestQuery(
                target: head.uri, transports: settings.transports.map { $0 == .polling ? .polling : .websocket })
            try query.check(method: head.method.rawValue, isWebSocketUpgrade: WebSocketHandshake.isUpgrade(head))
        } catch {
            return .refused(Refusal(error))
        }
        switch (query.transport, query.sid) {
        case (.websocket, nil):
            return webSocket(head, socket: socket, query: query)
        case (.websocket, let sid?):
            switch WebSocketHandshake.check(head, subprotocols: socket.subprotocols, compression: socket.compression) {
            case .failure(let refusal): return .refused(Refusal(refusal))
            case .success(let accepted): return .upgrade(accepted, sid: sid)
            }
        case (.polling, nil):
            return .pollingHandshake(query)
        case (.polling, let sid?):
            switch head.method {
            case .GET: return .poll(sid: sid)
            case .POST: return .send(sid: sid)
            default:
                return .refused(
                    Refusal(EngineIORequestError(code: .badRequest, reason: "polling with \(head.method.rawValue)")))
            }
        }
    }

    private static func webSocket(
        _ head: HTTPRequestHead, socket: SocketAction, query: EngineIORequestQuery?
    ) -> SocketRouteRequest {
        switch WebSocketHandshake.check(head, subprotocols: socket.subprotocols, compression: socket.compression) {
        case .failure(let refusal): .refused(Refusal(refusal))
        case .success(let accepted): .webSocket(accepted, query: query)
        }
    }

    /// The target's path is the configured one, with or without its trailing slash (the JS
    /// client adds it, other clients may not).
    static func isEngineIOPath(_ target: String, _ path: String) -> Bool {
        let end = target.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? target.endIndex
        let requested = target[..<end]
        let bare = path.hasSuffix("/") ? path.dropLast() : Substring(path)
        return requested == bare || requested == bare + "/"
    }
}
