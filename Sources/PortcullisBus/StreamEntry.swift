import NIOCore

/// The name of a Redis stream key.
public typealias StreamName = String

/// One stream entry: its id and its fields in XADD order, values binary-safe.
///
/// `fields` is nil for an entry that is still pending in a consumer group but whose data
/// was deleted (XDEL or trimming): Redis then replies `[id, nil]` when a consumer re-reads
/// its pending entries. Such an entry has nothing to process; acknowledge it.
public struct StreamEntry: Sendable {
    public var id: StreamID
    public var fields: [(name: String, value: ByteBuffer)]?

    public init(id: StreamID, fields: [(name: String, value: ByteBuffer)]?) {
        self.id = id
        self.fields = fields
    }

    /// True when the entry's data was deleted while it was pending (see ``fields``).
    public var isDeleted: Bool { self.fields == nil }

    /// The value of the first field called `name`.
    public subscript(field name: String) -> ByteBuffer? {
        self.fields?.first { $0.name == name }?.value
    }
}

extension StreamEntry: Equatable {
    public static func == (lhs: StreamEntry, rhs: StreamEntry) -> Bool {
        guard lhs.id == rhs.id else { return false }
        switch (lhs.fields, rhs.fields) {
        case (nil, nil):
            return true
        case (let left?, let right?):
            return left.count == right.count
                && zip(left, right).allSatisfy { $0.name == $1.name && $0.value == $1.value }
        default:
            return false
        }
    }
}

extension StreamEntry {
    /// Parses `[id, [field, value, …]]` or `[id, nil]` (a deleted pending entry).
    init(reply: RESPValue) throws {
        let parts = try reply.expectArray()
        guard parts.count == 2 else { throw RedisError.unexpectedReply(reply, expected: "[id, fields]") }
        let id = try parts[0].expectStreamID()
        if parts[1].isNull {
            self.init(id: id, fields: nil)
            return
        }
        let flat = try parts[1].expectArray()
        guard flat.count.isMultiple(of: 2) else {
            throw RedisError.unexpectedReply(reply, expected: "an even field/value list")
        }
        var fields: [(name: String, value: ByteBuffer)] = []
        fields.reserveCapacity(flat.count / 2)
        var index = flat.startIndex
        while index < flat.endIndex {
            fields.append((name: try flat[index].expectString(), value: try flat[index + 1].expectBytes()))
            index += 2
        }
        self.init(id: id, fields: fields)
    }

    /// Parses a list of entries `[[id, fields], …]`.
    static func list(_ reply: RESPValue) throws -> [StreamEntry] {
        try reply.expectArray().map(StreamEntry.init(reply:))
    }

    /// Parses an XREAD/XREADGROUP reply `[[stream, [[id, fields], …]], …]`; nil for the null
    /// array Redis sends when BLOCK timed out (or, without BLOCK, when nothing was new).
    static func streams(_ reply: RESPValue) throws -> [StreamName: [StreamEntry]]? {
        if reply.isNull { return nil }
        var result: [StreamName: [StreamEntry]] = [:]
        for stream in try reply.expectArray() {
            let pair = try stream.expectArray()
            guard pair.count == 2 else { throw RedisError.unexpectedReply(stream, expected: "[stream, entries]") }
            result[try pair[0].expectString(), default: []].append(contentsOf: try Self.list(pair[1]))
        }
        return result
    }
}
