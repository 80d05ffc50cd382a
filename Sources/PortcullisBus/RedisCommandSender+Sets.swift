/// Set commands (the `<prefix>:edges` registry), replies turned into Swift values.
extension RedisCommandSender {
    /// `SADD key member…` → how many members were new.
    @discardableResult
    public func sadd(_ key: String, members: [String]) async throws -> Int {
        try await self.send(["SADD", RedisArgument(key)] + members.map { RedisArgument($0) }).expectInteger()
    }

    /// `SREM key member…` → how many of the members were there and were removed.
    @discardableResult
    public func srem(_ key: String, members: [String]) async throws -> Int {
        try await self.send(["SREM", RedisArgument(key)] + members.map { RedisArgument($0) }).expectInteger()
    }

    /// `SMEMBERS key` → every member, in no particular order (empty when the key does not
    /// exist). Meant for small sets such as the edge registry.
    public func smembers(_ key: String) async throws -> [String] {
        try await self.send(["SMEMBERS", RedisArgument(key)]).expectArray().map { try $0.expectString() }
    }
}
