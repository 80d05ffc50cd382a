import NIOCore

/// Every upgraded connection of the floor server, and the fan-out to all of them.
///
/// The reference for broadcast cost: one pre-encoded frame (header and payload in one
/// buffer, made once per broadcast) written to each connection — NIO shares the buffer's
/// storage, so nothing is copied or encoded per socket. Lives on the server's one loop.
final class FloorHub {
    private var writers = SlotList<RawFrameWriter>()
    private(set) var broadcasts = 0
    private(set) var framesWritten = 0
    private(set) var peakConnections = 0

    var connectionCount: Int { self.writers.count }

    func add(_ writer: RawFrameWriter) {
        self.writers.append(writer)
        self.peakConnections = max(self.peakConnections, self.writers.count)
    }

    func remove(_ writer: RawFrameWriter) {
        self.writers.remove(writer)
    }

    /// Writes `{"event":"tick","data":{"t":t}}` as one text frame to every connection.
    func broadcastTick(t: UInt64, allocator: ByteBufferAllocator) {
        let payload = TickMessage.encode(event: "tick", t: t, allocator: allocator)
        let frame = ServerTextFrame.encode(payload, allocator: allocator)
        self.broadcasts += 1
        for writer in self.writers {
            writer.writeAndFlush(frame)
        }
        self.framesWritten += self.writers.count
    }
}
