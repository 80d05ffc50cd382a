import NIOCore

/// Anything that can send a Redis command and deliver its reply: a ``RedisConnection`` or a
/// ``RedisClient``. The typed commands (`get`, `xadd`, `xreadgroup`…) are extensions on it.
public protocol RedisCommandSender: Sendable {
    /// The event loop that completes this sender's futures.
    var eventLoop: any EventLoop { get }

    /// Sends one command, e.g. `["XACK", "bus:events", "g", id]`. The future fails with a
    /// ``RedisError``: code ``RedisError/Code/server`` for an error reply, or a connection or
    /// client error.
    func send(_ command: [RedisArgument]) -> EventLoopFuture<RESPValue>
}

extension RedisCommandSender {
    /// Sends one command and waits for its reply; see the future-returning `send(_:)`.
    public func send(_ command: [RedisArgument]) async throws -> RESPValue {
        let future: EventLoopFuture<RESPValue> = self.send(command)
        return try await future.get()
    }
}
