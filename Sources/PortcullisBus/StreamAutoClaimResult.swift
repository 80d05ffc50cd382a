/// The reply of XAUTOCLAIM: the entries now owned by the claiming consumer, where to resume
/// the scan, and the pending ids whose data had been deleted (removed from the PEL by Redis).
public struct StreamAutoClaimResult: Sendable, Equatable {
    /// Pass as `start` to the next XAUTOCLAIM; ``StreamID/zero`` means the scan is complete.
    public var nextStart: StreamID
    public var entries: [StreamEntry]
    /// Always empty from Redis 6.2, which replies with two elements only.
    public var deletedIDs: [StreamID]

    public init(nextStart: StreamID, entries: [StreamEntry], deletedIDs: [StreamID]) {
        self.nextStart = nextStart
        self.entries = entries
        self.deletedIDs = deletedIDs
    }

    /// True when the PEL scan reached its end.
    public var isScanComplete: Bool { self.nextStart == .zero }

    /// Parses `[nextStart, entries]` (6.2) or `[nextStart, entries, deletedIds]` (7.0+).
    init(reply: RESPValue) throws {
        let parts = try reply.expectArray()
        guard parts.count == 2 || parts.count == 3 else {
            throw RedisError.unexpectedReply(reply, expected: "[next, entries(, deleted)]")
        }
        self.nextStart = try parts[0].expectStreamID()
        self.entries = try StreamEntry.list(parts[1])
        self.deletedIDs = parts.count == 3 ? try parts[2].expectArray().map { try $0.expectStreamID() } : []
    }
}
