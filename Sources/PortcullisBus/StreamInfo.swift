/// The parts of `XINFO STREAM` the bus uses.
public struct StreamInfo: Sendable, Equatable {
    public var length: Int
    public var lastGeneratedID: StreamID
    /// The number of consumer groups.
    public var groups: Int
    /// Entries ever added (Redis 7.0+; nil before).
    public var entriesAdded: Int?
    /// Nil when the stream is empty.
    public var firstEntry: StreamEntry?
    /// Nil when the stream is empty.
    public var lastEntry: StreamEntry?

    /// Parses the RESP2 flat name/value array.
    init(reply: RESPValue) throws {
        let map = try reply.expectFieldMap()
        func required(_ name: String) throws -> RESPValue {
            guard let value = map[name] else { throw RedisError.unexpectedReply(reply, expected: "field '\(name)'") }
            return value
        }
        self.length = try required("length").expectInteger()
        self.lastGeneratedID = try required("last-generated-id").expectStreamID()
        self.groups = try required("groups").expectInteger()
        self.entriesAdded = try map["entries-added"].map { try $0.expectInteger() }
        self.firstEntry = try map["first-entry"].flatMap { $0.isNull ? nil : try StreamEntry(reply: $0) }
        self.lastEntry = try map["last-entry"].flatMap { $0.isNull ? nil : try StreamEntry(reply: $0) }
    }
}
