import NIOPosix
import PortcullisWire

/// The sending side of one WebSocket's permessage-deflate agreement, allocated only for
/// connections that negotiated it (the others keep a nil reference and no zlib state).
///
/// Without server context takeover (the default) every message is compressed from a fresh
/// window, so any deflater with the same window produces the same bytes: the connection
/// borrows its thread's shared one and keeps none, and a fan-out compresses a broadcast
/// once for every such socket (``transportKind`` says which ones share). With context
/// takeover the connection needs its own deflater, made on its first compressed message.
/// Confined to the handler's event loop.
final class SocketCompression {
    let agreement: PerMessageDeflate
    private var own: RawDeflater?

    init(_ agreement: PerMessageDeflate) {
        self.agreement = agreement
    }

    /// What a fan-out may share with this connection.
    var transportKind: SocketTransportKind {
        guard agreement.serverNoContextTakeover else { return .contextCompressedWebSocket }
        return .compressedWebSocket(windowBits: agreement.serverMaxWindowBits, minSize: agreement.minSize)
    }

    /// How the next data frames are compressed; nil when zlib could not set a stream up
    /// (out of memory), and then they go uncompressed, which the extension allows.
    func frameCompression() -> FrameCompression? {
        if agreement.serverNoContextTakeover {
            return SharedDeflaters.compression(windowBits: agreement.serverMaxWindowBits, minSize: agreement.minSize)
        }
        if own == nil {
            own = try? RawDeflater(windowBits: agreement.serverMaxWindowBits, contextTakeover: true)
        }
        return own.map { FrameCompression(deflater: $0, minSize: agreement.minSize) }
    }
}

/// One deflater per window size per thread, reset after every message, for connections
/// without server context takeover and for fan-outs to them.
///
/// `@unchecked Sendable` only so the thread-specific variable can be a static: an instance
/// is reached solely through ``perThread`` and so never leaves the thread that made it.
final class SharedDeflaters: @unchecked Sendable {
    private static let perThread = ThreadSpecificVariable<SharedDeflaters>()
    private var deflaters: [Int: RawDeflater] = [:]

    static func compression(windowBits: Int, minSize: Int) -> FrameCompression? {
        let shared: SharedDeflaters
        if let current = perThread.currentValue {
            shared = current
        } else {
            shared = SharedDeflaters()
            perThread.currentValue = shared
        }
        if shared.deflaters[windowBits] == nil {
            shared.deflaters[windowBits] = try? RawDeflater(windowBits: windowBits, contextTakeover: false)
        }
        return shared.deflaters[windowBits].map { FrameCompression(deflater: $0, minSize: minSize) }
    }
}
