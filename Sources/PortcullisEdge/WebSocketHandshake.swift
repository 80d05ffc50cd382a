import NIOHTTP1
import PortcullisAuth

/// The server side of the RFC 6455 §4.2 opening handshake on a socket route: checks the
/// upgrade request and builds the 101.
///
/// Violations get 400; a version other than 13 gets 426 with `Sec-WebSocket-Version: 13`,
/// and so does a plain request that is not an upgrade at all, so a browser that opened
/// the URL learns what the route speaks.
enum WebSocketHandshake {
    struct Refusal: Error, Equatable {
        let status: HTTPResponseStatus
        let headers: [(String, String)]
        let reason: String

        static func == (lhs: Refusal, rhs: Refusal) -> Bool {
            lhs.status == rhs.status && lhs.reason == rhs.reason
                && lhs.headers.elementsEqual(rhs.headers, by: { $0 == $1 })
        }
    }

    struct Accepted: Equatable {
        let accept: String
        let subprotocol: String?
    }

    private static let versionHeader = [("sec-websocket-version", "13")]

    /// The request asks to upgrade to WebSocket (`Upgrade: websocket` nominated by
    /// `Connection`), whether or not the rest of the handshake is valid.
    static func isUpgrade(_ head: HTTPRequestHead) -> Bool {
        head.headers["upgrade"].contains { $0.lowercased().contains("websocket") }
            && HeaderRewriting.connectionNominated(head.headers).contains("upgrade")
    }

    /// - Parameter subprotocols: the route's subprotocols; the first one the client offers
    ///   (in the client's order) is chosen, none when nothing matches.
    static func check(_ head: HTTPRequestHead, subprotocols: [String]) -> Result<Accepted, Refusal> {
        guard isUpgrade(head) else {
            return .failure(
                Refusal(
                    status: .upgradeRequired, headers: [("upgrade", "websocket")] + versionHeader,
                    reason: "not a WebSocket upgrade"))
        }
        guard head.method == .GET, head.version.major > 1 || (head.version.major == 1 && head.version.minor >= 1) else {
            return .failure(
                Refusal(status: .badRequest, headers: [], reason: "WebSocket upgrade needs GET over HTTP/1.1"))
        }
        guard head.headers["sec-websocket-version"].map({ $0.trimmingSpaces }) == ["13"] else {
            return .failure(
                Refusal(status: .upgradeRequired, headers: versionHeader, reason: "unsupported WebSocket version"))
        }
        guard head.headers["sec-websocket-key"].count == 1,
            let key = head.headers.first(name: "sec-websocket-key"),
            let accept = WebSocketAccept.value(forKey: key)
        else {
            return .failure(Refusal(status: .badRequest, headers: [], reason: "bad Sec-WebSocket-Key"))
        }
        guard !head.headers.contains(name: "content-length") && !head.headers.contains(name: "transfer-encoding") else {
            return .failure(Refusal(status: .badRequest, headers: [], reason: "WebSocket upgrade with a body"))
        }
        let offered = head.headers["sec-websocket-protocol"]
            .flatMap { $0.split(separator: ",") }
            .map { String($0).trimmingSpaces }
        let chosen = offered.first { subprotocols.contains($0) }
        return .success(Accepted(accept: accept, subprotocol: chosen))
    }

    static func response(_ accepted: Accepted, version: HTTPVersion, requestId: String) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.add(name: "upgrade", value: "websocket")
        headers.add(name: "connection", value: "Upgrade")
        headers.add(name: "sec-websocket-accept", value: accepted.accept)
        if let subprotocol = accepted.subprotocol {
            headers.add(name: "sec-websocket-protocol", value: subprotocol)
        }
        headers.add(name: "x-request-id", value: requestId)
        return HTTPResponseHead(version: version, status: .switchingProtocols, headers: headers)
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var slice = Substring(self)
        while slice.first == " " || slice.first == "\t" { slice.removeFirst() }
        while slice.last == " " || slice.last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
