import NIOCore

/// Hash commands (the edges' connection registries), replies turned into Swift values.
extension RedisCommandSender {
    /// `HSET key field value …` → how many fields were new (an existing field is overwritten
    /// and not counted).
    @discardableResult
    public func hset(_ key: String, fields: [(String, RedisArgument)]) async throws -> Int {
        var command: [RedisArgument] = ["HSET", RedisArgument(key)]
        command.reserveCapacity(2 + 2 * fields.count)
        for (name, value) in fields {
            command.append(RedisArgument(name))
            command.append(value)
        }
        return try await self.send(command).expectInteger()
    }

    /// `HDEL key field…` → how many of the fields existed and were removed.
    @discardableResult
    public func hdel(_ key: String, fields: [String]) async throws -> Int {
        try await self.send(["HDEL", RedisArgument(key)] + fields.map { RedisArgument($0) }).expectInteger()
    }

    /// `HLEN key` → the number of fields (0 when the key does not exist).
    public func hlen(_ key: String) async throws -> Int {
        try await self.send(["HLEN", RedisArgument(key)]).expectInteger()
    }

    /// `HSCAN key cursor [COUNT n]` → the cursor for the next call (0 when the scan is
    /// complete) and a page of fields with their values.
    ///
    /// Start with cursor 0 and call again with the returned cursor until it is 0. Every field
    /// present for the whole scan is returned at least once (a field may come twice if the
    /// hash is resized meanwhile); `count` is a hint, and a small hash comes back whole.
    public func hscan(
        _ key: String,
        cursor: UInt64 = 0,
        count: Int? = nil
    ) async throws -> (cursor: UInt64, fields: [(name: String, value: ByteBuffer)]) {
        var command: [RedisArgument] = ["HSCAN", RedisArgument(key), RedisArgument(String(cursor))]
        if let count {
            command += ["COUNT", RedisArgument(count)]
        }
        let reply = try await self.send(command)
        let parts = try reply.expectArray()
        guard parts.count == 2, let next = UInt64(try parts[0].expectString()) else {
            throw RedisError.unexpectedReply(reply, expected: "[cursor, [field, value, …]]")
        }
        // Fields are unique within one page, so the name/value map loses nothing.
        let fields = try parts[1].expectFieldMap().map { (name: $0.key, value: try $0.value.expectBytes()) }
        return (next, fields)
    }
}
