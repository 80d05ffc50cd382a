/// An upstream's response head as byte ranges into the bytes it was parsed from.
///
/// The edge relays a response head by copying byte ranges, so it never builds a string per
/// field: the parser (``ResponseHeadParser``) has already judged the framing, the
/// connection's fate and which fields belong to this hop only.
public struct ResponseHead: Sendable, Equatable {
    /// How the response's body is delimited (RFC 9112 §6.3).
    public enum Body: Sendable, Equatable {
        /// 1xx, 204, 304, or the answer to a HEAD request.
        case none
        case length(Int)
        case chunked
        /// Neither length nor chunked: the body ends when the upstream closes.
        case untilClose
    }

    /// What the edge does with a field when it relays the head.
    public enum FieldRole: UInt8, Sendable, Equatable {
        /// Passed on as received.
        case endToEnd
        /// Hop-by-hop, or named in `Connection`: dropped.
        case hopByHop
        /// `Upgrade`: passed on only when a WebSocket tunnel is spliced.
        case upgrade
        /// `X-Request-Id`: passed on, and the edge then adds none of its own.
        case requestId
    }

    public struct Field: Sendable, Equatable {
        public var name: Range<Int>
        /// Without the whitespace around it.
        public var value: Range<Int>
        public var role: FieldRole

        public init(name: Range<Int>, value: Range<Int>, role: FieldRole) {
            self.name = name
            self.value = value
            self.role = role
        }
    }

    /// 0 for HTTP/1.0, 1 for HTTP/1.1 (and later 1.x).
    public var minorVersion: Int
    public var status: Int
    /// The reason phrase, possibly empty.
    public var reason: Range<Int>
    public var fields: [Field]
    public var body: Body
    /// Whether the upstream lets its connection carry another exchange after this one.
    public var keepAlive: Bool

    public init(minorVersion: Int, status: Int, reason: Range<Int>, fields: [Field], body: Body, keepAlive: Bool) {
        self.minorVersion = minorVersion
        self.status = status
        self.reason = reason
        self.fields = fields
        self.body = body
        self.keepAlive = keepAlive
    }

    /// An interim response (1xx other than 101) that a final one follows.
    public var isInterim: Bool { status < 200 && status != 101 }

    public var hasRequestId: Bool { fields.contains { $0.role == .requestId } }
}

/// Why an upstream's response cannot be relayed: it is answered with 502 (or, once a
/// response has started, the client connection is cut) and its connection is discarded,
/// since where the next response would start is in doubt.
public struct ResponseProblem: Error, Equatable, Sendable, CustomStringConvertible {
    public let detail: String

    public init(_ detail: String) {
        self.detail = detail
    }

    public var description: String { detail }
}
