import NIOCore

/// Plain key commands, each reply turned into a Swift value.
extension RedisCommandSender {
    /// `PING` → the server's answer (`PONG`).
    public func ping() async throws -> String {
        try await self.send(["PING"]).expectString()
    }

    /// `GET key` → the value, or nil when the key does not exist.
    public func get(_ key: String) async throws -> ByteBuffer? {
        let reply = try await self.send(["GET", RedisArgument(key)])
        return reply.isNull ? nil : try reply.expectBytes()
    }

    /// `SET key value [EX s | PX ms] [NX | XX]` → whether the value was stored (false when
    /// the condition did not hold). The expiry is sent in milliseconds unless it is whole
    /// seconds.
    @discardableResult
    public func set(
        _ key: String,
        to value: RedisArgument,
        expiresIn expiry: Duration? = nil,
        condition: RedisSetCondition = .always
    ) async throws -> Bool {
        var command: [RedisArgument] = ["SET", RedisArgument(key), value]
        if let expiry {
            let (seconds, attoseconds) = expiry.components
            if attoseconds == 0 {
                command += ["EX", RedisArgument(Int(seconds))]
            } else {
                command += ["PX", RedisArgument(Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))]
            }
        }
        if let token = condition.token {
            command.append(RedisArgument(token))
        }
        return !(try await self.send(command).isNull)
    }

    /// `DEL key…` → how many keys were removed.
    @discardableResult
    public func del(_ keys: [String]) async throws -> Int {
        try await self.send(["DEL"] + keys.map { RedisArgument($0) }).expectInteger()
    }

    /// `EXISTS key…` → how many of the keys exist (a key named twice counts twice).
    public func exists(_ keys: [String]) async throws -> Int {
        try await self.send(["EXISTS"] + keys.map { RedisArgument($0) }).expectInteger()
    }

    /// `EXPIRE key seconds` → false when the key does not exist.
    @discardableResult
    public func expire(_ key: String, in duration: Duration) async throws -> Bool {
        let seconds = Int(duration.components.seconds)
        return try await self.send(["EXPIRE", RedisArgument(key), RedisArgument(seconds)]).expectInteger() == 1
    }

    /// `TTL key`.
    public func ttl(_ key: String) async throws -> RedisKeyTTL {
        switch try await self.send(["TTL", RedisArgument(key)]).expectInteger() {
        case -2: .keyMissing
        case -1: .noExpiry
        case let seconds: .seconds(seconds)
        }
    }
}
