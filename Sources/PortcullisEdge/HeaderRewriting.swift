import NIOHTTP1
import PortcullisAuth
import PortcullisConfig
import PortcullisHTTP

/// Header rules of a reverse proxy, as pure functions over heads so they are tested
/// without channels.
///
/// Hop-by-hop headers (RFC 9110 §7.6.1, plus the legacy names proxies still meet) and
/// every header named in `Connection` belong to one connection and never cross the
/// proxy; the edge adds the `X-Forwarded-*` family and a request id.
enum HeaderRewriting {
    static let hopByHop = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "trailers",
        "transfer-encoding", "upgrade", "proxy-authenticate", "proxy-authorization",
    ]
    private static let hopByHopSet = Set(hopByHop)

    /// The forwarding headers the edge states on every proxied request.
    static let forwardingHeaders = [
        "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "forwarded", "x-real-ip",
    ]

    /// Headers a `Connection` list can never remove: the message's framing and routing,
    /// which the edge itself reads, and every header the edge sets (`owned`).
    static let framingHeaders: Set<String> = ["content-length", "transfer-encoding", "host", "upgrade"]

    /// Header names listed in `Connection` (lower-cased).
    static func connectionNominated(_ headers: HTTPHeaders) -> [String] {
        var names: [String] = []
        for value in headers["connection"] {
            for token in value.split(separator: ",") {
                let name = token.trimmingSpaces().lowercased()
                if !name.isEmpty { names.append(name) }
            }
        }
        return names
    }

    /// Whether a header (lower-cased `name`) belongs to this connection only: hop-by-hop,
    /// or named in `Connection` (`nominated`), except that a nomination of a framing header
    /// or of one in `protected` is ignored. A client must not be able to strip the length
    /// the edge read a body by, or an identity or forwarding header the edge vouches for.
    private static func isHopByHop(_ name: String, nominated: [String], protected: Set<String>) -> Bool {
        if hopByHopSet.contains(name) { return true }
        guard !nominated.isEmpty, nominated.contains(name) else { return false }
        return name != "close" && name != "keep-alive" && !framingHeaders.contains(name) && !protected.contains(name)
    }

    /// Whether the request asks for a WebSocket upgrade (RFC 6455 §4.2.1).
    static func isWebSocketUpgrade(_ head: HTTPRequestHead) -> Bool {
        guard head.method == .GET else { return false }
        let upgrade = head.headers["upgrade"].contains { $0.lowercased().contains("websocket") }
        return upgrade && connectionNominated(head.headers).contains("upgrade")
    }

    /// The request head to send upstream, built in one pass over the client's headers.
    ///
    /// Dropped: hop-by-hop headers, headers nominated by `Connection` (never a framing
    /// header or one in `owned`), `_` spellings of owned names, `Expect`, every owned
    /// header (the edge states its own: forwarding, request id, identity), and
    /// `Authorization`/`Cookie` where the route's `policy` withholds them. Then the edge's
    /// headers and its own framing are appended.
    ///
    /// - Parameters:
    ///   - target: the normalized request target after any prefix strip.
    ///   - forwarding: who sent the request and whether their forwarding headers count.
    ///   - owned: every header the edge sets (lower-cased), protected and de-spoofed.
    ///   - tunnel: keep `Upgrade`/`Connection: Upgrade` for a WebSocket tunnel.
    static func upstreamRequest(
        _ head: HTTPRequestHead,
        target: String,
        forwarding: Forwarding,
        requestId: String,
        owned: Set<String>,
        tunnel: Bool,
        policy: RouteAuth? = nil
    ) -> UpstreamRequestHead {
        let nominated = connectionNominated(head.headers)
        let withholdAuthorization = policy.map { !$0.forwardAuthorization } ?? false
        let withholdCookie = policy.map { !$0.forwardCookie } ?? false
        var previous = Forwarding.Previous()
        var chunked = false
        var upgradeValues: [String] = []
        var hasContentLength = false
        // Built as a plain array and wrapped once: `HTTPHeaders.add` re-checks every name
        // for non-ASCII bytes and for `Connection`, and these names were validated already.
        var headers: [(String, String)] = []
        headers.reserveCapacity(head.headers.count + 7)
        for (name, value) in head.headers {
            let lower = name.asciiLowercased()
            switch lower {
            case "transfer-encoding":
                chunked = chunked || value.lowercased().contains("chunked")
                continue
            case "upgrade":
                upgradeValues.append(value)
                continue
            case "expect":
                continue
            case "content-length":
                hasContentLength = true
            case "authorization" where withholdAuthorization, "cookie" where withholdCookie:
                continue
            default:
                break
            }
            if owned.contains(lower) {
                if forwarding.peerTrusted { previous.record(lower, value) }
                continue
            }
            if isHopByHop(lower, nominated: nominated, protected: owned) { continue }
            if lower.utf8.contains(UInt8(ascii: "_")), owned.contains(String(lower.map { $0 == "_" ? "-" : $0 })) {
                continue
            }
            headers.append((name, value))
        }
        forwarding.apply(to: &headers, host: head.headers.first(name: "host"), previous: previous)
        headers.append(("x-request-id", requestId))
        if tunnel {
            for value in upgradeValues { headers.append(("upgrade", value)) }
            headers.append(("connection", "upgrade"))
        } else if chunked {
            headers.append(("transfer-encoding", "chunked"))
        } else if !hasContentLength, head.method.hasRequestBodyLikely {
            headers.append(("content-length", "0"))
        }
        return UpstreamRequestHead(method: head.method, uri: target, headers: HTTPHeaders(headers))
    }

    /// States the verified identity on an upstream request from ``upstreamRequest(_:target:forwarding:requestId:owned:tunnel:policy:)``,
    /// which already dropped the client's copies of every header the edge owns:
    /// `X-Auth-Subject`, `X-Auth-Scopes` and the route's claim headers.
    static func applyIdentity(_ identity: Identity, policy: RouteAuth, to headers: inout HTTPHeaders) {
        headers.add(name: "x-auth-subject", value: identity.subject)
        headers.add(name: "x-auth-scopes", value: identity.scopes.joined(separator: " "))
        for claim in policy.claimHeaders {
            if let value = identity.claims[claim.claim] {
                headers.add(name: claim.header, value: value)
            }
        }
    }
}

/// The request head the edge writes upstream, always HTTP/1.1. A plain value rather than
/// NIO's `HTTPRequestHead`, whose storage is a class: one heap allocation less per request.
struct UpstreamRequestHead {
    let method: HTTPMethod
    let uri: String
    var headers: HTTPHeaders
}

extension HTTPMethod {
    /// Methods whose requests normally carry a body; an empty one gets `Content-Length: 0`.
    var hasRequestBodyLikely: Bool {
        switch self {
        case .POST, .PUT, .PATCH: return true
        default: return false
        }
    }

    /// Safe to send twice (RFC 9110 §9.2.2), so a failed connect may be retried elsewhere.
    var isIdempotent: Bool {
        switch self {
        case .GET, .HEAD, .OPTIONS, .PUT, .DELETE, .TRACE: return true
        default: return false
        }
    }
}

extension StringProtocol {
    func trimmingSpaces() -> Substring {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return slice
    }
}
