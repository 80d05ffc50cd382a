import NIOHTTP1
import PortcullisAuth
import PortcullisConfig
import PortcullisWire

/// The server side of the RFC 6455 §4.2 opening handshake on a socket route: checks the
/// upgrade request and builds the 101.
///
/// Violations get 400; a version other than 13 gets 426 with `Sec-WebSocket-Version: 13`,
/// and so does a plain request that is not an upgrade at all, so a browser that opened
/// the URL learns what the route speaks. Extensions: permessage-deflate when the route enables
/// it and the client offers it acceptably (``PerMessageDeflate/negotiate(offers:policy:)``);
/// nothing else.
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
        /// The permessage-deflate agreement; nil: frames go uncompressed.
        var deflate: PerMessageDeflate? = nil
    }

    private static let versionHeader = [("sec-websocket-version", "13")]

    /// The request asks to upgrade to WebSocket (`Upgrade: websocket` nominated by
    /// `Connection`), whether or not the rest of the handshake is valid.
    static func isUpgrade(_ head: HTTPRequestHead) -> Bool {
        head.headers["upgrade"].contains { $0.lowercased().contains("websocket") }
            && HeaderRewriting.connectionNominated(head.headers).contains("upgrade")
    }

    /// - Parameters:
    ///   - subprotocols: the route's subprotocols; the first one the client offers (in the
    ///     client's order) is chosen, none when nothing matches.
    ///   - compression: the route's `compression`; nil declines every extension offer.
    static func check(
        _ head: HTTPRequestHead, subprotocols: [String], compression: SocketAction.Compression? = nil
    ) -> Result<Accepted, Refusal> {
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
        let deflate = compression.flatMap {
            PerMessageDeflate.negotiate(offers: head.headers["sec-websocket-extensions"], policy: $0.policy)
        }
        return .success(Accepted(accept: accept, subprotocol: chosen, deflate: deflate))
    }

    static func response(_ accepted: Accepted, version: HTTPVersion, requestId: String) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.add(name: "upgrade", value: "websocket")
        headers.add(name: "connection", value: "Upgrade")
        headers.add(name: "sec-websocket-accept", value: accepted.accept)
        if let subprotocol = accepted.subprotocol {
            headers.add(name: "sec-websocket-protocol", value: subprotocol)
        }
        if let deflate = accepted.deflate {
            headers.add(name: "sec-websocket-extensions", value: deflate.responseHeaderValue)
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

extension SocketAction.Compression {
    /// The route's settings as the negotiation reads them.
    var policy: PerMessageDeflate.Policy {
        PerMessageDeflate.Policy(
            serverNoContextTakeover: serverNoContextTakeover, clientNoContextTakeover: clientNoContextTakeover,
            serverMaxWindowBits: serverMaxWindowBits, clientMaxWindowBits: clientMaxWindowBits, minSize: minSize)
    }
}
