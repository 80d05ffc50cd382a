import NIOCore

/// The `hold` load: connections that only stay open (pings are answered by the handler)
/// and count what the server sends them.
final class IdleConnections: ClientWebSocketDelegate {
    private(set) var messagesReceived = 0

    func opened(_ connection: ClientWebSocketHandler) {}

    func received(text: ByteBuffer, on connection: ClientWebSocketHandler) {
        self.messagesReceived += 1
    }

    func closed(_ connection: ClientWebSocketHandler) {}
}
