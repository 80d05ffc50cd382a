import NIOCore

/// Consumer-group commands, replies turned into typed values at once.
extension RedisCommandSender {
    /// `XGROUP CREATE stream group id [MKSTREAM]`. Fails with server code `BUSYGROUP` when
    /// the group exists; see ``ensureGroup(_:group:startingAt:)``.
    public func xgroupCreate(
        _ stream: StreamName,
        group: String,
        startingAt position: StreamPosition = .newEntries,
        makeStream: Bool = true
    ) async throws {
        var command: [RedisArgument] = [
            "XGROUP", "CREATE", RedisArgument(stream), RedisArgument(group), position.argument,
        ]
        if makeStream {
            command.append("MKSTREAM")
        }
        _ = try await self.send(command)
    }

    /// Creates the group (and the stream) unless it already exists: `BUSYGROUP` counts as
    /// success, as it should at every startup. Returns whether the group was created.
    @discardableResult
    public func ensureGroup(
        _ stream: StreamName,
        group: String,
        startingAt position: StreamPosition = .newEntries
    ) async throws -> Bool {
        do {
            try await self.xgroupCreate(stream, group: group, startingAt: position, makeStream: true)
            return true
        } catch let error as RedisError where error.serverCode == "BUSYGROUP" {
            return false
        }
    }

    /// `XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] [NOACK] STREAMS key… id…`.
    ///
    /// With ``StreamPosition/undelivered`` (`>`) it returns entries never delivered to the
    /// group (and blocks, with `block`); with another position it re-reads this consumer's
    /// own pending entries, where an entry deleted meanwhile has `fields == nil`. Nil when
    /// BLOCK timed out. Startup recipe: read from ``StreamPosition/start`` until empty,
    /// then loop on `.undelivered`.
    public func xreadgroup(
        group: String,
        consumer: String,
        streams: [(StreamName, StreamPosition)],
        count: Int? = nil,
        block: Duration? = nil,
        noAck: Bool = false
    ) async throws -> [StreamName: [StreamEntry]]? {
        var command: [RedisArgument] = ["XREADGROUP", "GROUP", RedisArgument(group), RedisArgument(consumer)]
        Self.appendReadOptions(to: &command, count: count, block: block)
        if noAck {
            command.append("NOACK")
        }
        Self.appendStreams(streams, to: &command)
        return try StreamEntry.streams(try await self.send(command))
    }

    /// `XACK stream group id…` → how many entries were actually removed from the PEL.
    @discardableResult
    public func xack(_ stream: StreamName, group: String, ids: [StreamID]) async throws -> Int {
        let command: [RedisArgument] =
            ["XACK", RedisArgument(stream), RedisArgument(group)] + ids.map { RedisArgument($0.description) }
        return try await self.send(command).expectInteger()
    }

    /// `XAUTOCLAIM stream group consumer min-idle start [COUNT n]`: moves pending entries
    /// idle for longer than `minimumIdle` (typically those of a dead consumer) to `consumer`.
    public func xautoclaim(
        _ stream: StreamName,
        group: String,
        consumer: String,
        minimumIdle: Duration,
        start: StreamID = .zero,
        count: Int? = nil
    ) async throws -> StreamAutoClaimResult {
        var command: [RedisArgument] = [
            "XAUTOCLAIM", RedisArgument(stream), RedisArgument(group), RedisArgument(consumer),
            RedisArgument(minimumIdle.wholeMilliseconds), RedisArgument(start.description),
        ]
        if let count {
            command += ["COUNT", RedisArgument(count)]
        }
        return try StreamAutoClaimResult(reply: try await self.send(command))
    }

    /// `XPENDING stream group` (summary form).
    public func xpending(_ stream: StreamName, group: String) async throws -> StreamPendingSummary {
        try StreamPendingSummary(reply: try await self.send(["XPENDING", RedisArgument(stream), RedisArgument(group)]))
    }

    /// `XPENDING stream group [IDLE ms] start end count [consumer]` (extended form).
    public func xpending(
        _ stream: StreamName,
        group: String,
        from start: StreamID = .zero,
        through end: StreamID = .max,
        count: Int,
        consumer: String? = nil,
        minimumIdle: Duration? = nil
    ) async throws -> [StreamPendingEntry] {
        var command: [RedisArgument] = ["XPENDING", RedisArgument(stream), RedisArgument(group)]
        if let minimumIdle {
            command += ["IDLE", RedisArgument(minimumIdle.wholeMilliseconds)]
        }
        command += [RedisArgument(start.description), RedisArgument(end.description), RedisArgument(count)]
        if let consumer {
            command.append(RedisArgument(consumer))
        }
        return try await self.send(command).expectArray().map(StreamPendingEntry.init(reply:))
    }
}
