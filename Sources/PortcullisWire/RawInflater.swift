import CZlib

/// Inflates permessage-deflate messages frame by frame (RFC 7692 §7.2.2), never producing
/// more than the caller's limit, so a small compressed frame cannot expand into an
/// unbounded message (a "zip bomb" fails as soon as the limit is passed).
///
/// Owns one raw-inflate zlib stream, freed in `deinit`. The stream outlives a message
/// when the client takes its context over; ``endMessage()`` resets it otherwise (and after
/// a stream the client ended with a final block). Not thread-safe: one connection's.
public final class RawInflater {
    public enum Failure: Error, Hashable, Sendable {
        /// The output would pass the limit.
        case tooBig
        /// Not a valid deflate stream (or one that needs a preset dictionary).
        case invalidData
    }

    private let stream: UnsafeMutablePointer<z_stream>
    /// Set when the client ended its deflate stream (BFINAL); the next message starts a
    /// fresh one.
    private var streamEnded = false

    /// - Parameter windowBits: 8–15, the `client_max_window_bits` agreed.
    public init(windowBits: Int) throws(ZlibError) {
        precondition((8...15).contains(windowBits), "deflate windows are 8 to 15 bits")
        self.stream = .allocate(capacity: 1)
        self.stream.initialize(to: z_stream())
        let code = portcullis_inflateInit2(self.stream, -Int32(windowBits))
        guard code == Z_OK else {
            self.stream.deallocate()
            throw ZlibError(code: code, operation: "inflateInit2")
        }
    }

    deinit {
        inflateEnd(self.stream)
        self.stream.deallocate()
    }

    /// Inflates one frame's payload, appending to `output`; on the message's last frame
    /// (`final`) the removed `00 00 ff ff` tail is fed after it. Throws ``Failure/tooBig``
    /// once `output` would hold more than `limit` bytes.
    public func inflate(_ payload: [UInt8], final: Bool, limit: Int, into output: inout [UInt8]) throws(Failure) {
        try payload.withUnsafeBufferPointer { (bytes) throws(Failure) in
            try self.feed(bytes, limit: limit, into: &output)
        }
        if final {
            try PerMessageDeflate.syncFlushTail.withUnsafeBufferPointer { (bytes) throws(Failure) in
                try self.feed(bytes, limit: limit, into: &output)
            }
        }
    }

    /// The message is complete: without context takeover the window is dropped.
    public func endMessage(contextTakeover: Bool) {
        if !contextTakeover || self.streamEnded {
            inflateReset(self.stream)
            self.streamEnded = false
        }
    }

    private func feed(_ input: UnsafeBufferPointer<UInt8>, limit: Int, into output: inout [UInt8]) throws(Failure) {
        // After a final block the client may only send the tail we append ourselves.
        if self.streamEnded { return }
        self.stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
        self.stream.pointee.avail_in = UInt32(input.count)
        defer { self.stream.pointee.next_in = nil }
        let failure: Failure? = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.chunk) { chunk in
            while true {
                // One byte past the limit is enough to know it was passed.
                let room = min(chunk.count, limit - output.count + 1)
                self.stream.pointee.next_out = chunk.baseAddress
                self.stream.pointee.avail_out = UInt32(room)
                let code = CZlib.inflate(self.stream, Z_SYNC_FLUSH)
                let produced = room - Int(self.stream.pointee.avail_out)
                output.append(contentsOf: chunk.prefix(produced))
                if output.count > limit { return .tooBig }
                switch code {
                case Z_OK:
                    if self.stream.pointee.avail_in == 0 && self.stream.pointee.avail_out > 0 { return nil }
                case Z_STREAM_END:
                    self.streamEnded = true
                    return nil
                case Z_BUF_ERROR:
                    // No progress possible: all input used up (fine) or output full (loop).
                    if self.stream.pointee.avail_in == 0 { return nil }
                default:
                    return .invalidData
                }
            }
        }
        if let failure { throw failure }
    }

    private static let chunk = 16 * 1024
}
