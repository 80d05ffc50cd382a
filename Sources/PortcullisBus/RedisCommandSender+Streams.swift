import NIOCore

/// Stream command lines for callers that pipeline them on an `EventLoopFuture` client
/// (the edge's appends, a worker's batch commit) instead of awaiting each one.
public enum StreamCommand {
    /// `XADD stream [MAXLEN|MINID [~] n] *|id field value …`.
    public static func xadd(
        _ stream: StreamName,
        id: StreamID? = nil,
        trim: StreamTrim? = nil,
        fields: [(String, RedisArgument)]
    ) -> [RedisArgument] {
        var command: [RedisArgument] = ["XADD", RedisArgument(stream)]
        command.reserveCapacity(4 + (trim == nil ? 0 : 5) + 2 * fields.count)
        if let trim {
            command += trim.arguments
        }
        command.append(RedisArgument(id?.description ?? "*"))
        for (name, value) in fields {
            command.append(RedisArgument(name))
            command.append(value)
        }
        return command
    }
}

/// Stream append and plain reads, replies turned into ``StreamID`` and ``StreamEntry`` at once.
extension RedisCommandSender {
    /// `XADD stream [MAXLEN|MINID [~] n] *|id field value …` → the new entry's id.
    ///
    /// - Parameters:
    ///   - id: nil lets Redis assign the id (`*`); an explicit id must be greater than the
    ///     stream's last one.
    ///   - trim: optional trimming done by the same command.
    ///   - fields: field/value pairs, stored in this order; values are binary-safe.
    @discardableResult
    public func xadd(
        _ stream: StreamName,
        id: StreamID? = nil,
        trim: StreamTrim? = nil,
        fields: [(String, RedisArgument)]
    ) async throws -> StreamID {
        try await self.send(StreamCommand.xadd(stream, id: id, trim: trim, fields: fields)).expectStreamID()
    }

    /// ``xadd(_:id:trim:fields:)`` with a literal list: `fields: ["kind": "open", "data": payload]`.
    @discardableResult
    public func xadd(
        _ stream: StreamName,
        id: StreamID? = nil,
        trim: StreamTrim? = nil,
        fields: KeyValuePairs<String, RedisArgument>
    ) async throws -> StreamID {
        try await self.xadd(stream, id: id, trim: trim, fields: fields.map { ($0.key, $0.value) })
    }

    /// `XREAD [COUNT n] [BLOCK ms] STREAMS key… id…` → new entries per stream, or nil when
    /// BLOCK timed out (or, without BLOCK, nothing was new).
    ///
    /// With `block`, the connection is busy until the reply comes: use a dedicated client
    /// (``RedisClient/makeDedicatedClient(logger:)``). `block: .zero` waits forever.
    public func xread(
        streams: [(StreamName, StreamPosition)],
        count: Int? = nil,
        block: Duration? = nil
    ) async throws -> [StreamName: [StreamEntry]]? {
        var command: [RedisArgument] = ["XREAD"]
        Self.appendReadOptions(to: &command, count: count, block: block)
        Self.appendStreams(streams, to: &command)
        return try StreamEntry.streams(try await self.send(command))
    }

    /// `XRANGE stream start end [COUNT n]` → entries with `start ≤ id ≤ end`, oldest first.
    public func xrange(
        _ stream: StreamName,
        from start: StreamID = .zero,
        through end: StreamID = .max,
        count: Int? = nil
    ) async throws -> [StreamEntry] {
        var command: [RedisArgument] = [
            "XRANGE", RedisArgument(stream), RedisArgument(start.description), RedisArgument(end.description),
        ]
        if let count {
            command += ["COUNT", RedisArgument(count)]
        }
        return try StreamEntry.list(try await self.send(command))
    }

    /// `XLEN stream`.
    public func xlen(_ stream: StreamName) async throws -> Int {
        try await self.send(["XLEN", RedisArgument(stream)]).expectInteger()
    }

    /// `XINFO STREAM stream`.
    public func xinfoStream(_ stream: StreamName) async throws -> StreamInfo {
        try StreamInfo(reply: try await self.send(["XINFO", "STREAM", RedisArgument(stream)]))
    }

    /// `XINFO GROUPS stream`.
    public func xinfoGroups(_ stream: StreamName) async throws -> [StreamGroupInfo] {
        try await self.send(["XINFO", "GROUPS", RedisArgument(stream)]).expectArray().map(StreamGroupInfo.init(reply:))
    }

    static func appendReadOptions(to command: inout [RedisArgument], count: Int?, block: Duration?) {
        if let count {
            command += ["COUNT", RedisArgument(count)]
        }
        if let block {
            command += ["BLOCK", RedisArgument(block.wholeMilliseconds)]
        }
    }

    static func appendStreams(_ streams: [(StreamName, StreamPosition)], to command: inout [RedisArgument]) {
        command.append("STREAMS")
        for (name, _) in streams {
            command.append(RedisArgument(name))
        }
        for (_, position) in streams {
            command.append(position.argument)
        }
    }
}

extension Duration {
    /// The duration in whole milliseconds, rounded down, never negative.
    var wholeMilliseconds: Int {
        let (seconds, attoseconds) = self.components
        return max(0, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}
