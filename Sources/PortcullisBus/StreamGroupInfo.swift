/// One consumer group as reported by `XINFO GROUPS`.
public struct StreamGroupInfo: Sendable, Hashable {
    public var name: String
    public var consumers: Int
    /// Entries delivered and not yet acknowledged.
    public var pending: Int
    public var lastDeliveredID: StreamID
    /// Redis 7.0+; nil before.
    public var entriesRead: Int?
    /// Entries not yet delivered to the group (Redis 7.0+); nil when Redis cannot tell
    /// (after deletions or trimming) or before 7.0.
    public var lag: Int?

    /// Parses one group's RESP2 flat name/value array.
    init(reply: RESPValue) throws {
        let map = try reply.expectFieldMap()
        func required(_ name: String) throws -> RESPValue {
            guard let value = map[name] else { throw RedisError.unexpectedReply(reply, expected: "field '\(name)'") }
            return value
        }
        self.name = try required("name").expectString()
        self.consumers = try required("consumers").expectInteger()
        self.pending = try required("pending").expectInteger()
        self.lastDeliveredID = try required("last-delivered-id").expectStreamID()
        self.entriesRead = try map["entries-read"].flatMap { $0.isNull ? nil : try $0.expectInteger() }
        self.lag = try map["lag"].flatMap { $0.isNull ? nil : try $0.expectInteger() }
    }
}
