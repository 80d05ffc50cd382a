import NIOCore
import PortcullisWire

/// What carries a ``SocketConnection``'s messages: a WebSocket (``SocketHandler``) or
/// Engine.IO long-polling. Loop-confined, like the connection.
protocol SocketTransport: AnyObject {
    var kind: SocketTransportKind { get }

    /// Writes one session message; ``flush()`` sends what was written.
    func write(_ outbound: SocketOutbound)

    /// Writes messages a fan-out encoded once for every connection that needs them; false
    /// when the transport took nothing (closing).
    func write(encoded: EncodedMessages) -> Bool

    func flush()

    /// Ends the transport for `cause` (its close frame on a WebSocket). The connection
    /// learns the end through ``SocketConnection/transportClosed()``.
    func close(_ cause: SocketCloseCause, now: ContinuousClock.Instant)

    /// True once a close was started: nothing more is written.
    var isClosing: Bool { get }

    /// The transport's own timers (close handshake, WebSocket pings, slow consumer),
    /// driven by the hub's sweep.
    func tick(now: ContinuousClock.Instant)

    /// Stops and resumes reading from the client (appends backpressure).
    func pauseReads()
    func resumeReads()
}

/// The transports whose framing differs, so a fan-out encodes once per kind present.
enum SocketTransportKind: Hashable {
    case webSocket
    /// permessage-deflate without server context takeover: frames compressed with this
    /// window, from messages of at least `minSize` bytes, are the same for every such
    /// connection, so a fan-out compresses once.
    case compressedWebSocket(windowBits: Int, minSize: Int)
    /// permessage-deflate with server context takeover: each connection compresses with
    /// its own window, so a fan-out hands it the messages to frame itself.
    case contextCompressedWebSocket
    case polling
}

/// Encoded outbound messages in a transport's framing.
enum EncodedMessages: Sendable {
    /// Whole server frames, concatenated into one buffer shared by every target.
    case webSocket(ByteBuffer)
    /// Unframed messages: Engine.IO packets for a polling session's next response, or
    /// messages a WebSocket compresses with its own context.
    case packets([SocketOutbound])
}
