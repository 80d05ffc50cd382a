import NIOCore
import NIOHTTP1

/// One request/response pair as the proxy handles it, from the request head to the log line.
final class Exchange {
    let head: HTTPRequestHead
    let requestId: String
    let route: RouteTable.Entry
    let group: UpstreamGroup
    let started = NIODeadline.now()
    /// Upstream-bound request head (prefix stripped, headers rewritten).
    let upstreamHead: HTTPRequestHead
    /// Body parts and the end that arrived while the upstream connection was being set up.
    var pending: [HTTPServerRequestPart] = []
    var requestEnded = false
    var requestBytes = 0
    var responseBytes = 0
    var status: HTTPResponseStatus?
    var responseStarted = false
    /// Whether the client connection stays open after this exchange.
    var keepAlive: Bool
    /// A WebSocket upgrade that will be tunnelled if the upstream answers 101.
    let tunnel: Bool
    let expectContinue: Bool
    /// Server indices already tried for this request.
    var tried: [Int] = []
    var retriedStaleConnection = false
    var server: String?

    init(
        head: HTTPRequestHead,
        requestId: String,
        route: RouteTable.Entry,
        group: UpstreamGroup,
        upstreamHead: HTTPRequestHead,
        keepAlive: Bool,
        tunnel: Bool
    ) {
        self.head = head
        self.requestId = requestId
        self.route = route
        self.group = group
        self.upstreamHead = upstreamHead
        self.keepAlive = keepAlive
        self.tunnel = tunnel
        self.expectContinue = head.headers["expect"].contains { $0.lowercased() == "100-continue" }
    }

    /// A request that sent no body can be replayed on a fresh connection.
    var hasNoBody: Bool {
        requestBytes == 0 && !head.headers.contains(name: "content-length")
            && !head.headers.contains(name: "transfer-encoding")
    }
}

/// Request ids: 128 random bits in hex, unless the client sent a usable one.
enum RequestId {
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        return hex(high) + hex(low)
    }

    /// Accepts a client-sent id of 1–200 visible ASCII characters; anything else is replaced.
    static func accept(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value.utf8.count <= 200 else { return nil }
        return value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) ? value : nil
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
