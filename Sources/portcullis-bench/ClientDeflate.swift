import NIOCore
import PortcullisWire

/// One client connection's permessage-deflate, for load with `--deflate`: sends every
/// message compressed from a fresh window (a client may always drop its own context) and
/// inflates what the server compressed, keeping the window in case the server keeps its.
/// Both streams are made on first use, so idle connections hold none.
final class ClientDeflate {
    private var deflater: RawDeflater?
    private var inflater: RawInflater?

    func compress(_ message: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        if self.deflater == nil { self.deflater = try? RawDeflater(windowBits: 15, contextTakeover: false) }
        guard let deflater = self.deflater else { return message }
        let payload = message.withUnsafeReadableBytes { deflater.compress($0) }
        return allocator.buffer(bytes: payload)
    }

    /// nil when the payload does not inflate (or exceeds the client's frame limit).
    func inflate(_ payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer? {
        if self.inflater == nil { self.inflater = try? RawInflater(windowBits: 15) }
        guard let inflater = self.inflater else { return nil }
        var output: [UInt8] = []
        do {
            try inflater.inflate(
                Array(payload.readableBytesView), final: true, limit: WebSocketConnector.maxFrameSize, into: &output)
        } catch {
            return nil
        }
        inflater.endMessage(contextTakeover: true)
        return allocator.buffer(bytes: output)
    }
}
