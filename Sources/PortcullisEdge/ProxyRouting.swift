import NIOHTTP1
import PortcullisConfig
import PortcullisHTTP

/// What the edge does with a new request head, decided from the head and the current
/// snapshot alone: answer it itself, refuse it, serve it on a socket route, or proxy it
/// (with the upstream-bound head already rewritten).
enum ProxyRouting {
    enum Decision {
        /// A local answer before any upstream is involved (`OPTIONS *`, 404, 413).
        case answer(HTTPResponseStatus, route: RouteTable.Entry?, closeAfter: Bool, headers: [(String, String)])
        case refuse(RequestRefusal)
        case socket(RouteTable.Entry, SocketAction)
        case proxy(Exchange)
    }

    /// Methods the edge forwards, for `Allow` on 405 and `OPTIONS *`.
    static let allowedMethods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"

    static func decide(
        _ head: HTTPRequestHead, requestId: String, forwarding: Forwarding, snapshot: EdgeSnapshot, listener: String
    ) -> Decision {
        if head.uri == "*" {
            // `OPTIONS *` asks about the server, not a resource: the edge answers it.
            return .answer(.ok, route: nil, closeAfter: !head.isKeepAlive, headers: [("allow", allowedMethods)])
        }
        let match = snapshot.routes.match(
            host: head.headers.first(name: "host"), path: head.uri, method: head.method.rawValue, listener: listener)
        guard let route = match else {
            return .answer(.notFound, route: nil, closeAfter: !head.isKeepAlive, headers: [])
        }
        if route.route.escapedSlashes == .reject, PathNormalizer.containsEncodedSeparator(head.uri) {
            return .refuse(RequestRefusal(.encodedSlash, "%2F or %5C in the path"))
        }
        if let socket = route.route.socket {
            return .socket(route, socket)
        }
        guard let proxy = route.route.proxy, let group = snapshot.upstreams[proxy.upstream] else {
            return .answer(.notFound, route: nil, closeAfter: !head.isKeepAlive, headers: [])
        }
        if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > route.route.maxBodySize {
            return .answer(.payloadTooLarge, route: route, closeAfter: true, headers: [])
        }
        // Cheap test first: most requests carry no Upgrade header, so `Connection` is parsed
        // once per request (by the hop-by-hop removal), not three times.
        let upgradeRequested =
            head.headers.contains(name: "upgrade")
            && HeaderRewriting.connectionNominated(head.headers).contains("upgrade")
        let tunnel = upgradeRequested && proxy.websocket && HeaderRewriting.isWebSocketUpgrade(head)
        let target = proxy.stripPrefix ? RouteTable.strip(prefix: route.route.match.path, from: head.uri) : head.uri
        let upstreamHead = HeaderRewriting.upstreamRequest(
            head, target: target, forwarding: forwarding, requestId: requestId, owned: snapshot.ownedHeaders,
            tunnel: tunnel, policy: route.route.auth)
        return .proxy(
            Exchange(
                head: head, requestId: requestId, route: route, group: group, upstreamHead: upstreamHead,
                // The request decoder stops after an upgrade request, so one that is not
                // tunnelled ends the connection.
                keepAlive: head.isKeepAlive && (!upgradeRequested || tunnel), tunnel: tunnel))
    }
}
