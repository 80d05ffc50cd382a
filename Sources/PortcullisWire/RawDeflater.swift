import CZlib

/// Compresses whole WebSocket messages with raw deflate, as permessage-deflate sends them
/// (RFC 7692 §7.2.1): each message ends with a `Z_SYNC_FLUSH`, whose `00 00 ff ff` tail
/// is removed.
///
/// Owns one zlib stream, freed in `deinit`. With `contextTakeover` the window carries over
/// from message to message (better ratios, and the client must keep it too); without, the
/// stream is reset after every message, so any deflater of the same window size produces
/// the same bytes and one can serve many connections (a fan-out compresses once). Not
/// thread-safe: one owner on one thread.
public final class RawDeflater {
    private let stream: UnsafeMutablePointer<z_stream>
    public let windowBits: Int
    public let contextTakeover: Bool

    /// - Parameter windowBits: 9–15 (zlib cannot produce an 8-bit window for raw deflate).
    public init(windowBits: Int, contextTakeover: Bool, memoryLevel: Int = 8) throws(ZlibError) {
        precondition((9...15).contains(windowBits), "raw deflate windows are 9 to 15 bits")
        self.windowBits = windowBits
        self.contextTakeover = contextTakeover
        self.stream = .allocate(capacity: 1)
        self.stream.initialize(to: z_stream())
        let code = portcullis_deflateInit2(
            self.stream, Z_DEFAULT_COMPRESSION, -Int32(windowBits), Int32(memoryLevel))
        guard code == Z_OK else {
            self.stream.deallocate()
            throw ZlibError(code: code, operation: "deflateInit2")
        }
    }

    deinit {
        deflateEnd(self.stream)
        self.stream.deallocate()
    }

    /// The compressed payload of one message, without the sync-flush tail; an empty result
    /// is sent as a single `00` (an empty stored block's start, RFC 7692 §7.2.3.6).
    public func compress(_ message: UnsafeRawBufferPointer) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(message.count / 2 + 64)
        let input = message.bindMemory(to: UInt8.self)
        self.stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
        self.stream.pointee.avail_in = UInt32(input.count)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.chunk) { chunk in
            repeat {
                self.stream.pointee.next_out = chunk.baseAddress
                self.stream.pointee.avail_out = UInt32(chunk.count)
                // Z_SYNC_FLUSH with output room cannot fail on a valid stream; Z_BUF_ERROR
                // only says there was nothing left to do.
                _ = deflate(self.stream, Z_SYNC_FLUSH)
                output.append(contentsOf: chunk.prefix(chunk.count - Int(self.stream.pointee.avail_out)))
            } while self.stream.pointee.avail_out == 0
        }
        self.stream.pointee.next_in = nil
        if output.count >= 4, output.suffix(4).elementsEqual(PerMessageDeflate.syncFlushTail) {
            output.removeLast(4)
        }
        if !self.contextTakeover { deflateReset(self.stream) }
        return output.isEmpty ? [0x00] : output
    }

    public func compress(_ message: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { self.compress($0) }
    }

    private static let chunk = 16 * 1024
}
