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
    var upstreamHead: UpstreamRequestHead
    /// Body parts and the end that arrived while the upstream connection was being set up.
    var pending: [ClientRequestPart] = []
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
    /// The body goes upstream chunked (it came chunked), rather than by its length.
    let requestChunked: Bool
    /// Server indices already tried for this request.
    var tried = TriedServers()
    var retriedStaleConnection = false
    var server: String?
    /// When the request head was written to the upstream, for the upstream duration.
    var upstreamStarted: NIODeadline?
    /// The verified subject (`sub`), for the access log.
    var subject: String?

    init(
        head: HTTPRequestHead,
        requestId: String,
        route: RouteTable.Entry,
        group: UpstreamGroup,
        upstreamHead: UpstreamRequestHead,
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
        // The cheap test first: the list of values is an array built per call.
        self.expectContinue =
            head.headers.contains(name: "expect")
            && head.headers["expect"].contains { $0.lowercased() == "100-continue" }
        self.requestChunked = !tunnel && head.headers.contains(name: "transfer-encoding")
    }

    /// A request that sent no body can be replayed on a fresh connection.
    var hasNoBody: Bool {
        requestBytes == 0 && !head.headers.contains(name: "content-length")
            && !head.headers.contains(name: "transfer-encoding")
    }
}

/// Request ids: 128 bits in hex from a xoshiro256** generator seeded from the system
/// random source once per connection, so ids cost no system call per request. They need
/// to be unique, not secret.
struct RequestId {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    init() {
        var system = SystemRandomNumberGenerator()
        state = (system.next(), system.next(), system.next(), system.next() | 1)
    }

    mutating func make() -> String {
        let high = next()
        let low = next()
        return String(unsafeUninitializedCapacity: 32) { buffer in
            Self.writeHex(high, into: buffer, at: 0)
            Self.writeHex(low, into: buffer, at: 16)
            return 32
        }
    }

    /// Accepts a client-sent id of 1–200 visible ASCII characters; anything else is replaced.
    static func accept(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value.utf8.count <= 200 else { return nil }
        return value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) ? value : nil
    }

    private mutating func next() -> UInt64 {
        let result = (state.1 &* 5).rotatedLeft(by: 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = state.3.rotatedLeft(by: 45)
        return result
    }

    private static func writeHex(_ value: UInt64, into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        let digits: StaticString = "0123456789abcdef"
        digits.withUTF8Buffer { table in
            for index in 0..<16 {
                buffer[offset + index] = table[Int((value >> UInt64(60 - 4 * index)) & 0xF)]
            }
        }
    }
}

extension UInt64 {
    fileprivate func rotatedLeft(by amount: UInt64) -> UInt64 {
        (self << amount) | (self >> (64 - amount))
    }
}

/// The servers already tried for one request, kept inline: a request is tried on at most
/// two servers (one retry after a failed connect), and an array here was a heap allocation
/// on every proxied request.
struct TriedServers: ExpressibleByArrayLiteral {
    private var first = -1
    private var second = -1

    init() {}

    init(arrayLiteral indices: Int...) {
        for index in indices { self.append(index) }
    }

    var count: Int { first < 0 ? 0 : second < 0 ? 1 : 2 }
    var isEmpty: Bool { first < 0 }
    var last: Int? { second >= 0 ? second : first >= 0 ? first : nil }

    func contains(_ index: Int) -> Bool {
        index >= 0 && (index == first || index == second)
    }

    /// Records a server; past two, the latest replaces the second (the state machine
    /// retries once, so that never happens).
    mutating func append(_ index: Int) {
        if first < 0 { first = index } else { second = index }
    }

    mutating func removeLast() {
        if second >= 0 { second = -1 } else { first = -1 }
    }
}
