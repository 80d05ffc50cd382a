import NIOCore

/// What one kind of load (hold, broadcast subscriber, echo) does with its connections.
///
/// Every call happens on the load generator's one event loop, so conforming classes keep
/// plain mutable state shared by all their connections without locks.
protocol ClientWebSocketDelegate: AnyObject, SendableMetatype {
    /// The connection is open: for the pool, the upgrade completed; for a load's own
    /// delegate (told by the pool), its protocol's handshake completed too. It may send.
    func opened(_ connection: ClientWebSocketHandler)
    /// A complete text message arrived (its payload, unmasked). Loads hear only the
    /// application's messages, not the protocol's own (handshake, heartbeat).
    func received(text: ByteBuffer, on connection: ClientWebSocketHandler)
    /// The connection is gone (closed by either side).
    func closed(_ connection: ClientWebSocketHandler)
}
