import NIOHTTP1
import PortcullisConfig

/// Where a request came from, and the one policy for the forwarding headers
/// (`X-Forwarded-For`, `-Proto`, `-Host`, `Forwarded`, `X-Real-IP`).
///
/// From an ordinary client they are replaced with what the edge saw: a client cannot
/// claim another address, scheme or host. From a peer in the listener's
/// `trusted_proxies` (a load balancer in front of the edge) they are believed and
/// extended: the peer is appended to `X-Forwarded-For` and `Forwarded`, its
/// `X-Forwarded-Proto` and `-Host` are kept, and `X-Real-IP` names the first address
/// from the right of the chain that is not a trusted proxy (nginx's `real_ip_recursive`).
struct Forwarding {
    /// The address the connection came from (after a PROXY protocol header, the one it names).
    let peer: String
    let peerTrusted: Bool
    /// The client as far as the edge can tell: the peer, or from a trusted peer the
    /// right-most untrusted address of `X-Forwarded-For`.
    let client: String
    let scheme: String

    init(peer: String, scheme: String, trustedProxies: [CIDRBlock], headers: HTTPHeaders) {
        self.peer = peer
        self.scheme = scheme
        let trusted = { (address: String) in trustedProxies.contains { $0.contains(address) } }
        peerTrusted = !trustedProxies.isEmpty && trusted(peer)
        guard peerTrusted else {
            client = peer
            return
        }
        var chain: [String] = []
        for value in headers["x-forwarded-for"] {
            for element in value.split(separator: ",") { chain.append(String(element.trimmingSpaces())) }
        }
        client = chain.reversed().first { !trusted($0) } ?? chain.first ?? peer
    }

    /// The forwarding headers a trusted peer sent, collected while the request's headers
    /// are copied (an untrusted peer's are dropped unread).
    struct Previous {
        var forwardedFor: [String] = []
        var forwarded: [String] = []
        var proto: String?
        var host: String?

        /// Records header `name` (lower-cased) if it is one of the forwarding headers.
        mutating func record(_ name: String, _ value: String) {
            switch name {
            case "x-forwarded-for": forwardedFor.append(value)
            case "forwarded": forwarded.append(value)
            case "x-forwarded-proto": proto = proto ?? value
            case "x-forwarded-host": host = host ?? value
            default: break
            }
        }
    }

    /// Adds the forwarding headers to `headers`, which holds none: the edge's own view,
    /// extending what a trusted peer sent (`previous`).
    func apply(to headers: inout [(String, String)], host: String?, previous: Previous) {
        let proto = previous.proto ?? scheme
        let forwardedHost = previous.host ?? host
        headers.append(("x-forwarded-for", Self.extending(previous.forwardedFor, with: peer)))
        headers.append(("x-forwarded-proto", proto))
        if let forwardedHost { headers.append(("x-forwarded-host", forwardedHost)) }
        headers.append(("x-real-ip", client))
        // One allocation: each `+` of a string past 15 bytes would allocate a new one. The
        // 19 bytes are `for=`, `;proto=`, `;host="` and the closing quote.
        let node = Self.node(peer)
        var element = ""
        element.reserveCapacity(19 + node.utf8.count + scheme.utf8.count + (host?.utf8.count ?? 0))
        element += "for="
        element += node
        element += ";proto="
        element += scheme
        if let host {
            element += ";host=\""
            element += host
            element += "\""
        }
        headers.append(("forwarded", Self.extending(previous.forwarded, with: element)))
    }

    /// A list header's values as one comma-separated list, with `element` last.
    private static func extending(_ values: [String], with element: String) -> String {
        values.isEmpty ? element : values.joined(separator: ", ") + ", " + element
    }

    /// RFC 7239 §6: IPv6 addresses are bracketed and quoted. (A byte test: with
    /// Foundation imported, `String.contains(String)` is NSString's `range(of:)`.)
    private static func node(_ address: String) -> String {
        address.utf8.contains(UInt8(ascii: ":")) ? "\"[\(address)]\"" : address
    }
}
