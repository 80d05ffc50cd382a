/// Where a stream read or a new consumer group starts.
///
/// - ``after(_:)``: entries with an id greater than the given one (XREAD, XGROUP CREATE;
///   with XREADGROUP it re-reads this consumer's *pending* entries after the id).
/// - ``start``: `0` — the whole stream (XREAD, XGROUP CREATE) or all own pending entries
///   (XREADGROUP).
/// - ``newEntries``: `$` — only entries added from now on (XREAD's first call, XGROUP
///   CREATE). After the first XREAD, continue from the last id seen, not `$`.
/// - ``undelivered``: `>` — entries never delivered to this group (XREADGROUP only).
public struct StreamPosition: Sendable, Hashable, CustomStringConvertible {
    private let token: String

    private init(token: String) {
        self.token = token
    }

    public static func after(_ id: StreamID) -> StreamPosition { StreamPosition(token: id.description) }
    public static let start = StreamPosition(token: "0")
    public static let newEntries = StreamPosition(token: "$")
    public static let undelivered = StreamPosition(token: ">")

    public var description: String { self.token }

    var argument: RedisArgument { RedisArgument(self.token) }
}
