extension StreamNames {
    /// Where an outbound envelope goes and how that stream is trimmed: an envelope for one
    /// connection to its edge's stream (`<prefix>:out:edge:<edge>`, ``edgeOutboundTrim``),
    /// anything else — a user, a room, a token, everyone, or a connection id without an edge
    /// part, which every edge can still look up — to `<prefix>:out:bcast`
    /// (``broadcastTrim``).
    public func outbound(for target: Envelope.Target?) -> (stream: StreamName, trim: StreamTrim) {
        if case .connection(let id) = target, let stream = try? self.edgeOutbound(connection: id) {
            return (stream, Self.edgeOutboundTrim)
        }
        return (self.broadcast, Self.broadcastTrim)
    }

    /// The XADD that appends outbound `envelope` to the stream ``outbound(for:)`` picks,
    /// for callers that pipeline their appends.
    public func outboundAppend(_ envelope: Envelope) -> [RedisArgument] {
        let (stream, trim) = self.outbound(for: envelope.target)
        return StreamCommand.xadd(stream, trim: trim, fields: envelope.fields)
    }
}
