import NIOCore

/// A WebSocket's claim on an Engine.IO polling session (`transport=websocket&sid=…`),
/// made on the session's event loop, used from the WebSocket's.
///
/// The WebSocket may have been accepted by another loop than the one that holds the
/// session; then the session stays where it is and the two talk through
/// ``RemoteConnectionPort`` and ``RemoteWebSocketTransport``.
struct EngineIOUpgradeProbe: Sendable {
    let polling: NIOLoopBound<PollingTransport>
    let connection: NIOLoopBound<SocketConnection>
    /// Another WebSocket already took the session over: this one is closed after its 101,
    /// as the reference server does.
    let alreadyUpgraded: Bool

    /// Call on the session's loop.
    init(_ polling: PollingTransport, on eventLoop: EventLoop) {
        self.polling = NIOLoopBound(polling, eventLoop: eventLoop)
        self.connection = NIOLoopBound(polling.connection, eventLoop: eventLoop)
        self.alreadyUpgraded = polling.isUpgraded || polling.isClosing
    }

    /// `2probe` arrived: the polling GET is released with a noop.
    func probed() {
        let polling = self.polling
        polling.eventLoop.execute { polling.value.upgradeProbed() }
    }

    /// The WebSocket closed before `5`.
    func abandoned() {
        let polling = self.polling
        polling.eventLoop.execute { polling.value.upgradeAbandoned() }
    }

    /// `5` arrived: `handler` (on `eventLoop`) carries the session from now on. Returns
    /// what the handler talks to.
    func complete(with handler: SocketHandler, on eventLoop: EventLoop) -> any SocketConnectionPort {
        if polling.eventLoop === eventLoop {
            polling.value.upgraded(to: handler)
            return connection.value
        }
        let remote = NIOLoopBound(handler, eventLoop: eventLoop)
        let kind = handler.kind
        let polling = self.polling
        polling.eventLoop.execute { polling.value.upgraded(to: RemoteWebSocketTransport(remote, kind: kind)) }
        return RemoteConnectionPort(connection)
    }
}
