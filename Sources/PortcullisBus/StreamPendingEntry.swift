/// One line of the extended form of XPENDING: a delivered, unacknowledged entry.
public struct StreamPendingEntry: Sendable, Hashable {
    public var id: StreamID
    /// The consumer that owns the entry.
    public var consumer: String
    /// Time since the entry was last delivered to its consumer.
    public var idle: Duration
    /// How many times it was delivered (re-reads and claims count).
    public var deliveryCount: Int

    public init(id: StreamID, consumer: String, idle: Duration, deliveryCount: Int) {
        self.id = id
        self.consumer = consumer
        self.idle = idle
        self.deliveryCount = deliveryCount
    }

    /// Parses `[id, consumer, idleMs, deliveries]`.
    init(reply: RESPValue) throws {
        let parts = try reply.expectArray()
        guard parts.count == 4 else {
            throw RedisError.unexpectedReply(reply, expected: "[id, consumer, idle, deliveries]")
        }
        self.id = try parts[0].expectStreamID()
        self.consumer = try parts[1].expectString()
        self.idle = .milliseconds(try parts[2].expectInteger())
        self.deliveryCount = try parts[3].expectInteger()
    }
}
