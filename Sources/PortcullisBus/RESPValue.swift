import NIOCore

/// One RESP2 reply, read by ``RESPParser``.
///
/// Bulk strings are binary-safe `ByteBuffer`s. A null bulk string (`$-1`, e.g. GET of a
/// missing key) and a null array (`*-1`, e.g. XREAD's timeout or a deleted pending entry)
/// are distinct cases. Error replies only appear at the codec level: a connection turns them
/// into a failed command (``RedisError`` with code ``RedisError/Code/server``).
public enum RESPValue: Sendable, Hashable {
    case simpleString(String)
    case error(String)
    case integer(Int)
    case bulkString(ByteBuffer)
    case nullBulkString
    case array([RESPValue])
    case nullArray
}

extension RESPValue {
    /// The text of a simple or bulk string (bulk bytes decoded as UTF-8, invalid bytes replaced).
    public var string: String? {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let buffer): String(buffer: buffer)
        default: nil
        }
    }

    /// The bytes of a bulk string, or of a simple string as UTF-8.
    public var bytes: ByteBuffer? {
        switch self {
        case .bulkString(let buffer): buffer
        case .simpleString(let text): ByteBuffer(string: text)
        default: nil
        }
    }

    public var integer: Int? {
        if case .integer(let value) = self { value } else { nil }
    }

    public var array: [RESPValue]? {
        if case .array(let values) = self { values } else { nil }
    }

    /// True for both null shapes (`$-1` and `*-1`).
    public var isNull: Bool {
        switch self {
        case .nullBulkString, .nullArray: true
        default: false
        }
    }
}

extension RESPValue: CustomStringConvertible {
    public var description: String {
        switch self {
        case .simpleString(let text): "+\(text)"
        case .error(let text): "-\(text)"
        case .integer(let value): ":\(value)"
        case .bulkString(let buffer): "$\(String(reflecting: String(buffer: buffer)))"
        case .nullBulkString: "$-1"
        case .array(let values): "[" + values.map(\.description).joined(separator: ", ") + "]"
        case .nullArray: "*-1"
        }
    }
}

// Throwing accessors used by the typed commands (and by callers that send their own, such as
// the rooms storage's scripts): each turns a reply into the expected Swift type or fails
// with `RedisError.Code.unexpectedReply`.
extension RESPValue {
    public func expectArray() throws -> [RESPValue] {
        guard case .array(let values) = self else { throw RedisError.unexpectedReply(self, expected: "an array") }
        return values
    }

    public func expectInteger() throws -> Int {
        guard case .integer(let value) = self else { throw RedisError.unexpectedReply(self, expected: "an integer") }
        return value
    }

    public func expectString() throws -> String {
        guard let text = self.string else { throw RedisError.unexpectedReply(self, expected: "a string") }
        return text
    }

    func expectBytes() throws -> ByteBuffer {
        guard case .bulkString(let buffer) = self else {
            throw RedisError.unexpectedReply(self, expected: "a bulk string")
        }
        return buffer
    }

    func expectStreamID() throws -> StreamID {
        guard let text = self.string, let id = StreamID(text) else {
            throw RedisError.unexpectedReply(self, expected: "a stream id")
        }
        return id
    }

    /// A RESP2 flat `[name, value, name, value…]` array (XINFO replies) as a dictionary.
    func expectFieldMap() throws -> [String: RESPValue] {
        let values = try self.expectArray()
        guard values.count.isMultiple(of: 2) else {
            throw RedisError.unexpectedReply(self, expected: "a name/value array")
        }
        var map: [String: RESPValue] = [:]
        map.reserveCapacity(values.count / 2)
        var index = values.startIndex
        while index < values.endIndex {
            map[try values[index].expectString()] = values[index + 1]
            index += 2
        }
        return map
    }
}
