/// How XADD trims the stream it appends to.
///
/// Approximate trimming (`~`, the default) lets Redis keep a few tens of extra entries so it
/// can drop whole macro-nodes, which is much cheaper than exact trimming.
public struct StreamTrim: Sendable, Hashable {
    private enum Strategy: Sendable, Hashable {
        case maximumLength(Int)
        case minimumID(StreamID)
    }

    private let strategy: Strategy
    public var approximate: Bool
    /// `LIMIT n`: the most entries one XADD may evict (only with `approximate`).
    public var limit: Int?

    /// `MAXLEN [~] count`: keep about the newest `count` entries.
    public static func maximumLength(_ count: Int, approximate: Bool = true, limit: Int? = nil) -> StreamTrim {
        StreamTrim(strategy: .maximumLength(count), approximate: approximate, limit: limit)
    }

    /// `MINID [~] id`: drop entries older than `id`.
    public static func minimumID(_ id: StreamID, approximate: Bool = true, limit: Int? = nil) -> StreamTrim {
        StreamTrim(strategy: .minimumID(id), approximate: approximate, limit: limit)
    }

    public var arguments: [RedisArgument] {
        var arguments: [RedisArgument]
        switch self.strategy {
        case .maximumLength(let count):
            arguments = ["MAXLEN", self.approximate ? "~" : "=", RedisArgument(count)]
        case .minimumID(let id):
            arguments = ["MINID", self.approximate ? "~" : "=", RedisArgument(id.description)]
        }
        if let limit = self.limit {
            arguments += ["LIMIT", RedisArgument(limit)]
        }
        return arguments
    }
}
