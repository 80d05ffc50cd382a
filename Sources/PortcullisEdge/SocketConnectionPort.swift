import NIOCore
import PortcullisWire

/// What a WebSocket transport calls on the connection it carries. The connection itself
/// when both live on the same event loop; a ``RemoteConnectionPort`` when a polling
/// session upgraded onto a WebSocket accepted by another loop.
protocol SocketConnectionPort: AnyObject {
    /// The transport is ready: it carries the connection from now on.
    func attach(_ transport: SocketHandler)
    func receivedText(_ text: String)
    func receivedBinary(_ bytes: [UInt8])
    func noteCause(_ cause: SocketCloseCause)
    func end(_ cause: SocketCloseCause)
    func transportClosed()
}

extension SocketConnection: SocketConnectionPort {
    /// A fresh connection starts (registers with the hub, runs the session's opening); an
    /// upgraded one only switches transports.
    func attach(_ transport: SocketHandler) {
        self.transport = transport
        if !isStarted { start() }
    }

    func receivedText(_ text: String) {
        receivedText(text, now: .now)
    }

    func receivedBinary(_ bytes: [UInt8]) {
        receivedBinary(bytes, now: .now)
    }

    func end(_ cause: SocketCloseCause) {
        end(cause, now: .now)
    }
}

/// The connection seen from a WebSocket on another event loop: every call hops to the
/// connection's loop, in order (an event loop runs what it is given first in, first out).
final class RemoteConnectionPort: SocketConnectionPort {
    private let connection: NIOLoopBound<SocketConnection>

    init(_ connection: NIOLoopBound<SocketConnection>) {
        self.connection = connection
    }

    func attach(_ transport: SocketHandler) {}

    func receivedText(_ text: String) {
        let connection = self.connection
        connection.eventLoop.execute { connection.value.receivedText(text, now: .now) }
    }

    func receivedBinary(_ bytes: [UInt8]) {
        let connection = self.connection
        connection.eventLoop.execute { connection.value.receivedBinary(bytes, now: .now) }
    }

    func noteCause(_ cause: SocketCloseCause) {
        let connection = self.connection
        connection.eventLoop.execute { connection.value.noteCause(cause) }
    }

    func end(_ cause: SocketCloseCause) {
        let connection = self.connection
        connection.eventLoop.execute { connection.value.end(cause, now: .now) }
    }

    func transportClosed() {
        let connection = self.connection
        connection.eventLoop.execute { connection.value.transportClosed() }
    }
}

/// A WebSocket on another event loop, seen from the connection: writes are batched until
/// ``flush()`` and then hop, with everything else, to the WebSocket's loop.
final class RemoteWebSocketTransport: SocketTransport {
    private let handler: NIOLoopBound<SocketHandler>
    private var pending: [SocketOutbound] = []
    private(set) var isClosing = false
    /// The handler's, read on its loop when it took over (fixed by its handshake).
    let kind: SocketTransportKind

    init(_ handler: NIOLoopBound<SocketHandler>, kind: SocketTransportKind) {
        self.handler = handler
        self.kind = kind
    }

    func write(_ outbound: SocketOutbound) {
        guard !isClosing else { return }
        pending.append(outbound)
    }

    func write(encoded: EncodedMessages) -> Bool {
        guard !isClosing else { return false }
        flush()
        let handler = self.handler
        handler.eventLoop.execute { _ = handler.value.write(encoded: encoded) }
        return true
    }

    func flush() {
        let batch = pending
        pending = []
        let handler = self.handler
        handler.eventLoop.execute {
            for outbound in batch { handler.value.write(outbound) }
            handler.value.flush()
        }
    }

    func close(_ cause: SocketCloseCause, now: ContinuousClock.Instant) {
        flush()
        isClosing = true
        let handler = self.handler
        handler.eventLoop.execute { handler.value.close(cause, now: .now) }
    }

    func tick(now: ContinuousClock.Instant) {
        let handler = self.handler
        handler.eventLoop.execute { handler.value.tick(now: .now) }
    }

    func pauseReads() {
        let handler = self.handler
        handler.eventLoop.execute { handler.value.pauseReads() }
    }

    func resumeReads() {
        let handler = self.handler
        handler.eventLoop.execute { handler.value.resumeReads() }
    }
}
