import PortcullisBus

/// The key-value operations an app's state uses, as one small protocol so that the same
/// app runs on Redis in production (``RedisRoomsStorage``) and in memory in its unit tests
/// (``MemoryRoomsStorage``), with the same results.
///
/// Keys are full Redis key names; apps reach them through ``RoomsStore``, which keeps
/// them under the app's own prefix. Every operation is atomic on its key, including the
/// read-after-write pairs (``setAdd(_:_:)`` answers the new size in the same step), so
/// two workers handling envelopes of the same user cannot both see themselves first.
public protocol RoomsStorage: Sendable {
    func get(_ key: String) async throws -> String?
    /// Stores `value`; false when `onlyIfAbsent` and the key already existed.
    @discardableResult
    func set(_ key: String, _ value: String, onlyIfAbsent: Bool, expiresIn: Duration?) async throws -> Bool
    func delete(_ keys: [String]) async throws
    /// Adds `amount` to the integer at `key` (absent counts as 0); answers the new value.
    func increment(_ key: String, by amount: Int) async throws -> Int
    /// Sets a time to live on an existing key.
    func expire(_ key: String, in duration: Duration) async throws

    /// Adds `member`; whether it was new, and the set's size after.
    func setAdd(_ key: String, _ member: String) async throws -> (added: Bool, count: Int)
    /// Removes `member`; whether it was there, and the set's size after.
    func setRemove(_ key: String, _ member: String) async throws -> (removed: Bool, count: Int)
    func setMembers(_ key: String) async throws -> [String]
    func setContains(_ key: String, _ member: String) async throws -> Bool

    func hashSet(_ key: String, _ field: String, _ value: String) async throws
    func hashGet(_ key: String, _ field: String) async throws -> String?
    func hashGetAll(_ key: String) async throws -> [String: String]
    func hashDelete(_ key: String, _ field: String) async throws

    /// Appends `value` at the end, then keeps only the last `keepLast` elements when given.
    func listAppend(_ key: String, _ value: String, keepLast: Int?) async throws
    /// The last `count` elements, oldest first.
    func listLast(_ key: String, _ count: Int) async throws -> [String]
}

/// ``RoomsStorage`` on Redis, through the worker's shared client. The paired operations
/// are one Lua script each, so they are atomic without MULTI (whose commands another task
/// sharing the connection could interleave with).
public struct RedisRoomsStorage: RoomsStorage {
    private let redis: RedisClient

    public init(redis: RedisClient) {
        self.redis = redis
    }

    public func get(_ key: String) async throws -> String? {
        try await self.redis.get(key).map { String(buffer: $0) }
    }

    @discardableResult
    public func set(_ key: String, _ value: String, onlyIfAbsent: Bool, expiresIn: Duration?) async throws -> Bool {
        try await self.redis.set(
            key, to: RedisArgument(value), expiresIn: expiresIn, condition: onlyIfAbsent ? .ifNotExists : .always)
    }

    public func delete(_ keys: [String]) async throws {
        guard !keys.isEmpty else { return }
        try await self.redis.del(keys)
    }

    public func increment(_ key: String, by amount: Int) async throws -> Int {
        try await self.redis.send(["INCRBY", RedisArgument(key), RedisArgument(amount)]).expectInteger()
    }

    public func expire(_ key: String, in duration: Duration) async throws {
        let milliseconds = max(
            1, Int(duration.components.seconds) * 1000 + Int(duration.components.attoseconds / 1_000_000_000_000_000))
        _ = try await self.redis.send(["PEXPIRE", RedisArgument(key), RedisArgument(milliseconds)])
    }

    public func setAdd(_ key: String, _ member: String) async throws -> (added: Bool, count: Int) {
        let reply = try await self.script(Self.setAddScript, key: key, arguments: [member]).expectArray()
        return (try reply[0].expectInteger() == 1, try reply[1].expectInteger())
    }

    public func setRemove(_ key: String, _ member: String) async throws -> (removed: Bool, count: Int) {
        let reply = try await self.script(Self.setRemoveScript, key: key, arguments: [member]).expectArray()
        return (try reply[0].expectInteger() == 1, try reply[1].expectInteger())
    }

    public func setMembers(_ key: String) async throws -> [String] {
        try await self.redis.smembers(key)
    }

    public func setContains(_ key: String, _ member: String) async throws -> Bool {
        try await self.redis.send(["SISMEMBER", RedisArgument(key), RedisArgument(member)]).expectInteger() == 1
    }

    public func hashSet(_ key: String, _ field: String, _ value: String) async throws {
        try await self.redis.hset(key, fields: [(field, RedisArgument(value))])
    }

    public func hashGet(_ key: String, _ field: String) async throws -> String? {
        let reply = try await self.redis.send(["HGET", RedisArgument(key), RedisArgument(field)])
        return reply.isNull ? nil : try reply.expectString()
    }

    public func hashGetAll(_ key: String) async throws -> [String: String] {
        let flat = try await self.redis.send(["HGETALL", RedisArgument(key)]).expectArray()
        var fields: [String: String] = [:]
        var index = flat.startIndex
        while index + 1 < flat.endIndex {
            fields[try flat[index].expectString()] = try flat[index + 1].expectString()
            index += 2
        }
        return fields
    }

    public func hashDelete(_ key: String, _ field: String) async throws {
        try await self.redis.hdel(key, fields: [field])
    }

    public func listAppend(_ key: String, _ value: String, keepLast: Int?) async throws {
        guard let keepLast else {
            _ = try await self.redis.send(["RPUSH", RedisArgument(key), RedisArgument(value)])
            return
        }
        _ = try await self.script(Self.listAppendScript, key: key, arguments: [value, String(max(1, keepLast))])
    }

    public func listLast(_ key: String, _ count: Int) async throws -> [String] {
        guard count > 0 else { return [] }
        return try await self.redis.send(["LRANGE", RedisArgument(key), RedisArgument(-count), "-1"]).expectArray()
            .map { try $0.expectString() }
    }

    private func script(_ source: String, key: String, arguments: [String]) async throws -> RESPValue {
        try await self.redis.send(
            ["EVAL", RedisArgument(source), "1", RedisArgument(key)] + arguments.map { RedisArgument($0) })
    }

    private static let setAddScript =
        "return {redis.call('SADD', KEYS[1], ARGV[1]), redis.call('SCARD', KEYS[1])}"
    private static let setRemoveScript =
        "return {redis.call('SREM', KEYS[1], ARGV[1]), redis.call('SCARD', KEYS[1])}"
    private static let listAppendScript =
        "redis.call('RPUSH', KEYS[1], ARGV[1]) return redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)"
}
