/// The summary form of XPENDING: how many entries a group has delivered and not yet
/// acknowledged, their id range, and the count per consumer.
public struct StreamPendingSummary: Sendable, Equatable {
    public var count: Int
    /// Nil when nothing is pending.
    public var smallestID: StreamID?
    /// Nil when nothing is pending.
    public var greatestID: StreamID?
    /// Consumers with at least one pending entry, in Redis's order.
    public var consumers: [(name: String, pending: Int)]

    public static func == (lhs: StreamPendingSummary, rhs: StreamPendingSummary) -> Bool {
        lhs.count == rhs.count && lhs.smallestID == rhs.smallestID && lhs.greatestID == rhs.greatestID
            && lhs.consumers.map(\.name) == rhs.consumers.map(\.name)
            && lhs.consumers.map(\.pending) == rhs.consumers.map(\.pending)
    }

    /// Parses `[count, minId, maxId, [[consumer, "n"], …]]`; the last three are null when
    /// the count is 0.
    init(reply: RESPValue) throws {
        let parts = try reply.expectArray()
        guard parts.count == 4 else {
            throw RedisError.unexpectedReply(reply, expected: "[count, min, max, consumers]")
        }
        self.count = try parts[0].expectInteger()
        self.smallestID = parts[1].isNull ? nil : try parts[1].expectStreamID()
        self.greatestID = parts[2].isNull ? nil : try parts[2].expectStreamID()
        if parts[3].isNull {
            self.consumers = []
        } else {
            self.consumers = try parts[3].expectArray().map { pair in
                let values = try pair.expectArray()
                guard values.count == 2, let pending = Int(try values[1].expectString()) else {
                    throw RedisError.unexpectedReply(pair, expected: "[consumer, count]")
                }
                return (name: try values[0].expectString(), pending: pending)
            }
        }
    }
}
